"""Shim (see tests/provider_system/shim/README.md): the provider's Airflow-version flags."""

from __future__ import annotations

from airflow_sagemaker_mlops.compat import AIRFLOW_V3

AIRFLOW_V_3_0_PLUS = AIRFLOW_V3
