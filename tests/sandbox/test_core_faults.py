"""Fault injection: grammar, request faults (applied writes), malformed bodies, job hooks, determinism."""

from __future__ import annotations

import json

import pytest
from core_support import NORMAL, auth_headers, make_client, sandbox_state
from sdk_check import assert_sdk_compatible, sdk_problems

from genesys_sandbox import app as app_module
from genesys_sandbox.faults import FaultEngine, FaultSpecError, malform_body, parse_fault_spec

CAMPAIGN = f"/api/v2/outbound/campaigns/{NORMAL}"


@pytest.fixture
def api():
    client = make_client()
    client.headers.update(auth_headers(client))
    return client


def _faults(api, spec: str) -> dict:
    response = api.post("/_sandbox/faults", json={"spec": spec})
    assert response.status_code == 200, response.text
    return response.json()


def test_fault_spec_grammar() -> None:
    spec = parse_fault_spec(
        "latency=0.2-1.0,5xx=0.1,429=0.05,hang=0.02,revoke_every=50,job_fail=0.5,export_fail=0.25,"
        "job_fail_once=1,export_fail_once=2,slow_jobs=30,version_bump=0.3,lost_write=0.2,"
        "malformed=missing_field|html:0.1"
    )
    assert spec.latency == (0.2, 1.0) and spec.rate_5xx == 0.1 and spec.rate_429 == 0.05
    assert spec.revoke_every == 50 and spec.job_fail_once == 1 and spec.export_fail_once == 2
    assert spec.slow_jobs == 30 and spec.malformed == ("missing_field", "html") and spec.malformed_rate == 0.1
    assert parse_fault_spec("latency=0.5").latency == (0.5, 0.5)
    assert parse_fault_spec("").active() == {}
    for bad in ("5xx=2", "latency=1-0.5", "revoke_every=x", "malformed=gibberish", "boom=1", "5xx"):
        with pytest.raises(FaultSpecError):
            parse_fault_spec(bad)


def test_invalid_spec_via_admin_is_400_and_keeps_the_old_one(api) -> None:
    _faults(api, "latency=0")
    response = api.post("/_sandbox/faults", json={"spec": "5xx=7"})
    assert response.status_code == 400 and "5xx" in response.json()["message"]
    assert api.get("/_sandbox/faults").json()["spec"] == "latency=0"


def test_5xx_on_a_read_is_not_applied_and_is_an_error_body(api) -> None:
    _faults(api, "5xx=1")
    response = api.get(CAMPAIGN)
    assert response.status_code in (500, 502, 503)
    assert_sdk_compatible(response.json(), "ErrorBody")
    assert api.get("/_sandbox/faults").json()["injected"] == {"status_5xx": 1}


@pytest.mark.parametrize(("spec", "statuses"), [("5xx=1", {500, 502, 503}), ("lost_write=1", {504})])
def test_a_faulted_write_is_applied_and_its_answer_lost(api, spec, statuses) -> None:
    campaign = api.get(CAMPAIGN).json()
    _faults(api, spec)
    response = api.put(CAMPAIGN, json={**campaign, "priority": 5})
    assert response.status_code in statuses
    _faults(api, "")
    after = api.get(CAMPAIGN).json()
    assert after["version"] == campaign["version"] + 1 and after["priority"] == 5
    write = api.get("/_sandbox/writes").json()[-1]
    assert write["status"] == 200 and write["fault"] in ("5xx", "lost_write")
    # The retry with the old version now conflicts: the client must re-read (idempotency proof).
    assert api.put(CAMPAIGN, json={**campaign, "priority": 5}).status_code == 409


def test_429_burst(api) -> None:
    _faults(api, "429=1")
    response = api.get(CAMPAIGN)
    assert response.status_code == 429 and response.headers["Retry-After"] == "1"
    assert response.json()["limit"]["namespace"] == "platform.api"


def test_latency_and_hang_sleep_without_blocking(api, monkeypatch) -> None:
    slept: list[float] = []

    async def fake_sleep(seconds: float) -> None:
        slept.append(seconds)

    monkeypatch.setattr(app_module.asyncio, "sleep", fake_sleep)
    _faults(api, "latency=0.2-0.4")
    assert api.get(CAMPAIGN).status_code == 200
    assert len(slept) == 1 and 0.2 <= slept[0] <= 0.4
    _faults(api, "hang=1,hang_for=42")
    assert api.get(CAMPAIGN).status_code == 504 and slept[-1] == 42


def test_revoke_every_n_requests(api) -> None:
    _faults(api, "revoke_every=3")
    assert [api.get(CAMPAIGN).status_code for _ in range(3)] == [200, 200, 401]
    assert api.get(CAMPAIGN).status_code == 401
    assert api.get("/_sandbox/tokens").json()[0]["revoked"] is True
    api.headers.update(auth_headers(api))
    assert api.get(CAMPAIGN).status_code == 200


def test_version_bump_between_read_and_write(api) -> None:
    _faults(api, "version_bump=1")
    campaign = api.get(CAMPAIGN).json()
    conflict = api.put(CAMPAIGN, json=campaign)
    assert conflict.status_code == 409
    _faults(api, "")
    fresh = api.get(CAMPAIGN).json()
    assert fresh["version"] == campaign["version"] + 1
    assert api.put(CAMPAIGN, json=fresh).status_code == 200
    schedule_path = f"/api/v2/outbound/schedules/campaigns/{NORMAL}"
    _faults(api, "version_bump=1")
    schedule = api.get(schedule_path).json()
    assert api.put(schedule_path, json=schedule).status_code == 409


@pytest.mark.parametrize("kind", ["missing_field", "wrong_type", "unknown_enum", "truncated", "html", "empty", "oversized"])
def test_malformed_bodies(api, kind) -> None:
    clean = api.get(CAMPAIGN).json()
    _faults(api, f"malformed={kind}")
    response = api.get(CAMPAIGN)
    if kind == "html":
        assert response.status_code == 502 and response.headers["content-type"].startswith("text/html")
        return
    assert response.status_code == 200
    if kind in ("truncated", "empty"):
        with pytest.raises(ValueError):
            json.loads(response.content)
        return
    body = response.json()
    if kind == "oversized":
        assert len(response.content) > 4_000_000 and body == clean
    elif kind == "missing_field":
        assert "id" not in body and {k: v for k, v in clean.items() if k != "id"} == body
    else:
        assert sdk_problems(body, "Campaign") and body != clean


def test_malform_body_without_targets_keeps_valid_json() -> None:
    status, body, media = malform_body("unknown_enum", b'{"a": "b"}')
    assert (status, json.loads(body), media) == (200, {"a": "b"}, "application/json")


def test_malformed_only_hits_successful_reads(api) -> None:
    _faults(api, "malformed=empty")
    assert api.get("/api/v2/outbound/campaigns/missing").json()["status"] == 404
    campaign = {**sandbox_state(api).org.campaigns[NORMAL]}
    assert api.put(CAMPAIGN, json=campaign).json()["version"] == campaign["version"] + 1


def test_job_and_export_hooks_are_stable_and_once_counts() -> None:
    engine = FaultEngine(seed=1)
    engine.configure("job_fail_once=1,export_fail=1,slow_jobs=12")
    assert engine.should_fail_job("job-a") is True
    assert engine.should_fail_job("job-b") is False
    assert engine.should_fail_job("job-a") is True  # the same job keeps failing
    assert engine.should_fail_export("x") and engine.job_delay_seconds() == 12
    engine.configure("job_fail=0.5")
    decisions = [engine.should_fail_job(f"j{i}") for i in range(200)]
    assert 60 < sum(decisions) < 140
    again = FaultEngine(seed=1)
    again.configure("job_fail=0.5")
    assert decisions == [again.should_fail_job(f"j{i}") for i in range(200)]


def test_request_decisions_are_deterministic_per_seed() -> None:
    def run(seed: int) -> list[list[str]]:
        engine = FaultEngine(seed=seed)
        engine.configure("5xx=0.3,429=0.2,malformed=html|empty:0.3")
        return [engine.decide("GET").names() for _ in range(100)]

    assert run(3) == run(3)
    assert run(3) != run(4)
    assert any(run(3))


def test_malformed_also_hits_read_only_post_queries_but_not_writes() -> None:
    engine = FaultEngine(seed=1)
    engine.configure("malformed=empty")
    assert engine.decide("POST", "/api/v2/analytics/conversations/details/query").malformed == "empty"
    assert engine.decide("PUT", "/api/v2/outbound/campaigns/x").malformed is None
    assert engine.decide("GET", "/api/v2/outbound/campaigns/x").malformed == "empty"
