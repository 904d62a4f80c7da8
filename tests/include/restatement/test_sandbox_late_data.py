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


def day_columns(synth: Any, day: Any) -> dict[str, Any]:
    import numpy as np

    blocks = list(synth.iter_blocks(day))
    ids = np.concatenate([b.h1 for b in blocks]), np.concatenate([b.h2 for b in blocks])
    ends = np.concatenate([b.end for b in blocks])
    starts = np.concatenate([b.start for b in blocks])
    return {(int(a), int(b)): (int(s), int(e)) for a, b, s, e in zip(*ids, starts, ends, strict=True)}


def test_late_data_only_adds_conversations_so_the_latest_end_never_decreases() -> None:
    """Late data used to regenerate the whole day (every start time scales with the day's count): the
    day's conversations changed and its latest conversationEnd could go DOWN (the restatement probe then
    saw a change no real late data makes). The day's conversations now stay as they were."""
    from datetime import UTC, date, datetime, timedelta

    from genesys_sandbox.org import build_org
    from genesys_sandbox.synth import Synth, synth_org_from

    now = datetime(2026, 6, 11, 6, tzinfo=UTC)
    for scale, batches in ((200, (1, 5)), (2000, (5, 50))):
        for back in range(2, 9):
            day = date(2026, 6, 11) - timedelta(days=back)
            synth = Synth(synth_org_from(build_org(1234, now)), 1234, scale)
            before = day_columns(synth, day)
            latest = max(e for _, e in before.values())
            for n, added in enumerate(batches, start=1):
                synth.add_late(day, added)
                after = day_columns(synth, day)
                assert len(after) == len(before) + added
                assert {k: after[k] for k in before} == before  # every earlier conversation unchanged
                starts = [s for s, _ in sorted(after.values())]
                assert max(e for _, e in after.values()) >= latest, (scale, day, n)
                blocks = list(synth.iter_blocks(day))
                merged = [int(s) for b in blocks for s in b.start]
                assert merged == sorted(merged) and sorted(merged) == starts  # still in start order
                before, latest = after, max(e for _, e in after.values())


def test_the_probe_of_a_day_with_late_data_sees_more_hits_and_a_latest_end_no_earlier(sandbox: Any) -> None:
    days = [(f"2026-06-0{d}", f"2026-06-0{d + 1}") for d in range(2, 9)]
    before = {d: details(sandbox, d, n) for d, n in days}
    for d, _ in days:
        assert sandbox.admin.post("/_sandbox/late_data", json={"day": d, "conversations": 3}).status_code == 200
    try:
        for d, n in days:
            after = details(sandbox, d, n)
            assert after["totalHits"] == before[d]["totalHits"] + 3
            assert after["conversations"][0]["conversationEnd"] >= before[d]["conversations"][0]["conversationEnd"], d
    finally:
        sandbox.reset()
