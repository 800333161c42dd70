"""The api's exceptions and the one place they become `{"error": ..., "detail": ...}` responses.

ArchiveError                      (twitch_archive.errors)
 +-- ApiError                     an answer other than 2xx, with a status and an error code
      +-- InvalidParameterError   400 invalid_parameter: a parameter is malformed or out of range
      +-- NotFoundError           404 not_found: an unknown message, user or channel
      +-- UnauthorizedError       401 unauthorized: admin endpoint without the right bearer token
      +-- AdminDisabledError      403 admin_disabled: no ADMIN_TOKEN configured
      +-- ConflictError           409 conflict: the request contradicts the current state
      +-- UnavailableError        503 unavailable: PostgreSQL or NATS cannot answer now

Every other exception is caught by `handle_unexpected` (500 internal_error, logged with its
traceback); Litestar's own (validation, 404, 405) are translated to the same body.
"""

from __future__ import annotations

from typing import Any

import asyncpg
import msgspec
import structlog
from litestar import MediaType, Request, Response
from litestar.exceptions import (
    HTTPException,
    NotAuthorizedException,
    ValidationException,
)
from litestar.types import ExceptionHandlersMap

from twitch_archive.errors import ArchiveError

log = structlog.get_logger("archive_api.errors")


class ErrorBody(msgspec.Struct, frozen=True):
    """Every error answer: a stable code and a sentence naming the parameter at fault."""

    error: str
    detail: str


class ApiError(ArchiveError):
    """An answer other than 2xx."""

    status_code = 500
    code = "internal_error"

    def __init__(self, detail: str, *, headers: dict[str, str] | None = None) -> None:
        super().__init__(detail)
        self.detail = detail
        self.headers = headers or {}


class InvalidParameterError(ApiError):
    """A parameter is malformed or out of range; the detail starts with its name."""

    status_code = 400
    code = "invalid_parameter"

    def __init__(self, parameter: str, reason: str) -> None:
        super().__init__(f"{parameter}: {reason}")
        self.parameter = parameter


class NotFoundError(ApiError):
    """An unknown message, user or channel."""

    status_code = 404
    code = "not_found"


class UnauthorizedError(ApiError):
    """An admin endpoint without the right bearer token."""

    status_code = 401
    code = "unauthorized"

    def __init__(self, detail: str) -> None:
        super().__init__(detail, headers={"WWW-Authenticate": 'Bearer realm="archive-admin"'})


class AdminDisabledError(ApiError):
    """Channel management is off because ADMIN_TOKEN is not set."""

    status_code = 403
    code = "admin_disabled"


class ConflictError(ApiError):
    """The request contradicts the current state (e.g. rejoin an inactive channel)."""

    status_code = 409
    code = "conflict"


class UnavailableError(ApiError):
    """A dependency (PostgreSQL, NATS) cannot answer now; retry later."""

    status_code = 503
    code = "unavailable"

    def __init__(self, detail: str) -> None:
        super().__init__(detail, headers={"Retry-After": "5"})


def error_response(
    status: int, code: str, detail: str, headers: dict[str, str] | None = None
) -> Response[ErrorBody]:
    """The JSON error answer."""
    return Response(
        ErrorBody(error=code, detail=detail),
        status_code=status,
        media_type=MediaType.JSON,
        headers=headers,
    )


def handle_api_error(_: Request[Any, Any, Any], exc: Exception) -> Response[ErrorBody]:
    assert isinstance(exc, ApiError)
    return error_response(exc.status_code, exc.code, exc.detail, exc.headers)


def public_name(key: str) -> str:
    """The wire name of a handler argument: `include_deleted` -> `includeDeleted`, `q_` -> `q`."""
    head, *rest = key.rstrip("_").split("_")
    return head + "".join(part.title() for part in rest)


def _validation_detail(exc: ValidationException) -> str:
    """`limit: Expected `int`, got `str`` from Litestar's validation extra."""
    extra = exc.extra
    parts: list[str] = []
    if isinstance(extra, list):
        for item in extra:
            if isinstance(item, dict):
                key = public_name(str(item.get("key") or item.get("source") or "body"))
                message = str(item.get("message", "invalid value"))
                parts.append(f"{key}: {message}")
    if not parts:
        parts.append(f"body: {exc.detail}" if "body" in str(exc.detail).lower() else exc.detail)
    return "; ".join(parts)


def handle_validation(_: Request[Any, Any, Any], exc: Exception) -> Response[ErrorBody]:
    assert isinstance(exc, ValidationException)
    return error_response(400, "invalid_parameter", _validation_detail(exc))


_HTTP_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    406: "not_acceptable",
    413: "payload_too_large",
    415: "unsupported_media_type",
    429: "rate_limited",
    503: "unavailable",
}


def handle_http(request: Request[Any, Any, Any], exc: Exception) -> Response[ErrorBody]:
    assert isinstance(exc, HTTPException)
    status = exc.status_code
    detail = exc.detail
    if status == 404 and detail in ("Not Found", ""):
        detail = f"path: no endpoint at {request.url.path}"
    elif status == 405:
        detail = f"method: {request.method} is not allowed on {request.url.path}"
    headers = dict(exc.headers or {})
    return error_response(status, _HTTP_CODES.get(status, "error"), detail, headers)


def handle_unauthorized(_: Request[Any, Any, Any], exc: Exception) -> Response[ErrorBody]:
    return error_response(401, "unauthorized", str(getattr(exc, "detail", exc)))


def handle_database(request: Request[Any, Any, Any], exc: Exception) -> Response[ErrorBody]:
    """PostgreSQL down, overloaded or a query cancelled by statement_timeout: 503, retryable."""
    if isinstance(exc, asyncpg.QueryCanceledError):
        detail = "the query took too long and was cancelled; narrow it (since/until, channel)"
    else:
        detail = "the database is not answering; retry shortly"
    log.warning("database_error", path=request.url.path, error=repr(exc)[:300])
    return error_response(503, "unavailable", detail, {"Retry-After": "5"})


def handle_unexpected(request: Request[Any, Any, Any], exc: Exception) -> Response[ErrorBody]:
    log.error("request_failed", path=request.url.path, exc_info=exc)
    return error_response(500, "internal_error", "an unexpected error; it has been logged")


def exception_handlers() -> ExceptionHandlersMap:
    """The handlers every route shares."""
    return {
        ApiError: handle_api_error,
        ValidationException: handle_validation,
        NotAuthorizedException: handle_unauthorized,
        HTTPException: handle_http,
        asyncpg.PostgresConnectionError: handle_database,
        asyncpg.QueryCanceledError: handle_database,
        asyncpg.InterfaceError: handle_database,
        asyncpg.CannotConnectNowError: handle_database,
        asyncpg.TooManyConnectionsError: handle_database,
        OSError: handle_database,
        TimeoutError: handle_database,
        Exception: handle_unexpected,
    }
