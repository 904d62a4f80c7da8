"""The FastAPI application: routers, error handlers and the gateway every request passes through.

Gateway order for ``/api/v2/...``: count → bearer check (401) → the client's permissions (403)
→ token revocation fault → budget (429) → faults (latency, hang, 429 burst, 5xx, lost write, malformed body) → route.
``/oauth/token`` and ``/_sandbox/...`` are counted but skip the rest.
"""

from __future__ import annotations

import asyncio
import importlib
import logging
import uuid
from collections.abc import Awaitable, Callable

from fastapi import FastAPI, Request, Response
from starlette.routing import Match

from genesys_sandbox import auth, limits, permissions, routes_admin, routes_outbound
from genesys_sandbox.config import SandboxConfig
from genesys_sandbox.errors import CORRELATION_HEADER, error_response, install_error_handlers
from genesys_sandbox.faults import RequestFaults, hostile_body, malform_body
from genesys_sandbox.state import SandboxState

log = logging.getLogger(__name__)

# Routers the analytics half provides; each module exposes ``router`` (an APIRouter).
OPTIONAL_ROUTERS = ("routes_analytics", "routes_exports", "routes_wfm")
API_PREFIX = "/api/v2/"
UNMATCHED = "<unmatched>"

CallNext = Callable[[Request], Awaitable[Response]]


def route_template(app: FastAPI, request: Request) -> str:
    """The path template a request matches (``/api/v2/outbound/campaigns/{campaignId}``)."""
    for route in app.router.routes:
        match, _ = route.matches(request.scope)
        if match == Match.FULL:
            return getattr(route, "path", request.url.path)
    return UNMATCHED


async def _drain(response: Response) -> bytes:
    chunks = [chunk async for chunk in response.body_iterator]  # type: ignore[attr-defined]
    return b"".join(c if isinstance(c, bytes) else c.encode() for c in chunks)


async def _with_faults(state: SandboxState, request: Request, call_next: CallNext, faults: RequestFaults,
                       template: str = UNMATCHED) -> Response:
    if faults.latency:
        await asyncio.sleep(faults.latency)
    if faults.hang is not None:
        await asyncio.sleep(faults.hang)
        return error_response(504, "The request timed out.")
    if faults.status_429:
        return limits.rate_limit_response(state.config.requests_per_minute, 1.0, state.config.rate_limit_code)
    write = request.method != "GET"
    if faults.status_5xx and not write:
        return error_response(faults.status_5xx, "The service is temporarily unavailable.")
    if (faults.status_5xx or faults.lost_write) and write:
        # The write is applied first: only its answer is lost, as on a real network.
        request.state.fault = "5xx" if faults.status_5xx else "lost_write"
        response = await call_next(request)
        await _drain(response)
        if faults.status_5xx:
            return error_response(faults.status_5xx, "The service is temporarily unavailable.")
        return error_response(504, "The request timed out.")
    response = await call_next(request)
    hostile = state.faults.hostile_for(request.method, template) if response.status_code == 200 else None
    if hostile:
        return Response(hostile_body(hostile, await _drain(response)), status_code=200, media_type="application/json")
    if faults.malformed and response.status_code == 200 and "json" in response.headers.get("content-type", ""):
        status, body, media_type = malform_body(faults.malformed, await _drain(response))
        return Response(body, status_code=status, media_type=media_type)
    return response


def create_app(config: SandboxConfig | None = None) -> FastAPI:
    config = config or SandboxConfig()
    # No /docs or /openapi.json: the platform has none, so they answer 404 like any unknown path.
    app = FastAPI(title="Genesys Cloud sandbox", docs_url=None, redoc_url=None, openapi_url=None)
    state = SandboxState(config)
    app.state.sandbox = state
    install_error_handlers(app)
    for module in (auth, limits, routes_outbound, routes_admin, permissions):
        app.include_router(module.router)
    for name in OPTIONAL_ROUTERS:
        try:
            module = importlib.import_module(f"genesys_sandbox.{name}")
        except ModuleNotFoundError as exc:
            if exc.name != f"genesys_sandbox.{name}":
                raise
            log.info("sandbox router %s not present", name)
            continue
        app.include_router(module.router)

    @app.middleware("http")
    async def gateway(request: Request, call_next: CallNext) -> Response:
        template = route_template(app, request)
        state.count(f"{request.method} {template}")
        if not request.url.path.startswith(API_PREFIX):
            return await call_next(request)
        info, denied = auth.check_bearer(request)
        if denied is not None or info is None:
            return denied or error_response(401, "Invalid login credentials.")
        # Unknown paths fall through to the router's 404, as on the platform.
        if template != UNMATCHED:
            forbidden = permissions.denial(state.clients.permissions_of(info.client_id), request.method, template)
            if forbidden is not None:
                return forbidden
        faults = state.faults.decide(request.method, request.url.path)
        if faults.revoke:
            state.tokens.revoke(info.token)
            return error_response(401, "The access token has been revoked.")
        wait = state.budget.take(info.token if config.budget_per == "token" else info.client_id)
        if wait is not None:
            state.count("status:429 budget")  # over budget, as distinct from an injected 429 burst
            response = limits.rate_limit_response(config.requests_per_minute, wait, config.rate_limit_code)
        else:
            response = await _with_faults(state, request, call_next, faults, template)
        state.record_request(request.method, template, response.status_code,
                             getattr(request.state, "journal_note", None), sorted(set(request.query_params)))
        # Every API answer carries a correlation id (the ErrorBody's contextId on errors), as on the platform.
        response.headers.setdefault(CORRELATION_HEADER, str(uuid.uuid4()))
        if response.status_code >= 400:
            # API error answers by status (keys hold no " /api/v2/", so per-endpoint sums are unchanged).
            state.count(f"status:{response.status_code}")
        return response

    return app
