"""Turning HTTP answers into results or typed errors, and the retry policy for reads.

Reads (GET and read-only POST queries) retry 429, 5xx, timeouts, connection errors and malformed JSON
with tenacity: bounded attempts and total time, a 429's Retry-After first, else exponential backoff with
full jitter. Writes (create, PUT, PATCH, DELETE) are sent once: a lost answer must not create twice.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import Any, TypeVar

import httpx
import msgspec
from pydantic import BaseModel, ValidationError
from tenacity import (
    AsyncRetrying,
    RetryCallState,
    Retrying,
    retry_if_exception_type,
    retry_if_not_exception_type,
    stop_after_attempt,
    stop_before_delay,
    wait_random_exponential,
)
from tenacity.wait import wait_base

from genesys_cloud.config import settings
from genesys_cloud.exceptions import (
    GenesysPageLimitError,
    GenesysPayloadError,
    GenesysRateLimitError,
    GenesysResponseTooLargeError,
    GenesysRetryAfterTooLongError,
    GenesysServerError,
    GenesysTimeoutError,
    GenesysTransportError,
    error_class_for,
)
from genesys_cloud.hooks.ratelimit import RateLimiter

RETRYABLE = (GenesysRateLimitError, GenesysServerError, GenesysTransportError, GenesysPayloadError)
# Subclasses of RETRYABLE that the same request would only hit again (a 64 MiB body stays 64 MiB).
NOT_RETRYABLE = (GenesysResponseTooLargeError, GenesysPageLimitError, GenesysRetryAfterTooLongError)
MAX_BACKOFF_SECONDS = 60.0


M = TypeVar("M", bound=BaseModel)


def as_model(model: type[M], body: Any, what: str, *, require: Sequence[str] = ()) -> M:
    """``body`` checked against the shared API model: a broken answer (wrong type, unknown enum, a missing
    required field) fails naming the field, before anything is planned or written from it."""
    try:
        parsed = model.model_validate(body)
    except ValidationError as exc:
        first = exc.errors()[0]
        field = ".".join(str(p) for p in first["loc"]) or "body"
        raise GenesysPayloadError(f"malformed {what}: {field}: {first['msg']}") from None
    missing = [name for name in require if getattr(parsed, name, None) in (None, "")]
    if missing:
        raise GenesysPayloadError(f"malformed {what}: missing required field {', '.join(missing)}")
    return parsed


def _to_host(exc: httpx.TransportError) -> str:
    try:
        return f" to {exc.request.url.host}"
    except RuntimeError:  # raised outside a client: no request attached
        return ""


def transport_error(exc: httpx.TransportError, endpoint: str, deadline_s: float | None = None) -> GenesysTransportError:
    """Map an httpx failure to ours (the message names the endpoint, never headers)."""
    # Timeout messages come from the network layer ("timed out", "DNS lookup of <host> did not answer within
    # 0.5s"): they never quote a request, so they are kept, with the host the call went to.
    detail = f": {exc}" if isinstance(exc, httpx.TimeoutException) and str(exc) else ""
    if isinstance(exc, httpx.TimeoutException) and deadline_s is not None:
        return GenesysTimeoutError(
            f"Genesys Cloud call {endpoint}{_to_host(exc)} cut at the call deadline "
            f"GENESYS_CALL_DEADLINE_S={deadline_s:g}s (DNS lookup + connect + send + the whole answer){detail}",
            endpoint=endpoint)
    if isinstance(exc, httpx.TimeoutException):
        return GenesysTimeoutError(f"Genesys Cloud {type(exc).__name__} on {endpoint}{_to_host(exc)}{detail}",
                                   endpoint=endpoint)
    if isinstance(exc, httpx.LocalProtocolError):
        # h11 quotes the offending request header ("Illegal header value b'Bearer …'"): never echo it.
        return GenesysTransportError(
            f"Genesys Cloud LocalProtocolError on {endpoint}: the HTTP library refused the request it was given "
            "(message withheld: it can quote a request header such as Authorization)", endpoint=endpoint)
    return GenesysTransportError(
        f"Genesys Cloud {type(exc).__name__} on {endpoint}: {exc}", endpoint=endpoint
    )


def retry_after_seconds(response: httpx.Response) -> float | None:
    raw = response.headers.get("Retry-After")
    if raw is None:
        return None
    try:
        value = float(raw)
    except ValueError:
        return None  # HTTP-date form: not used by Genesys Cloud; fall back to backoff
    return None if value != value else max(0.0, value)  # NaN: no usable wait


def _is_read(endpoint: str) -> bool:
    """GETs and the read-only analytics POSTs (``.../query``) always answer with a JSON body."""
    method, _, path = endpoint.partition(" ")
    return method == "GET" or path.endswith("/query")


def handle_response(response: httpx.Response, endpoint: str, limiter: RateLimiter | None = None) -> Any:
    """2xx -> parsed JSON (None for an empty body); otherwise raise the class of the status."""
    status = response.status_code
    if 200 <= status < 300:
        size, limit = len(response.content), settings().max_response_bytes
        if size > limit:
            raise GenesysResponseTooLargeError(
                f"Genesys Cloud {status} on {endpoint}: oversized body of {size} bytes "
                f"(limit GENESYS_MAX_RESPONSE_BYTES={limit})", endpoint=endpoint)
        if status == 204 or not response.content.strip():
            if status != 204 and _is_read(endpoint):
                # A read answered 200 with no body is a broken answer, not "nothing": an empty listing
                # would silently become an empty report.
                raise GenesysPayloadError(f"Genesys Cloud {status} on {endpoint}: empty body", endpoint=endpoint)
            return None
        try:
            # msgspec (an Airflow dependency) decodes 2-3x faster than json: details/job result pages of
            # 10,000 conversations are the pipelines' hottest path.
            return msgspec.json.decode(response.content)
        except (ValueError, msgspec.DecodeError) as exc:
            raise GenesysPayloadError(
                f"Genesys Cloud {status} on {endpoint}: the body is not valid JSON", endpoint=endpoint
            ) from exc
    try:
        body = response.json()
    except ValueError:
        body = None
    body = body if isinstance(body, dict) else {}
    message = body.get("message") or (response.text[:200] if not body else None) or response.reason_phrase
    kwargs: dict[str, Any] = {
        "status": status,
        "code": body.get("code"),
        "message": message,
        "context_id": body.get("contextId") or response.headers.get("inin-correlation-id"),
        "endpoint": endpoint,
        "body": body,
    }
    if status == 429:
        retry_after = retry_after_seconds(response)
        cap = settings().retry_after_max_s
        if retry_after is not None and limiter is not None:
            # Every request of this token waits (the org's limit is per token), never longer than the cap;
            # other connections have their own limiter and never wait.
            limiter.pause(min(retry_after, cap))
        if retry_after is not None and retry_after > cap:
            kwargs["message"] = (f"Retry-After {retry_after:.0f}s is over GENESYS_RETRY_AFTER_MAX_S={cap:g}s; "
                                 f"failing instead of waiting ({message})")
            raise GenesysRetryAfterTooLongError(retry_after=retry_after, **kwargs)
        raise GenesysRateLimitError(retry_after=retry_after, **kwargs)
    raise error_class_for(status)(**kwargs)


class wait_retry_after_or_jitter(wait_base):
    """Retry-After when the server gave one, else ``wait_random_exponential`` (full jitter)."""

    def __init__(self, base: float) -> None:
        self._jitter = wait_random_exponential(multiplier=base, max=MAX_BACKOFF_SECONDS)

    def __call__(self, retry_state: RetryCallState) -> float:
        exc = retry_state.outcome.exception() if retry_state.outcome else None
        if isinstance(exc, GenesysRateLimitError) and exc.retry_after is not None:
            return exc.retry_after
        return self._jitter(retry_state)


def _policy_kwargs(before_sleep: Callable[[RetryCallState], None] | None) -> dict[str, Any]:
    cfg = settings()
    return {
        "stop": stop_after_attempt(cfg.retry_max_attempts) | stop_before_delay(cfg.retry_max_seconds),
        "wait": wait_retry_after_or_jitter(cfg.retry_backoff_base),
        "retry": retry_if_exception_type(RETRYABLE) & retry_if_not_exception_type(NOT_RETRYABLE),
        "reraise": True,
        "before_sleep": before_sleep,
    }


def read_retrying(
    sleep: Callable[[float], None], before_sleep: Callable[[RetryCallState], None] | None = None
) -> Retrying:
    return Retrying(sleep=sleep, **_policy_kwargs(before_sleep))


def aread_retrying(
    sleep: Callable[[float], Awaitable[None]], before_sleep: Callable[[RetryCallState], None] | None = None
) -> AsyncRetrying:
    return AsyncRetrying(sleep=sleep, **_policy_kwargs(before_sleep))
