"""Errors the hooks raise: SageMaker's own error code and message kept, wrapped in the project's base class.

These live beside the hooks because only the run-time bridge raises them; they subclass
``airflow_sagemaker_mlops.exceptions.SageMakerMlopsError`` so ``except SageMakerMlopsError`` catches them.
"""

from __future__ import annotations

from typing import Any

from botocore.exceptions import ClientError

from airflow_sagemaker_mlops.exceptions import PipelineDefinitionError, SageMakerMlopsError


class SageMakerApiError(SageMakerMlopsError):
    """A SageMaker (or S3) call that failed for good: retries are done or the error is permanent.

    Args:
        message: AWS's error text.
        code: AWS's error code (``ValidationException``, ``ResourceNotFound``, ...).
        operation: the API operation (``StartPipelineExecution``).
        status_code: the HTTP status.
        request_id: AWS's request id, for support cases.
    """

    def __init__(
        self,
        message: str,
        *,
        code: str,
        operation: str | None = None,
        status_code: int | None = None,
        request_id: str | None = None,
    ) -> None:
        self.code = code
        self.message = message
        self.operation = operation
        self.status_code = status_code
        self.request_id = request_id
        prefix = f"{operation}: " if operation else ""
        super().__init__(f"{prefix}{code}: {message}")


class SageMakerResourceNotFoundError(SageMakerApiError):
    """The pipeline, execution, job or callback token does not exist (``ResourceNotFound``, 404s)."""


class SageMakerConflictError(SageMakerApiError):
    """The resource is not in a state that allows the call (``ConflictException``)."""


class SageMakerValidationError(SageMakerApiError, ValueError):
    """SageMaker rejected the request's content (``ValidationException``)."""


class SageMakerThrottlingError(SageMakerApiError):
    """Still throttled after every retry botocore was allowed."""


class PipelineParameterError(PipelineDefinitionError):
    """Execution parameter values that do not match the declared parameters; raised before any call."""


class PipelineWaitTimeout(SageMakerMlopsError, TimeoutError):
    """A synchronous wait ran out of time."""


_NOT_FOUND = {"ResourceNotFound", "ResourceNotFoundException", "NoSuchKey", "NoSuchBucket", "404", "NotFound"}
_THROTTLED = {
    "ThrottlingException",
    "Throttling",
    "ThrottledException",
    "RequestThrottledException",
    "TooManyRequestsException",
    "ProvisionedThroughputExceededException",
    "RequestLimitExceeded",
    "SlowDown",
}


def wrap_client_error(exc: ClientError) -> SageMakerApiError:
    """The project error for a botocore ClientError, keeping code, message and operation."""
    error: dict[str, Any] = exc.response.get("Error", {})
    meta: dict[str, Any] = exc.response.get("ResponseMetadata", {})
    code = str(error.get("Code") or "Unknown")
    message = str(error.get("Message") or exc)
    kwargs = {
        "code": code,
        "operation": exc.operation_name,
        "status_code": meta.get("HTTPStatusCode"),
        "request_id": meta.get("RequestId"),
    }
    cls: type[SageMakerApiError]
    if code in _NOT_FOUND:
        cls = SageMakerResourceNotFoundError
    elif code == "ConflictException":
        cls = SageMakerConflictError
    elif code == "ValidationException":
        cls = SageMakerValidationError
    elif code in _THROTTLED:
        cls = SageMakerThrottlingError
    else:
        cls = SageMakerApiError
    return cls(message, **kwargs)
