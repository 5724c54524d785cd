"""The provider entry point: Airflow finds the package, and every module and link it lists imports."""

from __future__ import annotations

import importlib
from importlib.metadata import entry_points

from airflow_sagemaker_mlops.get_provider_info import get_provider_info


def test_entry_point_is_registered():
    found = [ep for ep in entry_points(group="apache_airflow_provider") if ep.value.startswith("airflow_sagemaker")]
    assert len(found) == 1
    assert found[0].load()()["package-name"] == "airflow-sagemaker-mlops"


def test_listed_modules_and_links_import():
    info = get_provider_info()
    for kind in ("operators", "sensors", "hooks", "triggers"):
        for entry in info[kind]:
            for module in entry["python-modules"]:
                importlib.import_module(module)
    for path in info["extra-links"]:
        module, _, name = path.rpartition(".")
        link = getattr(importlib.import_module(module), name)()
        assert link.name and link.key


def test_task_sagemaker_is_the_function_step_decorator():
    # Airflow's `task` collection finds provider decorators through ProvidersManager (2.11 and 3.x alike).
    from airflow_sagemaker_mlops.compat import task
    from airflow_sagemaker_mlops.operators.functions import SageMakerFunction, sagemaker_step

    assert task.sagemaker is sagemaker_step

    @task.sagemaker(image="img", s3_root_uri="s3://b/p")
    def f(x: int) -> int:
        return x + 1

    assert isinstance(f, SageMakerFunction) and f.function(1) == 2
