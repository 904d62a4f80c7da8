"""The sandbox's late-data knobs: conversations landing on a past day, and a lagging data lake."""

from __future__ import annotations

from typing import Any

import httpx


def details(sandbox: Any, day: str, nxt: str) -> dict[str, Any]:
    token = httpx.post(f"{sandbox.sandbox_url}/oauth/token", data={"grant_type": "client_credentials"},
                       auth=("sandbox-client", "sandbox-secret")).json()["access_token"]
    body = {"interval": f"{day}T00:00:00.000Z/{nxt}T00:00:00.000Z", "order": "desc", "orderBy": "conversationEnd",
            "paging": {"pageSize": 1, "pageNumber": 1}}
    answer = httpx.post(f"{sandbox.sandbox_url}/api/v2/analytics/conversations/details/query", json=body,
                        headers={"Authorization": f"Bearer {token}"}, timeout=60)
    answer.raise_for_status()
    return answer.json()


def availability(sandbox: Any) -> str:
    token = httpx.post(f"{sandbox.sandbox_url}/oauth/token", data={"grant_type": "client_credentials"},
                       auth=("sandbox-client", "sandbox-secret")).json()["access_token"]
    return httpx.get(f"{sandbox.sandbox_url}/api/v2/analytics/conversations/details/jobs/availability",
                     headers={"Authorization": f"Bearer {token}"}).json()["dataAvailabilityDate"]


def test_late_data_changes_that_day_only_and_a_reset_forgets_it(sandbox: Any) -> None:
    before = {d: details(sandbox, d, n)["totalHits"] for d, n in (("2026-06-08", "2026-06-09"),
                                                                   ("2026-06-09", "2026-06-10"))}
    answer = sandbox.admin.post("/_sandbox/late_data", json={"day": "2026-06-09", "conversations": 40})
    assert answer.status_code == 200 and answer.json()["added"] == 40
    assert details(sandbox, "2026-06-09", "2026-06-10")["totalHits"] == before["2026-06-09"] + 40
    assert details(sandbox, "2026-06-08", "2026-06-09")["totalHits"] == before["2026-06-08"]
    assert sandbox.admin.post("/_sandbox/late_data", json={"day": "2026-06-11", "conversations": 1}).status_code == 400
    assert sandbox.admin.post("/_sandbox/late_data", json={"day": "2026-06-09", "conversations": 0}).status_code == 400
    sandbox.reset()
    assert details(sandbox, "2026-06-09", "2026-06-10")["totalHits"] == before["2026-06-09"]


def test_the_data_lake_can_lag(sandbox: Any) -> None:
    assert availability(sandbox).startswith("2026-06-11T05:")  # an hour behind the 06:00 clock
    moved = sandbox.admin.post("/_sandbox/data_availability", json={"lag_hours": 72}).json()
    assert moved["dataAvailabilityDate"].startswith("2026-06-08T06:") and availability(sandbox).startswith("2026-06-08T06:")
    assert sandbox.admin.post("/_sandbox/data_availability", json={"lag_hours": -1}).status_code == 400
    sandbox.reset()
    assert availability(sandbox).startswith("2026-06-11T05:")
