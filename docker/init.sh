#!/usr/bin/env bash
# One-shot set-up of the compose stack (service airflow-init): database schema, the UI/API user's password,
# and the AWS resources the example DAGs expect on the local engine. Safe to run again.
set -euo pipefail

airflow db migrate

# The simple auth manager reads users from AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS and their passwords from
# this JSON file; writing it here gives a known login instead of a generated one hidden in the logs.
python - <<'PY'
import json, os
path = os.environ["AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE"]
os.makedirs(os.path.dirname(path), exist_ok=True)
with open(path, "w") as f:
    json.dump({"admin": os.environ.get("AIRFLOW_ADMIN_PASSWORD", "admin")}, f)
PY

python /opt/airflow-sagemaker-mlops/docker/create_example_resources.py /opt/airflow/dags
echo "Airflow is at http://localhost:8080 (user admin, password \$AIRFLOW_ADMIN_PASSWORD or 'admin')"
