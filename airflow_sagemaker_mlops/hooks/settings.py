"""How a task reaches AWS: the four settings the Amazon provider's AWS operators take.

``aws_conn_id``, ``region_name``, ``verify`` (False, or a CA bundle path) and ``botocore_config`` (a dict of
``botocore.config.Config`` options) travel together from an operator, a sensor or a SageMakerPipelineGroup to
every hook it builds and through every trigger it defers to, so a proxy or a private CA configured on a task
holds for the triggerer's calls too. Cheap to import: DAG files construct these at parse time.
"""

from __future__ import annotations

import difflib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

from airflow_sagemaker_mlops.exceptions import PipelineDefinitionError

_H = TypeVar("_H")

#: Templated on every AWS task, as on the Amazon provider's operators.
AWS_TEMPLATE_FIELDS = ("aws_conn_id", "region_name", "verify")


@dataclass(frozen=True)
class AwsClientSettings:
    """Connection, region, TLS verification and botocore options of a task's AWS clients.

    Args:
        aws_conn_id: the Airflow connection (default ``aws_default``; None: the AWS environment).
        region_name: the region (default: the connection's).
        verify: TLS verification: False, or a CA bundle path (default: botocore's).
        botocore_config: ``botocore.config.Config`` options (``{"connect_timeout": 5, "proxies": {...}}``).
    """

    aws_conn_id: str | None = "aws_default"
    region_name: str | None = None
    verify: bool | str | None = None
    botocore_config: Mapping[str, Any] | None = None

    @classmethod
    def of(cls, obj: Any) -> AwsClientSettings:
        """The settings an operator, sensor, group or trigger holds as attributes (after templating).

        Args:
            obj: anything with ``aws_conn_id``, ``region_name``, ``verify``, ``botocore_config`` attributes.
        """
        return cls(getattr(obj, "aws_conn_id", "aws_default"), getattr(obj, "region_name", None),
                   getattr(obj, "verify", None), getattr(obj, "botocore_config", None))

    def hook(self, hook_class: type[_H]) -> _H:
        """An AwsBaseHook subclass built with these settings (a dict config is what the provider passes too).

        Args:
            hook_class: the hook class to build.
        """
        return hook_class(aws_conn_id=self.aws_conn_id, region_name=self.region_name,  # type: ignore[call-arg]
                          verify=self.verify,
                          config=dict(self.botocore_config) if self.botocore_config else None)

    def as_kwargs(self) -> dict[str, Any]:
        """Keyword arguments for a trigger or an operator; JSON-serialisable, as a trigger's must be."""
        return {"aws_conn_id": self.aws_conn_id, "region_name": self.region_name, "verify": self.verify,
                "botocore_config": dict(self.botocore_config) if self.botocore_config else None}

    @property
    def key(self) -> tuple[Any, ...]:
        """Hashable identity: tasks with equal settings may share a client (the triggerer's pollers do)."""
        config = json.dumps(self.botocore_config, sort_keys=True, default=str) if self.botocore_config else None
        return self.aws_conn_id, self.region_name, self.verify, config


def check_client_settings(verify: Any, botocore_config: Any) -> None:
    """Reject what botocore would reject only when the first client is built, on a worker, hours later.

    Raises PipelineDefinitionError naming the field; callers add the DAG file location.
    """
    if verify is not None and not isinstance(verify, bool | str):
        raise PipelineDefinitionError(
            f"verify must be True, False or the path of a CA bundle, got {type(verify).__name__} {verify!r}",
            field="verify")
    if botocore_config is None:
        return
    if not isinstance(botocore_config, Mapping):
        raise PipelineDefinitionError(
            "botocore_config must be a dict of botocore.config.Config options (e.g. {'connect_timeout': 5}), "
            f"got {type(botocore_config).__name__}", field="botocore_config")
    from botocore.config import Config

    known = tuple(Config.OPTION_DEFAULTS)
    for name in botocore_config:
        if name not in known:
            close = difflib.get_close_matches(str(name), known, n=1)
            hint = f"; did you mean {close[0]!r}?" if close else f"; botocore knows {', '.join(sorted(known))}"
            raise PipelineDefinitionError(f"{name!r} is not a botocore Config option{hint}",
                                          field=f"botocore_config.{name}")
    try:
        Config(**botocore_config)
    except Exception as exc:  # botocore's own checks (retry mode, addressing style, ...)
        raise PipelineDefinitionError(f"botocore refuses it: {type(exc).__name__}: {exc}",
                                      field="botocore_config") from None


def check_task_settings(task: Any) -> None:
    """:func:`check_client_settings` on an operator's or sensor's own settings, located at the DAG file's
    line. Templated values (a Jinja string) pass: they are strings until the task runs."""
    try:
        check_client_settings(getattr(task, "verify", None), getattr(task, "botocore_config", None))
    except PipelineDefinitionError as exc:
        from airflow_sagemaker_mlops.location import located

        raise located(exc, task_id=getattr(task, "task_id", None)) from None
