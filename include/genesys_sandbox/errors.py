"""ErrorBody answers, shaped like the platform's, for every failure the sandbox reports.

Unknown paths answer 404, malformed requests 400 naming the field; nothing ever leaks a traceback.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Sequence
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from genesys_pipelines.models.common import Detail, ErrorBody, Limit

log = logging.getLogger(__name__)

# Platform error codes by status (the ``code`` field of ErrorBody).
CODES = {
    400: "bad.request",
    401: "bad.credentials",
    403: "missing.any.permissions",
    404: "not.found",
    405: "not.found",
    409: "conflict",
    413: "request.entity.too.large",
    429: "too.many.requests",
    500: "internal.server.error",
    502: "bad.gateway",
    503: "service.unavailable",
    504: "gateway.timeout",
}


class ApiError(Exception):
    """Raise from a route to answer with an ErrorBody."""

    def __init__(
        self,
        status: int,
        message: str,
        *,
        code: str | None = None,
        fields: Sequence[str] = (),
        entity_id: str | None = None,
        limit: Limit | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.code = code or CODES.get(status, "error")
        self.fields = list(fields)
        self.entity_id = entity_id
        self.limit = limit
        self.headers = headers or {}


def error_body(
    status: int,
    message: str,
    *,
    code: str | None = None,
    fields: Sequence[str] = (),
    entity_id: str | None = None,
    limit: Limit | None = None,
) -> dict[str, Any]:
    body = ErrorBody(
        message=message,
        code=code or CODES.get(status, "error"),
        status=status,
        entity_id=entity_id,
        context_id=str(uuid.uuid4()),
        details=[Detail(error_code=code or CODES.get(status, "error"), field_name=f) for f in fields] or None,
        limit=limit,
    )
    return body.to_api()


CORRELATION_HEADER = "ININ-Correlation-Id"


def error_response(
    status: int, message: str, *, headers: dict[str, str] | None = None, **kwargs: Any
) -> JSONResponse:
    body = error_body(status, message, **kwargs)
    return JSONResponse(body, status_code=status, headers={**(headers or {}), CORRELATION_HEADER: body["contextId"]})


def not_found(what: str = "The requested resource was not found.", entity_id: str | None = None) -> ApiError:
    return ApiError(404, what, entity_id=entity_id)


def _field_name(loc: Sequence[object]) -> str:
    # FastAPI locations start with where the value came from ("body", "query", ...).
    parts = [str(p) for p in loc if p not in ("body", "query", "path", "header")]
    return ".".join(parts) or "body"


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(ApiError)
    async def _api_error(_: Request, exc: ApiError) -> JSONResponse:
        return error_response(
            exc.status,
            exc.message,
            code=exc.code,
            fields=exc.fields,
            entity_id=exc.entity_id,
            limit=exc.limit,
            headers=exc.headers,
        )

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        if exc.status_code in (404, 405):
            # The platform answers an unknown path or method with a plain 404.
            return error_response(404, "HTTP 404 Not Found")
        return error_response(exc.status_code, str(exc.detail))

    @app.exception_handler(RequestValidationError)
    async def _validation_error(_: Request, exc: RequestValidationError) -> JSONResponse:
        fields = [_field_name(err.get("loc", ())) for err in exc.errors()]
        first = exc.errors()[0] if exc.errors() else {}
        message = f"{fields[0] if fields else 'body'}: {first.get('msg', 'invalid value')}"
        return error_response(400, message, fields=fields)

    @app.exception_handler(Exception)
    async def _unexpected(_: Request, exc: Exception) -> JSONResponse:
        log.exception("sandbox error")
        return error_response(500, "The server encountered an internal error.")
