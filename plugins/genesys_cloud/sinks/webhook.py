"""Signed webhook delivery: canonical JSON, HMAC-SHA256 signature, idempotency key, bounded retries.

Wire format (what a receiver verifies):

* ``X-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>`` where ``<body>`` is the
  exact request body bytes;
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


def sign(secret: str, timestamp: int, body_bytes: bytes) -> str:
    """Header value ``t=<unix>,v1=<hex HMAC-SHA256 of "<t>.<body>">``."""
    message = f"{int(timestamp)}.".encode() + body_bytes
    digest = hmac.new(secret.encode("utf-8"), message, hashlib.sha256).hexdigest()
    return f"t={int(timestamp)},v1={digest}"


def verify_signature(
    secret: str,
    header: str,
    body_bytes: bytes,
    *,
    now: float | None = None,
    tolerance_seconds: int = DEFAULT_TOLERANCE_SECONDS,
) -> int:
    """Check an ``X-Signature`` header for a receiver; returns its timestamp or raises WebhookSignatureError."""
    try:
        parts = dict(item.split("=", 1) for item in header.split(","))
        timestamp = int(parts["t"])
        received = parts["v1"]
    except (KeyError, ValueError) as exc:
        raise WebhookSignatureError("malformed X-Signature header") from exc
    expected = sign(secret, timestamp, body_bytes).split("v1=", 1)[1]
    if not hmac.compare_digest(expected, received):
        raise WebhookSignatureError("signature does not match the body")
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
) -> str:
    """sha256 hex of the delivery's identity: the same run step and window always give the same key."""

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
        attempts = 0

        def _attempt(client: httpx.Client) -> httpx.Response:
            nonlocal attempts
            attempts += 1
            headers = {
                "Content-Type": "application/json",
                IDEMPOTENCY_HEADER: idempotency_key,
                # A fresh timestamp per attempt: receivers reject stale signatures.
                SIGNATURE_HEADER: sign(target.secret, int(time.time()), body),
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
