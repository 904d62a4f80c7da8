"""The per-token (or per-client) request budget and the live limits endpoints (values, defaults, docs)."""

from __future__ import annotations

import math
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from genesys_pipelines.models.common import Limit
from genesys_pipelines.models.limits import (
    INTERVAL_LIMITS,
    TOKEN_RATE_KEY,
    LimitDocs,
    LimitDocumentation,
    LimitsEntityListing,
    NamespaceDocs,
)
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


def rate_limit_response(per_minute: int, wait_seconds: float, code: str | None = None) -> JSONResponse:
    retry_after = max(1, math.ceil(wait_seconds))
    return error_response(
        429,
        f"Rate limit exceeded the maximum. Retry the request in [{retry_after}] seconds",
        code=code,
        limit=Limit(key=TOKEN_RATE_KEY, namespace=PLATFORM_NAMESPACE, value=per_minute),
        headers={"Retry-After": str(retry_after)},
    )


@dataclass(frozen=True)
class LimitDef:
    """A limit the sandbox knows: its platform default and what the limits docs say about it.

    ``configurable`` is set only where the platform documents it (the token rate is "raisable
    through support"); unknown flags and ``resource`` are left out rather than guessed.
    """

    key: str
    default: int
    description: str
    configurable: bool | None = None


# Platform defaults (genesys-api.md §2.5, the Genesys Cloud limits page, namespace platform.api).
PLATFORM_LIMITS = (
    LimitDef(TOKEN_RATE_KEY, 300, "API requests per minute per client-credentials token.", configurable=True),
    LimitDef("token.rate.per.minute", 300, "API requests per minute per token of the other grant types."),
    LimitDef(
        "org.app.user.rate.per.minute",
        3000,
        "API requests per minute per organization, OAuth client and user.",
    ),
    LimitDef("request.bytes.max", 512000, "Maximum size of a request body, in bytes."),
)
# Analytics interval limits (in whole days), under the key names shared with the pipelines.
ANALYTICS_LIMITS = tuple(
    LimitDef(limit.key, limit.default_days, f"Longest interval in days ({limit.evidence}).")
    for limit in INTERVAL_LIMITS
)
# Namespaces the pipelines consult (§2.6) → (friendly name, limits the sandbox reports in them).
NAMESPACES: dict[str, tuple[str, tuple[LimitDef, ...]]] = {
    PLATFORM_NAMESPACE: ("Platform API", PLATFORM_LIMITS),
    "analytics": ("Analytics", ANALYTICS_LIMITS),
    "analytics.data.extraction": ("Analytics Data Extraction", ()),
    "outbound": ("Outbound", ()),
    "workforce.management.forecast": ("Workforce Management Forecast", ()),
}
LIMITS_DOCS_URL = "https://developer.genesys.cloud/organization/organization/limits"


def _namespace(namespace: str) -> tuple[str, tuple[LimitDef, ...]]:
    if namespace not in NAMESPACES:
        raise ApiError(404, f"Limit namespace {namespace} was not found.", entity_id=namespace)
    return NAMESPACES[namespace]


def configured_value(limit: LimitDef, requests_per_minute: int) -> int:
    """The org's value of ``limit``: ``--requests-per-minute`` sets the client-credentials token rate
    (the only grant the sandbox issues); everything else stays at its platform default."""
    return requests_per_minute if limit.key == TOKEN_RATE_KEY else limit.default


def _listing(request: Request, namespace: str, values: list[tuple[str, int]]) -> JSONResponse:
    limits_ = [Limit(key=key, namespace=namespace, value=value) for key, value in values]
    body = LimitsEntityListing(entities=limits_).to_api()
    body.setdefault("entities", [])
    return api_json(request, LimitsEntityListing, body)


@router.get("/api/v2/organizations/limits/namespaces/{namespaceName}")
def namespace_limits(namespaceName: str, request: Request) -> JSONResponse:
    """The values in force: the configured budget, platform defaults for the rest."""
    per_minute = request.app.state.sandbox.config.requests_per_minute
    _, defs = _namespace(namespaceName)
    return _listing(request, namespaceName, [(d.key, configured_value(d, per_minute)) for d in defs])


@router.get("/api/v2/organizations/limits/namespaces/{namespaceName}/defaults")
def namespace_defaults(namespaceName: str, request: Request) -> JSONResponse:
    """The platform defaults, whatever the sandbox was configured with."""
    _, defs = _namespace(namespaceName)
    return _listing(request, namespaceName, [(d.key, d.default) for d in defs])


@router.get("/api/v2/organizations/limits/docs")
def limits_docs(request: Request) -> JSONResponse:
    namespaces = [
        NamespaceDocs(
            name=name,
            friendly_name=friendly,
            limits=[
                LimitDocs(
                    key=d.key, default_value=d.default, description=d.description, configurable=d.configurable
                )
                for d in defs
            ],
        )
        for name, (friendly, defs) in NAMESPACES.items()
    ]
    body = LimitDocumentation(url=LIMITS_DOCS_URL, namespaces=namespaces).to_api()
    return api_json(request, LimitDocumentation, body)
