"""Credential discovery logs at DEBUG once our hooks exist (it repeated on every client of a task)."""

from __future__ import annotations

import logging

import pytest

from airflow_sagemaker_mlops.hooks.pipelines import SageMakerPipelinesHook


@pytest.mark.parametrize("name", ["botocore.credentials", "aiobotocore.credentials"])
def test_found_credentials_is_debug_not_info(name: str, caplog: pytest.LogCaptureFixture) -> None:
    SageMakerPipelinesHook(aws_conn_id=None)
    logger = logging.getLogger(name)
    with caplog.at_level(logging.INFO):
        logger.info("Found credentials in environment variables.")
        logger.warning("Refreshing temporary credentials failed")
    assert [(r.levelname, r.getMessage()) for r in caplog.records] == [
        ("WARNING", "Refreshing temporary credentials failed")]
    caplog.clear()
    with caplog.at_level(logging.DEBUG, logger=name):
        logger.info("Found credentials in environment variables.")
    assert [(r.levelname, r.getMessage()) for r in caplog.records] == [
        ("DEBUG", "Found credentials in environment variables.")]
