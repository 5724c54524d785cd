from __future__ import annotations

import os
import tempfile

# Airflow reads its configuration on import: give every test session its own home, no examples.
os.environ.setdefault("AIRFLOW_HOME", tempfile.mkdtemp(prefix="airflow-home-"))
os.environ.setdefault("AIRFLOW__CORE__LOAD_EXAMPLES", "False")
os.environ.setdefault("AIRFLOW__CORE__UNIT_TEST_MODE", "True")
# Triggers run in-process here, with no scheduler to race (triggers/pipelines.min_deferral_seconds).
os.environ.setdefault("AIRFLOW__SAGEMAKER_MLOPS__MIN_DEFERRAL_SECONDS", "0")
# Nothing in the tests may reach AWS: fake credentials and a region, endpoints are set per test.
os.environ.setdefault("AWS_ACCESS_KEY_ID", "testing")
os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "testing")
os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
