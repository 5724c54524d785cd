"""AwsClientSettings: the Amazon provider's four AWS settings, carried to every hook and trigger."""

from __future__ import annotations

import pytest

from airflow_sagemaker_mlops.exceptions import PipelineDefinitionError
from airflow_sagemaker_mlops.hooks.events import (
    SageMakerEventBusHook,
    SageMakerEventQueueAsyncHook,
    SageMakerEventQueueHook,
)
from airflow_sagemaker_mlops.hooks.logs import LOGS_RETRIES, SageMakerJobLogsAsyncHook, SageMakerJobLogsHook
from airflow_sagemaker_mlops.hooks.pipelines import (
    DEFAULT_RETRIES,
    SageMakerPipelinesAsyncHook,
    SageMakerPipelinesHook,
)
from airflow_sagemaker_mlops.hooks.registry import SageMakerModelRegistryAsyncHook, SageMakerModelRegistryHook
from airflow_sagemaker_mlops.hooks.settings import AwsClientSettings, check_client_settings

CA = "/etc/ssl/corp-ca.pem"


def test_hooks_get_verify_and_the_botocore_options_and_keep_our_retries() -> None:
    aws = AwsClientSettings(None, "eu-west-1", CA, {"connect_timeout": 3, "user_agent_extra": "corp"})
    for cls in (SageMakerPipelinesHook, SageMakerPipelinesAsyncHook, SageMakerJobLogsAsyncHook):
        hook = aws.hook(cls)
        assert hook.verify == CA
        assert hook.region_name == "eu-west-1"
        assert hook.config.connect_timeout == 3 and hook.config.user_agent_extra == "corp"
        assert hook.config.retries  # our default retry policy, since the options name none


@pytest.mark.parametrize(
    ("cls", "service", "retries"),
    [
        (SageMakerPipelinesHook, "sagemaker", DEFAULT_RETRIES),
        (SageMakerPipelinesAsyncHook, "sagemaker", DEFAULT_RETRIES),
        (SageMakerModelRegistryHook, "sagemaker", DEFAULT_RETRIES),
        (SageMakerModelRegistryAsyncHook, "sagemaker", DEFAULT_RETRIES),
        (SageMakerEventQueueHook, "sqs", DEFAULT_RETRIES),
        (SageMakerEventQueueAsyncHook, "sqs", DEFAULT_RETRIES),
        (SageMakerEventBusHook, "events", DEFAULT_RETRIES),
        # a few attempts only: minutes of backoff would hold up the shared poller
        (SageMakerJobLogsHook, "logs", LOGS_RETRIES),
        (SageMakerJobLogsAsyncHook, "logs", LOGS_RETRIES),
    ],
)
def test_each_hook_talks_to_its_service_with_its_default_retries(cls: type, service: str, retries: dict) -> None:
    hook = AwsClientSettings(None, "eu-west-1").hook(cls)
    assert hook.client_type == service
    assert hook.config.retries == retries
    assert hook.config.retries is not retries  # a copy: a client changing it leaves the default alone
    mine = AwsClientSettings(None, "eu-west-1", None, {"retries": {"max_attempts": 2}}).hook(cls)
    assert mine.config.retries == {"max_attempts": 2}  # the user's win


def test_the_client_is_built_with_them() -> None:
    hook = AwsClientSettings(None, "eu-west-1", False, {"read_timeout": 7, "retries": {"max_attempts": 2}}).hook(
        SageMakerPipelinesHook)
    client = hook.conn
    assert client.meta.config.read_timeout == 7
    assert client.meta.config.retries["total_max_attempts"] == 3  # the user's retries (2 + 1) win over ours
    assert client._endpoint.http_session._verify is False


def test_settings_round_trip_as_json_kwargs_and_key_equal_settings_alike() -> None:
    one = AwsClientSettings("c", "r", True, {"proxies": {"https": "http://p:1"}, "connect_timeout": 1})
    two = AwsClientSettings(**one.as_kwargs())
    assert two == one and two.key == one.key
    assert AwsClientSettings("c", "r", True, {"connect_timeout": 2}).key != one.key
    assert AwsClientSettings().as_kwargs() == {"aws_conn_id": "aws_default", "region_name": None, "verify": None,
                                               "botocore_config": None}


@pytest.mark.parametrize(
    ("verify", "config", "field", "message"),
    [
        (5, None, "verify", "verify must be True, False or the path of a CA bundle, got int 5"),
        (None, "connect_timeout=5", "botocore_config", "must be a dict of botocore.config.Config options"),
        (None, {"conect_timeout": 5}, "botocore_config.conect_timeout", "did you mean 'connect_timeout'"),
        (None, {"retries": {"mode": "fastest"}}, "botocore_config", "botocore refuses it"),
    ],
)
def test_bad_settings_are_named(verify: object, config: object, field: str, message: str) -> None:
    with pytest.raises(PipelineDefinitionError, match=message) as exc:
        check_client_settings(verify, config)
    assert exc.value.field == field


def test_good_settings_pass() -> None:
    check_client_settings(None, None)
    check_client_settings("{{ var.value.ca_bundle }}", {"retries": {"mode": "adaptive", "max_attempts": 4}})
    check_client_settings(False, {"s3": {"addressing_style": "path"},
                                  "proxies_config": {"proxy_use_forwarding_for_https": True}})
