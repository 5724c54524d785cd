"""The FastAPI app behind the pipeline tab (Airflow 3 only: the api-server mounts it at ``URL_PREFIX``).

- ``GET {URL_PREFIX}/dags/{dag_id}``: the page (HTML with inline SVG), for the latest execution of each
  group, or for the execution of DAG run ``?run_id=``. Needs the same login as the UI (the UI's JWT cookie,
  or a bearer token) and read access to the DAG.
- ``GET {URL_PREFIX}/icon.svg``: the tab's icon.
- ``GET {URL_PREFIX}/help``: how to give a DAG a pipeline (linked from the one-line page of a DAG without one:
  Airflow's plugin interface shows a DAG tab on every DAG).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated, Any

from fastapi import Depends, FastAPI, HTTPException, Request
from fastapi.responses import HTMLResponse, Response

from .plugin import URL_PREFIX

ICON_SVG = (
    '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 24 24" fill="none" stroke="#1f6feb" stroke-width="2" '
    'stroke-linecap="round" stroke-linejoin="round"><rect x="3" y="3" width="7" height="5" rx="1"/>'
    '<rect x="14" y="10" width="7" height="5" rx="1"/><rect x="3" y="16" width="7" height="5" rx="1"/>'
    '<path d="M6.5 8v8M10 5.5h3.5a1 1 0 0 1 1 1V10"/></svg>'
)


def db_session() -> Iterator[Any]:
    """A metadata-database session (a dependency, so tests can hand in their own)."""
    from airflow.utils.session import create_session

    with create_session() as session:
        yield session


def _dag_read_access() -> Any:
    from airflow.api_fastapi.core_api.security import requires_access_dag

    return requires_access_dag("GET")


def airflow_base(request: Request) -> str:
    """The UI's base path: where this app is mounted, minus its own prefix (Airflow may live under a path)."""
    root = request.scope.get("root_path", "")
    return root[: -len(URL_PREFIX)] if root.endswith(URL_PREFIX) else root


def load_dag(session: Any, dag_id: str) -> Any:
    from airflow.models.serialized_dag import SerializedDagModel

    return SerializedDagModel.get_dag(dag_id, session=session)


def create_app() -> FastAPI:
    app = FastAPI(title="SageMaker pipelines", description=__doc__, docs_url=None, redoc_url=None,
                  openapi_url=None)

    @app.get("/icon.svg")
    def icon() -> Response:
        return Response(ICON_SVG, media_type="image/svg+xml", headers={"Cache-Control": "max-age=86400"})

    @app.get("/help", response_class=HTMLResponse)
    def help_page() -> HTMLResponse:
        from .render import render_help

        return HTMLResponse(render_help(), headers={"Cache-Control": "max-age=3600"})

    @app.get("/dags/{dag_id}", response_class=HTMLResponse, dependencies=[Depends(_dag_read_access())])
    def pipeline_page(dag_id: str, request: Request, session: Annotated[Any, Depends(db_session)],
                      run_id: str | None = None) -> HTMLResponse:
        # A sync endpoint: FastAPI runs it in its thread pool, so the blocking AWS calls do not stall the
        # api-server's event loop.
        from .data import AirflowUrls, group_view, latest_execution, pipeline_groups
        from .render import render_no_pipeline, render_page

        dag = load_dag(session, dag_id)
        if dag is None:
            raise HTTPException(404, f"DAG {dag_id!r} not found")
        groups = pipeline_groups(dag)
        if not groups:
            return HTMLResponse(render_no_pipeline(dag_id))
        urls = AirflowUrls(airflow_base(request))
        views = [group_view(dag_id, g, latest_execution(session, dag_id, g.start_task_id, run_id), urls)
                 for g in groups]
        message = None
        if run_id is not None and not any(v.execution for v in views):
            message = f"DAG run {run_id!r} started no pipeline execution."
        return HTMLResponse(render_page(dag_id, views, message))

    return app
