"""Test support under ``/_sandbox``: health, reset, faults, counters, request journal, write log, tokens, config,
webhooks.

Not part of the Genesys API: no bearer token, no budget, no faults.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import time
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from genesys_sandbox.clock import format_instant
from genesys_sandbox.errors import ApiError
from genesys_sandbox.faults import FaultSpecError

router = APIRouter(prefix="/_sandbox")

# Deliveries signed longer ago than this (by the real wall clock) are refused as replays.
SIGNATURE_TOLERANCE_SECONDS = 300


def _state(request: Request) -> Any:
    return request.app.state.sandbox


async def _optional_json(request: Request) -> dict[str, Any]:
    raw = await request.body()
    if not raw.strip():
        return {}
    try:
        body = json.loads(raw)
    except ValueError:
        raise ApiError(400, "The request body is not valid JSON.", fields=["body"]) from None
    if not isinstance(body, dict):
        raise ApiError(400, "The request body must be a JSON object.", fields=["body"])
    return body


@router.get("/health")
def health(request: Request) -> dict[str, Any]:
    state = _state(request)
    return {
        "status": "ok",
        "seed": state.config.seed,
        "now": format_instant(state.clock.now()),
        "campaigns": len(state.org.campaigns),
        "faults": state.faults.spec.text,
    }


@router.post("/reset")
async def reset(request: Request) -> dict[str, Any]:
    body = await _optional_json(request)
    seed, clock = body.get("seed"), body.get("clock")
    if seed is not None and not isinstance(seed, int):
        raise ApiError(400, "seed must be an integer", fields=["seed"])
    try:
        _state(request).reset(seed, clock)
    except ValueError as exc:
        raise ApiError(400, f"clock: {exc}", fields=["clock"]) from None
    return health(request)


@router.get("/faults")
def get_faults(request: Request) -> dict[str, Any]:
    faults = _state(request).faults
    return {"spec": faults.spec.text, "active": faults.spec.active(), "injected": dict(faults.injected)}


@router.post("/faults")
async def set_faults(request: Request) -> dict[str, Any]:
    body = await _optional_json(request)
    spec = body.get("spec", "")
    if not isinstance(spec, str):
        raise ApiError(400, "spec must be a string", fields=["spec"])
    try:
        _state(request).faults.configure(spec)
    except FaultSpecError as exc:
        raise ApiError(400, f"Invalid fault spec: {exc}", fields=["spec"]) from None
    return get_faults(request)


@router.get("/counters")
def counters(request: Request) -> dict[str, int]:
    return dict(sorted(_state(request).counters.items()))


@router.get("/requests")
def requests_journal(request: Request) -> list[dict[str, Any]]:
    """The last API requests, oldest first: ``{seq, method, path, status}`` plus ``interval`` for the
    analytics queries and jobs (tests assert how a pipeline cut its windows)."""
    return list(_state(request).journal)


@router.get("/writes")
def writes(request: Request) -> list[dict[str, Any]]:
    return list(_state(request).writes)


@router.get("/tokens")
def tokens(request: Request) -> list[dict[str, Any]]:
    return [
        {
            "token": t.token,
            "clientId": t.client_id,
            "issuedAt": t.issued_at,
            "expiresAt": t.expires_at,
            "revoked": t.revoked,
        }
        for t in _state(request).tokens.all()
    ]


@router.get("/config")
def config(request: Request) -> dict[str, Any]:
    state = _state(request)
    return {**state.config.public(), "fixtures": state.org.fixtures}


def signature(secret: str, timestamp: int, body: bytes, *, method: str = "POST", path: str = "",
              key: str = "") -> str:
    """The v2 ``X-Signature`` header value: HMAC over version, timestamp, method, request target,
    idempotency key and body (the provider's documented contract, implemented here on its own)."""
    message = f"v2\n{timestamp}\n{method.upper()}\n{path}\n{key}\n".encode() + body
    return f"t={timestamp},v2={hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()}"


def _legacy_v1_accepted() -> bool:
    """Migration opt-in (the same variable as the sender's): accept a v1-only signature."""
    return os.environ.get("GENESYS_WEBHOOK_LEGACY_V1", "").strip().lower() in ("1", "true", "yes", "on")


def _verify(secret: str, header: str | None, body: bytes, now: float, *, method: str = "POST", path: str = "",
            key: str = "") -> str | None:
    """None when the signature is valid and fresh, else why it is refused."""
    if not header:
        return "missing X-Signature header"
    parts = dict(p.strip().partition("=")[::2] for p in header.split(","))
    timestamp = parts.get("t", "")
    if not timestamp.lstrip("-").isdigit() or not (parts.get("v2") or parts.get("v1")):
        return "malformed X-Signature header (expected t=<unix>,v2=<hex>)"
    if abs(now - int(timestamp)) > SIGNATURE_TOLERANCE_SECONDS:
        return "stale signature timestamp"
    if parts.get("v2"):
        expected = signature(secret, int(timestamp), body, method=method, path=path, key=key).split("v2=", 1)[1]
        given = parts["v2"]
    elif _legacy_v1_accepted():
        expected = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
        given = parts["v1"]
    else:
        return "v1 signature refused: v2 required"
    if not hmac.compare_digest(expected, given):
        return "signature mismatch"
    return None


@router.post("/webhooks/{name}")
async def receive_webhook(name: str, request: Request) -> JSONResponse:
    state = _state(request)
    body = await request.body()
    raw_path = request.scope.get("raw_path") or request.url.path.encode()
    query = request.scope.get("query_string") or b""
    target = raw_path.decode("latin-1") + (f"?{query.decode('latin-1')}" if query else "")
    reason = _verify(state.config.webhook_secret, request.headers.get("x-signature"), body, time.time(),
                     method=request.method, path=target, key=request.headers.get("idempotency-key") or "")
    if reason is not None:
        raise ApiError(401, f"Webhook rejected: {reason}")
    try:
        payload: Any = json.loads(body) if body else None
    except ValueError:
        payload = body.decode(errors="replace")
    key = request.headers.get("idempotency-key")
    delivery = {
        "receivedAt": time.time(),
        "idempotencyKey": key,
        "headers": {k: v for k, v in request.headers.items() if k.lower() != "authorization"},
        "body": payload,
    }
    with state.lock:
        stored = state.webhooks.add(name, key, delivery)
    if not stored:
        return JSONResponse({"duplicate": True, "idempotencyKey": key}, status_code=200)
    return JSONResponse({"duplicate": False, "idempotencyKey": key}, status_code=200)


@router.get("/webhooks/{name}")
def list_webhook(name: str, request: Request) -> list[dict[str, Any]]:
    return list(_state(request).webhooks.deliveries.get(name, []))


@router.post("/late_data")
async def late_data(request: Request) -> dict[str, Any]:
    """Late-arriving data: ``{"day": "YYYY-MM-DD", "conversations": N}`` adds N conversations to a past
    UTC day (its totalHits, latest conversationEnd, aggregates and details change; other days do not)."""
    from datetime import date

    from genesys_sandbox.routes_analytics import analytics_state

    body = await _optional_json(request)
    count = body.get("conversations")
    if not isinstance(count, int) or count < 1:
        raise ApiError(400, "conversations must be a positive integer", fields=["conversations"])
    try:
        day = date.fromisoformat(str(body.get("day")))
    except ValueError:
        raise ApiError(400, "day must be an ISO date (YYYY-MM-DD)", fields=["day"]) from None
    state = _state(request)
    if day >= state.clock.today():
        raise ApiError(400, "day must be in the past (late data lands on a closed day)", fields=["day"])
    analytics = analytics_state(request)
    total = analytics.synth.add_late(day, count)
    with analytics.lock:
        analytics.queries.clear()  # cached match indexes of closed days would hide the new conversations
    return {"day": day.isoformat(), "added": count, "conversations": total}


@router.post("/data_availability")
async def data_availability(request: Request) -> dict[str, Any]:
    """Move ``dataAvailabilityDate``: ``{"lag_hours": H}`` puts it H hours behind the clock (default 1;
    a lagging data lake keeps recent days from being final). ``/_sandbox/reset`` restores the default."""
    from datetime import UTC, datetime, timedelta

    from genesys_sandbox.routes_analytics import data_availability_ms

    body = await _optional_json(request)
    lag = body.get("lag_hours")
    if not isinstance(lag, int | float) or isinstance(lag, bool) or lag < 0:
        raise ApiError(400, "lag_hours must be a non-negative number", fields=["lag_hours"])
    state = _state(request)
    with state.lock:
        state.extensions["data_availability_lag"] = timedelta(hours=float(lag))
    available = datetime.fromtimestamp(data_availability_ms(request) / 1000, UTC)
    return {"lag_hours": float(lag), "dataAvailabilityDate": format_instant(available)}
