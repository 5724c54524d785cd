"""SDK v3 ModelTrainer's own container driver (``sm_train.sh`` + ``sm_drivers``) runs unchanged.

ModelTrainer with ``SourceCode`` sends ``/bin/bash -c "... /opt/ml/input/data/sm_drivers/sm_train.sh"``
as ContainerEntrypoint/ContainerArguments; the script reads the config files, runs the SDK's
``environment.py`` and ``basic_script_driver.py``, and those run the user's entry script. The driver
files are produced by the installed SDK itself, as ModelTrainer does before uploading them.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import types
from pathlib import Path

import pytest
from _jobs_harness import ROLE, SCRIPTS, SKLEARN_IMAGE, Harness

from airflow_sagemaker_mlops.local.jobs import run_training_job

pytestmark = pytest.mark.sdk


@pytest.fixture(scope="module")
def sm_drivers() -> Path:
    pytest.importorskip("sagemaker.train.model_trainer", reason="needs the sdk extra (sagemaker-mlops)")
    os.environ.setdefault("SAGEMAKER_VALIDATE_ROLE", "false")
    import sagemaker.core.utils.install_requirements as install_requirements
    from sagemaker.train.configs import SourceCode
    from sagemaker.train.constants import DEFAULT_CONTAINER_ARGUMENTS, SM_DRIVERS_LOCAL_PATH
    from sagemaker.train.model_trainer import ModelTrainer

    holder = tempfile.TemporaryDirectory(prefix="sm-drivers-")
    shutil.copytree(SM_DRIVERS_LOCAL_PATH, holder.name, dirs_exist_ok=True)
    shutil.copy2(install_requirements.__file__, Path(holder.name, "scripts", "install_requirements.py"))
    source_code = SourceCode(source_dir=str(SCRIPTS), entry_script="train_pure.py")
    trainer = types.SimpleNamespace(hyperparameters={"lr": 0.5, "epochs": 3}, _jumpstart_config=None)
    ModelTrainer._prepare_train_script(trainer, tmp_dir=holder, source_code=source_code, distributed=None)
    ModelTrainer._write_source_code_json(trainer, tmp_dir=holder, source_code=source_code)
    ModelTrainer._write_distributed_json(trainer, tmp_dir=holder, distributed=None)
    path = Path(holder.name)
    path.joinpath(".container_arguments.json").write_text(json.dumps(DEFAULT_CONTAINER_ARGUMENTS))
    yield path
    holder.cleanup()


def test_model_trainer_driver_runs(harness: Harness, backend: str, sm_drivers: Path) -> None:
    arguments = json.loads(sm_drivers.joinpath(".container_arguments.json").read_text())
    for path in sm_drivers.rglob("*"):
        if path.is_file() and path.name != ".container_arguments.json":
            harness.put(f"drivers/{path.relative_to(sm_drivers).as_posix()}", path.read_bytes())
    harness.put("src/train_pure.py", (SCRIPTS / "train_pure.py").read_bytes())
    harness.put("data/train/train.csv", "a,label\n1,0\n2,1\n")

    def channel(name: str, prefix: str) -> dict:
        return {
            "ChannelName": name,
            "DataSource": {
                "S3DataSource": {
                    "S3DataType": "S3Prefix",
                    "S3Uri": f"s3://{harness.bucket}/{prefix}/",
                    "S3DataDistributionType": "FullyReplicated",
                }
            },
        }

    request = {
        "AlgorithmSpecification": {
            "TrainingImage": SKLEARN_IMAGE,
            "TrainingInputMode": "File",
            "ContainerEntrypoint": ["/bin/bash"],
            "ContainerArguments": arguments,
            "MetricDefinitions": [{"Name": "validation:auc", "Regex": r"validation:auc=([0-9.]+)"}],
        },
        "HyperParameters": {"lr": "0.5", "epochs": "3"},
        "InputDataConfig": [channel("code", "src"), channel("sm_drivers", "drivers"), channel("train", "data/train")],
        "OutputDataConfig": {"S3OutputPath": f"s3://{harness.bucket}/out"},
        "ResourceConfig": {"InstanceType": "ml.m5.large", "InstanceCount": 1, "VolumeSizeInGB": 5},
        "StoppingCondition": {"MaxRuntimeInSeconds": 120},
        "RoleArn": ROLE,
    }
    result = run_training_job("mt-1", request, harness.ctx())
    assert result.status == "Completed", result.failure_reason + "\n" + "\n".join(harness.lines["job"][-30:])
    metrics = {m["MetricName"]: m["Value"] for m in result.description["FinalMetricDataList"]}
    assert metrics == {"validation:auc": pytest.approx(0.7)}
    model = json.loads(harness.untar("out/mt-1/output/model.tar.gz")["model.json"])
    assert model == {"lr": 0.5, "epochs": 3, "rows": 2}
    assert "Training Container Execution Completed" in harness.lines["job"]
