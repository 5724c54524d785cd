"""The MWAA venv under test (``make test-mwaa-<version>`` sets ``MWAA_VENV`` and ``MWAA_VERSION``)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from mwaa_env import MwaaVenv

# Outside `make test-mwaa` there is no MWAA venv to test: collect nothing (the Makefile always sets it).
collect_ignore_glob = [] if os.environ.get("MWAA_VENV") else ["test_*.py"]
# MWAA's components for real (PostgreSQL, Celery, Redis) once, on the newest MWAA version.
if os.environ.get("MWAA_VERSION") != "3.3.1":
    collect_ignore_glob.append("test_postgres_celery.py")


@pytest.fixture(scope="session")
def mwaa() -> MwaaVenv:
    return MwaaVenv(os.environ["MWAA_VERSION"], Path(os.environ["MWAA_VENV"]))
