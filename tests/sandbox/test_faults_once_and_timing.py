"""``version_bump_once`` (a reproducible 409 race) and the configurable async job / export timing."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
from core_support import NORMAL, auth_headers, make_client, sandbox_state
from fastapi.testclient import TestClient
from sdk_check import assert_sdk_compatible

from genesys_sandbox.__main__ import parse_args
from genesys_sandbox.faults import FaultEngine, parse_fault_spec

CAMPAIGN = f"/api/v2/outbound/campaigns/{NORMAL}"
SCHEDULE = f"/api/v2/outbound/schedules/campaigns/{NORMAL}"
JOBS = "/api/v2/analytics/conversations/details/jobs"
AGG_JOBS = "/api/v2/analytics/conversations/aggregates/jobs"
EXPORTS = "/api/v2/analytics/reporting/exports"
DAY = "2026-05-13T00:00:00.000Z/2026-05-14T00:00:00.000Z"


def _client(**overrides) -> TestClient:
    client = make_client(**overrides)
    client.headers.update(auth_headers(client))
    return client


def _advance(client: TestClient, seconds: float) -> None:
    sandbox_state(client).clock.origin += timedelta(seconds=seconds)


@pytest.fixture
def api() -> Iterator[TestClient]:
    with _client() as client:
        yield client


def test_grammar_accepts_version_bump_once_and_rejects_bad_counts() -> None:
    spec = parse_fault_spec("version_bump_once=2,version_bump=0.1")
    assert spec.version_bump_once == 2 and spec.version_bump == 0.1
    assert spec.active() == {"version_bump_once": 2, "version_bump": 0.1}
    for bad in ("version_bump_once=-1", "version_bump_once=0.5", "version_bump_once="):
        with pytest.raises(ValueError):
            parse_fault_spec(bad)


def test_version_bump_once_races_exactly_n_read_write_cycles() -> None:
    engine = FaultEngine(seed=7)
    engine.configure("version_bump_once=2")
    engine.note_read("campaign", "a")
    engine.note_read("campaign", "a")  # a second read of an entity already raced uses no extra bump
    assert engine.take_version_bump("campaign", "a") is True
    assert engine.take_version_bump("campaign", "a") is False  # the retry after a re-read wins
    engine.note_read("schedule", "a")
    engine.note_read("campaign", "b")  # the budget of 2 is spent
    assert engine.take_version_bump("schedule", "a") is True
    assert engine.take_version_bump("campaign", "b") is False
    assert engine.injected == {"version_bump": 2}
    engine.configure("version_bump_once=1")  # reconfiguring restores the budget
    engine.note_read("campaign", "b")
    assert engine.take_version_bump("campaign", "b") is True


def test_version_bump_once_does_not_draw_from_the_rng() -> None:
    """Request decisions are the same whether or not a once-race fired in between."""
    spec = "5xx=0.5,version_bump_once=3"
    quiet, raced = FaultEngine(seed=3), FaultEngine(seed=3)
    quiet.configure(spec)
    raced.configure(spec)
    first = [quiet.decide("GET").names() for _ in range(20)]
    raced.note_read("campaign", "x")
    raced.note_read("schedule", "y")
    assert first == [raced.decide("GET").names() for _ in range(20)]


def test_version_bump_once_over_http_races_the_next_n_read_write_cycles(api: TestClient) -> None:
    assert api.post("/_sandbox/faults", json={"spec": "version_bump_once=1"}).status_code == 200
    campaign = api.get(CAMPAIGN).json()
    conflict = api.put(CAMPAIGN, json=campaign)
    assert conflict.status_code == 409 and conflict.json()["status"] == 409
    fresh = api.get(CAMPAIGN).json()  # the client re-reads and retries once
    assert fresh["version"] == campaign["version"] + 1
    assert api.put(CAMPAIGN, json=fresh).status_code == 200
    assert api.post("/_sandbox/faults", json={"spec": "version_bump_once=2"}).status_code == 200
    statuses = []
    for _ in range(3):
        schedule = api.get(SCHEDULE).json()
        statuses.append(api.put(SCHEDULE, json=schedule).status_code)
    assert statuses == [409, 409, 200]
    assert api.get("/_sandbox/faults").json()["injected"] == {"version_bump": 2}


def test_job_seconds_sets_when_jobs_are_fulfilled() -> None:
    with _client(job_seconds=30) as client:
        details = client.post(JOBS, json={"interval": DAY}).json()["jobId"]
        aggregates = client.post(AGG_JOBS, json={"interval": DAY, "metrics": ["nOutbound"]}).json()["jobId"]
        states = []
        for step in (1, 14, 16):  # QUEUED for 40% of the run (12 s), PENDING until 30 s
            _advance(client, step)
            status = client.get(f"{JOBS}/{details}").json()
            assert_sdk_compatible(status, "AsyncQueryStatus")
            states.append((status["state"], client.get(f"{AGG_JOBS}/{aggregates}").json()["state"]))
        assert states == [("QUEUED", "QUEUED"), ("PENDING", "PENDING"), ("FULFILLED", "FULFILLED")]
        assert client.get(f"{JOBS}/{details}/results").status_code == 200


def test_zero_job_seconds_fulfils_at_once() -> None:
    with _client(job_seconds=0) as client:
        job = client.post(JOBS, json={"interval": DAY}).json()["jobId"]
        assert client.get(f"{JOBS}/{job}").json()["state"] == "FULFILLED"


def test_export_seconds_sets_when_exports_complete() -> None:
    request = {
        "name": "timing", "locale": "en-US", "timeZone": "UTC", "exportFormat": "CSV", "interval": DAY,
        "period": "P1D", "viewType": "QUEUE_PERFORMANCE_SUMMARY_VIEW", "filter": {},
    }
    with _client(export_seconds=45) as client:
        assert client.post(EXPORTS, json=request).json()["status"] == "SUBMITTED"
        statuses = []
        for step in (10, 10, 26):  # SUBMITTED for a third of the run (15 s), RUNNING until 45 s
            _advance(client, step)
            statuses.append(client.get(EXPORTS).json()["entities"][0]["status"])
        assert statuses == ["SUBMITTED", "RUNNING", "COMPLETED"]


def test_slow_jobs_adds_to_the_configured_time() -> None:
    with _client(job_seconds=2, faults="slow_jobs=10") as client:
        job = client.post(JOBS, json={"interval": DAY}).json()["jobId"]
        _advance(client, 5)
        assert client.get(f"{JOBS}/{job}").json()["state"] == "PENDING"
        _advance(client, 8)
        assert client.get(f"{JOBS}/{job}").json()["state"] == "FULFILLED"


def test_cli_flags_reach_the_config() -> None:
    config = parse_args(["--job-seconds", "3.5", "--export-seconds", "7"])
    assert (config.job_seconds, config.export_seconds) == (3.5, 7.0)
    defaults = parse_args([])
    assert (defaults.job_seconds, defaults.export_seconds) == (0.5, 0.6)
    with pytest.raises(SystemExit):
        parse_args(["--job-seconds", "-1"])
