"""EDGES: the hook against hostile-but-well-formed answers, huge and slow answers, endless paging, bad
``Retry-After``, download redirects to foreign hosts and tampered connection hosts (issue 16).

Each case drives the real hook (respx for https region hosts, stub servers on 127.0.0.1 where the
network layer matters) and is *clean* when it ends the way it must (the expected error naming its cause
or limit, or a success), no token or client secret reached a host other than the API/login origin, and
the call stayed under the deadline. ``summary()`` / ``edges_line()`` are reused by ``tools/chaos.py``,
which runs this file as a script (``python tests/e2e/test_edges.py``) so the RSS is the harness's own.

``presigned_in_logs`` is 0 here: this harness never presigns; the sinks helper's secrets scan covers
presigned URLs in task logs and XCom.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import resource
import socket
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from tempfile import TemporaryDirectory
from typing import Any

import httpx
import pytest
import respx

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "plugins" / "hooks"))
from edge_stubs import StubServer, huge_chunked, jsonr, raw, sandbox_extra, token_answer, trickle  # noqa: E402

from genesys_cloud.exceptions import (  # noqa: E402
    GenesysConfigError,
    GenesysPageLimitError,
    GenesysPayloadError,
    GenesysRateLimitError,
    GenesysResponseTooLargeError,
    GenesysRetryAfterTooLongError,
    GenesysTimeoutError,
    GenesysValidationError,
)
from genesys_cloud.hooks import ratelimit  # noqa: E402
from genesys_cloud.hooks.auth import TOKENS, Token  # noqa: E402
from genesys_cloud.hooks.connection import ConnectionConfig  # noqa: E402
from genesys_cloud.hooks.genesys_cloud import GenesysCloudHook  # noqa: E402

REGION = "mypurecloud.ie"
API = f"https://api.{REGION}"
LOGIN = f"https://login.{REGION}"
TRUSTED_HOSTS = {f"api.{REGION}", f"login.{REGION}"}
DEADLINE_S = 2.0
#: Settings every case runs under: short deadline and caps so hostile answers end fast.
BASE_ENV = {
    "GENESYS_CALL_DEADLINE_S": str(DEADLINE_S),
    "GENESYS_MAX_RESPONSE_BYTES": str(1 << 20),
    "GENESYS_MAX_DOWNLOAD_BYTES": str(1 << 20),
    "GENESYS_MAX_PAGES": "20",
    "GENESYS_RETRY_AFTER_MAX_S": "120",
    "GENESYS_RETRY_MAX_ATTEMPTS": "2",
    "GENESYS_RETRY_BACKOFF_BASE": "0.01",
    "GENESYS_RETRY_MAX_SECONDS": "30",  # a Retry-After past this is not waited for inside the call
    "GENESYS_DOWNLOAD_HOSTS": "",
}


@dataclass(frozen=True)
class Edge:
    name: str
    kind: str  # "respx" (region hosts), "stub" (127.0.0.1 servers) or "pure"
    run: Callable[[World], Any]
    expect: type[BaseException] | None  # None: must succeed
    names: str = ""  # text the error must contain (the limit or the field)


@dataclass
class World:
    router: respx.MockRouter | None = None
    api: StubServer | None = None  # the sandbox-style API origin of stub cases
    foreign: StubServer | None = None  # a host that must never see a token
    tmp: Path = Path(".")
    waits: list[float] = field(default_factory=list)

    def hook(self, conn_id: str = "edges") -> GenesysCloudHook:
        if self.api is not None:
            hook = GenesysCloudHook.from_connection_dict(conn_id, "client", "edge-secret", sandbox_extra(self.api.url))
        else:
            hook = GenesysCloudHook.from_connection_dict(conn_id, "client", "edge-secret", {"region": REGION})
        hook._sleep = self.waits.append  # retry waits observed, not spent (deadlines are real)
        return hook


@dataclass
class Result:
    name: str
    clean: bool
    seconds: float
    leaks: int
    detail: str
    rss_mib: float = 0.0


# -- building blocks -------------------------------------------------------------------------------------
def _respx_token(router: respx.MockRouter) -> None:
    router.post(f"{LOGIN}/oauth/token").mock(
        return_value=httpx.Response(200, json={"access_token": "edge-token", "expires_in": 3600}))


def _get(path: str, **kw: Any) -> Callable[[World], Any]:
    return lambda w: w.hook().get(path, **kw)


def _config(extra: dict[str, Any]) -> Callable[[World], Any]:
    return lambda w: ConnectionConfig.from_parts("edges", "id", "edge-secret", extra)


def _download(url: str) -> Callable[[World], Any]:
    return lambda w: w.hook().download(url, w.tmp / "out.csv")


def _with_route(method: str, url: str, response: httpx.Response | list[httpx.Response],
                then: Callable[[World], Any]) -> Callable[[World], Any]:
    def run(w: World) -> Any:
        assert w.router is not None
        route = w.router.route(method=method, url__regex="^" + re.escape(url) + r"(\?.*)?$")
        if isinstance(response, list):
            route.mock(side_effect=response)
        else:
            route.mock(return_value=response)
        return then(w)
    return run


def _stub_route(answer: Callable[[str], Any]) -> Callable[[str, str, dict[str, str]], Any]:
    return lambda method, path, headers: token_answer() if path == "/oauth/token" else answer(path)


def _other_connection_never_waits(w: World) -> None:
    assert w.router is not None
    w.router.get(f"{API}/api/v2/a").mock(return_value=httpx.Response(429, headers={"Retry-After": "100"}))
    w.router.get(f"{API}/api/v2/b").mock(return_value=httpx.Response(200, json={"ok": True}))
    with contextlib.suppress(GenesysRateLimitError):
        w.hook("edges_a").get("/api/v2/a")
    w.waits.clear()
    w.hook("edges_b").get("/api/v2/b")
    if any(wait > 1 for wait in w.waits):
        raise AssertionError(f"another connection waited {max(w.waits)}s")


def _cursor_pages(w: World) -> Any:
    assert w.router is not None
    counter = iter(range(10**6))
    w.router.get(url__regex=rf"^{API}/api/v2/analytics/conversations/details/jobs/j1/results.*").mock(
        side_effect=lambda request: httpx.Response(200, json={"conversations": [], "cursor": f"c{next(counter)}"}))
    return list(w.hook().iter_job_rows("details", "j1"))


def _endless_details(w: World) -> Any:
    assert w.router is not None
    counter = iter(range(10**6))

    def answer(request: httpx.Request) -> httpx.Response:
        n = next(counter)
        return httpx.Response(200, json={"totalHits": 99_999, "conversations": [
            {"conversationId": f"c{n}", "conversationStart": "2026-07-01T01:00:00.000Z"}]})

    w.router.post(f"{API}/api/v2/analytics/conversations/details/query").mock(side_effect=answer)
    # the pager reads the org's analytics limits first (issue 18); an org that publishes none
    w.router.get(f"{API}/api/v2/organizations/limits/namespaces/analytics").mock(
        return_value=httpx.Response(200, json={"entities": []}))
    query = {"interval": "2026-07-01T00:00:00.000Z/2026-07-02T00:00:00.000Z"}
    return list(w.hook().iter_conversation_details(query, page_size=1))


def _async_get(path: str) -> Callable[[World], Any]:
    def run(w: World) -> Any:
        hook = w.hook()

        async def go() -> Any:
            try:
                return await hook.aget(path)
            finally:
                await hook.aclose()

        return asyncio.run(go())
    return run


DNS_HANG_HOST = "dns-hang.test"


@contextlib.contextmanager
def _hanging_resolver() -> Iterator[None]:
    """``socket.getaddrinfo`` never answers for DNS_HANG_HOST while the case runs (httpx's timeouts do not
    cover the lookup); released, and the real resolver put back, when the case ends."""
    real, release = socket.getaddrinfo, threading.Event()

    def getaddrinfo(host: Any, *args: Any, **kwargs: Any) -> Any:
        if host in (DNS_HANG_HOST, DNS_HANG_HOST.encode()):  # anyio passes the name as IDNA bytes
            release.wait(60)
            raise socket.gaierror(socket.EAI_AGAIN, "resolver gave up")
        return real(host, *args, **kwargs)

    socket.getaddrinfo = getaddrinfo  # type: ignore[assignment]
    try:
        yield
    finally:
        socket.getaddrinfo = real  # type: ignore[assignment]
        release.set()


def _dns_hang(run_async: bool) -> Callable[[World], Any]:
    """An API host whose DNS lookup hangs (the token already cached: the GET is the call that is cut)."""
    def run(w: World) -> Any:
        assert w.api is not None
        hook = GenesysCloudHook.from_connection_dict(
            "edges_dns", "client", "edge-secret", sandbox_extra(f"http://{DNS_HANG_HOST}:{w.api.port}"))
        hook._sleep = w.waits.append
        TOKENS.store(hook._cfg().cache_key, Token(access_token="edge-token", expires_in=3600,
                                                  obtained_at=time.monotonic()))

        async def go() -> Any:
            try:
                return await hook.aget("/api/v2/dns")
            finally:
                await hook.aclose()

        with _hanging_resolver():
            return asyncio.run(go()) if run_async else hook.get("/api/v2/dns")
    return run


def _redirect_to_foreign(w: World) -> Any:
    """A sandbox-style API redirecting the download to another host: refused, that host sees nothing."""
    assert w.foreign is not None
    return w.hook().download(f"{w.api.url}/api/v2/downloads/to-foreign", w.tmp / "out.csv")


LISTING = f"{API}/api/v2/outbound/campaigns"
ENDLESS = httpx.Response(200, json={"entities": [{"id": "x"}], "nextUri": "/api/v2/outbound/campaigns?p=n"})


def cases() -> list[Edge]:
    E = Edge  # noqa: N806 - a table reads better with a short constructor
    return [
        # -- tampered connection hosts (pure) ------------------------------------------------------------
        E("conn-http-api", "pure", _config({"api_base_url": "http://api.mypurecloud.ie"}), GenesysConfigError, "api_base_url"),
        E("conn-foreign-api", "pure", _config({"api_base_url": "https://collector.example"}), GenesysConfigError, "api_base_url"),
        E("conn-userinfo", "pure", _config({"api_base_url": "https://api.mypurecloud.ie@evil.example"}), GenesysConfigError, "api_base_url"),
        E("conn-suffix", "pure", _config({"api_base_url": "https://api.mypurecloud.ie.evil.example"}), GenesysConfigError, "api_base_url"),
        E("conn-foreign-login", "pure", _config({"api_base_url": API, "login_base_url": "https://login.evil.example"}), GenesysConfigError, "login_base_url"),
        E("conn-http-login", "pure", _config({"api_base_url": API, "login_base_url": "http://login.mypurecloud.ie"}), GenesysConfigError, "login_base_url"),
        E("conn-other-region", "pure", _config({"region": "mypurecloud.de", "api_base_url": API}), GenesysConfigError, "api_base_url"),
        E("conn-loopback-no-flag", "pure", _config({"api_base_url": "http://127.0.0.1:8089"}), GenesysConfigError, "api_base_url"),
        E("conn-sandbox-with-region", "pure", _config({"region": REGION, "sandbox": True}), GenesysConfigError, "sandbox"),
        E("conn-login-alone", "pure", _config({"login_base_url": LOGIN}), GenesysConfigError, "login_base_url"),
        E("conn-other-scheme", "pure", _config({"api_base_url": "file:///etc/passwd", "sandbox": True}), GenesysConfigError, "api_base_url"),
        # -- paths and ids -------------------------------------------------------------------------------
        E("path-userinfo", "respx", _get("@evil.example/api/v2/x"), GenesysValidationError, "API origin"),
        E("path-suffix", "respx", _get(".evil.example/api/v2/x"), GenesysValidationError, "API origin"),
        E("path-port", "respx", _get(":8443/api/v2/x"), GenesysValidationError, "API origin"),
        E("id-retarget-put", "respx", lambda w: w.hook().put_campaign({"id": "../contactlists/cl", "version": 1}), GenesysValidationError, "campaign_id"),
        E("id-job-cancel", "respx", lambda w: w.hook().cancel_job("details", "../../outbound/campaigns/c1"), GenesysValidationError, "job_id"),
        E("id-empty", "respx", lambda w: w.hook().campaign_stats(""), GenesysValidationError, "campaign_id"),
        E("answer-other-campaign", "respx", _with_route("GET", f"{LISTING}/c1", httpx.Response(200, json={"id": "c2", "version": 1}),
                                                        lambda w: w.hook().get_campaign("c1")), GenesysPayloadError, "campaign 'c2'"),
        E("answer-listing-without-id", "respx", _with_route("GET", LISTING, httpx.Response(200, json={"entities": [{"name": "x"}], "pageCount": 1}),
                                                            lambda w: list(w.hook().list_campaigns())), GenesysPayloadError, "id"),
        # -- downloads -----------------------------------------------------------------------------------
        E("dl-http-api", "respx", _download(f"http://api.{REGION}/api/v2/downloads/d1"), GenesysValidationError, "refusing download"),
        E("dl-metadata-ip", "respx", _download("http://169.254.169.254/latest/meta-data/"), GenesysValidationError, "refusing download"),
        E("dl-foreign-https", "respx", _download("https://collector.example/f.csv"), GenesysValidationError, "refusing download"),
        E("dl-ftp", "respx", _download(f"ftp://api.{REGION}/f"), GenesysValidationError, "refusing download"),
        E("dl-userinfo", "respx", _download(f"https://u:p@api-downloads.{REGION}/f"), GenesysValidationError, "refusing download"),
        E("dl-redirect-foreign", "respx", _with_route("GET", f"{API}/api/v2/downloads/d1", httpx.Response(302, headers={"Location": "https://collector.example/x"}),
                                                      _download(f"{API}/api/v2/downloads/d1")), GenesysValidationError, "collector.example"),
        E("dl-redirect-metadata", "respx", _with_route("GET", f"{API}/api/v2/downloads/d1", httpx.Response(302, headers={"Location": "http://169.254.169.254/"}),
                                                       _download(f"{API}/api/v2/downloads/d1")), GenesysValidationError, "169.254.169.254"),
        E("dl-redirect-http-api", "respx", _with_route("GET", f"{API}/api/v2/downloads/d1", httpx.Response(302, headers={"Location": f"http://api.{REGION}/x"}),
                                                       _download(f"{API}/api/v2/downloads/d1")), GenesysValidationError, "refusing download"),
        E("dl-redirect-loop", "respx", _with_route("GET", f"{API}/api/v2/downloads/d1", httpx.Response(302, headers={"Location": f"{API}/api/v2/downloads/d1"}),
                                                   _download(f"{API}/api/v2/downloads/d1")), GenesysPayloadError, "redirects"),
        E("dl-declared-huge", "respx", _with_route("GET", f"{API}/api/v2/downloads/d1", httpx.Response(200, headers={"Content-Length": str(10**11)}, content=b"x"),
                                                   _download(f"{API}/api/v2/downloads/d1")), GenesysResponseTooLargeError, "GENESYS_MAX_DOWNLOAD_BYTES"),
        E("dl-allowed-host", "respx", _with_route("GET", f"{API}/api/v2/downloads/d1", httpx.Response(302, headers={"Location": f"https://api-downloads.{REGION}/f"}),
                                                  _with_route("GET", f"https://api-downloads.{REGION}/f", httpx.Response(200, content=b"a\n"),
                                                              _download(f"https://apps.{REGION}/platform/api/v2/downloads/d1"))), None),
        E("dl-stream-huge", "stub", lambda w: w.hook().download(f"{w.api.url}/api/v2/downloads/huge", w.tmp / "out.csv"),
          GenesysResponseTooLargeError, "GENESYS_MAX_DOWNLOAD_BYTES"),
        E("dl-stub-redirect-foreign", "stub", _redirect_to_foreign, GenesysValidationError, "refusing download"),
        E("dl-trickle", "stub", lambda w: w.hook().download(f"{w.api.url}/api/v2/downloads/slow", w.tmp / "out.csv"),
          GenesysTimeoutError, "GENESYS_CALL_DEADLINE_S"),
        # -- Retry-After ---------------------------------------------------------------------------------
        E("ra-year", "respx", _with_route("GET", f"{API}/api/v2/x", httpx.Response(429, headers={"Retry-After": "31536000"}), _get("/api/v2/x")),
          GenesysRetryAfterTooLongError, "GENESYS_RETRY_AFTER_MAX_S=120"),
        E("ra-just-over", "respx", _with_route("GET", f"{API}/api/v2/x", httpx.Response(429, headers={"Retry-After": "121"}), _get("/api/v2/x")),
          GenesysRetryAfterTooLongError, "121s"),
        E("ra-infinite", "respx", _with_route("GET", f"{API}/api/v2/x", httpx.Response(429, headers={"Retry-After": "inf"}), _get("/api/v2/x")),
          GenesysRetryAfterTooLongError, "GENESYS_RETRY_AFTER_MAX_S"),
        E("ra-negative", "respx", _with_route("GET", f"{API}/api/v2/x", [httpx.Response(429, headers={"Retry-After": "-5"}),
                                                                         httpx.Response(200, json={"ok": 1})], _get("/api/v2/x")), None),
        E("ra-nan", "respx", _with_route("GET", f"{API}/api/v2/x", [httpx.Response(429, headers={"Retry-After": "nan"}),
                                                                    httpx.Response(200, json={"ok": 1})], _get("/api/v2/x")), None),
        E("ra-http-date", "respx", _with_route("GET", f"{API}/api/v2/x", [httpx.Response(429, headers={"Retry-After": "Wed, 21 Oct 2099 07:28:00 GMT"}),
                                                                          httpx.Response(200, json={"ok": 1})], _get("/api/v2/x")), None),
        E("ra-other-connection", "respx", _other_connection_never_waits, None),
        # -- slow answers (the call deadline) -------------------------------------------------------------
        E("slow-trickle-get", "stub", _get("/api/v2/slow"), GenesysTimeoutError, "GENESYS_CALL_DEADLINE_S"),
        E("slow-trickle-async", "stub", _async_get("/api/v2/slow"), GenesysTimeoutError, "GENESYS_CALL_DEADLINE_S"),
        E("slow-headers", "stub", _get("/api/v2/no-headers"), GenesysTimeoutError, "GENESYS_CALL_DEADLINE_S"),
        E("slow-dns-get", "stub", _dns_hang(False), GenesysTimeoutError, f"DNS lookup of {DNS_HANG_HOST}"),
        E("slow-dns-async", "stub", _dns_hang(True), GenesysTimeoutError, f"DNS lookup of {DNS_HANG_HOST}"),
        E("slow-token", "stub", lambda w: w.hook("edges_slow_token")._token(), GenesysTimeoutError, "GENESYS_CALL_DEADLINE_S"),
        # -- huge answers ----------------------------------------------------------------------------------
        E("huge-chunked", "stub", _get("/api/v2/huge"), GenesysResponseTooLargeError, "GENESYS_MAX_RESPONSE_BYTES"),
        E("huge-declared", "stub", _get("/api/v2/declared"), GenesysResponseTooLargeError, "GENESYS_MAX_RESPONSE_BYTES"),
        E("huge-error-body", "stub", _get("/api/v2/huge-error"), GenesysResponseTooLargeError, "GENESYS_MAX_RESPONSE_BYTES"),
        E("huge-async", "stub", _async_get("/api/v2/huge"), GenesysResponseTooLargeError, "GENESYS_MAX_RESPONSE_BYTES"),
        E("huge-respx-body", "respx", _with_route("GET", f"{API}/api/v2/x", httpx.Response(200, content=b"[" + b"1," * (1 << 20) + b"1]"), _get("/api/v2/x")),
          GenesysResponseTooLargeError, "GENESYS_MAX_RESPONSE_BYTES"),
        # -- endless paging ------------------------------------------------------------------------------
        E("page-endless-next-uri", "respx", _with_route("GET", LISTING, ENDLESS, lambda w: list(w.hook().list_campaigns())),
          GenesysPageLimitError, "GENESYS_MAX_PAGES=20"),
        E("page-huge-page-count", "respx", _with_route("GET", LISTING, httpx.Response(200, json={"entities": [{"id": "x"}], "pageCount": 10**9}),
                                                       lambda w: list(w.hook().paginate("/api/v2/outbound/campaigns", concurrency=4))),
          GenesysPageLimitError, "GENESYS_MAX_PAGES"),
        E("page-async-next-uri", "respx", _with_route("GET", LISTING, ENDLESS, lambda w: asyncio.run(_alist(w.hook()))),
          GenesysPageLimitError, "GENESYS_MAX_PAGES=20"),
        E("page-new-cursors", "respx", _cursor_pages, GenesysPageLimitError, "GENESYS_MAX_PAGES=20"),
        E("page-endless-details", "respx", _endless_details, GenesysPageLimitError, "GENESYS_MAX_PAGES=20"),
    ]


async def _alist(hook: GenesysCloudHook) -> list[Any]:
    return [item async for item in hook.apaginate("/api/v2/outbound/campaigns")]


def _api_stub_answer(foreign_url: str) -> Callable[[str], Any]:
    def answer(path: str) -> Any:
        if path.startswith("/api/v2/huge-error"):
            return raw(500, b"x" * (3 << 20))
        if path.startswith(("/api/v2/downloads/huge", "/api/v2/huge")):
            return huge_chunked(300 << 20)
        if path.startswith("/api/v2/declared"):
            return raw(200, b"{}", {"Content-Length": str(10**12)}, length=False)
        if path.startswith("/api/v2/downloads/slow") or path.startswith("/api/v2/slow"):
            return trickle(10_000, 0.5)
        if path.startswith("/api/v2/no-headers"):
            return iter([(b"HTTP/1.1 200 OK\r\n", 30.0)])
        if path.startswith("/api/v2/downloads/to-foreign"):
            return raw(302, b"", {"Location": f"{foreign_url}/collect"})
        return jsonr(200, {"ok": True})
    return answer


def _slow_token_route(api_answer: Callable[[str], Any]) -> Callable[[str, str, dict[str, str]], Any]:
    def route(method: str, path: str, headers: dict[str, str]) -> Any:
        if path == "/oauth/token":
            # The token host trickles only during the case that tests it (``route.slow``).
            return trickle(10_000, 0.5) if route.slow else token_answer()
        return api_answer(path)
    route.slow = False  # type: ignore[attr-defined]
    return route


@contextlib.contextmanager
def _env(values: dict[str, str]) -> Iterator[None]:
    saved = {k: os.environ.get(k) for k in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def _leaks_respx(router: respx.MockRouter) -> int:
    return sum(1 for call in router.calls
               if call.request.url.host not in TRUSTED_HOSTS and "authorization" in call.request.headers)


def run_case(edge: Edge, api: StubServer, foreign: StubServer, route: Any) -> Result:
    TOKENS.clear()
    ratelimit.reset_limiters()
    foreign.seen.clear()
    route.slow = edge.name == "slow-token"
    world = World()
    started = time.monotonic()
    error: BaseException | None = None
    leaks = 0
    with TemporaryDirectory() as tmp, _env(BASE_ENV):
        world.tmp = Path(tmp)
        try:
            if edge.kind == "respx":
                with respx.mock(assert_all_called=False) as router:
                    world.router = router
                    _respx_token(router)
                    try:
                        edge.run(world)
                    finally:
                        leaks = _leaks_respx(router)
            else:
                world.api, world.foreign = (api, foreign) if edge.kind == "stub" else (None, None)
                edge.run(world)
        except Exception as exc:  # noqa: BLE001 - the outcome is what is judged
            error = exc
    seconds = time.monotonic() - started
    leaks += len(foreign.authorizations())
    if edge.expect is None:
        ok, detail = error is None, f"unexpected {type(error).__name__}: {error}" if error else "ok"
    else:
        ok = isinstance(error, edge.expect) and edge.names in str(error)
        detail = f"{type(error).__name__}: {error}" if error else "no error raised"
    return Result(edge.name, ok and leaks == 0 and seconds <= DEADLINE_S + 5, seconds, leaks, detail[:300],
                  peak_rss_mib())


def run_cases(only: list[str] | None = None) -> list[Result]:
    foreign = StubServer(lambda m, p, h: jsonr(200, {"collected": True}))
    route = _slow_token_route(_api_stub_answer(foreign.url))
    api = StubServer(route)
    try:
        return [run_case(edge, api, foreign, route) for edge in cases() if only is None or edge.name in only]
    finally:
        api.close()
        foreign.close()


PRESIGNED_ENV = "GENESYS_EDGES_PRESIGNED_IN_LOGS"


def peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: KiB


def summary(results: list[Result], presigned_in_logs: int | None = None) -> dict[str, Any]:
    """The EDGES figures. ``presigned_in_logs``: presigned signatures the secrets scan found in task logs,
    XCom and rendered templates of real runs (tests/e2e/test_secrets.py); this harness presigns nothing
    itself, so without a scan the figure is ``n/a``, never a made-up 0."""
    return {
        "cases": len(results),
        "clean": sum(1 for r in results if r.clean),
        "token_to_foreign_host": sum(r.leaks for r in results),
        "max_call_s": round(max((r.seconds for r in results), default=0.0), 1),
        "peak_rss_mib": round(peak_rss_mib()),
        "presigned_in_logs": "n/a" if presigned_in_logs is None else presigned_in_logs,
    }


def edges_line(figures: dict[str, Any]) -> str:
    return "EDGES " + " ".join(f"{k}={v}" for k, v in figures.items())


# -- pytest ----------------------------------------------------------------------------------------------
pytestmark = pytest.mark.e2e


def test_every_edge_case_is_clean(capsys: pytest.CaptureFixture[str]) -> None:
    results = run_cases()
    figures = summary(results)
    with capsys.disabled():
        print("\n" + edges_line(figures))
    dirty = [f"{r.name}: {r.detail} (leaks={r.leaks}, {r.seconds:.1f}s)" for r in results if not r.clean]
    assert not dirty, "\n".join(dirty)
    assert figures["cases"] >= 40 and figures["token_to_foreign_host"] == 0
    assert figures["max_call_s"] <= DEADLINE_S + 5


def main() -> int:
    results = run_cases(sys.argv[1:] or None)
    for r in results:
        print(f"{r.name:28} {'clean' if r.clean else 'DIRTY':5} {r.seconds:5.1f}s rss={r.rss_mib:.0f} leaks={r.leaks} {r.detail[:110]}")
    scanned = os.environ.get(PRESIGNED_ENV)  # set by tools/chaos.py from its secrets scan
    figures = summary(results, int(scanned) if scanned not in (None, "") else None)
    print(edges_line(figures))
    return 0 if figures["clean"] == figures["cases"] and figures["presigned_in_logs"] in (0, "n/a") else 1


if __name__ == "__main__":
    sys.exit(main())
