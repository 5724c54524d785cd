"""The plugin's registration; runs on Airflow 3 and on Airflow 2.11 (Makefile AF2_TESTS), where it must
import and register nothing."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

from airflow import __version__ as airflow_version

from airflow_sagemaker_mlops.ui.plugin import URL_PREFIX, SageMakerPipelinesPlugin

PYPROJECT = Path(__file__).parents[2] / "pyproject.toml"


def test_pyproject_registers_the_plugin_through_the_airflow_plugins_entry_point():
    section = re.search(r'^\[project\.entry-points\."airflow\.plugins"\]\n(.*?)(?:\n\[|\Z)', PYPROJECT.read_text(),
                        re.S | re.M)
    assert section, "no [project.entry-points.\"airflow.plugins\"] in pyproject.toml"
    entry = re.search(r'^sagemaker_pipelines = "([\w.]+):(\w+)"', section.group(1), re.M)
    assert entry, section.group(1)
    module, name = entry.groups()
    assert getattr(__import__(module, fromlist=[name]), name) is SageMakerPipelinesPlugin


def test_what_the_plugin_registers_on_this_airflow():
    from airflow import plugins_manager

    assert SageMakerPipelinesPlugin.name == "sagemaker_pipelines"
    if int(airflow_version.split(".")[0]) < 3:
        # Airflow 2's UI has neither: the class is a valid plugin that adds nothing.
        assert not getattr(SageMakerPipelinesPlugin, "fastapi_apps", [])
        assert not getattr(SageMakerPipelinesPlugin, "external_views", [])
        return
    assert plugins_manager.is_valid_plugin(SageMakerPipelinesPlugin)
    [view] = SageMakerPipelinesPlugin.external_views
    assert view == {"name": "SageMaker pipeline", "href": "sagemaker-pipelines/dags/{DAG_ID}", "destination": "dag",
                    "url_route": "sagemaker-pipeline", "icon": "sagemaker-pipelines/icon.svg"}
    [app] = SageMakerPipelinesPlugin.fastapi_apps
    assert app["url_prefix"] == URL_PREFIX == "/" + view["href"].split("/")[0]


def test_importing_the_plugin_builds_no_app():
    # Every Airflow component loads plugins; only the api-server serves the app, built on its first request.
    probe = ("import sys, airflow_sagemaker_mlops.ui.plugin as p; "
             "print(sorted(m for m in ('airflow_sagemaker_mlops.ui.app', 'airflow.api_fastapi.core_api.security') "
             "if m in sys.modules))")
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.strip().splitlines()[-1] == "[]", result.stdout
