"""Signed webhook delivery: canonical JSON, HMAC-SHA256 signature, idempotency key, bounded retries.

Wire format (what a receiver verifies):

* ``X-Signature: t=<unix seconds>,v2=<hex HMAC-SHA256(secret, "v2\n<t>\n<METHOD>\n<path>\n<key>\n" + body)>``
  where ``<path>`` is the request target (path and query, as sent), ``<key>`` the ``Idempotency-Key`` header
  and ``<body>`` the exact request body bytes (:func:`signed_message`): a replay inside the tolerance with
  a new key, method or path fails verification, so a deduplicating receiver cannot be fooled;
* migration: with ``GENESYS_WEBHOOK_LEGACY_V1=true`` the header also carries the old
  ``v1=<hex HMAC-SHA256(secret, "<t>.<body>")>`` so receivers not yet on v2 keep working; verifiers accept
  a v1-only header only when asked to (``accept_v1``); drop the opt-in once every receiver checks v2;
* ``Idempotency-Key``: derived from the run's identity only (:func:`idempotency_key`), never from the
  payload, so a retried task re-delivers with the same key even when a presigned URL inside changed;
* ``Content-Type: application/json``; the body is JSON with sorted keys and no insignificant whitespace.

The target is an Airflow ``http`` connection (default ``genesys_webhook_default``): ``schema`` + ``host``
(+ ``port``) form the base URL, the optional extra ``endpoint`` the path, and ``password`` holds the signing
secret (Airflow masks ``password`` everywhere; extras are masked only when their key looks secret).

BI webhook URLs often carry a token in their path or query, so the sink never logs, raises or returns the
full URL: only :func:`redact_url` (scheme, host, port and ``/***``). The full URL is also handed to Airflow's
secrets masker when the target is resolved, which hides it in lines others log (e.g. httpx's request log).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import httpx
from tenacity import (
    RetryCallState,
    retry_if_exception_type,
    stop_after_attempt,
    stop_after_delay,
    wait_random_exponential,
)
from tenacity import Retrying as _Retrying

from genesys_cloud.config import settings
from genesys_cloud.exceptions import WebhookError, WebhookSignatureError
from genesys_cloud.hooks.policy import retry_after_seconds

log = logging.getLogger(__name__)

SIGNATURE_HEADER = "X-Signature"
IDEMPOTENCY_HEADER = "Idempotency-Key"
#: Receivers should reject signatures older than this (replay protection).
DEFAULT_TOLERANCE_SECONDS = 300


class _RetryableDelivery(Exception):
    """Internal: a 5xx/429/timeout worth another attempt; carries the server's Retry-After if any."""

    def __init__(self, reason: str, retry_after: float | None = None) -> None:
        super().__init__(reason)
        self.retry_after = retry_after


def _json_default(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    raise TypeError(f"webhook payload value of type {type(value).__name__} is not JSON serialisable")


def canonical_json(payload: dict[str, Any]) -> bytes:
    """The exact bytes that are signed and sent: sorted keys, compact separators, UTF-8."""
    return json.dumps(
        payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=_json_default
    ).encode("utf-8")


LEGACY_V1_ENV = "GENESYS_WEBHOOK_LEGACY_V1"


def legacy_v1_enabled() -> bool:
    """The migration opt-in: also send the v1 signature (timestamp and body only)."""
    import os

    return os.environ.get(LEGACY_V1_ENV, "").strip().lower() in ("1", "true", "yes", "on")


def signed_message(timestamp: int, method: str, path: str, key: str, body_bytes: bytes) -> bytes:
    """What v2 signs: version, timestamp, method, request target, idempotency key (one per line), body."""
    for name, value in (("method", method), ("path", path), ("idempotency key", key)):
        if "\n" in value or "\r" in value:
            raise WebhookSignatureError(f"webhook {name} must not contain a line break")
    return f"v2\n{int(timestamp)}\n{method.upper()}\n{path}\n{key}\n".encode() + body_bytes


def _hmac(secret: str, message: bytes) -> str:
    return hmac.new(secret.encode("utf-8"), message, hashlib.sha256).hexdigest()


def sign(secret: str, timestamp: int, body_bytes: bytes, *, method: str, path: str, idempotency_key: str,
         legacy_v1: bool = False) -> str:
    """Header value ``t=<unix>,v2=<hex>`` (plus ``,v1=<hex of "<t>.<body>">`` with ``legacy_v1``)."""
    header = f"t={int(timestamp)},v2={_hmac(secret, signed_message(timestamp, method, path, idempotency_key, body_bytes))}"
    if legacy_v1:
        header += f",v1={_hmac(secret, f'{int(timestamp)}.'.encode() + body_bytes)}"
    return header


def verify_signature(
    secret: str,
    header: str,
    body_bytes: bytes,
    *,
    method: str,
    path: str,
    idempotency_key: str,
    now: float | None = None,
    tolerance_seconds: int = DEFAULT_TOLERANCE_SECONDS,
    accept_v1: bool = False,
) -> int:
    """Check an ``X-Signature`` header for a receiver; returns its timestamp or raises WebhookSignatureError.

    v2 is checked whenever present; a header with only v1 passes only with ``accept_v1`` (migration)."""
    try:
        parts = dict(item.strip().split("=", 1) for item in header.split(","))
        timestamp = int(parts["t"])
    except (KeyError, ValueError) as exc:
        raise WebhookSignatureError("malformed X-Signature header") from exc
    if "v2" in parts:
        expected = _hmac(secret, signed_message(timestamp, method, path, idempotency_key, body_bytes))
        received = parts["v2"]
    elif "v1" in parts and accept_v1:
        expected, received = _hmac(secret, f"{timestamp}.".encode() + body_bytes), parts["v1"]
    elif "v1" in parts:
        raise WebhookSignatureError(f"v1 signature refused: v2 required (or set {LEGACY_V1_ENV} while migrating)")
    else:
        raise WebhookSignatureError("malformed X-Signature header (no v2 signature)")
    if not hmac.compare_digest(expected, received):
        raise WebhookSignatureError("signature does not match the body, method, path or idempotency key")
    current = time.time() if now is None else now
    if abs(current - timestamp) > tolerance_seconds:
        raise WebhookSignatureError("signature timestamp outside the tolerance window")
    return timestamp


def idempotency_key(
    dag_id: str,
    window_start: str | datetime,
    window_end: str | datetime,
    task_id: str,
    map_index: int | None,
    event: str,
    selection: str | None = None,
) -> str:
    """sha256 hex of the delivery's identity: the same run step and window always give the same key.

    ``selection``: the digest of a run's selection when it differs from the pipeline's default (a narrower
    manual run is a different delivery: a deduplicating receiver must hear of it); None keeps the key of
    a default run unchanged."""

    def _iso(value: str | datetime) -> str:
        return value.isoformat() if isinstance(value, datetime) else str(value)

    identity = [
        dag_id,
        _iso(window_start),
        _iso(window_end),
        task_id,
        -1 if map_index is None else int(map_index),
        event,
    ]
    if selection:
        identity.append(f"selection={selection}")
    return hashlib.sha256(json.dumps(identity, separators=(",", ":")).encode("utf-8")).hexdigest()


def redact_url(url: str) -> str:
    """``scheme://host[:port]``, plus ``/***`` when the URL has a path or a query (either may hold a token)."""
    parsed = httpx.URL(url)
    port = f":{parsed.port}" if parsed.port else ""
    rest = "/***" if parsed.path.strip("/") or parsed.query else ""
    return f"{parsed.scheme}://{parsed.host}{port}{rest}"


@dataclass(frozen=True)
class _Target:
    url: str
    secret: str

    @property
    def display(self) -> str:
        """What logs, errors and results show instead of ``url``."""
        return redact_url(self.url)


class WebhookSink:
    """POST signed JSON payloads to the ``http`` connection ``http_conn_id``."""

    def __init__(
        self,
        http_conn_id: str | None = None,
        *,
        endpoint: str | None = None,
        timeout_seconds: float = 30.0,
        max_attempts: int = 5,
        max_elapsed_seconds: float = 120.0,
        base_delay_seconds: float = 1.0,
        max_delay_seconds: float = 30.0,
    ) -> None:
        self.http_conn_id = http_conn_id or settings().webhook_conn_id
        self.endpoint = endpoint
        self.timeout_seconds = timeout_seconds
        self.max_attempts = max_attempts
        self.max_elapsed_seconds = max_elapsed_seconds
        self.base_delay_seconds = base_delay_seconds
        self.max_delay_seconds = max_delay_seconds
        self._sleep: Callable[[float], None] = time.sleep  # replaceable in tests

    def _target(self) -> _Target:
        from airflow.sdk import BaseHook  # heavy import kept out of module import

        conn = BaseHook.get_connection(self.http_conn_id)
        if not conn.host:
            raise WebhookError(f"connection {self.http_conn_id!r} has no host")
        if not conn.password:
            raise WebhookError(f"connection {self.http_conn_id!r} has no signing secret in its password")
        host = conn.host.rstrip("/")
        if "://" in host:  # a full URL in host (the settings file's style) may carry its own path
            base = httpx.URL(host)
            if conn.port and base.port is None:
                base = base.copy_with(port=conn.port)
        else:
            base = httpx.URL(f"{conn.schema or 'https'}://{host}" + (f":{conn.port}" if conn.port else ""))
        extra = conn.extra_dejson or {}
        endpoint = self.endpoint if self.endpoint is not None else extra.get("endpoint", "")
        url = str(base).rstrip("/")
        if endpoint:
            url = f"{url}/{endpoint.lstrip('/')}"
        from airflow.sdk.log import mask_secret  # sync API: the sink runs in workers, never in a trigger

        mask_secret(url)
        return _Target(url=url, secret=conn.password)

    def _wait(self, state: RetryCallState) -> float:
        exc = state.outcome.exception() if state.outcome else None
        if isinstance(exc, _RetryableDelivery) and exc.retry_after is not None:
            return min(exc.retry_after, self.max_delay_seconds)  # the server's Retry-After wins
        return wait_random_exponential(multiplier=self.base_delay_seconds, max=self.max_delay_seconds)(state)

    def deliver(self, payload: dict[str, Any], idempotency_key: str) -> dict[str, Any]:
        """POST ``payload``; retries 5xx/429/timeouts/connection errors, fails fast on other statuses.

        Returns ``{"status_code", "attempts", "idempotency_key", "url", "response"}``: ``url`` is the
        redacted target (:func:`redact_url`), ``response`` the receiver's JSON body when it sent one.
        """
        target = self._target()
        body = canonical_json(payload)
        path = httpx.URL(target.url).raw_path.decode("ascii")  # the request target, as sent
        legacy = legacy_v1_enabled()
        attempts = 0

        def _attempt(client: httpx.Client) -> httpx.Response:
            nonlocal attempts
            attempts += 1
            headers = {
                "Content-Type": "application/json",
                IDEMPOTENCY_HEADER: idempotency_key,
                # A fresh timestamp per attempt: receivers reject stale signatures.
                SIGNATURE_HEADER: sign(target.secret, int(time.time()), body, method="POST", path=path,
                                       idempotency_key=idempotency_key, legacy_v1=legacy),
            }
            try:
                response = client.post(target.url, content=body, headers=headers)
            except (httpx.TimeoutException, httpx.TransportError) as exc:
                raise _RetryableDelivery(f"{type(exc).__name__}: {exc}") from exc
            if response.status_code == 429 or response.status_code >= 500:
                raise _RetryableDelivery(f"HTTP {response.status_code}", retry_after_seconds(response))
            return response

        retrying = _Retrying(
            retry=retry_if_exception_type(_RetryableDelivery),
            stop=stop_after_attempt(self.max_attempts) | stop_after_delay(self.max_elapsed_seconds),
            wait=self._wait,
            sleep=self._sleep,
            reraise=True,
        )
        with httpx.Client(timeout=self.timeout_seconds) as client:
            try:
                response = retrying(_attempt, client)
            except _RetryableDelivery as exc:
                raise WebhookError(
                    f"webhook delivery to {target.display} failed after {attempts} attempts: {exc}"
                ) from exc
        if not response.is_success:
            raise WebhookError(
                f"webhook delivery to {target.display} rejected with HTTP {response.status_code}: "
                f"{response.text[:300]}"
            )
        try:
            answer: Any = response.json() if response.content else None
        except ValueError:
            answer = None
        log.info("Webhook delivered to %s (key %s, %d attempts)", target.display, idempotency_key, attempts)
        return {
            "status_code": response.status_code,
            "attempts": attempts,
            "idempotency_key": idempotency_key,
            "url": target.display,
            "response": answer,
        }
