"""Service errors in the shape AWS JSON protocols return them (``__type`` + ``message``)."""

from __future__ import annotations


class ServiceError(Exception):
    """An error the server turns into an AWS JSON error response."""

    code = "InternalFailure"
    status = 500

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class ValidationError(ServiceError):
    code = "ValidationException"
    status = 400


class ResourceNotFound(ServiceError):
    code = "ResourceNotFound"
    status = 400


class ConflictError(ServiceError):
    code = "ConflictException"
    status = 400


class ThrottlingError(ServiceError):
    code = "ThrottlingException"
    status = 400


class AccessDeniedError(ServiceError):
    code = "AccessDeniedException"
    status = 400


class ResourceLimitExceeded(ServiceError):
    code = "ResourceLimitExceeded"
    status = 400


class UnknownOperationError(ServiceError):
    code = "UnknownOperationException"
    status = 400


class SerializationError(ServiceError):
    """A body that is not the JSON object the protocol expects (AWS: SerializationException)."""

    code = "SerializationException"
    status = 400
