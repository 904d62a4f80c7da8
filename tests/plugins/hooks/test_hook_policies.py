"""GenesysCloudHook policies with respx: auth, retries, errors, masking, writes sent once."""

from __future__ import annotations

import asyncio
import base64
import json
import logging
from urllib.parse import parse_qs

import httpx
import pytest
import respx

from genesys_cloud.exceptions import (
    GenesysApiError,
    GenesysAuthError,
    GenesysBadRequestError,
    GenesysConfigError,
    GenesysConflictError,
    GenesysForbiddenError,
    GenesysNotFoundError,
    GenesysPayloadError,
    GenesysRateLimitError,
    GenesysResponseTooLargeError,
    GenesysServerError,
    GenesysTimeoutError,
    GenesysTransportError,
    GenesysValidationError,
    error_class_for,
)
from genesys_cloud.hooks import ratelimit
from genesys_cloud.hooks.auth import TOKENS
from genesys_cloud.hooks.genesys_cloud import LIMITS_PATH, GenesysCloudHook

API = "https://api.hooktest.local"
LOGIN = "https://login.hooktest.local"
CONN_ID = "genesys_hooktest"
SECRET = "s3cr3t-client-value"
DETAILS = "/api/v2/analytics/conversations/details/query"


class FakeTime:
    """A clock that only moves when someone sleeps: waits are observed, never spent."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.sleeps: list[float] = []

    def monotonic(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds

    async def asleep(self, seconds: float) -> None:
        self.sleep(seconds)


def set_conn(monkeypatch: pytest.MonkeyPatch, conn_id: str = CONN_ID, **extra: object) -> None:
    extra = {"api_base_url": API, "login_base_url": LOGIN, "requests_per_minute": 60000, "sandbox": True, **extra}
    conn = {"conn_type": "genesys_cloud", "login": "client-1", "password": SECRET, "extra": extra}
    monkeypatch.setenv(f"AIRFLOW_CONN_{conn_id.upper()}", json.dumps(conn))


@pytest.fixture(autouse=True)
def _isolated(monkeypatch: pytest.MonkeyPatch):
    TOKENS.clear()
    ratelimit.reset_limiters()
    monkeypatch.setenv("GENESYS_RETRY_BACKOFF_BASE", "0.01")
    monkeypatch.setenv("GENESYS_RETRY_MAX_ATTEMPTS", "4")
    monkeypatch.setenv("GENESYS_RETRY_MAX_SECONDS", "120")
    set_conn(monkeypatch)
    yield
    TOKENS.clear()
    ratelimit.reset_limiters()


@pytest.fixture
def clock() -> FakeTime:
    return FakeTime()


@pytest.fixture
def hook(clock: FakeTime) -> GenesysCloudHook:
    h = GenesysCloudHook(genesys_cloud_conn_id=CONN_ID)
    h._sleep = clock.sleep
    h._asleep = clock.asleep
    ratelimit.register_limiter(
        (CONN_ID, "client-1", API), ratelimit.RateLimiter(60000, clock=clock.monotonic)
    )
    return h


def token_route(router: respx.MockRouter, *tokens: str, expires_in: int = 86400) -> respx.Route:
    responses = [
        httpx.Response(200, json={"access_token": t, "token_type": "bearer", "expires_in": expires_in})
        for t in tokens
    ]
    return router.post(f"{LOGIN}/oauth/token").mock(side_effect=responses)


def error(status: int, code: str, message: str, context_id: str = "ctx-1", **headers: str) -> httpx.Response:
    body = {"status": status, "code": code, "message": message, "contextId": context_id}
    return httpx.Response(status, json=body, headers=headers)


def test_token_request_is_basic_auth_form_on_login_host_and_bearer_on_api(hook: GenesysCloudHook) -> None:
    with respx.mock(assert_all_called=True) as router:
        tok = token_route(router, "tok-1")
        api = router.get(f"{API}/api/v2/outbound/campaigns/c1").mock(
            return_value=httpx.Response(200, json={"id": "c1"})
        )
        assert hook.get("/api/v2/outbound/campaigns/c1") == {"id": "c1"}
        request = tok.calls.last.request
        expected = "Basic " + base64.b64encode(f"client-1:{SECRET}".encode()).decode()
        assert request.headers["Authorization"] == expected
        assert parse_qs(request.content.decode()) == {"grant_type": ["client_credentials"]}
        assert request.headers["Content-Type"] == "application/x-www-form-urlencoded"
        assert api.calls.last.request.headers["Authorization"] == "Bearer tok-1"


def test_token_is_cached_per_process_across_hook_instances(hook: GenesysCloudHook, clock: FakeTime) -> None:
    with respx.mock() as router:
        tok = token_route(router, "tok-1", "tok-2")
        router.get(f"{API}/x").mock(return_value=httpx.Response(200, json={}))
        hook.get("/x")
        other = GenesysCloudHook(genesys_cloud_conn_id=CONN_ID)
        other._sleep = clock.sleep
        other.get("/x")
        assert tok.call_count == 1


def test_429_with_retry_after_waits_exactly_that_and_pauses_the_shared_limiter(
    hook: GenesysCloudHook, clock: FakeTime
) -> None:
    with respx.mock() as router:
        token_route(router, "tok-1")
        api = router.get(f"{API}/x").mock(
            side_effect=[
                error(429, "too.many.requests", "Rate limit exceeded", **{"Retry-After": "7"}),
                httpx.Response(200, json={"ok": 1}),
            ]
        )
        assert hook.get("/x") == {"ok": 1}
        assert api.call_count == 2
        assert 7 in clock.sleeps  # Retry-After wins over the (tiny) backoff
        limiter = ratelimit.existing_limiter((CONN_ID, "client-1", API))
        assert limiter.pause_remaining() == 0  # the pause was served before the retry was sent


def test_429_pause_holds_other_requests_of_the_token(hook: GenesysCloudHook, clock: FakeTime) -> None:
    limiter = ratelimit.existing_limiter((CONN_ID, "client-1", API))
    with respx.mock() as router:
        token_route(router, "tok-1")
        router.get(f"{API}/x").mock(
            return_value=error(429, "too.many.requests", "slow down", **{"Retry-After": "30"})
        )
        monkey_attempts = 1
        with pytest.MonkeyPatch.context() as mp:
            mp.setenv("GENESYS_RETRY_MAX_ATTEMPTS", str(monkey_attempts))
            with pytest.raises(GenesysRateLimitError) as info:
                hook.get("/x")
        assert info.value.retry_after == 30
        assert limiter.pause_remaining() == pytest.approx(30)
        # Any other request of the same token now waits out the pause first.
        clock.sleeps.clear()
        limiter.acquire(clock.sleep)
        assert sum(clock.sleeps) >= 30


def test_429_without_retry_after_backs_off_with_bounded_jitter(
    hook: GenesysCloudHook, clock: FakeTime
) -> None:
    with respx.mock() as router:
        token_route(router, "tok-1")
        api = router.get(f"{API}/x").mock(
            side_effect=[
                error(429, "too.many.requests", "busy"),
                error(429, "too.many.requests", "busy"),
                httpx.Response(200, json=[]),
            ]
        )
        assert hook.get("/x") == []
        assert api.call_count == 3
        assert len(clock.sleeps) == 2
        # full jitter: uniform(0, base * 2**attempt), base 0.01 in this test
        assert all(0 <= s <= 0.01 * 2**3 for s in clock.sleeps)


def test_5xx_is_retried_then_raises_after_max_attempts(hook: GenesysCloudHook, clock: FakeTime) -> None:
    with respx.mock() as router:
        token_route(router, "tok-1")
        api = router.get(f"{API}/x").mock(return_value=error(503, "service.unavailable", "try later"))
        with pytest.raises(GenesysServerError) as info:
            hook.get("/x")
        assert api.call_count == 4  # GENESYS_RETRY_MAX_ATTEMPTS
        assert info.value.status == 503
        assert len(clock.sleeps) == 3


def test_retry_total_time_is_bounded(hook: GenesysCloudHook, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GENESYS_RETRY_MAX_SECONDS", "10")
    with respx.mock() as router:
        token_route(router, "tok-1")
        api = router.get(f"{API}/x").mock(
            return_value=error(429, "too.many.requests", "x", **{"Retry-After": "60"})
        )
        with pytest.raises(GenesysRateLimitError):
            hook.get("/x")
        assert api.call_count == 1  # waiting 60 s would exceed the 10 s budget: give up at once


@pytest.mark.parametrize("exc", [httpx.ReadTimeout("slow"), httpx.ConnectTimeout("slow")])
def test_timeouts_are_retried(hook: GenesysCloudHook, exc: Exception) -> None:
    with respx.mock() as router:
        token_route(router, "tok-1")
        api = router.post(f"{API}{DETAILS}").mock(
            side_effect=[exc, httpx.Response(200, json={"totalHits": 0})]
        )
        assert hook.query(DETAILS, {"interval": "x"}) == {"totalHits": 0}
        assert api.call_count == 2


def test_timeouts_exhausted_raise_timeout_error(hook: GenesysCloudHook) -> None:
    with respx.mock() as router:
        token_route(router, "tok-1")
        router.get(f"{API}/x").mock(side_effect=httpx.ReadTimeout("slow"))
        with pytest.raises(GenesysTimeoutError, match="ReadTimeout on GET /x"):
            hook.get("/x")


def test_connection_errors_are_retried(hook: GenesysCloudHook) -> None:
    with respx.mock() as router:
        token_route(router, "tok-1")
        api = router.get(f"{API}/x").mock(
            side_effect=[httpx.ConnectError("refused"), httpx.Response(200, json={"a": 1})]
        )
        assert hook.get("/x") == {"a": 1}
        assert api.call_count == 2


def test_malformed_json_is_retried_then_reported(hook: GenesysCloudHook) -> None:
    with respx.mock() as router:
        token_route(router, "tok-1")
        api = router.get(f"{API}/x").mock(
            side_effect=[
                httpx.Response(200, text='{"entities": [tru'),
                httpx.Response(200, json={"entities": []}),
            ]
        )
        assert hook.get("/x") == {"entities": []}
        assert api.call_count == 2
        router.get(f"{API}/y").mock(return_value=httpx.Response(200, text="<html>gateway</html>"))
        with pytest.raises(GenesysPayloadError, match="not valid JSON"):
            hook.get("/y")


def test_empty_read_body_is_retried_then_reported_but_an_empty_write_answer_is_fine(hook: GenesysCloudHook) -> None:
    with respx.mock() as router:
        token_route(router, "tok-1")
        api = router.get(f"{API}/x").mock(side_effect=[httpx.Response(200, text=""), httpx.Response(200, json={"a": 1})])
        assert hook.get("/x") == {"a": 1}
        assert api.call_count == 2
        router.get(f"{API}/y").mock(return_value=httpx.Response(200, text="  "))
        with pytest.raises(GenesysPayloadError, match="empty body"):
            hook.get("/y")
        router.post(f"{API}/z/query").mock(return_value=httpx.Response(200, text=""))
        with pytest.raises(GenesysPayloadError, match="empty body"):
            hook.query("/z/query", {})
        router.delete(f"{API}/w").mock(return_value=httpx.Response(204))
        assert hook.delete("/w") is None


def test_request_over_the_api_size_limit_is_refused_before_sending(hook: GenesysCloudHook) -> None:
    from genesys_cloud.exceptions import GenesysValidationError

    with respx.mock() as router:
        token_route(router, "tok-1")
        put = router.put(f"{API}/s").mock(return_value=httpx.Response(200, json={}))
        with pytest.raises(GenesysValidationError, match=r"over the API's request.bytes.max of 512000"):
            hook.put("/s", {"intervals": ["x" * 100] * 6000})
        assert put.call_count == 0
        assert hook.put("/s", {"intervals": ["x" * 100] * 10}) == {}


def test_oversized_body_is_refused_naming_the_limit(hook: GenesysCloudHook, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GENESYS_MAX_RESPONSE_BYTES", "1000")
    with respx.mock() as router:
        token_route(router, "tok-1")
        router.get(f"{API}/small").mock(return_value=httpx.Response(200, json={"a": "x" * 900}))
        assert hook.get("/small") == {"a": "x" * 900}
        big = router.get(f"{API}/big").mock(return_value=httpx.Response(200, text='{"a": 1}' + " " * 2000))
        with pytest.raises(GenesysResponseTooLargeError, match="declares 2008 bytes.*GENESYS_MAX_RESPONSE_BYTES=1000") as info:
            hook.get("/big")
    # Still a payload error for callers, but fetched once: the same request returns the same size.
    assert isinstance(info.value, GenesysPayloadError)
    assert big.call_count == 1


def test_client_errors_fail_the_task_without_airflow_retries() -> None:
    from airflow.sdk.exceptions import AirflowFailException

    cls_status = {GenesysBadRequestError: 400, GenesysForbiddenError: 403, GenesysNotFoundError: 404}
    for cls in (GenesysBadRequestError, GenesysForbiddenError, GenesysNotFoundError):
        err = error_class_for(cls_status[cls])(status=cls_status[cls], message="m", endpoint="GET /x")
        assert type(err) is cls and isinstance(err, AirflowFailException) and isinstance(err, GenesysApiError)
        assert str(err) == f"Genesys Cloud {cls_status[cls]} on GET /x: m"
    assert isinstance(GenesysValidationError("bad param"), AirflowFailException)
    # Errors a later try may not hit again stay retryable by Airflow.
    for status in (401, 409, 429, 500, 503):
        assert not isinstance(error_class_for(status)(status=status), AirflowFailException)
    for err in (GenesysPayloadError("x"), GenesysResponseTooLargeError("x"), GenesysTransportError("x")):
        assert not isinstance(err, AirflowFailException)


@pytest.mark.parametrize(
    ("status", "cls", "code"),
    [
        (400, GenesysBadRequestError, "bad.request"),
        (403, GenesysForbiddenError, "missing.any.permissions"),
        (404, GenesysNotFoundError, "not.found"),
    ],
)
def test_4xx_fail_fast_with_the_error_body(hook: GenesysCloudHook, status: int, cls: type, code: str) -> None:
    with respx.mock() as router:
        token_route(router, "tok-1")
        api = router.post(f"{API}{DETAILS}").mock(return_value=error(status, code, "Nope: reason", "ctx-42"))
        with pytest.raises(cls) as info:
            hook.query(DETAILS, {"interval": "a/b"})
        assert api.call_count == 1
        err = info.value
        assert isinstance(err, GenesysApiError)
        assert (err.status, err.code, err.message, err.context_id) == (status, code, "Nope: reason", "ctx-42")
        assert err.endpoint == f"POST {DETAILS}"
        assert str(err) == f"Genesys Cloud {status} {code} on POST {DETAILS}: Nope: reason (contextId ctx-42)"


def test_create_is_sent_once_even_when_the_answer_is_lost(hook: GenesysCloudHook) -> None:
    path = "/api/v2/analytics/conversations/details/jobs"
    with respx.mock() as router:
        token_route(router, "tok-1")
        api = router.post(f"{API}{path}").mock(
            side_effect=[httpx.ReadTimeout("lost"), httpx.Response(202, json={"jobId": "j"})]
        )
        with pytest.raises(GenesysTimeoutError):
            hook.create(path, {"interval": "a/b"})
        assert api.call_count == 1
        api.side_effect = [error(503, "x", "down"), httpx.Response(202, json={"jobId": "j"})]
        with pytest.raises(GenesysServerError):
            hook.create(path, {"interval": "a/b"})
        assert api.call_count == 2  # one more call: the failed submission was not repeated


def test_put_409_raises_conflict_without_retry(hook: GenesysCloudHook) -> None:
    path = "/api/v2/outbound/schedules/campaigns/c1"
    with respx.mock() as router:
        token_route(router, "tok-1")
        api = router.put(f"{API}{path}").mock(
            return_value=error(409, "conflict", "Version does not match current version")
        )
        with pytest.raises(GenesysConflictError, match="Version does not match"):
            hook.put(path, {"version": 3})
        assert api.call_count == 1
        assert json.loads(api.calls.last.request.content) == {"version": 3}


def test_401_renews_the_token_once_then_succeeds(hook: GenesysCloudHook) -> None:
    with respx.mock() as router:
        tok = token_route(router, "tok-1", "tok-2")
        api = router.get(f"{API}/x").mock(
            side_effect=[error(401, "bad.credentials", "expired"), httpx.Response(200, json={"v": 2})]
        )
        assert hook.get("/x") == {"v": 2}
        assert tok.call_count == 2
        assert [c.request.headers["Authorization"] for c in api.calls] == ["Bearer tok-1", "Bearer tok-2"]


def test_401_twice_raises_auth_error(hook: GenesysCloudHook) -> None:
    with respx.mock() as router:
        token_route(router, "tok-1", "tok-2", "tok-3")
        api = router.get(f"{API}/x").mock(return_value=error(401, "bad.credentials", "no"))
        with pytest.raises(GenesysAuthError):
            hook.get("/x")
        assert api.call_count == 2


def test_create_re_authenticates_after_401(hook: GenesysCloudHook) -> None:
    with respx.mock() as router:
        token_route(router, "tok-1", "tok-2")
        api = router.post(f"{API}/jobs").mock(
            side_effect=[error(401, "bad.credentials", "expired"), httpx.Response(202, json={"jobId": "j"})]
        )
        assert hook.create("/jobs", {}) == {"jobId": "j"}
        assert api.call_count == 2  # a 401 was not processed: resending with a new token is safe


def test_rejected_credentials_name_the_cause_without_the_secret(hook: GenesysCloudHook) -> None:
    with respx.mock() as router:
        router.post(f"{LOGIN}/oauth/token").mock(
            return_value=httpx.Response(
                401, json={"error": "invalid_client", "description": "authentication failed"}
            )
        )
        with pytest.raises(GenesysAuthError) as info:
            hook.get("/x")
        assert "invalid_client" in str(info.value)
        assert "check client id" in str(info.value)
        assert SECRET not in str(info.value)
        ok, message = hook.test_connection()
        assert ok is False and "invalid_client" in message and SECRET not in message


def test_token_is_masked_and_never_logged_or_in_errors(
    hook: GenesysCloudHook,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    capsys: pytest.CaptureFixture[str],
) -> None:
    masked: list[object] = []
    monkeypatch.setattr("airflow.sdk.log.mask_secret", lambda value, name=None: masked.append(value))
    caplog.set_level(logging.DEBUG)
    with respx.mock() as router:
        token_route(router, "tok-SECRET-123")
        router.get(f"{API}/x").mock(
            side_effect=[error(500, "internal", "boom"), error(400, "bad.request", "bad")]
        )
        with pytest.raises(GenesysBadRequestError) as info:
            hook.get("/x")
    assert "tok-SECRET-123" in masked
    # Airflow's structlog may print instead of feeding caplog: look at both.
    logs = caplog.text + capsys.readouterr().out
    text = logs + str(info.value) + repr(info.value.body)
    assert "retrying" in logs  # the retry was logged ...
    assert "tok-SECRET-123" not in text and SECRET not in text  # ... without the token or the secret
    assert SECRET not in repr(hook._cfg())


def test_authenticate_returns_non_secret_facts_and_lowers_budget_to_live_limit(
    hook: GenesysCloudHook,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    capsys: pytest.CaptureFixture[str],
) -> None:
    caplog.set_level(logging.WARNING)
    set_conn(monkeypatch, requests_per_minute=300)
    ratelimit.reset_limiters()
    limits = {
        "entities": [
            {"key": "client.credentials.token.rate.per.minute", "namespace": "platform.api", "value": 200}
        ]
    }
    with respx.mock() as router:
        token_route(router, "tok-1", expires_in=3600)
        router.get(f"{API}{LIMITS_PATH}").mock(return_value=httpx.Response(200, json=limits))
        facts = hook.authenticate()
    assert facts["requests_per_minute"] == 200
    assert facts["configured_requests_per_minute"] == 300
    assert facts["token_expires_in"] == 3600
    assert facts["api_base_url"] == API
    assert "tok-1" not in json.dumps(facts) and SECRET not in json.dumps(facts)
    assert ratelimit.existing_limiter((CONN_ID, "client-1", API)).requests_per_minute == 200
    # Lowered only in this process: the operator is told, naming both numbers, to fix the connection.
    assert facts["live_limit_below_configured"] is True
    logs = caplog.text + capsys.readouterr().out
    assert "grants 200 requests/min" in logs and "requests_per_minute of 300" in logs
    assert "set the connection's requests_per_minute" in logs


def test_authenticate_without_limits_permission_keeps_configured_budget(hook: GenesysCloudHook) -> None:
    with respx.mock() as router:
        token_route(router, "tok-1", "tok-2")  # the Test button fetches its own token
        router.get(f"{API}{LIMITS_PATH}").mock(return_value=error(403, "missing.permissions", "no"))
        facts = hook.authenticate()
        assert facts["live_limits"] is None and facts["requests_per_minute"] == 60000
        assert facts["live_limit_below_configured"] is False
        ok, message = hook.test_connection()
        assert ok is True and API in message


def test_region_connection_uses_regional_hosts(monkeypatch: pytest.MonkeyPatch) -> None:
    set_conn(monkeypatch, "genesys_region", api_base_url=None, login_base_url=None, sandbox=None, region="mypurecloud.ie")
    hook = GenesysCloudHook(genesys_cloud_conn_id="genesys_region")
    with respx.mock() as router:
        tok = router.post("https://login.mypurecloud.ie/oauth/token").mock(
            return_value=httpx.Response(200, json={"access_token": "t", "expires_in": 60})
        )
        api = router.get("https://api.mypurecloud.ie/api/v2/x").mock(
            return_value=httpx.Response(200, json={})
        )
        hook.get("/api/v2/x")
        assert tok.called and api.called


def test_unknown_region_is_rejected_with_the_list(monkeypatch: pytest.MonkeyPatch) -> None:
    set_conn(
        monkeypatch, "genesys_bad", api_base_url=None, login_base_url=None, sandbox=None, region="us-east-1.mypurecloud.com"
    )
    hook = GenesysCloudHook(genesys_cloud_conn_id="genesys_bad")
    with pytest.raises(GenesysConfigError, match="mypurecloud.ie") as info:
        hook.get("/x")
    assert "usw2.pure.cloud" in str(info.value)


def test_async_retries_429_and_reauths_with_async_connection_lookup(clock: FakeTime) -> None:
    async def run() -> tuple[object, int, int]:
        hook = GenesysCloudHook(genesys_cloud_conn_id=CONN_ID)
        hook._asleep = clock.asleep
        ratelimit.register_limiter(
            (CONN_ID, "client-1", API), ratelimit.RateLimiter(60000, clock=clock.monotonic)
        )
        with respx.mock() as router:
            tok = token_route(router, "tok-1", "tok-2")
            api = router.get(f"{API}/x").mock(
                side_effect=[
                    error(429, "too.many.requests", "x", **{"Retry-After": "3"}),
                    error(401, "bad.credentials", "expired"),
                    httpx.Response(200, json={"ok": True}),
                ]
            )
            result = await hook.aget("/x")
            await hook.aclose()
            return result, api.call_count, tok.call_count

    result, api_calls, token_calls = asyncio.run(run())
    assert result == {"ok": True}
    assert (api_calls, token_calls) == (3, 2)
    assert 3 in clock.sleeps


def test_async_write_verbs_are_not_retried(clock: FakeTime) -> None:
    async def run() -> int:
        hook = GenesysCloudHook(genesys_cloud_conn_id=CONN_ID)
        hook._asleep = clock.asleep
        with respx.mock() as router:
            token_route(router, "tok-1")
            api = router.post(f"{API}/jobs").mock(return_value=error(502, "bad.gateway", "x"))
            with pytest.raises(GenesysServerError):
                await hook.acreate("/jobs", {})
            return api.call_count

    assert asyncio.run(run()) == 1


def test_transport_error_hierarchy() -> None:
    assert issubclass(GenesysTimeoutError, GenesysTransportError)
    assert issubclass(GenesysRateLimitError, GenesysApiError)


def test_token_fetch_is_single_flight_across_threads(hook: GenesysCloudHook) -> None:
    from concurrent.futures import ThreadPoolExecutor

    with respx.mock() as router:
        tok = token_route(router, *[f"tok-{i}" for i in range(8)])
        router.get(f"{API}/x").mock(return_value=httpx.Response(200, json={}))
        hook.get_conn()  # one shared client, as after the first page of a listing
        with ThreadPoolExecutor(max_workers=8) as pool:
            list(pool.map(lambda _: hook.get("/x"), range(8)))
        assert tok.call_count == 1


def test_async_token_fetch_is_single_flight_and_masked_with_the_async_api(
    clock: FakeTime, monkeypatch: pytest.MonkeyPatch
) -> None:
    sync_masked: list[object] = []
    async_masked: list[object] = []

    async def amask(value: object, name: str | None = None) -> None:
        async_masked.append(value)

    monkeypatch.setattr("airflow.sdk.log.mask_secret", lambda value, name=None: sync_masked.append(value))
    monkeypatch.setattr("airflow.sdk.log.amask_secret", amask)

    async def run() -> int:
        hook = await GenesysCloudHook.for_conn_id_async(CONN_ID)
        hook._asleep = clock.asleep
        with respx.mock() as router:
            tok = token_route(router, "tok-a", "tok-b")
            router.get(f"{API}/x").mock(return_value=httpx.Response(200, json={}))
            await asyncio.gather(*(hook.aget("/x") for _ in range(6)))
            return tok.call_count

    assert asyncio.run(run()) == 1
    assert async_masked.count("tok-a") == 1
    assert "tok-a" not in sync_masked  # the event loop never calls the synchronous masker for the token


def test_from_connection_dict_needs_no_airflow_lookup(clock: FakeTime) -> None:
    hook = GenesysCloudHook.from_connection_dict(
        "not_defined_anywhere", "client-9", "secret-9", {"api_base_url": "https://api.other.local", "sandbox": True}
    )
    hook._sleep = clock.sleep
    with respx.mock() as router:
        router.post("https://login.other.local/oauth/token").mock(
            return_value=httpx.Response(200, json={"access_token": "t9", "expires_in": 600})
        )
        router.get("https://api.other.local/y").mock(return_value=httpx.Response(200, json={"ok": 1}))
        assert hook.get("/y") == {"ok": 1}


def test_download_streams_follows_redirect_and_sends_the_token_only_to_the_api_host(
    hook: GenesysCloudHook, tmp_path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GENESYS_DOWNLOAD_HOSTS", "files.storage.local")  # the allow-list (Security edges)
    signed = "https://files.storage.local/export.csv?X-Amz-Signature=abc"
    with respx.mock(assert_all_called=True) as router:
        token_route(router, "tok-dl")
        api = router.get(f"{API}/api/v2/downloads/d1").mock(
            return_value=httpx.Response(303, headers={"Location": signed})
        )
        storage = router.get(signed).mock(
            side_effect=[httpx.Response(503), httpx.Response(200, content=b"a,b\n1,2\n")]
        )
        facts = hook.download(f"{API}/api/v2/downloads/d1", tmp_path / "out.csv")
    assert (tmp_path / "out.csv").read_bytes() == b"a,b\n1,2\n"
    assert facts["bytes"] == 8 and len(facts["sha256"]) == 64
    assert api.calls[0].request.headers["Authorization"] == "Bearer tok-dl"
    assert all("Authorization" not in call.request.headers for call in storage.calls)
    assert storage.call_count == 2  # the 503 was retried as a read


def test_download_fails_fast_on_404_naming_the_endpoint(hook: GenesysCloudHook, tmp_path) -> None:
    with respx.mock() as router:
        token_route(router, "tok-dl")
        router.get(f"{API}/api/v2/downloads/missing").mock(
            return_value=error(404, "not.found", "download not found")
        )
        with pytest.raises(GenesysNotFoundError, match="GET /api/v2/downloads/missing"):
            hook.download(f"{API}/api/v2/downloads/missing", tmp_path / "x.csv")


def test_create_idempotent_looks_again_after_429_and_5xx_and_never_creates_twice(hook: GenesysCloudHook) -> None:
    created: list[dict] = []

    def post(request: httpx.Request) -> httpx.Response:
        n = post.calls = getattr(post, "calls", 0) + 1
        if n == 1:
            return error(429, "too.many.requests", "slow down", **{"Retry-After": "1"})  # not processed
        created.append({"id": "exp-1", "name": "n"})
        return error(503, "service.unavailable", "lost")  # processed, answer lost

    with respx.mock() as router:
        token_route(router, "tok")
        router.post(f"{API}/api/v2/analytics/reporting/exports").mock(side_effect=post)
        found = hook.create_idempotent(
            "/api/v2/analytics/reporting/exports", {"name": "n"}, lambda: created[0] if created else None
        )
    assert found == {"id": "exp-1", "name": "n"}
    assert post.calls == 2 and len(created) == 1
