"""SDK fidelity sweep: every ``/api/v2`` route the sandbox serves, called with valid inputs, answers
JSON the official SDK (PureCloudPlatformClientV2 269.0.0) can read into the route's return model.

``ROUTE_MODELS`` maps each served route to the SDK's return type of that operation (from the SDK's
``*_api.py``); ``None`` = the SDK expects no body (204). A new route fails here until it has an entry.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import httpx
import pytest
from core_support import auth_headers, make_client, sandbox_state
from fastapi.testclient import TestClient
from sdk_check import assert_sdk_compatible, query_problems

from genesys_sandbox.org import FIXTURES

NORMAL = FIXTURES["normal_campaign"]
BU = FIXTURES["business_unit"]
DAY = "2026-05-13T00:00:00.000Z/2026-05-14T00:00:00.000Z"  # closed: the sandbox clock is 2026-05-15 12:00
# An interval still open at the sandbox clock: ongoing conversations, open aggregate buckets.
OPEN = "2026-05-15T10:00:00.000Z/2026-05-15T14:00:00.000Z"

ROUTE_MODELS: dict[tuple[str, str], str | None] = {
    ("GET", "/api/v2/organizations/limits/namespaces/{namespaceName}"): "LimitsEntityListing",
    ("GET", "/api/v2/organizations/limits/namespaces/{namespaceName}/defaults"): "LimitsEntityListing",
    ("GET", "/api/v2/organizations/limits/docs"): "LimitDocumentation",
    ("GET", "/api/v2/outbound/campaigns"): "CampaignEntityListing",
    ("GET", "/api/v2/outbound/campaigns/{campaignId}"): "Campaign",
    ("PUT", "/api/v2/outbound/campaigns/{campaignId}"): "Campaign",
    ("PATCH", "/api/v2/outbound/campaigns/{campaignId}"): None,
    ("GET", "/api/v2/outbound/campaigns/{campaignId}/stats"): "CampaignStats",
    ("GET", "/api/v2/outbound/campaigns/{campaignId}/progress"): "CampaignProgress",
    ("POST", "/api/v2/outbound/campaigns/progress"): "list[CampaignProgress]",
    ("GET", "/api/v2/outbound/contactlists"): "ContactListEntityListing",
    ("GET", "/api/v2/outbound/contactlists/{contactListId}"): "ContactList",
    ("GET", "/api/v2/outbound/wrapupcodemappings"): "WrapUpCodeMapping",
    ("GET", "/api/v2/routing/wrapupcodes"): "WrapupCodeEntityListing",
    ("GET", "/api/v2/routing/queues"): "QueueEntityListing",
    ("GET", "/api/v2/outbound/schedules/campaigns"): "list[CampaignSchedule]",
    ("GET", "/api/v2/outbound/schedules/campaigns/{campaignId}"): "CampaignSchedule",
    ("PUT", "/api/v2/outbound/schedules/campaigns/{campaignId}"): "CampaignSchedule",
    ("DELETE", "/api/v2/outbound/schedules/campaigns/{campaignId}"): None,
    ("POST", "/api/v2/analytics/conversations/details/query"): "AnalyticsConversationQueryResponse",
    ("GET", "/api/v2/analytics/conversations/details/jobs/availability"): "DataAvailabilityResponse",
    ("POST", "/api/v2/analytics/conversations/details/jobs"): "AsyncQueryResponse",
    ("GET", "/api/v2/analytics/conversations/details/jobs/{job_id}"): "AsyncQueryStatus",
    ("DELETE", "/api/v2/analytics/conversations/details/jobs/{job_id}"): None,
    ("GET", "/api/v2/analytics/conversations/details/jobs/{job_id}/results"): "AnalyticsConversationAsyncQueryResponse",
    ("POST", "/api/v2/analytics/conversations/aggregates/query"): "ConversationAggregateQueryResponse",
    ("POST", "/api/v2/analytics/conversations/aggregates/jobs"): "AsyncQueryResponse",
    ("GET", "/api/v2/analytics/conversations/aggregates/jobs/{job_id}"): "AsyncQueryStatus",
    ("DELETE", "/api/v2/analytics/conversations/aggregates/jobs/{job_id}"): None,
    ("GET", "/api/v2/analytics/conversations/aggregates/jobs/{job_id}/results"): "ConversationAsyncAggregateQueryResponse",
    ("POST", "/api/v2/analytics/reporting/exports"): "ReportingExportJobResponse",
    ("GET", "/api/v2/analytics/reporting/exports"): "ReportingExportJobListing",
    ("GET", "/api/v2/analytics/reporting/exports/metadata"): "ReportingExportMetadataJobListing",
    ("GET", "/api/v2/downloads/{download_id}"): "UrlResponse",
    ("GET", "/api/v2/workforcemanagement/businessunits"): "BusinessUnitListing",
    ("GET", "/api/v2/workforcemanagement/businessunits/{business_unit_id}"): "BusinessUnitResponse",
    ("GET", "/api/v2/workforcemanagement/businessunits/{business_unit_id}/planninggroups"): "PlanningGroupList",
    ("POST", "/api/v2/workforcemanagement/businessunits/{business_unit_id}/intraday"): "AsyncIntradayResponse",
}

Route = tuple[str, str]


class Sweep:
    """Calls routes by their template and keeps every answer per route."""

    def __init__(self, client: TestClient) -> None:
        self.client = client
        self.responses: dict[Route, list[httpx.Response]] = {}

    def call(self, method: str, template: str, *, json: Any = None, params: dict[str, Any] | None = None, **ids: str) -> Any:
        response = self.client.request(method, template.format(**ids), json=json, params=params)
        self.responses.setdefault((method, template), []).append(response)
        assert response.is_success, f"{method} {template} {ids}: {response.status_code} {response.text[:300]}"
        return response.json() if response.content else None

    def advance(self, seconds: float) -> None:
        """Move the sandbox clock (async jobs and exports progress on it)."""
        sandbox_state(self.client).clock.origin += timedelta(seconds=seconds)


def _outbound(s: Sweep) -> None:
    campaign = "/api/v2/outbound/campaigns/{campaignId}"
    s.call("GET", "/api/v2/outbound/campaigns", params={"pageSize": 100})
    s.call("GET", "/api/v2/outbound/campaigns", params={"contactListId": FIXTURES["normal_contact_list"]})
    body = s.call("GET", campaign, campaignId=NORMAL)
    s.call("GET", campaign, campaignId=NORMAL, params={"useMaxCallsPerAgentDecimal": "true"})
    updated = s.call("PUT", campaign, campaignId=NORMAL, json={**body, "abandonRate": 4.0})
    s.call("PUT", campaign, campaignId=NORMAL, params={"useMaxCallsPerAgentDecimal": "true"},
           json={**updated, "maxCallsPerAgentDecimal": 2.5})
    s.call("PATCH", campaign, campaignId=NORMAL, json={"outboundLineCount": 12, "maxCallsPerAgent": 1.5})
    for fixture in ("normal_campaign", "idle_campaign"):
        s.call("GET", campaign + "/stats", campaignId=FIXTURES[fixture])
        s.call("GET", campaign + "/progress", campaignId=FIXTURES[fixture])
    s.call("POST", "/api/v2/outbound/campaigns/progress", json=[NORMAL, FIXTURES["idle_campaign"]])
    s.call("GET", "/api/v2/outbound/contactlists", params={"includeSize": "true"})
    s.call("GET", "/api/v2/outbound/contactlists/{contactListId}", contactListId=FIXTURES["normal_contact_list"],
           params={"includeSize": "true"})
    s.call("GET", "/api/v2/outbound/wrapupcodemappings")
    s.call("GET", "/api/v2/routing/wrapupcodes", params={"pageSize": 100})
    s.call("GET", "/api/v2/routing/wrapupcodes", params={"pageSize": 500, "name": "*call*", "sortBy": "name",
                                                        "sortOrder": "descending", "divisionId": FIXTURES["home_division"]})
    s.call("GET", "/api/v2/routing/queues", params={"pageSize": 500})
    s.call("GET", "/api/v2/routing/queues", params={"pageSize": 2, "pageNumber": 2, "sortOrder": "desc",
                                                   "name": "*s*", "divisionId": FIXTURES["home_division"]})
    schedule = "/api/v2/outbound/schedules/campaigns/{campaignId}"
    s.call("GET", "/api/v2/outbound/schedules/campaigns")
    body = s.call("GET", schedule, campaignId=NORMAL)
    s.call("PUT", schedule, campaignId=NORMAL, json=body)
    s.call("DELETE", schedule, campaignId=NORMAL)


def _analytics(s: Sweep) -> None:
    campaign_filter = [{"type": "and", "predicates": [{"dimension": "outboundCampaignId", "value": NORMAL}]}]
    details = "/api/v2/analytics/conversations/details"
    for interval in (DAY, OPEN):
        s.call("POST", details + "/query", json={"interval": interval, "segmentFilters": campaign_filter,
                                                 "paging": {"pageSize": 50, "pageNumber": 1}})
    s.call("GET", details + "/jobs/availability")
    done = s.call("POST", details + "/jobs", json={"interval": DAY})["jobId"]
    ongoing = s.call("POST", details + "/jobs", json={"interval": OPEN, "segmentFilters": campaign_filter})["jobId"]
    cancelled = s.call("POST", details + "/jobs", json={"interval": DAY})["jobId"]
    s.call("GET", details + "/jobs/{job_id}", job_id=done)  # still QUEUED
    aggregates = "/api/v2/analytics/conversations/aggregates"
    agg_body = {
        "interval": DAY, "granularity": "PT1H", "timeZone": "America/New_York",
        "groupBy": ["outboundCampaignId", "queueId", "mediaType", "wrapUpCode"],
        "metrics": ["nOutboundAttempted", "nOutboundConnected", "tTalk", "tHandle", "tAcw", "nOffered"],
    }
    s.call("POST", aggregates + "/query", json=agg_body)
    s.call("POST", aggregates + "/query", json={**agg_body, "interval": OPEN})
    agg_job = s.call("POST", aggregates + "/jobs", json=agg_body)["jobId"]
    agg_cancelled = s.call("POST", aggregates + "/jobs", json=agg_body)["jobId"]
    s.advance(5)
    for job in (done, ongoing):
        s.call("GET", details + "/jobs/{job_id}", job_id=job)
        s.call("GET", details + "/jobs/{job_id}/results", job_id=job, params={"pageSize": 200})
    s.call("DELETE", details + "/jobs/{job_id}", job_id=cancelled)
    s.call("GET", details + "/jobs/{job_id}", job_id=cancelled)
    s.call("GET", aggregates + "/jobs/{job_id}", job_id=agg_job)
    s.call("GET", aggregates + "/jobs/{job_id}/results", job_id=agg_job)
    s.call("DELETE", aggregates + "/jobs/{job_id}", job_id=agg_cancelled)


def _exports(s: Sweep) -> None:
    exports = "/api/v2/analytics/reporting/exports"
    base = {"locale": "en-US", "timeZone": "UTC", "exportFormat": "CSV", "interval": DAY, "period": "P1D"}
    s.call("POST", exports, json={**base, "name": "summary", "viewType": "CAMPAIGN_PERFORMANCE_SUMMARY_VIEW",
                                  "filter": {"outboundCampaignIds": [NORMAL]}})
    s.call("POST", exports, json={**base, "name": "pdf", "exportFormat": "PDF", "viewType": "QUEUE_PERFORMANCE_SUMMARY_VIEW",
                                  "filter": {}})
    s.call("GET", exports)  # SUBMITTED
    s.advance(5)
    listing = s.call("GET", exports, params={"pageSize": 25, "pageNumber": 1})  # COMPLETED and FAILED
    s.call("GET", exports + "/metadata")
    url = next(e["downloadUrl"] for e in listing["entities"] if e.get("downloadUrl"))
    s.call("GET", "/api/v2/downloads/{download_id}", download_id=url.rsplit("/", 1)[1], params={"issueRedirect": "false"})


def _platform(s: Sweep) -> None:
    for namespace in ("platform.api", "outbound"):
        s.call("GET", "/api/v2/organizations/limits/namespaces/{namespaceName}", namespaceName=namespace)
        s.call("GET", "/api/v2/organizations/limits/namespaces/{namespaceName}/defaults", namespaceName=namespace)
    s.call("GET", "/api/v2/organizations/limits/docs")
    units = "/api/v2/workforcemanagement/businessunits"
    s.call("GET", units)
    s.call("GET", units + "/{business_unit_id}", business_unit_id=BU)
    s.call("GET", units + "/{business_unit_id}", business_unit_id=BU, params={"expand": "settings"})
    s.call("GET", units + "/{business_unit_id}/planninggroups", business_unit_id=BU)
    s.call("POST", units + "/{business_unit_id}/intraday", business_unit_id=BU, json={
        "businessUnitDate": "2026-05-13", "categories": ["ScheduleData", "ForecastData"],
        "planningGroupIds": [FIXTURES["normal_planning_group"]], "intervalLengthMinutes": 15,
    })


@pytest.fixture(scope="module")
def client() -> Iterator[TestClient]:
    with make_client(scale=2000) as test_client:
        test_client.headers.update(auth_headers(test_client))
        yield test_client


@pytest.fixture(scope="module")
def sweep(client: TestClient) -> dict[Route, list[httpx.Response]]:
    calls = Sweep(client)
    for part in (_outbound, _analytics, _exports, _platform):
        part(calls)
    return calls.responses


def _served_routes(client: TestClient) -> set[Route]:
    return {
        (method, route.path)
        for route in client.app.routes
        if getattr(route, "path", "").startswith("/api/v2/")
        for method in getattr(route, "methods", ())
        if method != "HEAD"
    }


def test_every_served_route_has_an_sdk_model_entry(client: TestClient) -> None:
    served = _served_routes(client)
    assert served - set(ROUTE_MODELS) == set(), "routes without an SDK model entry"
    assert set(ROUTE_MODELS) - served == set(), "entries for routes the sandbox does not serve"


def test_every_query_parameter_a_route_takes_is_one_the_sdk_operation_takes(client: TestClient) -> None:
    """The sandbox takes no query parameter the real operation does not (a client relying on one would
    work here and break against the platform)."""
    problems, taken = [], {}
    for route in client.app.routes:
        path = getattr(route, "path", "")
        dependant = getattr(route, "dependant", None)
        if not path.startswith("/api/v2/") or dependant is None:
            continue
        names = [p.alias for p in dependant.query_params]
        taken[path] = set(names)
        problems += [p for method in route.methods - {"HEAD"} for p in query_problems(method, path, names)]
    assert problems == []
    assert {"pageSize", "pageNumber", "name", "id", "divisionId"} <= taken["/api/v2/routing/queues"]
    assert query_problems("GET", "/api/v2/routing/queues", ["distributionQueueId"])  # the check can fail


def test_the_sweep_calls_every_route(sweep: dict[Route, list[httpx.Response]]) -> None:
    assert set(ROUTE_MODELS) - set(sweep) == set()


@pytest.mark.parametrize("route", list(ROUTE_MODELS), ids=lambda r: f"{r[0]} {r[1]}")
def test_route_answers_fit_the_sdk_model(sweep: dict[Route, list[httpx.Response]], route: Route) -> None:
    model = ROUTE_MODELS[route]
    for response in sweep[route]:
        if model is None:
            assert response.status_code == 204 and response.content == b"", response.text
            continue
        payload = response.json()
        if model.startswith("list["):
            assert isinstance(payload, list) and payload, payload
            model = model[5:-1]
        assert_sdk_compatible(payload, model)
