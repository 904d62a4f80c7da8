"""The hook's security edges (issue 16): where the token and the client secret may go, what a download may
fetch, ids in paths, Retry-After, the call deadline, byte caps while streaming and page caps.

Stub servers on 127.0.0.1 (edge_stubs) where the network layer matters (deadline, streaming caps), respx
elsewhere. Each test fails on the code before these edges were closed.
"""

from __future__ import annotations

import asyncio
import re
import threading
import time
from pathlib import Path

import httpx
import pytest
import respx
from edge_stubs import StubServer, huge_chunked, jsonr, raw, sandbox_extra, token_answer, trickle

from genesys_cloud.exceptions import (
    GenesysConfigError,
    GenesysPageLimitError,
    GenesysPayloadError,
    GenesysRateLimitError,
    GenesysResponseTooLargeError,
    GenesysRetryAfterTooLongError,
    GenesysTimeoutError,
    GenesysValidationError,
)
from genesys_cloud.hooks import pagination, ratelimit
from genesys_cloud.hooks.auth import TOKENS, Token
from genesys_cloud.hooks.connection import ConnectionConfig
from genesys_cloud.hooks.genesys_cloud import GenesysCloudHook

REGION = "mypurecloud.ie"
API = f"https://api.{REGION}"
LOGIN = f"https://login.{REGION}"


@pytest.fixture(autouse=True)
def _isolated(monkeypatch: pytest.MonkeyPatch):
    TOKENS.clear()
    ratelimit.reset_limiters()
    monkeypatch.setenv("GENESYS_RETRY_BACKOFF_BASE", "0.01")
    monkeypatch.setenv("GENESYS_RETRY_MAX_ATTEMPTS", "3")
    yield
    TOKENS.clear()
    ratelimit.reset_limiters()


def region_hook(conn_id: str = "edges") -> GenesysCloudHook:
    hook = GenesysCloudHook.from_connection_dict(conn_id, "client", "edge-secret", {"region": REGION})
    hook._sleep = lambda s: None  # retries observed, not spent
    return hook


def stub_hook(stub: StubServer, conn_id: str = "edges_stub") -> GenesysCloudHook:
    return GenesysCloudHook.from_connection_dict(conn_id, "client", "edge-secret", sandbox_extra(stub.url))


@pytest.fixture
def stub_factory():
    servers: list[StubServer] = []

    def make(route) -> StubServer:
        server = StubServer(route)
        servers.append(server)
        return server

    yield make
    for server in servers:
        server.close()


def _token(router: respx.MockRouter) -> respx.Route:
    return router.post(f"{LOGIN}/oauth/token").mock(
        return_value=httpx.Response(200, json={"access_token": "tok", "expires_in": 3600}))


# -- 1. connection overrides ------------------------------------------------------------------------------
@pytest.mark.parametrize(("extra", "field"), [
    ({"api_base_url": "http://api.mypurecloud.ie"}, "api_base_url"),                      # cleartext
    ({"api_base_url": "https://collector.example"}, "api_base_url"),                       # foreign host
    ({"api_base_url": "https://api.mypurecloud.ie@evil.example"}, "api_base_url"),         # userinfo trick
    ({"api_base_url": "https://api.mypurecloud.ie.evil.example"}, "api_base_url"),        # suffix trick
    ({"api_base_url": API, "login_base_url": "https://login.evil.example"}, "login_base_url"),
    ({"api_base_url": API, "login_base_url": "http://login.mypurecloud.ie"}, "login_base_url"),
    ({"region": "mypurecloud.de", "api_base_url": API}, "api_base_url"),                   # other region
    ({"api_base_url": "http://127.0.0.1:8089"}, "api_base_url"),                           # sandbox URL, no flag
    ({"login_base_url": LOGIN}, "login_base_url"),                                          # login alone
])
def test_connection_overrides_are_refused_at_load_naming_the_field(extra: dict, field: str) -> None:
    with pytest.raises(GenesysConfigError, match=field):
        ConnectionConfig.from_parts("c", "id", "secret", extra)


def test_overrides_on_the_region_domain_and_the_sandbox_flag_are_accepted() -> None:
    cfg = ConnectionConfig.from_parts("c", "id", "s", {"api_base_url": API, "login_base_url": LOGIN})
    assert (cfg.api_base_url, cfg.login_base_url, cfg.region, cfg.sandbox) == (API, LOGIN, REGION, False)
    cfg = ConnectionConfig.from_parts("c", "id", "s", {"api_base_url": "http://genesys-sandbox:8089",
                                                       "sandbox": "true"})
    assert cfg.sandbox and cfg.api_base_url == "http://genesys-sandbox:8089"


@pytest.mark.parametrize("url", ["https://api.mypurecloud.ie", "https://login.usw2.pure.cloud",
                                 "https://evil.example.com", "http://10.0.0.7:8089"])
def test_sandbox_flag_is_refused_on_a_host_that_is_not_a_local_emulator(url: str) -> None:
    """sandbox: true lifts the host rule and allows the sandbox-only approval switch: on a real Genesys host
    or a foreign one it would run a real org unapproved or send the client secret away."""
    with pytest.raises(GenesysConfigError, match="sandbox"):
        ConnectionConfig.from_parts("c", "id", "s", {"api_base_url": url, "sandbox": True})


def test_sandbox_hosts_the_deployment_allows(monkeypatch: pytest.MonkeyPatch) -> None:
    for url in ("http://127.0.0.1:8089", "http://localhost:1", "http://genesys-sandbox:8089", "https://api.x.local"):
        assert ConnectionConfig.from_parts("c", "id", "s", {"api_base_url": url, "sandbox": True}).sandbox
    monkeypatch.setenv("GENESYS_SANDBOX_HOSTS", "emulator.corp.example.net")
    assert ConnectionConfig.from_parts("c", "id", "s", {"api_base_url": "https://emulator.corp.example.net",
                                                        "sandbox": True}).sandbox
    with pytest.raises(GenesysConfigError, match="Genesys Cloud host"):
        monkeypatch.setenv("GENESYS_SANDBOX_HOSTS", "api.mypurecloud.ie")
        ConnectionConfig.from_parts("c", "id", "s", {"api_base_url": "https://api.mypurecloud.ie", "sandbox": True})


def test_sandbox_together_with_a_real_region_is_refused() -> None:
    with pytest.raises(GenesysConfigError, match="sandbox"):
        ConnectionConfig.from_parts("c", "id", "s", {"region": REGION, "sandbox": True})


def test_a_path_that_would_move_the_host_never_carries_the_token() -> None:
    hook = region_hook()
    with respx.mock(assert_all_called=False) as router:
        token = _token(router)
        anything = router.route().mock(return_value=httpx.Response(200, json={}))
        for path in ("@evil.example/api/v2/x", ".evil.example/api/v2/x", ":8443/api/v2/x"):
            with pytest.raises(GenesysValidationError, match="API origin"):
                hook.get(path)
        assert token.call_count == 0 and anything.call_count == 0


# -- 2. downloads -----------------------------------------------------------------------------------------
@pytest.mark.parametrize("url", [
    f"http://api.{REGION}/api/v2/downloads/d1",               # API host over cleartext
    "http://169.254.169.254/latest/meta-data/",               # link-local metadata
    "https://collector.example/file.csv",                     # foreign https host
    "ftp://api.mypurecloud.ie/x",                             # other scheme
    f"https://user:pw@api-downloads.{REGION}/x",              # credentials in the URL
])
def test_downloads_outside_the_allow_list_are_refused_unsent(url: str, tmp_path: Path) -> None:
    hook = region_hook()
    with respx.mock(assert_all_called=False) as router:
        token = _token(router)
        anything = router.route().mock(return_value=httpx.Response(200, content=b"secret,data\n"))
        with pytest.raises(GenesysValidationError, match="refusing download"):
            hook.download(url, tmp_path / "out.csv")
        assert token.call_count == 0 and anything.call_count == 0
    assert not (tmp_path / "out.csv").exists()


def test_a_download_redirect_to_a_foreign_host_is_refused(tmp_path: Path) -> None:
    hook = region_hook()
    with respx.mock(assert_all_called=False) as router:
        _token(router)
        router.get(f"{API}/api/v2/downloads/d1").mock(
            return_value=httpx.Response(302, headers={"Location": "https://collector.example/steal"}))
        foreign = router.get("https://collector.example/steal").mock(return_value=httpx.Response(200))
        with pytest.raises(GenesysValidationError, match="collector.example"):
            hook.download(f"{API}/api/v2/downloads/d1", tmp_path / "out.csv")
        assert foreign.call_count == 0


def test_download_hosts_get_no_token_and_apps_links_go_to_the_api_host(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GENESYS_DOWNLOAD_HOSTS", ".s3.amazonaws.com")
    hook = region_hook()
    with respx.mock() as router:
        _token(router)
        api = router.get(f"{API}/api/v2/downloads/d1").mock(return_value=httpx.Response(
            302, headers={"Location": f"https://api-downloads.{REGION}/f?sig=1"}))
        dl = router.get(f"https://api-downloads.{REGION}/f").mock(return_value=httpx.Response(
            302, headers={"Location": "https://bucket.s3.amazonaws.com/f.csv?X-Amz-Signature=x"}))
        s3 = router.get("https://bucket.s3.amazonaws.com/f.csv").mock(
            return_value=httpx.Response(200, content=b"a,b\n1,2\n"))
        facts = hook.download(f"https://apps.{REGION}/platform/api/v2/downloads/d1", tmp_path / "out.csv")
        assert facts["bytes"] == 8
        assert api.calls[0].request.headers["Authorization"] == "Bearer tok"
        assert "Authorization" not in dl.calls[0].request.headers
        assert "Authorization" not in s3.calls[0].request.headers


def test_a_download_stops_at_its_byte_cap_while_streaming(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, stub_factory
) -> None:
    monkeypatch.setenv("GENESYS_MAX_DOWNLOAD_BYTES", str(1 << 20))
    stub = stub_factory(lambda m, p, h: token_answer() if p == "/oauth/token" else huge_chunked(50 << 20))
    with pytest.raises(GenesysResponseTooLargeError, match="GENESYS_MAX_DOWNLOAD_BYTES=1048576"):
        stub_hook(stub).download(f"{stub.url}/api/v2/downloads/d1", tmp_path / "out.csv")
    assert (tmp_path / "out.csv").stat().st_size <= 1 << 20


def test_a_download_that_declares_too_many_bytes_is_refused_first(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GENESYS_MAX_DOWNLOAD_BYTES", "100")
    hook = region_hook()
    with respx.mock() as router:
        _token(router)
        router.get(f"{API}/api/v2/downloads/d1").mock(
            return_value=httpx.Response(200, headers={"Content-Length": "5000000000"}, content=b"x"))
        with pytest.raises(GenesysResponseTooLargeError, match="declares 5000000000 bytes"):
            hook.download(f"{API}/api/v2/downloads/d1", tmp_path / "out.csv")


# -- 3. ids and answers ------------------------------------------------------------------------------------
def test_get_campaign_refuses_an_answer_for_another_campaign() -> None:
    hook = region_hook()
    with respx.mock() as router:
        _token(router)
        router.get(f"{API}/api/v2/outbound/campaigns/c1").mock(
            return_value=httpx.Response(200, json={"id": "c2", "name": "other", "version": 1}))
        with pytest.raises(GenesysPayloadError, match="the answer is campaign 'c2'"):
            hook.get_campaign("c1")


# -- 4. Retry-After ----------------------------------------------------------------------------------------
def test_a_retry_after_over_the_cap_fails_the_call_naming_the_wait(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GENESYS_RETRY_AFTER_MAX_S", "120")
    hook, slept = region_hook(), []
    hook._sleep = slept.append
    with respx.mock() as router:
        _token(router)
        route = router.get(f"{API}/api/v2/x").mock(
            return_value=httpx.Response(429, headers={"Retry-After": "31536000"}, json={"message": "slow down"}))
        with pytest.raises(GenesysRetryAfterTooLongError, match="31536000s is over GENESYS_RETRY_AFTER_MAX_S=120"):
            hook.get("/api/v2/x")
        assert route.call_count == 1  # not retried
    assert all(s <= 120 for s in slept)
    limiter = hook._limiter(hook._cfg())
    assert 0 < limiter.pause_remaining() <= 120  # the token's budget waits, never longer than the cap


def test_a_429_pause_never_holds_another_connection() -> None:
    first, second = region_hook("edges_a"), region_hook("edges_b")
    waits: list[float] = []
    second._sleep = waits.append
    with respx.mock() as router:
        _token(router)
        router.get(f"{API}/api/v2/a").mock(return_value=httpx.Response(429, headers={"Retry-After": "90"}))
        router.get(f"{API}/api/v2/b").mock(return_value=httpx.Response(200, json={"ok": True}))
        with pytest.raises(GenesysRateLimitError):
            first.get("/api/v2/a")
        assert first._limiter(first._cfg()).pause_remaining() > 60
        assert second.get("/api/v2/b") == {"ok": True}
    assert not any(w > 1 for w in waits)


# -- 5. the call deadline ----------------------------------------------------------------------------------
def test_a_trickling_answer_is_cut_at_the_call_deadline(monkeypatch: pytest.MonkeyPatch, stub_factory) -> None:
    monkeypatch.setenv("GENESYS_CALL_DEADLINE_S", "2")
    monkeypatch.setenv("GENESYS_RETRY_MAX_ATTEMPTS", "1")
    stub = stub_factory(lambda m, p, h: token_answer() if p == "/oauth/token" else trickle(400, 0.5))
    hook = stub_hook(stub)
    hook.get_conn()  # the token first, outside the measured call
    hook._token()
    started = time.monotonic()
    with pytest.raises(GenesysTimeoutError, match="GENESYS_CALL_DEADLINE_S=2"):
        hook.get("/api/v2/slow")
    assert time.monotonic() - started < 30  # the whole answer would take 200 s


def test_the_async_path_has_the_same_deadline(monkeypatch: pytest.MonkeyPatch, stub_factory) -> None:
    monkeypatch.setenv("GENESYS_CALL_DEADLINE_S", "2")
    monkeypatch.setenv("GENESYS_RETRY_MAX_ATTEMPTS", "1")
    stub = stub_factory(lambda m, p, h: token_answer() if p == "/oauth/token" else trickle(400, 0.5))
    hook = stub_hook(stub)

    async def go() -> None:
        await hook._atoken()
        try:
            with pytest.raises(GenesysTimeoutError, match="GENESYS_CALL_DEADLINE_S=2"):
                await hook.aget("/api/v2/slow")
        finally:
            await hook.aclose()

    started = time.monotonic()
    asyncio.run(go())
    assert time.monotonic() - started < 30


HANGING_HOST = "dns-hang.test"


@pytest.fixture
def hanging_resolver(monkeypatch: pytest.MonkeyPatch):
    """``socket.getaddrinfo`` blocks 10 s for HANGING_HOST (a resolver that never answers), then resolves it to
    loopback; other names resolve as usual. Released at teardown so no lookup outlives the test by much."""
    import socket

    real, release = socket.getaddrinfo, threading.Event()

    def getaddrinfo(host, *args, **kwargs):  # type: ignore[no-untyped-def]
        if host in (HANGING_HOST, HANGING_HOST.encode()):  # anyio passes the name as IDNA bytes
            release.wait(10)
            host = "127.0.0.1"
        return real(host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    yield
    release.set()


def _hanging_dns_hook(stub: StubServer) -> GenesysCloudHook:
    hook = GenesysCloudHook.from_connection_dict(
        "edges_dns", "client", "edge-secret", sandbox_extra(f"http://{HANGING_HOST}:{stub.port}"))
    TOKENS.store(hook._cfg().cache_key, Token(access_token="dns-token", expires_in=3600, obtained_at=time.monotonic()))
    return hook


def test_a_hanging_dns_lookup_is_cut_at_the_call_deadline(monkeypatch: pytest.MonkeyPatch, stub_factory,
                                                          hanging_resolver) -> None:
    # httpx's timeouts do not cover getaddrinfo: before, the call waited for the resolver (10 s here).
    monkeypatch.setenv("GENESYS_CALL_DEADLINE_S", "0.5")
    monkeypatch.setenv("GENESYS_RETRY_MAX_ATTEMPTS", "1")
    stub = stub_factory(lambda m, p, h: jsonr(200, {"ok": True}))
    hook = _hanging_dns_hook(stub)
    started = time.monotonic()
    with pytest.raises(GenesysTimeoutError, match=rf"{HANGING_HOST}.*GENESYS_CALL_DEADLINE_S=0\.5s") as caught:
        hook.get("/api/v2/dns")
    assert time.monotonic() - started < 0.5 + 0.5
    # the lookup gets what is left of the deadline (0.5 s, or a few ms less on a busy machine)
    assert re.search(rf"DNS lookup of {re.escape(HANGING_HOST)} did not answer within 0\.(5|4\d)s", str(caught.value))
    assert stub.seen == []


def test_a_hanging_dns_lookup_under_the_connect_timeout_names_the_host(monkeypatch: pytest.MonkeyPatch,
                                                                       stub_factory, hanging_resolver) -> None:
    # The connect timeout is shorter than what is left of the deadline: it bounds the lookup too.
    monkeypatch.setenv("GENESYS_CALL_DEADLINE_S", "30")
    monkeypatch.setenv("GENESYS_HTTP_CONNECT_TIMEOUT", "0.5")
    monkeypatch.setenv("GENESYS_RETRY_MAX_ATTEMPTS", "1")
    stub = stub_factory(lambda m, p, h: jsonr(200, {"ok": True}))
    started = time.monotonic()
    with pytest.raises(GenesysTimeoutError, match=rf"ConnectTimeout on GET /api/v2/dns.*{HANGING_HOST}"):
        _hanging_dns_hook(stub).get("/api/v2/dns")
    assert time.monotonic() - started < 0.5 + 0.5


def test_the_async_path_cuts_a_hanging_dns_lookup_too(monkeypatch: pytest.MonkeyPatch, stub_factory,
                                                      hanging_resolver) -> None:
    monkeypatch.setenv("GENESYS_CALL_DEADLINE_S", "0.5")
    monkeypatch.setenv("GENESYS_RETRY_MAX_ATTEMPTS", "1")
    stub = stub_factory(lambda m, p, h: jsonr(200, {"ok": True}))
    hook = _hanging_dns_hook(stub)

    async def go() -> None:
        try:
            with pytest.raises(GenesysTimeoutError, match=rf"{HANGING_HOST}.*GENESYS_CALL_DEADLINE_S=0\.5s"):
                await hook.aget("/api/v2/dns")
        finally:
            await hook.aclose()

    started = time.monotonic()
    asyncio.run(go())
    assert time.monotonic() - started < 0.5 + 0.5
    assert stub.seen == []


def test_a_resolving_host_name_still_connects(monkeypatch: pytest.MonkeyPatch, stub_factory) -> None:
    # The lookup moved off the calling thread; a name that resolves (here "localhost") works as before.
    monkeypatch.setenv("GENESYS_CALL_DEADLINE_S", "5")
    stub = stub_factory(lambda m, p, h: token_answer() if p == "/oauth/token" else jsonr(200, {"ok": True}))
    hook = GenesysCloudHook.from_connection_dict(
        "edges_localhost", "client", "edge-secret", sandbox_extra(f"http://localhost:{stub.port}"))
    assert hook.get("/api/v2/named") == {"ok": True}


def _fake_getaddrinfo(monkeypatch: pytest.MonkeyPatch, name: str, addresses: list[str]) -> None:
    import socket

    real = socket.getaddrinfo

    def getaddrinfo(host, port, *args, **kwargs):  # type: ignore[no-untyped-def]
        if host == name:
            return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (a, port)) for a in addresses]
        return real(host, port, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)


def test_a_refused_address_falls_through_to_the_next_one(monkeypatch: pytest.MonkeyPatch, stub_factory) -> None:
    # What socket.create_connection did before the lookup moved out of it: every address in turn.
    stub = stub_factory(lambda m, p, h: token_answer() if p == "/oauth/token" else jsonr(200, {"ok": True}))
    _fake_getaddrinfo(monkeypatch, "two-addresses.test", ["127.0.0.2", "127.0.0.1"])  # the stub is on .1 only
    hook = GenesysCloudHook.from_connection_dict(
        "edges_two", "client", "edge-secret", sandbox_extra(f"http://two-addresses.test:{stub.port}"))
    assert hook.get("/api/v2/two") == {"ok": True}


def test_tls_still_names_the_host_after_the_lookup(monkeypatch: pytest.MonkeyPatch) -> None:
    # The backend connects to the resolved address; SNI and certificate checks must still use the name.
    import httpcore

    from genesys_cloud.hooks import transport

    seen: list[tuple[str, str | None]] = []

    class Stream(httpcore.NetworkStream):
        def start_tls(self, ssl_context, server_hostname=None, timeout=None):  # type: ignore[no-untyped-def]
            seen.append(("tls", server_hostname))
            raise httpcore.ConnectError("stop before any byte")

        def close(self) -> None:
            pass

    class Backend(httpcore.NetworkBackend):
        def connect_tcp(self, host, port, timeout=None, local_address=None, socket_options=None):  # type: ignore[no-untyped-def]
            seen.append(("connect", host))
            return Stream()

    _fake_getaddrinfo(monkeypatch, "api.example.test", ["192.0.2.7"])
    client = transport.sync_client(httpx.Timeout(5.0), httpx.Limits())
    client._transport._pool._network_backend._inner = Backend()  # type: ignore[attr-defined]
    with client, transport.call_deadline(5), pytest.raises(httpx.ConnectError):
        client.get("https://api.example.test/api/v2/x")
    assert seen == [("connect", "192.0.2.7"), ("tls", "api.example.test")]


# -- 6. byte caps while streaming and page caps ------------------------------------------------------------
def test_an_answer_is_refused_while_it_streams(monkeypatch: pytest.MonkeyPatch, stub_factory) -> None:
    monkeypatch.setenv("GENESYS_MAX_RESPONSE_BYTES", str(1 << 20))
    stub = stub_factory(lambda m, p, h: token_answer() if p == "/oauth/token" else huge_chunked(200 << 20))
    with pytest.raises(GenesysResponseTooLargeError, match="GENESYS_MAX_RESPONSE_BYTES=1048576"):
        stub_hook(stub).get("/api/v2/huge")


def test_a_declared_content_length_is_refused_before_the_body(monkeypatch: pytest.MonkeyPatch, stub_factory) -> None:
    monkeypatch.setenv("GENESYS_MAX_RESPONSE_BYTES", "1000")

    def route(method: str, path: str, headers: dict) -> bytes:
        if path == "/oauth/token":
            return token_answer()
        return raw(200, b"{}", {"Content-Length": str(10**12)}, length=False)

    stub = stub_factory(route)
    with pytest.raises(GenesysResponseTooLargeError, match="declares 1000000000000 bytes"):
        stub_hook(stub).get("/api/v2/huge")


def test_an_endless_next_uri_stops_at_the_page_cap(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GENESYS_MAX_PAGES", "5")
    hook = region_hook()
    with respx.mock() as router:
        _token(router)
        route = router.get(f"{API}/api/v2/list").mock(
            return_value=httpx.Response(200, json={"entities": [{"id": "x"}], "nextUri": "/api/v2/list?p=n"}))
        with pytest.raises(GenesysPageLimitError, match="GENESYS_MAX_PAGES=5"):
            list(hook.paginate("/api/v2/list"))
        assert route.call_count == 5


def test_a_huge_page_count_is_refused_up_front(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GENESYS_MAX_PAGES", "50")
    hook = region_hook()
    with respx.mock() as router:
        _token(router)
        route = router.get(f"{API}/api/v2/list").mock(
            return_value=httpx.Response(200, json={"entities": [{"id": "x"}], "pageCount": 10**9}))
        with pytest.raises(GenesysPageLimitError, match="pageCount 1000000000"):
            list(hook.paginate("/api/v2/list", concurrency=4))
        assert route.call_count == 1


def test_ever_new_cursors_stop_at_the_page_cap(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GENESYS_MAX_PAGES", "4")
    pager = pagination.CursorPager()
    with pytest.raises(GenesysPageLimitError, match="GENESYS_MAX_PAGES=4"):
        for n in range(100):
            assert pager.next_params() is not None
            pager.accept({"conversations": [], "cursor": f"c{n}"})


def test_an_endless_details_query_stops_at_the_page_cap(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GENESYS_MAX_PAGES", "3")
    pager = pagination.DetailsPager({"interval": "2026-07-01T00:00:00Z/2026-07-02T00:00:00Z"}, page_size=1)
    with pytest.raises(GenesysPageLimitError, match="GENESYS_MAX_PAGES=3"):
        for n in range(100):
            assert pager.next_body() is not None
            pager.accept({"totalHits": 10**5 - 1, "conversations": [
                {"conversationId": f"c{n}", "conversationStart": "2026-07-01T01:00:00Z"}]})


def test_settings_defaults() -> None:
    from genesys_cloud.config import settings

    cfg = settings()
    assert (cfg.retry_after_max_s, cfg.call_deadline_s, cfg.max_pages) == (120.0, 60.0, 10_000)



def test_a_refused_request_header_is_never_echoed_in_the_error() -> None:
    """Issue 16 item 11: h11 quotes the header it refuses; the provider's error must not carry it on."""
    from genesys_cloud.hooks.policy import transport_error

    exc = httpx.LocalProtocolError("Illegal header value b'Bearer s3cr3t-token-value\\r\\n'")
    error = transport_error(exc, "GET /api/v2/outbound/campaigns")
    assert "s3cr3t-token-value" not in str(error) and "GET /api/v2/outbound/campaigns" in str(error)


# -- retries do not nest ------------------------------------------------------------------------------------
@respx.mock
def test_a_failing_token_fetch_inside_a_retried_read_is_not_retried_twice_over() -> None:
    # Before: the GET's retry loop (3 attempts) ran the token fetch's own loop (3) each time: 9 token
    # POSTs (with 60 s timeouts, 9 minutes) before the read gave up.
    token = respx.post(f"{LOGIN}/oauth/token").mock(return_value=httpx.Response(503, json={"message": "down"}))
    api = respx.get(f"{API}/api/v2/outbound/campaigns").mock(return_value=httpx.Response(200, json={}))
    hook = region_hook()
    with pytest.raises(Exception, match="token request failed"):
        hook.get("/api/v2/outbound/campaigns")
    assert token.call_count == 3 and api.call_count == 0


@respx.mock
def test_the_async_read_does_not_nest_the_token_retries_either() -> None:
    token = respx.post(f"{LOGIN}/oauth/token").mock(return_value=httpx.Response(503, json={"message": "down"}))
    respx.get(f"{API}/api/v2/outbound/campaigns").mock(return_value=httpx.Response(200, json={}))
    hook = region_hook("edges_async")

    async def no_sleep(seconds: float) -> None:
        return None

    hook._asleep = no_sleep

    async def read() -> None:
        try:
            await hook.aget("/api/v2/outbound/campaigns")
        finally:
            await hook.aclose()

    with pytest.raises(Exception, match="token request failed"):
        asyncio.run(read())
    assert token.call_count == 3


@respx.mock
def test_a_write_sent_once_still_gets_a_retried_token() -> None:
    # A PUT is never retried, so its token fetch keeps its own retries: two 503s, then a token, one PUT.
    token = respx.post(f"{LOGIN}/oauth/token").mock(side_effect=[
        httpx.Response(503, json={"message": "down"}), httpx.Response(503, json={"message": "down"}),
        httpx.Response(200, json={"access_token": "tok", "expires_in": 3600})])
    put = respx.put(f"{API}/api/v2/outbound/campaigns/c1").mock(
        return_value=httpx.Response(200, json={"id": "c1", "version": 2}))
    hook = region_hook("edges_put")
    assert hook.put("/api/v2/outbound/campaigns/c1", {"version": 1})["version"] == 2
    assert token.call_count == 3 and put.call_count == 1
