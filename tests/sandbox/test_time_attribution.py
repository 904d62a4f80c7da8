"""Aggregates time attribution: every metric posts in the interval of its ``emitDate`` (timers when what
they measure completes, counts when their event happens), so the aggregates equal the details' metrics
bucketed by emitDate, at hour and at day edges; ``alternateTimeDimension: eventTime`` is that rule."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

import pytest
from core_support import auth_headers, make_client
from fastapi.testclient import TestClient

from genesys_sandbox.org import FIXTURES

AGG = "/api/v2/analytics/conversations/aggregates/query"
DETAILS = "/api/v2/analytics/conversations/details/query"
NORMAL = FIXTURES["normal_campaign"]
DAY = "2026-05-13T00:00:00.000Z/2026-05-14T00:00:00.000Z"  # closed at the sandbox clock (2026-05-15 12:00)
METRICS = ["nOutboundAttempted", "nOutboundConnected", "tContacting", "tTalk", "tAcw", "tHandle"]


@pytest.fixture(scope="module")
def client() -> Iterator[TestClient]:
    with make_client(scale=2000) as test_client:
        test_client.headers.update(auth_headers(test_client))
        yield test_client


def emitted(client: TestClient) -> list[tuple[str, datetime, int, str]]:
    """(metric, emitDate, value, conversationId) of the campaign's conversations started 2026-05-12 .. 2026-05-14."""
    body: dict[str, Any] = {
        "interval": "2026-05-12T00:00:00.000Z/2026-05-15T00:00:00.000Z",
        "segmentFilters": [{"type": "and", "predicates": [{"dimension": "outboundCampaignId", "value": NORMAL}]}],
    }
    out: list[tuple[str, datetime, int, str]] = []
    number = 1
    while True:
        answer = client.post(DETAILS, json={**body, "paging": {"pageSize": 200, "pageNumber": number}}).json()
        for conv in answer.get("conversations") or []:
            for participant in conv["participants"]:
                if participant["purpose"] not in ("outbound", "agent"):
                    continue
                for session in participant["sessions"]:
                    for m in session.get("metrics", []):
                        if m["name"] in METRICS:
                            out.append((m["name"], datetime.fromisoformat(m["emitDate"]), m["value"],
                                        conv["conversationId"]))
        if not answer.get("conversations"):
            return out
        number += 1


def aggregate(client: TestClient, interval: str = DAY, **extra: Any) -> dict[str, dict[str, dict[str, float]]]:
    """interval start → metric → {count, sum} of the campaign's aggregates over ``interval``."""
    flt = {"type": "and", "predicates": [{"dimension": "outboundCampaignId", "value": NORMAL}]}
    response = client.post(AGG, json={"interval": interval, "filter": flt, "metrics": METRICS, **extra})
    assert response.status_code == 200, response.text
    out: dict[str, dict[str, dict[str, float]]] = defaultdict(dict)
    for group in response.json().get("results", []):
        for data in group["data"]:
            for metric in data["metrics"]:
                out[data["interval"].split("/")[0]][metric["metric"]] = {
                    "count": metric["stats"]["count"], "sum": metric["stats"].get("sum", metric["stats"]["count"])}
    return out


def by_emit_hour(rows: list[tuple[str, datetime, int, str]]) -> dict[str, dict[str, dict[str, float]]]:
    start, end = (datetime.fromisoformat(p) for p in DAY.split("/"))
    out: dict[str, dict[str, dict[str, float]]] = defaultdict(lambda: defaultdict(lambda: {"count": 0, "sum": 0}))
    for name, at, value, _ in rows:
        if start <= at < end:
            hour = at.replace(minute=0, second=0, microsecond=0).strftime("%Y-%m-%dT%H:%M:%S.000Z")
            out[hour][name]["count"] += 1
            out[hour][name]["sum"] += value if name.startswith("t") else 1
    return {h: {m: dict(v) for m, v in metrics.items()} for h, metrics in out.items()}


def test_hourly_aggregates_are_the_details_metrics_bucketed_by_emit_date(client: TestClient) -> None:
    rows = emitted(client)
    expected = by_emit_hour(rows)
    assert aggregate(client, granularity="PT1H") == expected
    # The rule matters here: some talk posts in a later hour than the dial that started its call.
    attempts = {h for h, m in expected.items() if "nOutboundAttempted" in m}
    assert {h for h, m in expected.items() if "tHandle" in m} - attempts or any(
        expected[h].get("tHandle", {}).get("count", 0) != expected[h].get("nOutboundConnected", {}).get("count", 0)
        for h in expected)


def test_a_call_that_crosses_the_day_edge_posts_its_timers_to_the_next_day(client: TestClient) -> None:
    """A reporting day that starts while a call is in progress (the interval's start anchors ``P1D``):
    the call's attempt counts in the day before, its talk and handle time in the day it ends in."""
    rows = emitted(client)
    attempts = {c: at for n, at, _, c in rows if n == "nOutboundAttempted"}
    handles = {c: at for n, at, _, c in rows if n == "tHandle"}
    crossing = sorted((handles[c].replace(minute=0, second=0, microsecond=0), c) for c, at in attempts.items()
                      if c in handles and at.date().isoformat() in ("2026-05-12", "2026-05-13")
                      and handles[c].replace(minute=0, second=0, microsecond=0) > at)
    assert crossing, "the data holds a call dialled in one hour whose handle time posts in a later hour"
    day_start = crossing[0][0]
    day_end = day_start + timedelta(days=1)
    interval = f"{day_start:%Y-%m-%dT%H:%M:%S.000Z}/{day_end:%Y-%m-%dT%H:%M:%S.000Z}"
    [daily] = aggregate(client, interval, granularity="P1D").values()
    for metric in ("nOutboundAttempted", "tTalk", "tHandle"):
        values = [v for n, at, v, _ in rows if n == metric and day_start <= at < day_end]
        expected_sum = sum(values) if metric.startswith("t") else len(values)
        assert daily[metric] == {"count": len(values), "sum": expected_sum}, metric
    # Attribution by conversation start would have left the crossing call's handle time out of this day.
    started_in_day = {c for c, at in attempts.items() if day_start <= at < day_end}
    assert crossing[0][1] not in started_in_day
    assert daily["tHandle"]["count"] > len([c for c in handles if c in started_in_day and handles[c] < day_end])


def test_event_time_is_accepted_and_is_the_same_attribution(client: TestClient) -> None:
    assert aggregate(client, granularity="PT1H", alternateTimeDimension="eventTime") == aggregate(
        client, granularity="PT1H")
    bad = client.post(AGG, json={"interval": DAY, "metrics": ["tHandle"], "alternateTimeDimension": "startTime"})
    assert bad.status_code == 400 and bad.json()["code"] == "bad.request"
