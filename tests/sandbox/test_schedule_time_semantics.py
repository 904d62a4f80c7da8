"""The sandbox reads schedule interval strings as Genesys does: wall-clock time in the schedule's
``timeZone``, whatever suffix they carry (issue 17; docs: genesys-api.md §8). On old main a ``Z`` was
read as UTC, so a refusal of a gap time or the stored wall-clock form below did not happen."""

from __future__ import annotations

import pytest
from core_support import auth_headers, make_client

from genesys_sandbox.org import FIXTURES

CID = FIXTURES["idle_campaign"]
PATH = f"/api/v2/outbound/schedules/campaigns/{CID}"


@pytest.fixture
def api():
    client = make_client()
    client.headers.update(auth_headers(client))
    return client


def _put(api, zone: str, start: str, end: str):
    current = api.get(PATH)
    body = {"intervals": [{"start": start, "end": end}], "campaign": {"id": CID}, "timeZone": zone}
    if current.status_code == 200:
        body["version"] = current.json()["version"]
    return api.put(PATH, json=body)


@pytest.mark.parametrize("zone", ["America/New_York", "Europe/Berlin", "Australia/Sydney"])
@pytest.mark.parametrize("suffix", ["", "Z", "+05:00"])
def test_interval_digits_are_wall_clock_in_the_zone_whatever_the_suffix(api, zone: str, suffix: str) -> None:
    response = _put(api, zone, f"2026-06-12T09:00:00.000{suffix}", f"2026-06-12T18:00:00.000{suffix}")
    assert response.status_code == 200, response.text
    stored = api.get(PATH).json()
    assert stored["timeZone"] == zone
    assert stored["intervals"] == [{"start": "2026-06-12T09:00:00.000Z", "end": "2026-06-12T18:00:00.000Z"}]


@pytest.mark.parametrize(("zone", "day"), [
    ("America/New_York", "2026-03-08"), ("Europe/Berlin", "2026-03-29"), ("Australia/Sydney", "2026-10-04")])
def test_a_spring_forward_gap_time_is_refused(api, zone: str, day: str) -> None:
    response = _put(api, zone, f"{day}T02:30:00.000Z", f"{day}T05:00:00.000Z")
    assert response.status_code == 400, response.text
    assert "intervals[0].start" in [d["fieldName"] for d in response.json()["details"]]
    assert "does not exist" in response.json()["message"]


@pytest.mark.parametrize(("zone", "day"), [
    ("America/New_York", "2026-11-01"), ("Europe/Berlin", "2026-10-25"), ("Australia/Sydney", "2026-04-05")])
def test_a_fall_back_window_is_measured_on_instants(api, zone: str, day: str) -> None:
    # 01:00 -> 03:30 wall clock on the fall-back day spans the repeated hour: accepted, stored as given.
    response = _put(api, zone, f"{day}T01:00:00.000", f"{day}T03:30:00.000")
    assert response.status_code == 200, response.text
    assert api.get(PATH).json()["intervals"] == [{"start": f"{day}T01:00:00.000Z", "end": f"{day}T03:30:00.000Z"}]


def test_an_interval_ending_before_it_starts_in_wall_clock_is_refused(api) -> None:
    response = _put(api, "America/New_York", "2026-06-12T18:00:00.000Z", "2026-06-12T09:00:00.000-10:00")
    assert response.status_code == 400
    assert "intervals[0].end" in [d["fieldName"] for d in response.json()["details"]]
