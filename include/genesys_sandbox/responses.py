"""Building API responses: self-validated JSON and the page-number listing envelope.

Routers (core and analytics) answer through :func:`api_json` so every body is held against its model
with ``strict_validate`` unless the sandbox runs with ``--no-self-validation``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any
from urllib.parse import urlencode

from fastapi import Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ValidationError

from genesys_pipelines.models.common import StrictValidationError, strict_validate
from genesys_sandbox.errors import ApiError


def self_validation_enabled(request: Request) -> bool:
    state = getattr(request.app.state, "sandbox", None)
    return bool(state is None or state.config.self_validation)


def api_json(
    request: Request,
    model_cls: type[BaseModel] | None,
    payload: Any,
    status: int = 200,
    headers: dict[str, str] | None = None,
) -> JSONResponse:
    """Answer ``payload``; with self-validation on, check it against ``model_cls`` first.

    A list payload is checked item by item (the API's unpaged array answers). A failure is a sandbox
    bug, reported loudly as a 500 naming the offending keys.
    """
    if model_cls is not None and self_validation_enabled(request):
        items = payload if isinstance(payload, list) else [payload]
        try:
            for item in items:
                strict_validate(model_cls, item)
        except (ValidationError, StrictValidationError) as exc:
            raise ApiError(500, f"sandbox self-validation failed for {model_cls.__name__}: {exc}") from exc
    return JSONResponse(payload, status_code=status, headers=headers)


def paging_params(page_size: int | None, page_number: int | None, *, default: int = 25, maximum: int = 100) -> tuple[int, int]:
    """Validated (pageSize, pageNumber); out-of-range values answer 400 naming the parameter."""
    size = default if page_size is None else page_size
    number = 1 if page_number is None else page_number
    if size < 1 or size > maximum:
        raise ApiError(400, f"pageSize must be between 1 and {maximum}", fields=["pageSize"])
    if number < 1:
        raise ApiError(400, "pageNumber must be 1 or more", fields=["pageNumber"])
    return size, number


def page_listing(
    request: Request, items: Sequence[Any], page_size: int, page_number: int
) -> dict[str, Any]:
    """The ``*EntityListing`` envelope for one page of ``items``, with the platform's URIs."""
    total = len(items)
    page_count = max(1, math.ceil(total / page_size)) if total else 0
    start = (page_number - 1) * page_size
    base = request.url.path
    others = [(k, v) for k, v in request.query_params.multi_items() if k not in ("pageSize", "pageNumber")]

    def uri(number: int) -> str:
        return f"{base}?{urlencode([('pageSize', page_size), ('pageNumber', number), *others])}"

    listing: dict[str, Any] = {
        "entities": list(items[start : start + page_size]),
        "pageSize": page_size,
        "pageNumber": page_number,
        "total": total,
        "firstUri": uri(1),
        "selfUri": uri(page_number),
        "lastUri": uri(max(page_count, 1)),
        "pageCount": page_count,
    }
    if page_number < page_count:
        listing["nextUri"] = uri(page_number + 1)
    if page_number > 1:
        listing["previousUri"] = uri(page_number - 1)
    return listing
