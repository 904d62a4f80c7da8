"""Interval limits: the details pager splits a long window at UTC midnights into queries that fit the
limit (31 days with a filter, 7 without), read from the org's limits namespace with the documented
values as the fallback."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
import respx

from genesys_cloud.exceptions import GenesysValidationError
from genesys_cloud.hooks import pagination, ratelimit
from genesys_cloud.hooks.auth import TOKENS
from genesys_cloud.hooks.genesys_cloud import GenesysCloudHook
from genesys_cloud.hooks.limits import interval_limit_days, split_at_midnights
from genesys_cloud.hooks.pagination import format_instant
from genesys_pipelines.models.limits import (
    AGGREGATES_JOB_DAYS,
    AGGREGATES_QUERY_DAYS,
    DETAILS_FILTERED_DAYS,
    DETAILS_JOB_DAYS,
    DETAILS_UNFILTERED_DAYS,
)

API = "https://api.limitstest.local"
CONN_ID = "genesys_limitstest"
DETAILS = "/api/v2/analytics/conversations/details/query"
ANALYTICS_LIMITS = "/api/v2/organizations/limits/namespaces/analytics"
DAY = datetime(2024, 3, 1, tzinfo=UTC)
FILTER = [{"type": "and", "predicates": [{"dimension": "conversationEnd", "operator": "exists"}]}]


@pytest.fixture(autouse=True)
def _isolated(monkeypatch: pytest.MonkeyPatch):
    TOKENS.clear()
    ratelimit.reset_limiters()
    monkeypatch.setenv("GENESYS_RETRY_BACKOFF_BASE", "0.001")
    extra = {"api_base_url": API, "requests_per_minute": 600000, "sandbox": True}  # a stub host, not a region
    conn = {"conn_type": "genesys_cloud", "login": "client-l", "password": "secret-l", "extra": extra}
    monkeypatch.setenv(f"AIRFLOW_CONN_{CONN_ID.upper()}", json.dumps(conn))
    yield
    TOKENS.clear()
    ratelimit.reset_limiters()


@pytest.fixture
def router():
    with respx.mock() as mock:
        mock.post("https://login.limitstest.local/oauth/token").mock(
            return_value=httpx.Response(200, json={"access_token": "tok", "expires_in": 86400})
        )
        yield mock


def interval(start: datetime, end: datetime) -> str:
    return f"{format_instant(start)}/{format_instant(end)}"


def strict_server(bodies: list[dict[str, Any]], limits: dict[str, int]):
    """A details query that refuses over-long intervals like the API, and holds one conversation a day."""

    def respond(request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content)
        bodies.append(body)
        start, end = pagination.parse_interval(body["interval"])
        filtered = any(body.get(k) for k in ("conversationFilters", "segmentFilters"))
        if end - start > timedelta(days=limits["filtered" if filtered else "unfiltered"]):
            return httpx.Response(400, json={"status": 400, "code": "bad.request", "message": "interval too long"})
        days = (end - start).days + (1 if (end - start) % timedelta(days=1) else 0)
        convs = [{"conversationId": f"c{(start + timedelta(days=d)).date()}",
                  "conversationStart": format_instant(start + timedelta(days=d, hours=1))} for d in range(days)]
        convs = [c for c in convs if pagination.parse_instant(c["conversationStart"]) < end]
        return httpx.Response(200, json={"totalHits": len(convs), "conversations": convs})

    return respond


def spans(bodies: list[dict[str, Any]]) -> list[float]:
    out = []
    for body in bodies:
        start, end = pagination.parse_interval(body["interval"])
        out.append((end - start) / timedelta(days=1))
    return out


def test_a_40_day_filtered_window_goes_out_in_pieces_of_at_most_31_days(router: respx.MockRouter) -> None:
    router.get(f"{API}{ANALYTICS_LIMITS}").mock(return_value=httpx.Response(404, json={"status": 404}))
    bodies: list[dict[str, Any]] = []
    router.post(f"{API}{DETAILS}").mock(side_effect=strict_server(bodies, {"filtered": 31, "unfiltered": 7}))
    hook = GenesysCloudHook(genesys_cloud_conn_id=CONN_ID)
    query = {"interval": interval(DAY, DAY + timedelta(days=40)), "conversationFilters": FILTER}
    rows = list(hook.iter_conversation_details(query))
    assert len(rows) == 40 and len({r["conversationId"] for r in rows}) == 40
    assert spans(bodies) == [31.0, 9.0]
    assert bodies[0]["interval"].endswith("2024-04-01T00:00:00.000Z")  # cut at a UTC midnight


def test_an_unfiltered_window_uses_the_seven_day_rule(router: respx.MockRouter) -> None:
    router.get(f"{API}{ANALYTICS_LIMITS}").mock(return_value=httpx.Response(403, json={"status": 403}))
    bodies: list[dict[str, Any]] = []
    router.post(f"{API}{DETAILS}").mock(side_effect=strict_server(bodies, {"filtered": 31, "unfiltered": 7}))
    hook = GenesysCloudHook(genesys_cloud_conn_id=CONN_ID)
    start = DAY + timedelta(hours=12)
    rows = list(hook.iter_conversation_details({"interval": interval(start, DAY + timedelta(days=16))}))
    assert len(rows) == len({r["conversationId"] for r in rows}) == 16  # one per UTC day touched
    assert spans(bodies) == [6.5, 7.0, 2.0]


def test_the_orgs_published_limit_wins_over_the_documented_default(router: respx.MockRouter) -> None:
    published = {"entities": [{"key": DETAILS_FILTERED_DAYS.key, "namespace": "analytics", "value": 10}]}
    limits_route = router.get(f"{API}{ANALYTICS_LIMITS}").mock(return_value=httpx.Response(200, json=published))
    bodies: list[dict[str, Any]] = []
    router.post(f"{API}{DETAILS}").mock(side_effect=strict_server(bodies, {"filtered": 10, "unfiltered": 7}))
    hook = GenesysCloudHook(genesys_cloud_conn_id=CONN_ID)
    query = {"interval": interval(DAY, DAY + timedelta(days=25)), "conversationFilters": FILTER}
    assert len(list(hook.iter_conversation_details(query))) == 25
    assert spans(bodies) == [10.0, 10.0, 5.0]
    # Read once per hook; a key the org does not publish falls back to the documented value.
    assert interval_limit_days(hook, DETAILS_UNFILTERED_DAYS) == 7
    assert limits_route.call_count == 1


def test_split_at_midnights_keeps_short_windows_whole_and_never_shares_a_day() -> None:
    short = (DAY, DAY + timedelta(days=3))
    assert split_at_midnights(short, 7) == [short]
    assert split_at_midnights(short, None) == [short]
    pieces = split_at_midnights((DAY + timedelta(hours=5), DAY + timedelta(days=70, hours=3)), 31)
    assert pieces[0][0] == DAY + timedelta(hours=5) and pieces[-1][1] == DAY + timedelta(days=70, hours=3)
    assert all(a[1] == b[0] and a[1].hour == 0 for a, b in zip(pieces, pieces[1:], strict=False))
    assert all(end - start <= timedelta(days=31) for start, end in pieces)


# -- aggregates query and async jobs: refused before any call over their limit -------------------------------
AGGREGATES = "/api/v2/analytics/conversations/aggregates/query"
JOBS = {"details": "/api/v2/analytics/conversations/details/jobs",
        "aggregates": "/api/v2/analytics/conversations/aggregates/jobs"}


def _aggregates_body(days: int) -> dict[str, Any]:
    return {"interval": interval(DAY, DAY + timedelta(days=days)), "metrics": ["nOutboundAttempted"]}


def test_an_aggregates_query_over_the_fallback_is_refused_before_it_is_sent(router: respx.MockRouter) -> None:
    # No aggregates route: a POST would fail the test as an unmocked request.
    limits_route = router.get(f"{API}{ANALYTICS_LIMITS}").mock(return_value=httpx.Response(404, json={"status": 404}))
    hook = GenesysCloudHook(genesys_cloud_conn_id=CONN_ID)
    with pytest.raises(GenesysValidationError) as refused:
        hook.aggregates_query(_aggregates_body(AGGREGATES_QUERY_DAYS.default_days + 4))
    message = str(refused.value)
    assert AGGREGATES_QUERY_DAYS.key in message and f"{AGGREGATES_QUERY_DAYS.default_days} days" in message and "assumed" in message
    assert limits_route.call_count == 1  # the org's value was asked for first


def test_an_aggregates_query_within_the_fallback_needs_no_limits_read() -> None:
    with respx.mock(assert_all_called=False) as mock:
        mock.post("https://login.limitstest.local/oauth/token").mock(
            return_value=httpx.Response(200, json={"access_token": "tok", "expires_in": 86400}))
        limits_route = mock.get(f"{API}{ANALYTICS_LIMITS}").mock(return_value=httpx.Response(200, json={}))
        sent = mock.post(f"{API}{AGGREGATES}").mock(return_value=httpx.Response(200, json={}))
        GenesysCloudHook(genesys_cloud_conn_id=CONN_ID).aggregates_query(_aggregates_body(AGGREGATES_QUERY_DAYS.default_days))
    assert sent.call_count == 1 and limits_route.call_count == 0


def test_the_orgs_published_aggregates_limit_holds_both_ways(router: respx.MockRouter) -> None:
    published = {"entities": [{"key": AGGREGATES_QUERY_DAYS.key, "namespace": "analytics", "value": 400}]}
    router.get(f"{API}{ANALYTICS_LIMITS}").mock(return_value=httpx.Response(200, json=published))
    sent = router.post(f"{API}{AGGREGATES}").mock(return_value=httpx.Response(200, json={}))
    hook = GenesysCloudHook(genesys_cloud_conn_id=CONN_ID)
    hook.aggregates_query(_aggregates_body(390))  # the org allows more than the fallback
    with pytest.raises(GenesysValidationError, match="400 days"):
        hook.aggregates_query(_aggregates_body(401))
    assert sent.call_count == 1
    smaller = {"entities": [{"key": AGGREGATES_QUERY_DAYS.key, "namespace": "analytics", "value": 20}]}
    router.get(f"{API}{ANALYTICS_LIMITS}").mock(return_value=httpx.Response(200, json=smaller))
    other = GenesysCloudHook(genesys_cloud_conn_id=CONN_ID)
    interval_limit_days(other, DETAILS_FILTERED_DAYS)  # the namespace is read (as the details pager does)
    with pytest.raises(GenesysValidationError, match="20 days"):
        other.aggregates_query(_aggregates_body(30))  # then its smaller value holds too
    assert sent.call_count == 1


@pytest.mark.parametrize(("kind", "limit"), [("details", DETAILS_JOB_DAYS), ("aggregates", AGGREGATES_JOB_DAYS)])
def test_a_job_over_its_limit_is_never_submitted(router: respx.MockRouter, kind: str, limit: Any) -> None:
    router.get(f"{API}{ANALYTICS_LIMITS}").mock(return_value=httpx.Response(403, json={"status": 403}))
    submitted = router.post(f"{API}{JOBS[kind]}").mock(return_value=httpx.Response(202, json={"jobId": "j-1"}))
    hook = GenesysCloudHook(genesys_cloud_conn_id=CONN_ID)
    with pytest.raises(GenesysValidationError, match=limit.key):
        hook.submit_job(kind, _aggregates_body(limit.default_days + 1))
    assert submitted.call_count == 0
    assert hook.submit_job(kind, _aggregates_body(limit.default_days)) == "j-1"


def test_the_undocumented_fallbacks_admit_every_window_a_pipeline_accepts() -> None:
    """367 days: a 366-day window plus the DST hour ``windows`` allows is never refused by the fallback."""
    from genesys_pipelines.windows import DEFAULT_MAX_DAYS

    for limit in (AGGREGATES_QUERY_DAYS, AGGREGATES_JOB_DAYS, DETAILS_JOB_DAYS):
        assert not limit.documented
        assert timedelta(days=limit.default_days) >= timedelta(days=DEFAULT_MAX_DAYS, hours=1)
    assert DETAILS_FILTERED_DAYS.documented and DETAILS_UNFILTERED_DAYS.documented
