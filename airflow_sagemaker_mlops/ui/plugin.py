"""``SageMakerPipelinesPlugin``: the "SageMaker pipeline" tab on every DAG in the Airflow 3 UI.

Registered through the ``airflow.plugins`` entry point, so installing the package is enough. It can also be
imported from a file in the plugins folder (``from airflow_sagemaker_mlops.ui.plugin import
SageMakerPipelinesPlugin``) where the package is importable without its entry point; with both, Airflow keeps
the first and reports the second as a duplicate.

Airflow 3 only: on Airflow 2 the class still imports (the package must keep importing there), but it
registers nothing, because Airflow 2's Flask UI has neither ``fastapi_apps`` nor ``external_views``.

Importing this module is cheap: the FastAPI app is built on its first request (every Airflow component loads
plugins, only the api-server serves them).
"""

from __future__ import annotations

import threading
from typing import Any

from airflow import __version__ as AIRFLOW_VERSION
from airflow.plugins_manager import AirflowPlugin

#: Where the api-server mounts the page's app; the tab's iframe loads ``{URL_PREFIX}/dags/<dag_id>``.
URL_PREFIX = "/sagemaker-pipelines"
#: The tab's path in the UI: /dags/<dag_id>/plugin/sagemaker-pipeline.
URL_ROUTE = "sagemaker-pipeline"

# Not compat.AIRFLOW_V3: compat imports airflow.sdk and the standard provider, which this module must not pull
# in while Airflow is still loading its plugins.
AIRFLOW_3 = int(AIRFLOW_VERSION.split(".", 1)[0]) >= 3


class LazyApp:
    """An ASGI app that builds the real one (``ui.app.create_app``) on its first request."""

    def __init__(self) -> None:
        self._app: Any = None
        self._lock = threading.Lock()

    @property
    def app(self) -> Any:
        with self._lock:
            if self._app is None:
                from .app import create_app

                self._app = create_app()
            return self._app

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        await self.app(scope, receive, send)


class SageMakerPipelinesPlugin(AirflowPlugin):
    name = "sagemaker_pipelines"
    if AIRFLOW_3:
        fastapi_apps = [{"app": LazyApp(), "url_prefix": URL_PREFIX, "name": "SageMaker pipelines"}]
        # Relative href and icon (no leading slash): the UI resolves them against its base URL, so the tab
        # also works when Airflow is served under a path. The UI replaces {DAG_ID}.
        external_views = [{
            "name": "SageMaker pipeline",
            "href": f"{URL_PREFIX.lstrip('/')}/dags/{{DAG_ID}}",
            "destination": "dag",
            "url_route": URL_ROUTE,
            "icon": f"{URL_PREFIX.lstrip('/')}/icon.svg",
        }]
