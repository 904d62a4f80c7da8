"""GenesysCloudHook: OAuth client credentials, a shared rate budget, safe retries and lazy paginators.

Sync methods use one keep-alive ``httpx.Client``; their ``a``-prefixed twins use an ``httpx.AsyncClient``
with the same policies, the same token cache and the same per-token rate limiter. The async path never
calls Airflow's synchronous connection or masking APIs, so triggers can use it from the event loop.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable, Generator, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextvars import ContextVar
from typing import Any

import httpx
from airflow.sdk import BaseHook
from tenacity import RetryCallState

from genesys_cloud.config import settings
from genesys_cloud.exceptions import (
    GenesysError,
    GenesysForbiddenError,
    GenesysNotFoundError,
    GenesysPageLimitError,
    GenesysPayloadError,
    GenesysResponseTooLargeError,
    GenesysValidationError,
)
from genesys_cloud.hooks import pagination, paths, transport
from genesys_cloud.hooks.analytics import AnalyticsVerbs
from genesys_cloud.hooks.auth import TOKENS, Token, parse_token_response, token_request
from genesys_cloud.hooks.connection import UI_FIELD_BEHAVIOUR, ConnectionConfig
from genesys_cloud.hooks.exports import ExportVerbs
from genesys_cloud.hooks.outbound import OutboundVerbs
from genesys_cloud.hooks.paths import api_path
from genesys_cloud.hooks.policy import aread_retrying, handle_response, read_retrying, transport_error
from genesys_cloud.hooks.ratelimit import RateLimiter, limiter_for
from genesys_cloud.hooks.routing import RoutingVerbs
from genesys_cloud.hooks.wfm import WfmVerbs
from genesys_cloud.hooks.writes import WriteVerbs

LIMITS_PATH = api_path(paths.LIMITS_NAMESPACE, namespace="platform.api")
#: True inside a call the read retry policy already retries (see GenesysCloudHook._retrying).
_RETRIED: ContextVar[bool] = ContextVar("genesys_cloud_retried", default=False)
LIVE_RATE_LIMIT_KEY = "client.credentials.token.rate.per.minute"


# The platform's ``request.bytes.max`` (platform.api limits): a larger body is refused by the API.
MAX_REQUEST_BYTES = 512000


def _as_body(body: Any, endpoint: str = "") -> Any:
    """Pydantic models (genesys_pipelines.models) are sent the way the API wants them: camelCase, no nulls.

    A body over the API's request size limit fails here, naming the limit, before anything is sent."""
    if hasattr(body, "model_dump"):
        body = body.model_dump(by_alias=True, exclude_none=True, mode="json")
    size = len(json.dumps(body, separators=(",", ":"), default=str).encode())
    if size > MAX_REQUEST_BYTES:
        raise GenesysValidationError(
            f"request body for {endpoint} is {size} bytes, over the API's request.bytes.max of {MAX_REQUEST_BYTES}"
        )
    return body


class GenesysCloudHook(OutboundVerbs, RoutingVerbs, AnalyticsVerbs, ExportVerbs, WfmVerbs, WriteVerbs, BaseHook):
    """Talks to the Genesys Cloud Platform API v2 for one ``genesys_cloud`` connection.

    Two layers: the transport verbs below (``get``, ``query``, ``create``, ``create_idempotent``, ``put``,
    ``patch``, ``delete``, ``paginate``, ``download``, each with its retry rule in its name) and the
    resource verbs of the mixins, grouped by API area, which build paths with
    :func:`~genesys_cloud.hooks.paths.api_path` and return the shared API models: outbound
    (:class:`~genesys_cloud.hooks.outbound.OutboundVerbs`), routing names
    (:class:`~genesys_cloud.hooks.routing.RoutingVerbs`), analytics
    (:class:`~genesys_cloud.hooks.analytics.AnalyticsVerbs`), reporting exports
    (:class:`~genesys_cloud.hooks.exports.ExportVerbs`), workforce management
    (:class:`~genesys_cloud.hooks.wfm.WfmVerbs`) and the versioned write
    (:meth:`~genesys_cloud.hooks.writes.WriteVerbs.put_versioned`).

    :param genesys_cloud_conn_id: connection with the OAuth client id in ``login``, the client secret in
        ``password`` and ``region`` (e.g. ``mypurecloud.ie``) or ``api_base_url`` in ``extra``.
    """

    conn_name_attr = "genesys_cloud_conn_id"
    default_conn_name = "genesys_cloud_default"
    conn_type = "genesys_cloud"
    hook_name = "Genesys Cloud"

    def __init__(self, genesys_cloud_conn_id: str = default_conn_name, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.genesys_cloud_conn_id = genesys_cloud_conn_id
        self._config: ConnectionConfig | None = None
        self._client: httpx.Client | None = None
        self._aclient: httpx.AsyncClient | None = None
        self._aclient_loop: asyncio.AbstractEventLoop | None = None
        # Injectable so tests can observe waits without sleeping.
        self._sleep: Callable[[float], None] = time.sleep
        self._asleep: Callable[[float], Awaitable[None]] = asyncio.sleep

    # ------------------------------------------------------------------ construction and connection
    @classmethod
    def from_connection(cls, connection: Any) -> GenesysCloudHook:
        """A hook for an already-fetched connection (e.g. ``await BaseHook.aget_connection(conn_id)``)."""
        hook = cls(genesys_cloud_conn_id=connection.conn_id)
        hook._config = ConnectionConfig.from_parts(
            connection.conn_id, connection.login, connection.password, connection.extra
        )
        return hook

    @classmethod
    def from_connection_dict(
        cls,
        conn_id: str,
        login: str,
        password: str,
        extra: dict[str, Any] | str | None = None,
    ) -> GenesysCloudHook:
        """A hook from plain connection fields (no Airflow connection lookup at all)."""
        hook = cls(genesys_cloud_conn_id=conn_id)
        hook._config = ConnectionConfig.from_parts(conn_id, login, password, extra)
        return hook

    @classmethod
    async def for_conn_id_async(cls, conn_id: str = default_conn_name) -> GenesysCloudHook:
        """A hook whose connection was read with the async API (for triggers)."""
        return cls.from_connection(await BaseHook.aget_connection(conn_id))

    def get_conn(self) -> httpx.Client:
        return self._sync_client()

    @property
    def is_sandbox(self) -> bool:
        """Whether the connection is a local emulator (extra ``sandbox: true``, never with a real region)."""
        return self._cfg().sandbox

    def _cfg(self) -> ConnectionConfig:
        if self._config is None:
            conn = self.get_connection(self.genesys_cloud_conn_id)
            self._config = ConnectionConfig.from_parts(conn.conn_id, conn.login, conn.password, conn.extra)
        return self._config

    async def _acfg(self) -> ConnectionConfig:
        if self._config is None:
            conn = await BaseHook.aget_connection(self.genesys_cloud_conn_id)
            self._config = ConnectionConfig.from_parts(conn.conn_id, conn.login, conn.password, conn.extra)
        return self._config

    def _limiter(self, cfg: ConnectionConfig) -> RateLimiter:
        return limiter_for(cfg.cache_key, cfg.requests_per_minute)

    # ------------------------------------------------------------------ UI
    @classmethod
    def get_ui_field_behaviour(cls) -> dict[str, Any]:
        return {
            "hidden_fields": list(UI_FIELD_BEHAVIOUR["hidden-fields"]),
            "relabeling": dict(UI_FIELD_BEHAVIOUR["relabeling"]),
            "placeholders": dict(UI_FIELD_BEHAVIOUR["placeholders"]),
        }

    def test_connection(self) -> tuple[bool, str]:
        """The UI's Test button (``[core] test_connection = Enabled``): a token, then one cheap read.

        The connection is checked first: a login or API host off the region's Genesys domain (the rule of
        :class:`~genesys_cloud.hooks.connection.ConnectionConfig`) fails the test before any request, so
        the client secret is never sent there. One attempt each, no retries (a person waits on the
        button): the token, then ``GET`` the live ``platform.api`` limits (a 403/404 there still passes:
        the client authenticated, it may only lack that permission). Never the secret or the token in the
        message.
        """
        try:
            cfg = self._cfg()
            token = self._fetch_token(cfg)
            from airflow.sdk.log import mask_secret

            mask_secret(token.access_token)
            TOKENS.store(cfg.cache_key, token)
            try:
                limits_body = self._send("GET", LIMITS_PATH)
                read = "read the live API limits"
            except (GenesysForbiddenError, GenesysNotFoundError) as exc:
                limits_body, read = None, f"the limits read was refused ({exc.status}): check the role"
            facts = self._facts(cfg, limits_body)
        except GenesysError as exc:
            return False, str(exc)
        return True, (f"Authenticated against {facts['api_base_url']} as client {cfg.client_id} and {read} "
                      f"({facts['requests_per_minute']} req/min)")

    # ------------------------------------------------------------------ clients
    def _timeout(self) -> httpx.Timeout:
        cfg = settings()
        return httpx.Timeout(cfg.http_timeout, connect=cfg.http_connect_timeout)

    def _sync_client(self) -> httpx.Client:
        if self._client is None:
            # The transport enforces GENESYS_CALL_DEADLINE_S on every socket operation (hooks/transport.py).
            self._client = transport.sync_client(
                self._timeout(), httpx.Limits(max_connections=64, max_keepalive_connections=32)
            )
        return self._client

    def _async_client(self) -> httpx.AsyncClient:
        loop = asyncio.get_running_loop()
        if self._aclient is None or self._aclient_loop is not loop:
            # An AsyncClient is bound to the loop that opened its connections: one per loop.
            self._aclient = transport.async_client(
                self._timeout(), httpx.Limits(max_connections=64, max_keepalive_connections=32)
            )
            self._aclient_loop = loop
        return self._aclient

    def close(self) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None

    async def aclose(self) -> None:
        if self._aclient is not None and self._aclient_loop is asyncio.get_running_loop():
            await self._aclient.aclose()
        self._aclient = None
        self._aclient_loop = None

    def __enter__(self) -> GenesysCloudHook:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    async def __aenter__(self) -> GenesysCloudHook:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    # ------------------------------------------------------------------ tokens
    def _log_retry(self, state: RetryCallState) -> None:
        exc = state.outcome.exception() if state.outcome else None
        wait = state.next_action.sleep if state.next_action else 0.0
        self.log.warning(
            "Genesys Cloud call failed (%s); attempt %d, retrying in %.2fs", exc, state.attempt_number, wait
        )

    def _retrying(self, fn: Callable[..., Any], *args: Any) -> Any:
        """``fn(*args)`` under the read retry policy, unless this is already inside a retried call: then
        once, and the outer loop retries. A token fetch inside a retried GET (or a lookup inside
        ``create_idempotent``) therefore never multiplies the attempts (3 x 3 = 9 timeouts of 60 s before)."""
        if _RETRIED.get():
            return fn(*args)
        mark = _RETRIED.set(True)
        try:
            return read_retrying(self._sleep, self._log_retry)(fn, *args)
        finally:
            _RETRIED.reset(mark)

    async def _aretrying(self, fn: Callable[..., Any], *args: Any) -> Any:
        """:meth:`_retrying` for coroutines (the context variable is per task)."""
        if _RETRIED.get():
            return await fn(*args)
        mark = _RETRIED.set(True)
        try:
            return await aread_retrying(self._asleep, self._log_retry)(fn, *args)
        finally:
            _RETRIED.reset(mark)

    def _token(self) -> str:
        cfg = self._cfg()
        cached = TOKENS.peek(cfg.cache_key)
        if cached is not None:
            return cached.access_token
        with TOKENS.thread_lock(cfg.cache_key):
            cached = TOKENS.peek(cfg.cache_key)
            if cached is not None:
                return cached.access_token
            token = self._retrying(self._fetch_token, cfg)
            from airflow.sdk.log import mask_secret

            mask_secret(token.access_token)
            TOKENS.store(cfg.cache_key, token)
            return token.access_token

    def _fetch_token(self, cfg: ConnectionConfig) -> Token:
        return parse_token_response(self._http("POST /oauth/token", **token_request(cfg)))

    async def _atoken(self) -> str:
        cfg = await self._acfg()
        cached = TOKENS.peek(cfg.cache_key)
        if cached is not None:
            return cached.access_token
        async with TOKENS.loop_lock(cfg.cache_key):
            cached = TOKENS.peek(cfg.cache_key)
            if cached is not None:
                return cached.access_token
            token = await self._aretrying(self._afetch_token, cfg)
            # The async masker talks to the supervisor with asend(): safe inside the triggerer's loop,
            # unlike the synchronous mask_secret (apache/airflow#68377).
            from airflow.sdk.log import amask_secret

            await amask_secret(token.access_token)
            TOKENS.store(cfg.cache_key, token)
            return token.access_token

    async def _afetch_token(self, cfg: ConnectionConfig) -> Token:
        return parse_token_response(await self._ahttp("POST /oauth/token", **token_request(cfg)))

    # ------------------------------------------------------------------ one HTTP attempt
    def _http(self, endpoint: str, *, auth: Any = None, **request: Any) -> httpx.Response:
        """One HTTP exchange under the call deadline, its body read under the byte cap while it streams."""
        client, cfg = self._sync_client(), settings()
        with transport.call_deadline(cfg.call_deadline_s):
            try:
                response = client.send(client.build_request(**request), auth=auth, stream=True)
                try:
                    transport.read_capped(response, cfg.max_response_bytes, endpoint)
                finally:
                    response.close()
            except httpx.TransportError as exc:
                raise transport_error(exc, endpoint, cfg.call_deadline_s if transport.deadline_passed() else None
                                      ) from exc
        return response

    async def _ahttp(self, endpoint: str, *, auth: Any = None, **request: Any) -> httpx.Response:
        client, cfg = self._async_client(), settings()
        with transport.call_deadline(cfg.call_deadline_s):
            try:
                response = await client.send(client.build_request(**request), auth=auth, stream=True)
                try:
                    await transport.aread_capped(response, cfg.max_response_bytes, endpoint)
                finally:
                    await response.aclose()
            except httpx.TransportError as exc:
                raise transport_error(exc, endpoint, cfg.call_deadline_s if transport.deadline_passed() else None
                                      ) from exc
        return response

    # ------------------------------------------------------------------ one request
    def _exchange(
        self, cfg: ConnectionConfig, method: str, path: str, params: dict[str, Any] | None, body: Any
    ) -> Generator[tuple[str, Any], Any, Any]:
        """One attempt as a generator, driven the same way by the sync and the async verbs (the idea of
        httpx's ``auth_flow``): it yields ``("token", None)``, ``("slot", limiter)`` and ``("send",
        request kwargs)`` and is sent back the token, nothing, and the response. It re-authenticates once
        after a 401 (a 401 was not processed, so resending is safe) and returns the handled answer."""
        endpoint = f"{method} {path.split('?')[0]}"
        url = cfg.api_base_url + path
        if not path.startswith("/") or not cfg.is_api_origin(url):
            # The bearer token goes to the API origin only (e.g. a path "@evil.example/x" would move the host).
            raise GenesysValidationError(f"refusing {endpoint}: it does not stay on the API origin {cfg.api_base_url}")
        limiter = self._limiter(cfg)
        for auth_attempt in range(2):
            token = yield "token", None
            yield "slot", limiter
            response = yield "send", {
                "method": method,
                "url": url,
                "params": params,
                "json": _as_body(body, endpoint) if body is not None else None,
                "headers": {"Authorization": f"Bearer {token}", "Accept": "application/json"},
                "endpoint": endpoint,
            }
            if response.status_code == 401 and auth_attempt == 0:
                TOKENS.invalidate(cfg.cache_key, token)
                continue
            return handle_response(response, endpoint, limiter)
        raise AssertionError("unreachable")  # pragma: no cover

    def _send(self, method: str, path: str, params: dict[str, Any] | None = None, body: Any = None) -> Any:
        flow = self._exchange(self._cfg(), method, path, params, body)
        reply: Any = None
        try:
            while True:
                kind, arg = flow.send(reply)
                if kind == "token":
                    reply = self._token()
                elif kind == "slot":
                    reply = arg.acquire(self._sleep)
                else:
                    reply = self._http(arg.pop("endpoint"), **arg)
        except StopIteration as done:
            return done.value

    def _read(self, method: str, path: str, params: dict[str, Any] | None = None, body: Any = None) -> Any:
        return self._retrying(self._send, method, path, params, body)

    async def _asend(
        self, method: str, path: str, params: dict[str, Any] | None = None, body: Any = None
    ) -> Any:
        flow = self._exchange(await self._acfg(), method, path, params, body)
        reply: Any = None
        try:
            while True:
                kind, arg = flow.send(reply)
                if kind == "token":
                    reply = await self._atoken()
                elif kind == "slot":
                    reply = await arg.aacquire(self._asleep)
                else:
                    reply = await self._ahttp(arg.pop("endpoint"), **arg)
        except StopIteration as done:
            return done.value

    async def _aread(
        self, method: str, path: str, params: dict[str, Any] | None = None, body: Any = None
    ) -> Any:
        return await self._aretrying(self._asend, method, path, params, body)

    # ------------------------------------------------------------------ file downloads
    def _download_target(self, url: str) -> tuple[str, bool]:
        """``url`` checked against the download allow-list -> (url to fetch, send the token?).

        Allowed: the API origin (the only place the token goes), ``apps.<domain>`` links rewritten to the
        API host, ``api-downloads.<domain>`` and the hosts of ``GENESYS_DOWNLOAD_HOSTS`` (without the
        token). https only, except the API origin of a ``sandbox: true`` connection. Anything else,
        a link-local metadata address included, is refused before a byte is sent."""
        cfg = self._cfg()
        parsed = httpx.URL(url)
        host = (parsed.host or "").lower()
        domain = cfg.region
        if domain and host == f"apps.{domain}" and parsed.scheme == "https":
            # The platform's web links (apps.<domain>/platform/api/v2/downloads/...) are the API's own.
            path = parsed.raw_path.decode()
            path = path[len("/platform"):] if path.startswith("/platform/api/") else path
            url, parsed = f"https://api.{domain}{path}", httpx.URL(f"https://api.{domain}{path}")
            host = parsed.host
        if cfg.is_api_origin(str(parsed)) and parsed.userinfo == b"":
            return url, True
        allowed = set(settings().download_hosts)
        if domain:
            allowed.add(f"api-downloads.{domain}")
        matches = any(host == h or (h.startswith(".") and host.endswith(h)) for h in allowed)
        if parsed.scheme != "https" or not matches or parsed.userinfo != b"":
            raise GenesysValidationError(
                f"refusing download from {parsed.scheme}://{host}: only https on the API host, "
                f"api-downloads.<region domain> or GENESYS_DOWNLOAD_HOSTS is allowed"
            )
        return url, False

    def _download_once(self, url: str, dest: Any, max_redirects: int) -> dict[str, Any]:
        import hashlib

        cfg_settings = settings()
        limit, target = cfg_settings.max_download_bytes, url
        endpoint = f"GET {httpx.URL(url).path}"
        for _ in range(max_redirects + 1):  # redirects followed here: each target is checked again
            target, with_token = self._download_target(target)
            headers: dict[str, str] = {}
            if with_token:
                self._limiter(self._cfg()).acquire(self._sleep)
                headers["Authorization"] = f"Bearer {self._token()}"
            client = self._sync_client()
            with transport.call_deadline(cfg_settings.call_deadline_s):
                try:
                    with client.stream("GET", target, headers=headers, follow_redirects=False) as resp:
                        if resp.is_redirect and resp.next_request is not None:
                            target = str(resp.next_request.url)
                            continue
                        if resp.status_code >= 400:
                            transport.read_capped(resp, cfg_settings.max_response_bytes, endpoint)
                            handle_response(resp, endpoint, self._limiter(self._cfg()))
                        transport.check_declared_length(resp, limit, endpoint, "GENESYS_MAX_DOWNLOAD_BYTES")
                        digest, size = hashlib.sha256(), 0
                        with open(dest, "wb") as handle:
                            for chunk in resp.iter_bytes(1 << 20):
                                size += len(chunk)
                                if size > limit:
                                    raise GenesysResponseTooLargeError(
                                        f"download {endpoint} passed {size} bytes, over the limit "
                                        f"GENESYS_MAX_DOWNLOAD_BYTES={limit}", endpoint=endpoint)
                                handle.write(chunk)
                                digest.update(chunk)
                        return {"bytes": size, "sha256": digest.hexdigest()}
                except httpx.TransportError as exc:
                    deadline = cfg_settings.call_deadline_s if transport.deadline_passed() else None
                    raise transport_error(exc, endpoint, deadline) from exc
        raise GenesysPayloadError(f"more than {max_redirects} redirects for {endpoint}", endpoint=endpoint)

    def download(self, url: str, dest: Any, max_redirects: int = 5) -> dict[str, Any]:
        """Stream a file (e.g. an export's ``downloadUrl``) into ``dest``; never held whole in memory.

        Hosts follow an allow-list (see :meth:`_download_target`), every redirect is checked again, the
        token goes only to the API origin and the body stops at ``GENESYS_MAX_DOWNLOAD_BYTES``. A GET, so
        retried like every read (429/5xx/timeouts); each attempt rewrites ``dest`` from the start.
        Returns ``{"bytes", "sha256"}``.
        """
        return self._retrying(self._download_once, url, dest, max_redirects)

    # ------------------------------------------------------------------ public verbs
    def get(self, path: str, params: dict[str, Any] | None = None) -> Any:
        """GET, retried (reads are idempotent)."""
        return self._read("GET", path, params)

    def query(self, path: str, body: Any) -> Any:
        """A read-only POST (analytics queries, performance/progress queries, previews), retried."""
        return self._read("POST", path, None, body)

    def create(self, path: str, body: Any) -> Any:
        """A creating POST (job or export submission): sent once, never retried (a lost answer may have
        created it: look it up by its deterministic name before submitting again)."""
        return self._send("POST", path, None, body)

    def create_idempotent(self, path: str, body: Any, find_existing: Callable[[], Any | None]) -> Any:
        """A creating POST that is safe to repeat because the thing it creates can be found again.

        Each attempt first calls ``find_existing()`` (e.g. the export list searched for the request's
        deterministic name) and POSTs only when nothing is found. After a 429 (not processed), a 5xx, a
        timeout or an unreadable answer (maybe processed) the next attempt looks again before POSTing,
        so nothing is ever created twice; attempts and total time are bounded like every read.
        """

        def attempt() -> Any:
            existing = find_existing()
            return existing if existing is not None else self.create(path, body)

        return self._retrying(attempt)

    def put(self, path: str, body: Any, params: dict[str, Any] | None = None) -> Any:
        """PUT with the entity's ``version``; a 409 raises GenesysConflictError for the caller to re-read."""
        return self._send("PUT", path, params, body)

    def patch(self, path: str, body: Any) -> Any:
        """PATCH (no ``version``: not race-safe; do not use it for writes that must be)."""
        return self._send("PATCH", path, None, body)

    def delete(self, path: str) -> Any:
        return self._send("DELETE", path)

    async def aget(self, path: str, params: dict[str, Any] | None = None) -> Any:
        return await self._aread("GET", path, params)

    async def aquery(self, path: str, body: Any) -> Any:
        return await self._aread("POST", path, None, body)

    async def acreate(self, path: str, body: Any) -> Any:
        return await self._asend("POST", path, None, body)

    async def aput(self, path: str, body: Any, params: dict[str, Any] | None = None) -> Any:
        return await self._asend("PUT", path, params, body)

    async def apatch(self, path: str, body: Any) -> Any:
        return await self._asend("PATCH", path, None, body)

    async def adelete(self, path: str) -> Any:
        return await self._asend("DELETE", path)

    # ------------------------------------------------------------------ authenticate
    def _facts(self, cfg: ConnectionConfig, limits_body: Any) -> dict[str, Any]:
        limits: dict[str, int] | None = None
        if isinstance(limits_body, dict):
            limits = {
                str(e["key"]): int(e["value"])
                for e in limits_body.get("entities") or []
                if isinstance(e, dict) and "key" in e and isinstance(e.get("value"), int | float)
            }
        live = (limits or {}).get(LIVE_RATE_LIMIT_KEY)
        rpm = min(cfg.requests_per_minute, live) if live else cfg.requests_per_minute
        below = bool(live) and live < cfg.requests_per_minute
        if below:
            # The lower budget below only holds in THIS process: every later task starts a new process
            # whose limiter is built from the connection again, so the connection must be fixed.
            self.log.warning(
                "The org grants %s requests/min to this token (%s), below the connection %r's "
                "requests_per_minute of %s: set the connection's requests_per_minute to %s or lower, "
                "otherwise later tasks plan %s requests/min and meet 429s",
                live, LIVE_RATE_LIMIT_KEY, cfg.conn_id, cfg.requests_per_minute, live, cfg.requests_per_minute,
            )
        limiter = self._limiter(cfg)
        if rpm < limiter.requests_per_minute:
            limiter.configure(rpm)  # never plan above what the org really grants this token (this process)
        cached = TOKENS.peek(cfg.cache_key)
        return {
            "conn_id": cfg.conn_id,
            "api_base_url": cfg.api_base_url,
            "region": cfg.region,
            "token_expires_in": int(cached.expires_in) if cached else None,
            "requests_per_minute": rpm,
            "configured_requests_per_minute": cfg.requests_per_minute,
            "live_limits": limits,
            "live_limit_below_configured": below,
        }

    def authenticate(self) -> dict[str, Any]:
        """Obtain a token (proving credentials and region) and read the live platform.api limits.

        Returns only non-secret facts, fit for XCom.
        """
        cfg = self._cfg()
        self._token()
        try:
            limits_body = self.get(LIMITS_PATH)
        except (GenesysForbiddenError, GenesysNotFoundError):
            limits_body = None  # the limits API may be closed to this client: keep the configured budget
        return self._facts(cfg, limits_body)

    async def aauthenticate(self) -> dict[str, Any]:
        cfg = await self._acfg()
        await self._atoken()
        try:
            limits_body = await self.aget(LIMITS_PATH)
        except (GenesysForbiddenError, GenesysNotFoundError):
            limits_body = None
        return self._facts(cfg, limits_body)

    # ------------------------------------------------------------------ page-number listings
    @staticmethod
    def _checked_page_count(first: Any, path: str) -> int | None:
        """The listing's ``pageCount``, refused up front when it is over GENESYS_MAX_PAGES."""
        page_count = pagination.listing_page_count(first)
        if page_count is not None and page_count > settings().max_pages:
            raise GenesysPageLimitError(f"GET {path}: pageCount {page_count} is over the page cap "
                                        f"GENESYS_MAX_PAGES={settings().max_pages}")
        return page_count

    @staticmethod
    def _page_params(params: dict[str, Any] | None, page_size: int, page: int) -> dict[str, Any]:
        return {**(params or {}), "pageSize": page_size, "pageNumber": page}

    def paginate(
        self, path: str, params: dict[str, Any] | None = None, page_size: int = 100, concurrency: int = 1
    ) -> Iterator[Any]:
        """Lazily yield the items of a page-number listing (``entities``/``pageCount``), in page order.

        With ``concurrency > 1`` and a known ``pageCount``, up to that many following pages are fetched
        ahead in threads (still inside the shared rate budget); at most ``concurrency`` pages are held.
        Unpaged answers (a bare array or ``{entities}`` without paging fields) yield once.
        """
        first = self.get(path, self._page_params(params, page_size, 1))
        yield from pagination.listing_items(first)
        page_count = self._checked_page_count(first, path)
        if concurrency > 1 and page_count is not None and page_count > 1:
            yield from self._paginate_ahead(path, params, page_size, page_count, concurrency)
            return
        page, response = 1, first
        while pagination.listing_has_next(response, page):
            page += 1
            pagination.check_page(page, f"GET {path}")
            response = self.get(path, self._page_params(params, page_size, page))
            yield from pagination.listing_items(response)

    def _paginate_ahead(
        self, path: str, params: dict[str, Any] | None, page_size: int, page_count: int, concurrency: int
    ) -> Iterator[Any]:
        pages = iter(range(2, page_count + 1))
        window: deque[Future[Any]] = deque()
        executor = ThreadPoolExecutor(max_workers=concurrency, thread_name_prefix="genesys-page")
        try:
            for page in pages:
                window.append(executor.submit(self.get, path, self._page_params(params, page_size, page)))
                if len(window) >= concurrency:
                    break
            while window:
                items = pagination.listing_items(window.popleft().result())
                next_page = next(pages, None)
                if next_page is not None:
                    window.append(
                        executor.submit(self.get, path, self._page_params(params, page_size, next_page))
                    )
                yield from items
        finally:
            executor.shutdown(wait=True, cancel_futures=True)

    async def apaginate(
        self, path: str, params: dict[str, Any] | None = None, page_size: int = 100, concurrency: int = 1
    ) -> AsyncIterator[Any]:
        """Async twin of :meth:`paginate` (concurrent fetch-ahead with asyncio tasks)."""
        first = await self.aget(path, self._page_params(params, page_size, 1))
        for item in pagination.listing_items(first):
            yield item
        page_count = self._checked_page_count(first, path)
        if concurrency > 1 and page_count is not None and page_count > 1:
            pages = iter(range(2, page_count + 1))
            window: deque[asyncio.Task[Any]] = deque()
            try:
                for page in pages:
                    window.append(
                        asyncio.ensure_future(self.aget(path, self._page_params(params, page_size, page)))
                    )
                    if len(window) >= concurrency:
                        break
                while window:
                    items = pagination.listing_items(await window.popleft())
                    next_page = next(pages, None)
                    if next_page is not None:
                        window.append(
                            asyncio.ensure_future(
                                self.aget(path, self._page_params(params, page_size, next_page))
                            )
                        )
                    for item in items:
                        yield item
            finally:
                for task in window:
                    task.cancel()
            return
        page, response = 1, first
        while pagination.listing_has_next(response, page):
            page += 1
            pagination.check_page(page, f"GET {path}")
            response = await self.aget(path, self._page_params(params, page_size, page))
            for item in pagination.listing_items(response):
                yield item
