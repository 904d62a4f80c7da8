"""Conversation aggregates: the query (granularity, time zone, groupBy, filters) and its async jobs."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from core_support import auth_headers, make_client, sandbox_state
from fastapi.testclient import TestClient
from sdk_check import assert_sdk_compatible

from genesys_sandbox.org import FIXTURES

AGG = "/api/v2/analytics/conversations/aggregates/query"
AGG_JOBS = "/api/v2/analytics/conversations/aggregates/jobs"
DETAILS = "/api/v2/analytics/conversations/details/query"
DAY = "2026-05-13T00:00:00.000Z/2026-05-14T00:00:00.000Z"
NORMAL = FIXTURES["normal_campaign"]
OUTBOUND_METRICS = ["nOutboundAttempted", "nOutboundConnected", "nOutboundAbandoned", "tHandle", "tTalk", "tAcw"]


@pytest.fixture(scope="module")
def client() -> Iterator[TestClient]:
    with make_client(scale=2000) as test_client:
        test_client.headers.update(auth_headers(test_client))
        yield test_client


def aggregates(client: TestClient, body: dict[str, Any]) -> dict[str, Any]:
    response = client.post(AGG, json=body)
    assert response.status_code == 200, response.text
    assert_sdk_compatible(response.json(), "ConversationAggregateQueryResponse")
    return response.json()


def campaign_filter(campaign_id: str) -> dict[str, Any]:
    return {"type": "and", "predicates": [
        {"type": "dimension", "dimension": "outboundCampaignId", "operator": "matches", "value": campaign_id},
        {"type": "dimension", "dimension": "mediaType", "operator": "matches", "value": "voice"},
    ]}


def totals(result: dict[str, Any]) -> dict[str, dict[str, float]]:
    out: dict[str, dict[str, float]] = {}
    for group in result.get("results", []):
        for data in group["data"]:
            for metric in data["metrics"]:
                slot = out.setdefault(metric["metric"], Counter())
                for key in ("count", "sum"):
                    slot[key] += metric["stats"].get(key, 0)
    return out


def detail_totals(client: TestClient, campaign_id: str) -> dict[str, dict[str, float]]:
    out: dict[str, Counter] = {}
    number = 1
    while True:
        body = {"interval": DAY, "paging": {"pageSize": 200, "pageNumber": number},
                "segmentFilters": [{"type": "and", "predicates": [{"dimension": "outboundCampaignId", "value": campaign_id}]}]}
        page = client.post(DETAILS, json=body).json()
        if not page.get("conversations"):
            return out
        for conversation in page["conversations"]:
            for participant in conversation["participants"]:
                for session in participant["sessions"]:
                    for metric in session.get("metrics", []):
                        slot = out.setdefault(metric["name"], Counter())
                        slot["count"] += 1
                        slot["sum"] += metric["value"]
        number += 1


def test_campaign_day_aggregates_equal_the_sum_over_details(client: TestClient) -> None:
    result = aggregates(client, {"interval": DAY, "granularity": "P1D", "timeZone": "UTC", "groupBy": ["outboundCampaignId"],
                                 "filter": campaign_filter(NORMAL), "metrics": OUTBOUND_METRICS})
    assert [g["group"] for g in result["results"]] == [{"outboundCampaignId": NORMAL}]
    from_aggregates = totals(result)
    from_details = detail_totals(client, NORMAL)
    assert from_aggregates["nOutboundAttempted"]["count"] > 0
    for metric in OUTBOUND_METRICS:
        assert from_aggregates.get(metric, {}).get("count", 0) == from_details.get(metric, {}).get("count", 0), metric
        if metric.startswith("t"):
            assert from_aggregates[metric]["sum"] == from_details[metric]["sum"], metric


def test_hourly_granularity_omits_empty_hours_and_sums_to_the_day(client: TestClient) -> None:
    body = {"interval": DAY, "groupBy": ["outboundCampaignId"], "filter": campaign_filter(NORMAL), "metrics": OUTBOUND_METRICS}
    hourly = aggregates(client, {**body, "granularity": "PT1H"})
    daily = aggregates(client, {**body, "granularity": "P1D"})
    intervals = [d["interval"] for d in hourly["results"][0]["data"]]
    assert 6 <= len(intervals) < 24  # outbound dials in business hours only: the night is absent
    assert intervals == sorted(intervals) and intervals[0].endswith(":00:00.000Z")
    assert totals(hourly)["nOutboundAttempted"] == totals(daily)["nOutboundAttempted"]
    for data in hourly["results"][0]["data"]:
        stats = {m["metric"]: m["stats"] for m in data["metrics"]}
        # An hour may hold only timers of calls dialled the hour before (they post when they complete).
        assert "nOutboundAttempted" in stats or "tHandle" in stats
        if "nOutboundAttempted" in stats:
            assert set(stats["nOutboundAttempted"]) == {"count"}
        if "tHandle" in stats:
            assert stats["tHandle"]["min"] <= stats["tHandle"]["sum"] / stats["tHandle"]["count"] <= stats["tHandle"]["max"]


def test_time_zone_shifts_daily_buckets(client: TestClient) -> None:
    interval = "2026-05-12T04:00:00.000Z/2026-05-14T04:00:00.000Z"
    result = aggregates(client, {"interval": interval, "granularity": "P1D", "timeZone": "America/New_York",
                                 "filter": campaign_filter(NORMAL), "metrics": ["nOutboundAttempted"]})
    assert [d["interval"] for d in result["results"][0]["data"]] == [
        "2026-05-12T04:00:00.000Z/2026-05-13T04:00:00.000Z", "2026-05-13T04:00:00.000Z/2026-05-14T04:00:00.000Z",
    ]


def test_group_by_wrapup_code_counts_handled_calls(client: TestClient) -> None:
    result = aggregates(client, {"interval": DAY, "groupBy": ["wrapUpCode"], "filter": campaign_filter(NORMAL), "metrics": ["tHandle"]})
    codes = {c["id"] for c in sandbox_state(client).org.wrapup_codes}
    groups = [g["group"]["wrapUpCode"] for g in result["results"]]
    assert groups and set(groups) <= codes
    handled = sum(d["metrics"][0]["stats"]["count"] for g in result["results"] for d in g["data"])
    assert handled == totals(aggregates(client, {"interval": DAY, "filter": campaign_filter(NORMAL), "metrics": ["tHandle"]}))["tHandle"]["count"]


def test_queue_and_media_filters_and_idle_campaign(client: TestClient) -> None:
    queue = FIXTURES["normal_queue"]
    by_media = aggregates(client, {"interval": DAY, "groupBy": ["mediaType"], "metrics": ["nOffered"],
                                   "filter": {"type": "or", "predicates": [{"dimension": "queueId", "value": queue}]}})
    assert by_media["results"]
    idle = aggregates(client, {"interval": DAY, "filter": campaign_filter(FIXTURES["idle_campaign"]), "metrics": OUTBOUND_METRICS})
    assert idle == {}


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"interval": DAY}, "metrics"),
        ({"interval": DAY, "metrics": ["nOutboundAttempted"], "granularity": "PT7M"}, "granularity"),
        ({"interval": DAY, "metrics": ["nOutboundAttempted"], "timeZone": "Mars/Olympus"}, "timeZone"),
        ({"interval": "2026-05-14T00:00:00Z/2026-05-13T00:00:00Z", "metrics": ["nOutboundAttempted"]}, "interval"),
    ],
)
def test_bad_aggregate_queries_answer_400(client: TestClient, body: dict[str, Any], field: str) -> None:
    response = client.post(AGG, json=body)
    assert response.status_code == 400, response.text
    assert response.json()["details"][0]["fieldName"] == field


def test_aggregates_job_pages_with_a_cursor(client: TestClient) -> None:
    body = {"interval": DAY, "granularity": "PT1H", "groupBy": ["outboundCampaignId"], "metrics": OUTBOUND_METRICS, "pageSize": 3}
    job_id = client.post(AGG_JOBS, json=body).json()["jobId"]
    assert client.get(f"{AGG_JOBS}/{job_id}").json()["state"] in ("QUEUED", "PENDING")
    sandbox_state(client).clock.origin += timedelta(seconds=5)
    status = client.get(f"{AGG_JOBS}/{job_id}").json()
    assert_sdk_compatible(status, "AsyncQueryStatus")
    assert status["state"] == "FULFILLED"
    results: list[dict[str, Any]] = []
    cursor = None
    while True:
        page = client.get(f"{AGG_JOBS}/{job_id}/results", params={"cursor": cursor} if cursor else {}).json()
        assert_sdk_compatible(page, "ConversationAsyncAggregateQueryResponse")
        assert len(page.get("results", [])) <= 3
        results += page.get("results", [])
        cursor = page.get("cursor")
        if not cursor:
            break
    sync = aggregates(client, {k: v for k, v in body.items() if k != "pageSize"})
    assert results == sync["results"]
    assert client.delete(f"{AGG_JOBS}/{job_id}").status_code == 204
    assert client.get(f"{AGG_JOBS}/{job_id}").json()["state"] == "CANCELLED"
