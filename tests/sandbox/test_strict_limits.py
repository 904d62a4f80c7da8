"""The sandbox refuses what the real API refuses: over-long intervals, invented metrics and enum values,
unknown body keys; each answer is a 400 ErrorBody (status, code, message), never a 200 or a 500."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from core_support import auth_headers, make_client
from fastapi.testclient import TestClient
from sdk_check import assert_sdk_compatible

from genesys_pipelines.models.limits import (
    AGGREGATES_JOB_DAYS,
    AGGREGATES_QUERY_DAYS,
    DETAILS_FILTERED_DAYS,
    DETAILS_JOB_DAYS,
    DETAILS_UNFILTERED_DAYS,
    INTERVAL_LIMITS,
    LimitsEntityListing,
)
from genesys_sandbox.org import FIXTURES

DETAILS = "/api/v2/analytics/conversations/details/query"
DETAILS_JOBS = "/api/v2/analytics/conversations/details/jobs"
AGG = "/api/v2/analytics/conversations/aggregates/query"
AGG_JOBS = "/api/v2/analytics/conversations/aggregates/jobs"
EXPORTS = "/api/v2/analytics/reporting/exports"
NORMAL = FIXTURES["normal_campaign"]
END_FILTER = [{"type": "and", "predicates": [{"dimension": "conversationEnd", "operator": "exists"}]}]
PAGE = {"pageSize": 10, "pageNumber": 1}


def days_back(days: int, end: str = "2026-05-15") -> str:
    from datetime import date, timedelta

    stop = date.fromisoformat(end)
    return f"{stop - timedelta(days=days)}T00:00:00.000Z/{stop}T00:00:00.000Z"


@pytest.fixture(scope="module")
def client() -> Iterator[TestClient]:
    with make_client(scale=200) as test_client:
        test_client.headers.update(auth_headers(test_client))
        yield test_client


def assert_bad_request(response: Any, *words: str) -> dict[str, Any]:
    assert response.status_code == 400, response.text
    body = response.json()
    assert_sdk_compatible(body, "ErrorBody")
    assert body["status"] == 400 and body["code"] == "bad.request"
    for word in words:
        assert word in body["message"], body["message"]
    return body


# -- details interval limits ---------------------------------------------------------------------------
def test_unfiltered_details_query_is_limited_to_seven_days(client: TestClient) -> None:
    ok = client.post(DETAILS, json={"interval": days_back(7), "paging": PAGE})
    assert ok.status_code == 200, ok.text
    body = assert_bad_request(client.post(DETAILS, json={"interval": days_back(8), "paging": PAGE}), "7 days")
    assert body["limit"] == {"key": DETAILS_UNFILTERED_DAYS.key, "namespace": "analytics", "value": 7}


@pytest.mark.parametrize("filters", [
    {"conversationFilters": END_FILTER},
    {"segmentFilters": [{"type": "and", "predicates": [{"dimension": "mediaType", "value": "voice"}]}]},
    {"evaluationFilters": [{"type": "and", "predicates": [{"dimension": "evaluationId", "operator": "exists"}]}]},
    {"surveyFilters": [{"type": "and", "predicates": [{"dimension": "surveyId", "operator": "exists"}]}]},
])
def test_filtered_details_query_is_limited_to_31_days(client: TestClient, filters: dict[str, Any]) -> None:
    if "evaluationFilters" not in filters and "surveyFilters" not in filters:
        ok = client.post(DETAILS, json={"interval": days_back(31), "paging": PAGE, **filters})
        assert ok.status_code == 200, ok.text
    too_long = client.post(DETAILS, json={"interval": days_back(32), "paging": PAGE, **filters})
    body = assert_bad_request(too_long, "31 days")
    assert body["limit"]["key"] == DETAILS_FILTERED_DAYS.key


def test_the_limits_are_published_in_the_analytics_namespace(client: TestClient) -> None:
    response = client.get("/api/v2/organizations/limits/namespaces/analytics")
    assert response.status_code == 200, response.text
    assert_sdk_compatible(response.json(), "LimitsEntityListing")
    listing = LimitsEntityListing.model_validate(response.json())
    assert listing.value_of(DETAILS_UNFILTERED_DAYS.key) == 7
    assert listing.value_of(DETAILS_FILTERED_DAYS.key) == 31
    assert {limit.key: listing.value_of(limit.key) for limit in INTERVAL_LIMITS} == {
        limit.key: limit.default_days for limit in INTERVAL_LIMITS}


# -- aggregates and async job interval limits (values assumed: Genesys documents none) ------------------------
@pytest.mark.parametrize(("path", "limit", "ok_status"), [
    (AGG, AGGREGATES_QUERY_DAYS, 200),
    (AGG_JOBS, AGGREGATES_JOB_DAYS, 202),
    (DETAILS_JOBS, DETAILS_JOB_DAYS, 202),
])
def test_aggregates_and_jobs_refuse_an_interval_over_the_published_limit(
    client: TestClient, path: str, limit: Any, ok_status: int,
) -> None:
    body = {"metrics": ["nOutboundAttempted"]} if path != DETAILS_JOBS else {}
    ok = client.post(path, json={"interval": days_back(limit.default_days), **body})
    assert ok.status_code == ok_status, ok.text
    refused = assert_bad_request(client.post(path, json={"interval": days_back(limit.default_days + 1), **body}),
                                 f"{limit.default_days} days")
    assert refused["limit"] == {"key": limit.key, "namespace": "analytics", "value": limit.default_days}


# -- invented metrics, dimensions and enum values ----------------------------------------------------------
def agg_body(**overrides: Any) -> dict[str, Any]:
    return {"interval": days_back(1), "metrics": ["nOutboundAttempted"], **overrides}


@pytest.mark.parametrize(("path", "status"), [(AGG, 200), (AGG_JOBS, 202)])
def test_an_invented_metric_is_refused(client: TestClient, path: str, status: int) -> None:
    assert client.post(path, json=agg_body()).status_code == status
    assert_bad_request(client.post(path, json=agg_body(metrics=["nOutboundAttempted", "nAnswerRate"])), "nAnswerRate")


def test_a_listed_metric_without_data_is_absent_not_refused(client: TestClient) -> None:
    assert client.post(AGG, json=agg_body(metrics=["tVoicemail"])).status_code == 200


def test_unknown_group_by_and_filter_dimensions_are_refused(client: TestClient) -> None:
    assert_bad_request(client.post(AGG, json=agg_body(groupBy=["campaignId"])), "campaignId")
    unknown_dimension = {"type": "and", "predicates": [{"dimension": "campaign", "value": NORMAL}]}
    assert_bad_request(client.post(AGG, json=agg_body(filter=unknown_dimension)), "campaign")


@pytest.mark.parametrize(("dimension", "value"), [("mediaType", "phone"), ("direction", "Outbound"),
                                                   ("originatingDirection", "both")])
def test_unknown_enum_values_in_aggregate_filters_are_refused(client: TestClient, dimension: str, value: str) -> None:
    flt = {"type": "and", "predicates": [{"type": "dimension", "dimension": dimension, "value": value}]}
    assert_bad_request(client.post(AGG, json=agg_body(filter=flt)), value)


def test_unknown_enum_values_in_details_filters_are_refused(client: TestClient) -> None:
    flt = [{"type": "or", "predicates": [{"dimension": "mediaType", "value": "Voice "}]}]
    assert_bad_request(client.post(DETAILS, json={"interval": days_back(1), "segmentFilters": flt}), "Voice ")
    good = [{"type": "or", "predicates": [{"dimension": "mediaType", "value": "voice"}]}]
    assert client.post(DETAILS, json={"interval": days_back(1), "segmentFilters": good}).status_code == 200
    assert_bad_request(client.post(DETAILS_JOBS, json={"interval": days_back(1), "segmentFilters": flt}), "Voice ")


# -- exports ----------------------------------------------------------------------------------------------
EXPORT = {
    "name": "strict-export", "locale": "en-US", "timeZone": "UTC", "exportFormat": "CSV",
    "interval": days_back(1), "period": "P1D", "viewType": "CAMPAIGN_PERFORMANCE_SUMMARY_VIEW",
    "filter": {"outboundCampaignIds": [NORMAL]},
}


@pytest.mark.parametrize("extra", [{"reportDefinitionId": "x"}, {"callbackUrl": "https://example.invalid"},
                                   {"filter": {"outboundCampaignIds": [NORMAL], "campaignIds": [NORMAL]}}])
def test_an_export_with_unexpected_keys_answers_400_not_500(client: TestClient, extra: dict[str, Any]) -> None:
    body = assert_bad_request(client.post(EXPORTS, json={**EXPORT, **extra}))
    assert body["details"], body


def test_an_export_longer_than_the_views_date_limitation_is_refused(client: TestClient) -> None:
    detail = {**EXPORT, "viewType": "INTERACTION_DETAIL_VIEW", "interval": days_back(32)}
    assert_bad_request(client.post(EXPORTS, json=detail), "P31D")
    assert client.post(EXPORTS, json={**detail, "interval": days_back(31)}).status_code == 200


def test_exports_metadata_is_one_answer_with_every_view(client: TestClient) -> None:
    response = client.get(f"{EXPORTS}/metadata")
    assert response.status_code == 200
    body = response.json()
    assert_sdk_compatible(body, "ReportingExportMetadataJobListing")
    assert body["pageCount"] == 1 and len(body["entities"]) == body["total"] >= 8


# -- the request journal --------------------------------------------------------------------------------
def test_the_request_journal_records_paths_statuses_and_intervals(client: TestClient) -> None:
    client.post(DETAILS, json={"interval": days_back(2), "paging": PAGE})
    client.post(DETAILS, json={"interval": days_back(9), "paging": PAGE})
    client.get("/api/v2/organizations/limits/namespaces/analytics")
    client.get(f"{EXPORTS}?pageSize=5&pageNumber=1&pageSize=6")
    journal = client.get("/_sandbox/requests").json()
    *_, ok, refused, limits, listing = journal
    assert ok == {"seq": ok["seq"], "method": "POST", "path": DETAILS, "status": 200, "query": [],
                  "interval": days_back(2)}
    assert refused["status"] == 400 and refused["interval"] == days_back(9) and refused["seq"] == ok["seq"] + 1
    assert limits["path"] == "/api/v2/organizations/limits/namespaces/{namespaceName}" and "interval" not in limits
    assert listing["query"] == ["pageNumber", "pageSize"]  # the names sent, each once, sorted


# -- 429 code variants and the correlation id -------------------------------------------------------------
@pytest.mark.parametrize("code", ["too.many.requests", "too.many.requests.retry.after"])
def test_the_429_code_string_is_a_flag(code: str) -> None:
    with make_client(scale=50, requests_per_minute=1, rate_limit_code=code) as limited:
        limited.headers.update(auth_headers(limited))
        first = limited.get("/api/v2/organizations/limits/namespaces/analytics")
        second = limited.get("/api/v2/organizations/limits/namespaces/analytics")
    assert first.status_code == 200 and second.status_code == 429
    assert second.json()["code"] == code and int(second.headers["Retry-After"]) >= 1


def test_every_api_answer_carries_a_correlation_id_matching_the_error_context(client: TestClient) -> None:
    ok = client.get("/api/v2/organizations/limits/namespaces/analytics")
    assert len(ok.headers["ININ-Correlation-Id"]) == 36
    bad = client.post(DETAILS, json={"interval": days_back(9)})
    assert bad.headers["ININ-Correlation-Id"] == bad.json()["contextId"]
