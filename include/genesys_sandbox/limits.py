"""The per-token (or per-client) request budget and the live limits endpoint."""

from __future__ import annotations

import math
import threading
import time
from collections import deque
from collections.abc import Callable

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from genesys_pipelines.models.common import Limit
from genesys_pipelines.models.limits import TOKEN_RATE_KEY, LimitsEntityListing
from genesys_sandbox.errors import ApiError, error_response
from genesys_sandbox.responses import api_json

router = APIRouter()
WINDOW_SECONDS = 60.0
PLATFORM_NAMESPACE = "platform.api"


class RateBudget:
    """Sliding one-minute window per key (token string or client id)."""

    def __init__(self, per_minute: int, clock: Callable[[], float] = time.monotonic) -> None:
        self.per_minute = per_minute
        self.clock = clock
        self._hits: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def take(self, key: str) -> float | None:
        """Spend one request of ``key``'s budget: None if allowed, else the seconds to wait."""
        now = self.clock()
        with self._lock:
            hits = self._hits.setdefault(key, deque())
            while hits and hits[0] <= now - WINDOW_SECONDS:
                hits.popleft()
            if len(hits) >= self.per_minute:
                return max(0.0, hits[0] + WINDOW_SECONDS - now)
            hits.append(now)
        return None

    def remaining(self, key: str) -> int:
        now = self.clock()
        hits = [t for t in self._hits.get(key, ()) if t > now - WINDOW_SECONDS]
        return max(0, self.per_minute - len(hits))


def rate_limit_response(per_minute: int, wait_seconds: float) -> JSONResponse:
    retry_after = max(1, math.ceil(wait_seconds))
    return error_response(
        429,
        f"Rate limit exceeded the maximum. Retry the request in [{retry_after}] seconds",
        limit=Limit(key=TOKEN_RATE_KEY, namespace=PLATFORM_NAMESPACE, value=per_minute),
        headers={"Retry-After": str(retry_after)},
    )


def _namespace_limits(request: Request, namespace: str) -> list[Limit]:
    per_minute = request.app.state.sandbox.config.requests_per_minute
    table: dict[str, list[Limit]] = {
        PLATFORM_NAMESPACE: [
            Limit(key=TOKEN_RATE_KEY, namespace=PLATFORM_NAMESPACE, value=per_minute),
            Limit(key="token.rate.per.minute", namespace=PLATFORM_NAMESPACE, value=per_minute),
            Limit(key="org.app.user.rate.per.minute", namespace=PLATFORM_NAMESPACE, value=3000),
            Limit(key="request.bytes.max", namespace=PLATFORM_NAMESPACE, value=512000),
        ],
        # Namespaces the pipelines consult; the sandbox reports no extra limits in them.
        "analytics": [],
        "analytics.data.extraction": [],
        "outbound": [],
        "workforce.management.forecast": [],
    }
    if namespace not in table:
        raise ApiError(404, f"Limit namespace {namespace} was not found.", entity_id=namespace)
    return table[namespace]


@router.get("/api/v2/organizations/limits/namespaces/{namespaceName}")
def namespace_limits(namespaceName: str, request: Request) -> JSONResponse:
    body = LimitsEntityListing(entities=_namespace_limits(request, namespaceName)).to_api()
    body.setdefault("entities", [])
    return api_json(request, LimitsEntityListing, body)


@router.get("/api/v2/organizations/limits/namespaces/{namespaceName}/defaults")
def namespace_defaults(namespaceName: str, request: Request) -> JSONResponse:
    return namespace_limits(namespaceName, request)
