"""Conversation details: the sync query (body paging, filters, ceiling) and the async jobs."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from core_support import auth_headers, make_client, sandbox_state
from fastapi.testclient import TestClient
from sdk_check import assert_sdk_compatible

from genesys_sandbox.org import FIXTURES

QUERY = "/api/v2/analytics/conversations/details/query"
JOBS = "/api/v2/analytics/conversations/details/jobs"
DAY = "2026-05-13T00:00:00.000Z/2026-05-14T00:00:00.000Z"  # closed: the sandbox clock is 2026-05-15 12:00
NORMAL = FIXTURES["normal_campaign"]


@pytest.fixture(scope="module")
def client() -> Iterator[TestClient]:
    with make_client(scale=2000) as test_client:
        test_client.headers.update(auth_headers(test_client))
        yield test_client


def advance(client: TestClient, seconds: float) -> None:
    """Move the sandbox clock forward (jobs progress on the sandbox clock, not on the wall clock)."""
    sandbox_state(client).clock.origin += timedelta(seconds=seconds)


def details(client: TestClient, body: dict[str, Any]) -> dict[str, Any]:
    response = client.post(QUERY, json=body)
    assert response.status_code == 200, response.text
    payload = response.json()
    assert_sdk_compatible(payload, "AnalyticsConversationQueryResponse")
    return payload


def campaign_filter(campaign_id: str) -> list[dict[str, Any]]:
    return [{"type": "and", "predicates": [{"dimension": "outboundCampaignId", "value": campaign_id}]}]


def all_pages(client: TestClient, body: dict[str, Any], size: int = 100) -> tuple[list[dict[str, Any]], int]:
    conversations: list[dict[str, Any]] = []
    number = 1
    while True:
        page = details(client, {**body, "paging": {"pageSize": size, "pageNumber": number}})
        if not page.get("conversations"):
            return conversations, page["totalHits"]
        conversations += page["conversations"]
        number += 1


def run_job(client: TestClient, body: dict[str, Any], page_size: int = 1000) -> list[dict[str, Any]]:
    response = client.post(JOBS, json=body)
    assert response.status_code == 202, response.text
    assert_sdk_compatible(response.json(), "AsyncQueryResponse")
    job_id = response.json()["jobId"]
    advance(client, 5)
    status = client.get(f"{JOBS}/{job_id}").json()
    assert_sdk_compatible(status, "AsyncQueryStatus")
    assert status["state"] == "FULFILLED", status
    conversations: list[dict[str, Any]] = []
    cursor: str | None = None
    while True:
        params: dict[str, Any] = {"pageSize": page_size, **({"cursor": cursor} if cursor else {})}
        page = client.get(f"{JOBS}/{job_id}/results", params=params)
        assert page.status_code == 200, page.text
        assert_sdk_compatible(page.json(), "AnalyticsConversationAsyncQueryResponse")
        conversations += page.json().get("conversations", [])
        cursor = page.json().get("cursor")
        if not cursor:
            return conversations


def test_paging_returns_every_conversation_once_in_start_order(client: TestClient) -> None:
    body = {"interval": DAY, "segmentFilters": campaign_filter(NORMAL)}
    conversations, total = all_pages(client, body, size=50)
    ids = [c["conversationId"] for c in conversations]
    assert total == len(ids) > 50 and len(set(ids)) == len(ids)
    starts = [c["conversationStart"] for c in conversations]
    assert starts == sorted(starts)
    assert all(s.startswith("2026-05-13") for s in starts)
    sessions = [s for c in conversations for p in c["participants"] for s in p["sessions"]]
    assert {s["outboundCampaignId"] for s in sessions} == {NORMAL}


def test_descending_order_reverses_the_pages(client: TestClient) -> None:
    body = {"interval": DAY, "segmentFilters": campaign_filter(NORMAL)}
    ascending, _ = all_pages(client, body)
    descending, _ = all_pages(client, {**body, "order": "desc"})
    assert [c["conversationId"] for c in descending] == [c["conversationId"] for c in reversed(ascending)]


def test_order_by_conversation_end(client: TestClient) -> None:
    page = details(client, {"interval": DAY, "orderBy": "conversationEnd", "paging": {"pageSize": 200, "pageNumber": 2}})
    ends = [c["conversationEnd"] for c in page["conversations"]]
    assert ends == sorted(ends)


def test_interval_matches_whole_utc_days_touched(client: TestClient) -> None:
    whole = details(client, {"interval": DAY, "paging": {"pageSize": 1, "pageNumber": 1}})["totalHits"]
    hour = details(client, {"interval": "2026-05-13T10:00:00Z/2026-05-13T11:00:00Z", "paging": {"pageSize": 1, "pageNumber": 1}})
    assert hour["totalHits"] == whole
    assert hour["conversations"][0]["conversationStart"] < "2026-05-13T10:00"


def test_or_clause_and_exists_filters(client: TestClient) -> None:
    queue_ids = [q["id"] for q in sandbox_state(client).org.queues[:2]]
    body = {
        "interval": DAY,
        "segmentFilters": [{
            "type": "and",
            "predicates": [{"dimension": "mediaType", "value": "voice"}],
            "clauses": [{"type": "or", "predicates": [{"dimension": "queueId", "value": q} for q in queue_ids]}],
        }],
        "conversationFilters": [{"type": "and", "predicates": [{"dimension": "conversationEnd", "operator": "exists"}]}],
    }
    conversations, total = all_pages(client, body, size=200)
    assert total == len(conversations) > 0
    for conversation in conversations:
        queues = {s.get("queueId") for p in conversation["participants"] for se in p["sessions"] for s in se["segments"]}
        media = {se["mediaType"] for p in conversation["participants"] for se in p["sessions"]}
        assert media == {"voice"} and "conversationEnd" in conversation
        assert queues & set(queue_ids)


def test_wrapup_filter_and_metric_range(client: TestClient) -> None:
    code = sandbox_state(client).org.wrapup_codes[0]["id"]
    body = {
        "interval": DAY,
        "segmentFilters": [{"type": "and", "predicates": [{"dimension": "wrapUpCode", "value": code}]}],
        "conversationFilters": [{"type": "and", "predicates": [{"type": "metric", "metric": "tHandle", "range": {"gte": 300000}}]}],
    }
    conversations, _ = all_pages(client, body, size=200)
    assert conversations
    for conversation in conversations:
        agent = next(p for p in conversation["participants"] if p["purpose"] == "agent")
        metrics = {m["name"]: m["value"] for m in agent["sessions"][0]["metrics"]}
        assert metrics["tHandle"] >= 300000
        assert agent["sessions"][0]["segments"][-1]["wrapUpCode"] == code


def test_idle_campaign_has_no_conversations(client: TestClient) -> None:
    page = details(client, {"interval": DAY, "segmentFilters": campaign_filter(FIXTURES["idle_campaign"])})
    assert page["totalHits"] == 0 and "conversations" not in page


def test_pagination_ceiling_is_the_real_error(client: TestClient) -> None:
    response = client.post(QUERY, json={"interval": DAY, "paging": {"pageSize": 100, "pageNumber": 1001}})
    assert response.status_code == 400
    assert response.json()["message"] == "Pagination may not exceed 100000 results."
    assert_sdk_compatible(response.json(), "ErrorBody")


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "interval"),
        ({"interval": "yesterday"}, "interval"),
        ({"interval": DAY, "order": "sideways"}, "order"),
        ({"interval": DAY, "paging": {"pageSize": 1000, "pageNumber": 1}}, "paging.pageSize"),
        ({"interval": DAY, "segmentFilters": [{"type": "and", "predicates": [{"dimension": "colour", "value": "x"}]}]}, "segmentFilters.dimension"),
    ],
)
def test_bad_requests_answer_400_naming_the_field(client: TestClient, body: dict[str, Any], field: str) -> None:
    response = client.post(QUERY, json=body)
    assert response.status_code == 400, response.text
    assert response.json()["details"][0]["fieldName"] == field


def test_availability_is_behind_the_sandbox_clock(client: TestClient) -> None:
    response = client.get(f"{JOBS}/availability")
    assert response.status_code == 200
    assert_sdk_compatible(response.json(), "DataAvailabilityResponse")
    now = sandbox_state(client).clock.iso_now()
    assert response.json()["dataAvailabilityDate"] < now


def test_sync_and_async_agree_on_a_day(client: TestClient) -> None:
    filters = campaign_filter(FIXTURES["anomaly_campaign"])
    sync, _ = all_pages(client, {"interval": DAY, "segmentFilters": filters}, size=200)
    jobs = run_job(client, {"interval": DAY, "segmentFilters": filters, "startOfDayIntervalMatching": True}, page_size=37)
    assert [c["conversationId"] for c in jobs] == [c["conversationId"] for c in sync]
    assert all("attributes" in c["participants"][0] for c in jobs)


def test_async_interval_means_activity_and_start_of_day_matching_trims(client: TestClient) -> None:
    interval = "2026-05-13T00:00:00.000Z/2026-05-13T01:00:00.000Z"
    spanning = run_job(client, {"interval": interval})
    trimmed = run_job(client, {"interval": interval, "startOfDayIntervalMatching": True})
    assert any(c["conversationStart"] < "2026-05-13" for c in spanning)  # started the day before, still active
    assert all(c["conversationStart"] >= "2026-05-13" for c in trimmed)
    assert all(c["conversationStart"] < "2026-05-13T01" for c in spanning)


def test_async_limit_caps_results(client: TestClient) -> None:
    assert len(run_job(client, {"interval": DAY, "limit": 120}, page_size=50)) == 120


def test_job_lifecycle_cancel_and_paging_rejected(client: TestClient) -> None:
    job_id = client.post(JOBS, json={"interval": DAY}).json()["jobId"]
    assert client.get(f"{JOBS}/{job_id}").json()["state"] == "QUEUED"
    assert client.get(f"{JOBS}/{job_id}/results").status_code == 400  # not FULFILLED yet
    advance(client, 0.3)
    assert client.get(f"{JOBS}/{job_id}").json()["state"] == "PENDING"
    assert client.delete(f"{JOBS}/{job_id}").status_code == 204
    assert client.get(f"{JOBS}/{job_id}").json()["state"] == "CANCELLED"
    assert client.get(f"{JOBS}/does-not-exist").status_code == 404
    bad = client.post(JOBS, json={"interval": DAY, "paging": {"pageSize": 10, "pageNumber": 1}})
    assert bad.status_code == 400 and bad.json()["details"][0]["fieldName"] == "paging"


def test_job_failures_come_from_the_fault_engine() -> None:
    with make_client(scale=500, faults="job_fail=1.0") as client:
        client.headers.update(auth_headers(client))
        job_id = client.post(JOBS, json={"interval": DAY}).json()["jobId"]
        advance(client, 5)
        status = client.get(f"{JOBS}/{job_id}").json()
        assert_sdk_compatible(status, "AsyncQueryStatus")
        assert status["state"] == "FAILED" and status["errorMessage"]
