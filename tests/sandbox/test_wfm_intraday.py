"""Workforce management: business units, planning groups and intraday schedule data."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from core_support import auth_headers, make_client
from fastapi.testclient import TestClient
from sdk_check import assert_sdk_compatible

from genesys_sandbox.org import FIXTURES

BU = f"/api/v2/workforcemanagement/businessunits/{FIXTURES['business_unit']}"
GROUP = FIXTURES["normal_planning_group"]
BODY = {"businessUnitDate": "2026-05-13", "categories": ["ScheduleData", "ForecastData"], "planningGroupIds": [GROUP], "intervalLengthMinutes": 60}


@pytest.fixture(scope="module")
def client() -> Iterator[TestClient]:
    with make_client(scale=2000) as test_client:
        test_client.headers.update(auth_headers(test_client))
        yield test_client


def intraday(client: TestClient, body: dict[str, Any]) -> dict[str, Any]:
    response = client.post(f"{BU}/intraday", json=body)
    assert response.status_code == 200, response.text
    assert_sdk_compatible(response.json(), "AsyncIntradayResponse")
    return response.json()


def test_business_units_and_settings(client: TestClient) -> None:
    listing = client.get("/api/v2/workforcemanagement/businessunits").json()
    assert_sdk_compatible(listing, "BusinessUnitListing")
    assert [e["id"] for e in listing["entities"]] == [FIXTURES["business_unit"]]
    plain = client.get(BU).json()
    expanded = client.get(BU, params={"expand": "settings"}).json()
    assert_sdk_compatible(expanded, "BusinessUnitResponse")
    assert "settings" not in plain and expanded["settings"]["timeZone"] == "America/New_York"
    assert client.get("/api/v2/workforcemanagement/businessunits/nope").status_code == 404


def test_planning_groups_route_to_queues(client: TestClient) -> None:
    groups = client.get(f"{BU}/planninggroups").json()
    assert_sdk_compatible(groups, "PlanningGroupList")
    queues = {p["queue"]["id"] for g in groups["entities"] for p in g["routePaths"]}
    assert FIXTURES["normal_queue"] in queues
    assert FIXTURES["no_planning_group_queue"] not in queues


def test_intraday_schedule_per_interval_is_deterministic(client: TestClient) -> None:
    first = intraday(client, BODY)
    again = intraday(client, BODY)
    assert first["status"] == "Complete"
    result = first["result"]
    (grouping,) = result["intradayDataGroupings"]
    schedule = grouping["scheduleDataPerInterval"]
    # A New York day: 24 hourly intervals starting at local midnight (04:00Z in May).
    assert result["startDate"] == "2026-05-13T04:00:00.000Z" and len(schedule) == 24
    assert all(isinstance(s["onQueueTimeSeconds"], int) and s["onQueueTimeSeconds"] % 3600 == 0 for s in schedule)
    assert max(s["onQueueTimeSeconds"] for s in schedule) > 0
    assert again["result"]["intradayDataGroupings"] == result["intradayDataGroupings"]
    # Staffing follows the forecast workload: busy hours get more agents than quiet ones.
    forecast = grouping["forecastDataPerInterval"]
    busiest = max(range(24), key=lambda i: forecast[i]["offered"] * forecast[i]["averageHandleTimeSeconds"])
    quietest = min(range(24), key=lambda i: forecast[i]["offered"] * forecast[i]["averageHandleTimeSeconds"])
    assert schedule[busiest]["onQueueTimeSeconds"] > schedule[quietest]["onQueueTimeSeconds"]


def test_interval_length_and_categories(client: TestClient) -> None:
    result = intraday(client, {**BODY, "intervalLengthMinutes": 15, "categories": ["ScheduleData"]})["result"]
    grouping = result["intradayDataGroupings"][0]
    assert len(grouping["scheduleDataPerInterval"]) == 96 and "forecastDataPerInterval" not in grouping
    default = intraday(client, {k: v for k, v in BODY.items() if k != "intervalLengthMinutes"})["result"]
    assert default["intervalLengthMinutes"] == 15


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"categories": ["ScheduleData"]}, "businessUnitDate"),
        ({"businessUnitDate": "2026-05-13"}, "categories"),
        ({**BODY, "categories": ["Gossip"]}, "categories.0"),
        ({**BODY, "intervalLengthMinutes": 7}, "intervalLengthMinutes"),
        ({**BODY, "planningGroupIds": ["missing"]}, "planningGroupIds"),
    ],
)
def test_bad_intraday_requests_answer_400(client: TestClient, body: dict[str, Any], field: str) -> None:
    response = client.post(f"{BU}/intraday", json=body)
    assert response.status_code == 400, response.text
    assert response.json()["details"][0]["fieldName"] == field
