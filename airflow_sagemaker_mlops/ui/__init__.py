"""The pipeline tab in the Airflow 3 UI: each SageMakerPipelineGroup's pipeline graph, coloured by the latest
execution's step statuses (``plugin.py`` registers it; ``app.py`` serves it; ``data.py`` gathers what it shows;
``graph.py`` lays it out; ``render.py`` draws it). See docs/observability.md."""
