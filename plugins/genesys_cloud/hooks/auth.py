"""OAuth client-credentials tokens, cached per process and shared by threads and event loops.

Client-credentials tokens cannot be refreshed: a new one is requested at 90 % of ``expires_in`` or after a
401. The cache never logs the token; the hook hands it to Airflow's secrets masker.
"""

from __future__ import annotations

import asyncio
import threading
import time
import weakref
from dataclasses import dataclass, field
from typing import Any

import httpx

from genesys_cloud.exceptions import GenesysAuthError, GenesysPayloadError, error_class_for
from genesys_cloud.hooks.connection import ConnectionConfig

TOKEN_PATH = "/oauth/token"
RENEW_AT_FRACTION = 0.9


@dataclass(frozen=True)
class Token:
    access_token: str = field(repr=False)
    expires_in: float
    obtained_at: float  # time.monotonic()

    def fresh(self, now: float | None = None) -> bool:
        now = time.monotonic() if now is None else now
        return now < self.obtained_at + RENEW_AT_FRACTION * self.expires_in


def token_request(cfg: ConnectionConfig) -> dict[str, Any]:
    """Keyword arguments of the token POST: Basic auth on the login host, form body (httpx encodes both)."""
    return {
        "method": "POST",
        "url": cfg.login_base_url + TOKEN_PATH,
        "auth": httpx.BasicAuth(cfg.client_id, cfg.client_secret),
        "data": {"grant_type": "client_credentials"},
        "headers": {"Accept": "application/json"},
    }


def parse_token_response(response: httpx.Response) -> Token:
    """Turn the token answer into a :class:`Token` or a clear error (never echoing credentials)."""
    endpoint = f"POST {TOKEN_PATH}"
    try:
        body = response.json()
    except ValueError:
        body = None
    if response.status_code != 200:
        body = body if isinstance(body, dict) else {}
        message = body.get("error_description") or body.get("message") or body.get("error")
        # 429/5xx from the login host are transient (retried by the caller); anything else is a refusal.
        transient = response.status_code == 429 or response.status_code >= 500
        error_cls = error_class_for(response.status_code) if transient else GenesysAuthError
        raise error_cls(
            status=response.status_code,
            code=body.get("error") or body.get("code"),
            message=f"token request failed ({message or 'no reason given'})"
            + ("" if transient else "; check client id, client secret and region"),
            context_id=body.get("contextId"),
            endpoint=endpoint,
        )
    if not isinstance(body, dict) or not isinstance(body.get("access_token"), str):
        raise GenesysPayloadError("token answer has no access_token", endpoint=endpoint)
    try:
        expires_in = float(body.get("expires_in", 86400))
    except (TypeError, ValueError) as exc:
        raise GenesysPayloadError("token answer has a non-numeric expires_in", endpoint=endpoint) from exc
    return Token(access_token=body["access_token"], expires_in=expires_in, obtained_at=time.monotonic())


class TokenCache:
    """Tokens by connection key. IO never happens under ``_state``; fetches are single-flight per key."""

    def __init__(self) -> None:
        self._state = threading.Lock()
        self._tokens: dict[tuple[str, ...], Token] = {}
        self._thread_locks: dict[tuple[str, ...], threading.Lock] = {}
        # asyncio locks belong to one event loop: keep one per loop (triggerer, asyncio.run in tests...).
        self._loop_locks: weakref.WeakKeyDictionary[
            asyncio.AbstractEventLoop, dict[tuple[str, ...], asyncio.Lock]
        ]
        self._loop_locks = weakref.WeakKeyDictionary()

    def peek(self, key: tuple[str, ...]) -> Token | None:
        with self._state:
            token = self._tokens.get(key)
        return token if token is not None and token.fresh() else None

    def store(self, key: tuple[str, ...], token: Token) -> None:
        with self._state:
            self._tokens[key] = token

    def invalidate(self, key: tuple[str, ...], access_token: str | None = None) -> None:
        """Drop the cached token, only if it is still the one that failed (concurrent 401s renew once)."""
        with self._state:
            current = self._tokens.get(key)
            if current is not None and (access_token is None or current.access_token == access_token):
                del self._tokens[key]

    def thread_lock(self, key: tuple[str, ...]) -> threading.Lock:
        with self._state:
            return self._thread_locks.setdefault(key, threading.Lock())

    def loop_lock(self, key: tuple[str, ...]) -> asyncio.Lock:
        loop = asyncio.get_running_loop()
        with self._state:
            locks = self._loop_locks.setdefault(loop, {})
            return locks.setdefault(key, asyncio.Lock())

    def clear(self) -> None:
        with self._state:
            self._tokens.clear()


TOKENS = TokenCache()
