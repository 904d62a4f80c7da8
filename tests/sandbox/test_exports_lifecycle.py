"""Reporting exports: validation, the list lifecycle, failures, metadata and the CSV download."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from core_support import auth_headers, make_client, sandbox_state
from fastapi.testclient import TestClient
from sdk_check import assert_sdk_compatible

from genesys_sandbox.org import FIXTURES

EXPORTS = "/api/v2/analytics/reporting/exports"
AGG = "/api/v2/analytics/conversations/aggregates/query"
DAY = "2026-05-13T00:00:00.000Z/2026-05-14T00:00:00.000Z"
NORMAL = FIXTURES["normal_campaign"]
REQUEST = {
    "name": "campaign-summary-2026-05-13", "locale": "en-US", "timeZone": "UTC", "exportFormat": "CSV",
    "interval": DAY, "period": "P1D", "viewType": "CAMPAIGN_PERFORMANCE_SUMMARY_VIEW",
    "filter": {"outboundCampaignIds": [NORMAL]},
}


@pytest.fixture
def client() -> Iterator[TestClient]:
    with make_client(scale=1500) as test_client:
        test_client.headers.update(auth_headers(test_client))
        yield test_client


def advance(client: TestClient, seconds: float) -> None:
    sandbox_state(client).clock.origin += timedelta(seconds=seconds)


def listing(client: TestClient, **params: Any) -> dict[str, Any]:
    response = client.get(EXPORTS, params=params)
    assert response.status_code == 200, response.text
    assert_sdk_compatible(response.json(), "ReportingExportJobListing")
    return response.json()


def submit(client: TestClient, **changes: Any) -> dict[str, Any]:
    response = client.post(EXPORTS, json={**REQUEST, **changes})
    assert response.status_code == 200, response.text
    assert_sdk_compatible(response.json(), "ReportingExportJobResponse")
    return response.json()


def download(client: TestClient, export_id: str) -> list[dict[str, str]]:
    entity = next(e for e in listing(client, pageSize=100)["entities"] if e["id"] == export_id)
    assert entity["status"] == "COMPLETED" and entity["percentageComplete"] == 1.0
    response = client.get(entity["downloadUrl"])  # follows the redirect to the signed CSV
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/csv")
    return list(csv.DictReader(io.StringIO(response.text)))


def test_status_goes_submitted_running_completed(client: TestClient) -> None:
    export = submit(client)
    assert export["status"] == "SUBMITTED" and "downloadUrl" not in export
    advance(client, 0.3)
    assert listing(client)["entities"][0]["status"] == "RUNNING"
    advance(client, 1)
    rows = download(client, export["id"])
    assert [r["Campaign ID"] for r in rows] == [NORMAL]


def test_campaign_summary_csv_matches_aggregates(client: TestClient) -> None:
    export = submit(client)
    advance(client, 2)
    (row,) = download(client, export["id"])
    assert list(row)[:4] == ["Interval Start", "Interval End", "Campaign ID", "Contact List ID"]
    body = {"interval": DAY, "metrics": ["nOutboundAttempted", "nOutboundConnected", "tHandle"],
            "filter": {"type": "and", "predicates": [{"dimension": "outboundCampaignId", "value": NORMAL}]}}
    stats = {m["metric"]: m["stats"] for m in client.post(AGG, json=body).json()["results"][0]["data"][0]["metrics"]}
    assert int(row["Attempts"]) == stats["nOutboundAttempted"]["count"]
    assert int(row["Connects"]) == stats["nOutboundConnected"]["count"]
    assert int(row["Total Handle"]) == stats["tHandle"]["sum"]


def test_detail_view_columns_fit_the_view_and_selected_columns_apply(client: TestClient) -> None:
    detail = submit(client, viewType="INTERACTION_DETAIL_VIEW", filter={"mediaTypes": ["email"]}, csvDelimiter="COMMA")
    chosen = submit(client, viewType="CAMPAIGN_ATTEMPT_DETAIL_VIEW",
                    selectedColumns=[{"columnOrder": 2, "columnName": "Result"}, {"columnOrder": 1, "columnName": "Conversation ID"}])
    advance(client, 2)
    rows = download(client, detail["id"])
    assert rows and {r["Media Type"] for r in rows} == {"email"}
    assert all(r["Conversation Start"].startswith("2026-05-13") for r in rows)
    attempts = download(client, chosen["id"])
    assert list(attempts[0]) == ["Conversation ID", "Result"]
    assert {r["Result"] for r in attempts} <= {"connected", "no answer", "abandoned"}


def test_list_is_newest_first_and_page_numbered(client: TestClient) -> None:
    ids = [submit(client, name=f"export-{n}")["id"] for n in range(3)]
    advance(client, 0.01)
    first = listing(client, pageSize=2, pageNumber=1)
    second = listing(client, pageSize=2, pageNumber=2)
    assert first["total"] == 3 and first["pageCount"] == 2 and "nextUri" in first
    assert [e["id"] for e in first["entities"] + second["entities"]] == list(reversed(ids))


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"viewType": "NOT_A_VIEW"}, "viewType"),
        ({"exportFormat": "XLSX"}, "exportFormat"),
        ({"interval": "soon"}, "interval"),
        ({"timeZone": "Nowhere/City"}, "timeZone"),
        ({"selectedColumns": [{"columnOrder": 1, "columnName": "Shoe Size"}]}, "selectedColumns"),
    ],
)
def test_invalid_requests_answer_400_naming_the_field(client: TestClient, change: dict[str, Any], field: str) -> None:
    response = client.post(EXPORTS, json={**REQUEST, **change})
    assert response.status_code == 400, response.text
    assert_sdk_compatible(response.json(), "ErrorBody")
    assert response.json()["details"][0]["fieldName"] == field


@pytest.mark.parametrize("missing", ["name", "locale", "timeZone", "exportFormat", "interval", "period", "viewType", "filter"])
def test_every_required_field_is_checked(client: TestClient, missing: str) -> None:
    response = client.post(EXPORTS, json={k: v for k, v in REQUEST.items() if k != missing})
    assert response.status_code == 400
    assert response.json()["details"][0]["fieldName"] == missing


def test_fault_engine_and_unimplemented_views_fail_exports() -> None:
    with make_client(scale=500, faults="export_fail=1.0") as client:
        client.headers.update(auth_headers(client))
        failed = submit(client)
        advance(client, 2)
        entity = listing(client)["entities"][0]
        assert entity["id"] == failed["id"] and entity["status"] == "FAILED"
        assert entity["exportErrorMessagesType"] and "downloadUrl" not in entity
    with make_client(scale=500) as client:
        client.headers.update(auth_headers(client))
        submit(client, viewType="AGENT_STATUS_DETAIL_VIEW")
        advance(client, 2)
        assert listing(client)["entities"][0]["exportErrorMessagesType"] == "EXPORT_TYPE_NOT_IMPLEMENTED"


def test_no_delete_and_download_needs_the_signature(client: TestClient) -> None:
    export = submit(client)
    assert client.delete(f"{EXPORTS}/{export['id']}").status_code == 404
    advance(client, 2)
    url = listing(client)["entities"][0]["downloadUrl"]
    redirect = client.get(url, follow_redirects=False)
    assert redirect.status_code == 303
    assert client.get(redirect.headers["location"].replace("signature=", "signature=x")).status_code == 403
    assert client.get(url, params={"issueRedirect": "false"}).json()["url"] == redirect.headers["location"]


def test_metadata_lists_views_with_columns(client: TestClient) -> None:
    response = client.get(f"{EXPORTS}/metadata", params={"pageSize": 100})
    assert response.status_code == 200
    assert_sdk_compatible(response.json(), "ReportingExportMetadataJobListing")
    views = {e["viewType"]: e for e in response.json()["entities"]}
    for view in ("CAMPAIGN_PERFORMANCE_SUMMARY_VIEW", "CAMPAIGN_INTERACTION_DETAIL_VIEW", "QUEUE_PERFORMANCE_SUMMARY_VIEW",
                 "AGENT_PERFORMANCE_SUMMARY_VIEW", "WRAP_UP_PERFORMANCE_SUMMARY_VIEW", "INTERACTION_DETAIL_VIEW"):
        assert views[view]["availableColumnIds"] and views[view]["dateLimitations"]
        assert "outboundCampaignIds" in views[view]["supportedFilters"]
