"""The shared rate budget, regions, connection parsing and env settings of the provider."""

from __future__ import annotations

import asyncio
import json
from collections import deque

import httpx
import pytest
import respx

from genesys_cloud.config import settings
from genesys_cloud.exceptions import GenesysConfigError
from genesys_cloud.hooks import ratelimit
from genesys_cloud.hooks.auth import TOKENS
from genesys_cloud.hooks.connection import CONN_FIELDS, ConnectionConfig
from genesys_cloud.hooks.genesys_cloud import GenesysCloudHook
from genesys_cloud.hooks.ratelimit import RateLimiter
from genesys_cloud.regions import REGION_DOMAINS, resolve_region


class FakeTime:
    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []

    def monotonic(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds

    async def asleep(self, seconds: float) -> None:
        self.sleep(seconds)


def send_times(limiter: RateLimiter, clock: FakeTime, count: int) -> list[float]:
    """Reservation times of ``count`` back-to-back callers (each reserves at the current fake time)."""
    return [clock.now + limiter.reserve() for _ in range(count)]


def max_in_any_window(times: list[float], window: float = 60.0) -> int:
    recent: deque[float] = deque()
    worst = 0
    for t in sorted(times):
        recent.append(t)
        while recent[0] <= t - window:
            recent.popleft()
        worst = max(worst, len(recent))
    return worst


@pytest.mark.parametrize("rpm", [2, 60, 300, 600, 3000])
def test_limiter_never_exceeds_rpm_in_any_sliding_minute(rpm: int) -> None:
    clock = FakeTime()
    limiter = RateLimiter(rpm, clock=clock.monotonic)
    times = send_times(limiter, clock, rpm * 3)
    assert max_in_any_window(times) <= rpm
    # ... while the sustained rate stays close to the ceiling (>= 98 % from 60/min up)
    if rpm >= 60:
        assert (len(times) - 1) / (times[-1] - times[0]) >= 0.98 * rpm / 60


def test_limiter_allows_a_small_burst_then_spaces_requests() -> None:
    clock = FakeTime()
    limiter = RateLimiter(300, clock=clock.monotonic)
    waits = [limiter.reserve() for _ in range(7)]
    assert limiter.burst == 5
    assert waits[:5] == [0, 0, 0, 0, 0]
    assert waits[5] == pytest.approx(60 / 295) and waits[6] == pytest.approx(2 * 60 / 295)


def test_pause_blocks_reserved_and_new_requests_and_ends_without_burst() -> None:
    clock = FakeTime()
    limiter = RateLimiter(600, clock=clock.monotonic)
    limiter.pause(5)
    limiter.acquire(clock.sleep)
    assert clock.now == pytest.approx(5)
    following = send_times(limiter, clock, 3)
    assert following[0] > clock.now  # no burst right after a Retry-After pause
    assert following[1] - following[0] == pytest.approx(limiter.interval)


def test_sync_and_async_requests_share_one_budget(monkeypatch: pytest.MonkeyPatch) -> None:
    TOKENS.clear()
    ratelimit.reset_limiters()
    api = "https://api.ratetest.local"
    conn = {
        "conn_type": "genesys_cloud",
        "login": "c",
        "password": "s",
        "extra": {"api_base_url": api, "requests_per_minute": 2, "sandbox": True},
    }
    monkeypatch.setenv("AIRFLOW_CONN_GENESYS_RATETEST", json.dumps(conn))
    clock = FakeTime()
    limiter = RateLimiter(2, clock=clock.monotonic)  # burst 1, one request per 60 s
    ratelimit.register_limiter(("genesys_ratetest", "c", api), limiter)
    sync_hook = GenesysCloudHook("genesys_ratetest")
    sync_hook._sleep = clock.sleep
    async_hook = GenesysCloudHook("genesys_ratetest")
    async_hook._asleep = clock.asleep
    with respx.mock() as router:
        router.post("https://login.ratetest.local/oauth/token").mock(
            return_value=httpx.Response(200, json={"access_token": "t", "expires_in": 86400})
        )
        router.get(f"{api}/x").mock(return_value=httpx.Response(200, json={}))
        sync_hook.get("/x")
        assert clock.sleeps == []
        asyncio.run(async_hook.aget("/x"))  # the async call waits for the slot the sync call used
        assert sum(clock.sleeps) == pytest.approx(60.0)
        sync_hook.get("/x")
        assert sum(clock.sleeps) == pytest.approx(120.0)
    TOKENS.clear()
    ratelimit.reset_limiters()


@pytest.mark.parametrize("domain", sorted(REGION_DOMAINS.values()))
def test_all_18_regions_resolve(domain: str) -> None:
    region = resolve_region(domain.upper())
    assert (
        region.api_base_url == f"https://api.{domain}" and region.login_base_url == f"https://login.{domain}"
    )


def test_region_table_has_18_entries_and_sdk_keys_work() -> None:
    assert len(REGION_DOMAINS) == 18
    assert resolve_region("eu_west_1").domain == "mypurecloud.ie"


@pytest.mark.parametrize(
    "bad", ["us-east-1.mypurecloud.com", "acme.mygen.com", "api.mypurecloud.ie", "", "mypurecloud.co.uk"]
)
def test_unknown_regions_are_rejected_listing_the_real_ones(bad: str) -> None:
    with pytest.raises(GenesysConfigError) as info:
        resolve_region(bad)
    assert all(domain in str(info.value) for domain in REGION_DOMAINS.values())


def test_connection_config_parsing() -> None:
    cfg = ConnectionConfig.from_parts(
        "c", "id", "secret", '{"api_base_url": "http://127.0.0.1:9/", "requests_per_minute": "600", "sandbox": true}'
    )
    assert (cfg.api_base_url, cfg.login_base_url, cfg.requests_per_minute) == (
        "http://127.0.0.1:9",
        "http://127.0.0.1:9",
        600,
    )
    cfg = ConnectionConfig.from_parts(
        "c", "id", "secret", {"extra__genesys_cloud__region": "usw2.pure.cloud"}
    )
    assert cfg.login_base_url == "https://login.usw2.pure.cloud" and cfg.requests_per_minute == 300
    assert "secret" not in repr(cfg)
    for login, password, extra in [
        ("", "s", {"region": "mypurecloud.de"}),
        ("i", "s", {}),
        ("i", "s", {"region": "x", "requests_per_minute": 0}),
    ]:
        with pytest.raises(GenesysConfigError):
            ConnectionConfig.from_parts("c", login, password, extra)


def test_ui_metadata() -> None:
    behaviour = GenesysCloudHook.get_ui_field_behaviour()
    assert behaviour["relabeling"] == {"login": "Client ID", "password": "Client Secret"}
    assert "extra" in behaviour["hidden_fields"]
    assert set(CONN_FIELDS) == {"region", "api_base_url", "login_base_url", "sandbox", "requests_per_minute"}
    assert GenesysCloudHook.default_conn_name == "genesys_cloud_default"
    assert GenesysCloudHook.conn_type == "genesys_cloud"


def test_settings_read_env_at_call_time(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ["GENESYS_HTTP_TIMEOUT", "GENESYS_RETRY_MAX_ATTEMPTS", "GENESYS_BUCKET", "GENESYS_API_POOL"]:
        monkeypatch.delenv(name, raising=False)
    defaults = settings()
    assert (defaults.http_timeout, defaults.retry_max_attempts, defaults.bucket, defaults.api_pool) == (
        30.0,
        6,
        "genesys-pipelines",
        "genesys_api",
    )
    monkeypatch.setenv("GENESYS_HTTP_TIMEOUT", "2.5")
    monkeypatch.setenv("GENESYS_BUCKET", "other")
    assert settings().http_timeout == 2.5 and settings().bucket == "other"
    with pytest.raises(AttributeError):
        settings().bucket = "x"  # type: ignore[misc]


def test_limiter_follows_an_edited_connection_budget_but_keeps_a_live_lowering() -> None:
    ratelimit.reset_limiters()
    key = ("c", "id", "https://api.x")
    limiter = ratelimit.limiter_for(key, 300)
    limiter.configure(200)  # authenticate() read a lower live limit
    assert ratelimit.limiter_for(key, 300).requests_per_minute == 200
    assert ratelimit.limiter_for(key, 120).requests_per_minute == 120  # the connection itself changed
    ratelimit.reset_limiters()
