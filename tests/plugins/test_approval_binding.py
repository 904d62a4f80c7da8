"""Approval binding cannot be forged (issue 17): apply reads the approval task instance's recorded
human-in-the-loop answer itself (from the api-server), never the approval task's XCom, and writes only
with a person's ``Approve`` of exactly the plan it is about to write.

Each case runs the production path of the schedule writer (read → plan → review recomputed by apply →
``approved_journal`` → ``apply_run``) over the hostile-answer suite's in-memory org, with a task instance
whose XCom holds a forged ``Approve`` (as anyone with REST XCom write can leave there) and a given HITL
record. On the old main, apply trusted the approval task's XCom and the review task's ``required`` flag:
the forged XCom wrote.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import httpx
import pytest
import sqlalchemy as sa

from genesys_cloud import approvals
from genesys_cloud.sinks.audit import AuditSink, approved_journal
from genesys_pipelines.schedule_provisioning import steps as provisioning

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
import hostile_writes as hw  # noqa: E402

FORGED = {"chosen_options": ["Approve"], "params_input": {}, "responded_at": "2026-06-11T07:00:00+00:00",
          "responded_by_user": {"id": "mallory", "name": "mallory"}}
HUMAN = {"id": "7", "name": "ops-lead"}


class ForgedXComTI(SimpleNamespace):
    """A task instance whose XCom says Approve for every task (forged over REST) and required=False."""

    def xcom_pull(self, task_ids: Any = None, key: str = "return_value", **_: Any) -> Any:
        if key == "review":
            return {"required": False, "digest": "0" * 64, "body": "nothing to approve"}
        return FORGED


def _run() -> dict[str, Any]:
    return {"mode": "manual", "run_type": "manual", "dry_run": False, "policy": "refuse", "source": "t",
            "horizon_days": 60, "run_after": hw.RUN_AFTER.isoformat(), "max_write_attempts": 3,
            "fail_on_conflict": False, "deliver_webhook": False, "campaign_ids": [hw.C],
            "requests": [{"campaign_id": hw.C, "intervals": [hw.REQUESTED]}]}


def _plan(org: hw.Org) -> list[dict[str, Any]]:
    return provisioning.plan_for_run(_run(), provisioning.read_facts(hw.HostileHook(org), [hw.C]))


def _record(shown: dict[str, Any], **answer: Any) -> dict[str, Any]:
    """The HITL detail as ``GET …/hitlDetails`` returns it after the approval task asked (body = shown)."""
    return {"task_instance": {"task_id": "approve", "state": "success"}, "options": ["Approve", "Reject"],
            "subject": "Write these campaign schedules?", "body": shown["body"], "defaults": ["Reject"],
            "multiple": False, "params": {}, "assigned_users": [], "response_received": True,
            "responded_at": "2026-06-11T07:00:00Z", "responded_by_user": HUMAN, "chosen_options": ["Approve"],
            "params_input": {}, **answer}


def _apply(tmp_path: Path, org: hw.Org, entries: list[dict[str, Any]], record: Any,
           error: str = "") -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """apply's code: review recomputed from ``entries``, the answer read by the reader, then the writes."""
    ti = ForgedXComTI(dag_id="genesys_campaign_schedule_provisioning", run_id="manual__1", task_id="apply",
                      map_index=-1, try_number=1)
    shown = provisioning.review(_run(), entries, sandbox=True)
    journal, approved = approved_journal({"ti": ti}, hw.RUN_AFTER, hw.RUN_AFTER, "schedule_write",
                                         "campaign_schedule", shown, reader=lambda _ctx: (record, error))
    journal.sink = AuditSink(engine=sa.create_engine(f"sqlite:///{tmp_path / 'audit.db'}"))
    outcomes = provisioning.apply_run(hw.HostileHook(org), _run(), entries, journal, approved)
    return outcomes, (journal.sink.rows() if org.landed else [])


@pytest.fixture(autouse=True)
def _approvals_required(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GENESYS_WRITE_APPROVAL", "required")  # the suite's conftest turns it off for dag.test()


def _shown(entries: list[dict[str, Any]]) -> dict[str, Any]:
    return provisioning.review(_run(), entries, sandbox=True)


def test_a_persons_recorded_approve_of_this_plan_writes_and_names_the_approver(tmp_path: Path) -> None:
    org = hw.Org()
    entries = _plan(org)
    outcomes, rows = _apply(tmp_path, org, entries, _record(_shown(entries)))
    assert [o["status"] for o in outcomes] == ["SUCCESS"] and len(org.landed) == 1
    approval = rows[0]["details"]["approval"]
    assert approval["approved"] is True and approval["approver"] == "ops-lead"
    assert approval["digest"] == _shown(entries)["digest"]


def _refused(tmp_path: Path, record: Any, entries: list[dict[str, Any]] | None = None, error: str = "",
             org: hw.Org | None = None) -> str:
    org = org or hw.Org()
    entries = entries if entries is not None else _plan(org)
    outcomes, rows = _apply(tmp_path, org, entries, record, error)
    assert org.landed == [], org.landed  # nothing written
    assert [o["status"] for o in outcomes] == ["NOT_APPROVED"]
    assert org.schedules[hw.C]["intervals"] == hw.TRUE_WINDOWS
    assert rows == []  # no intent: nothing was about to be written (deliver audits the outcome)
    return str(outcomes[0]["error"])


def test_a_forged_xcom_approve_without_a_recorded_answer_writes_nothing(tmp_path: Path) -> None:
    """The approval task was skipped (or marked success before it asked): no HITL record at all, though
    its XCom says Approve and the review's XCom says no approval is required."""
    reason = _refused(tmp_path, None)
    assert "no approval record" in reason


def test_an_approval_task_marked_success_by_hand_writes_nothing(tmp_path: Path) -> None:
    """Marked success while waiting: the record exists, no answer was received."""
    org = hw.Org()
    entries = _plan(org)
    record = _record(_shown(entries), response_received=False, responded_by_user=None, responded_at=None,
                     chosen_options=None)
    assert "no recorded answer" in _refused(tmp_path, record, entries, org=org)


def test_a_reject_writes_nothing(tmp_path: Path) -> None:
    org = hw.Org()
    entries = _plan(org)
    assert "Reject" in _refused(tmp_path, _record(_shown(entries), chosen_options=["Reject"]), entries, org=org)


def test_a_timeout_writes_nothing(tmp_path: Path) -> None:
    """The scheduler's response timeout writes the default (Reject) with nobody as the responder; even a
    default of Approve by nobody would not be an approval."""
    org = hw.Org()
    entries = _plan(org)
    for chosen in (["Reject"], ["Approve"]):
        record = _record(_shown(entries), chosen_options=chosen, responded_by_user=None)
        assert "recorded by nobody" in _refused(tmp_path, record, entries, org=org)


def test_an_approval_of_another_plan_writes_nothing(tmp_path: Path) -> None:
    """The person approved plan A; the plan apply is about to write is B (changed after the approval, or a
    forged plan XCom): digest mismatch."""
    org = hw.Org()
    approved_entries = _plan(org)
    record = _record(_shown(approved_entries))
    changed = json.loads(json.dumps(approved_entries))
    changed[0]["plan"]["after"]["intervals"].append({"start": "2026-07-02T09:00:00Z", "end": "2026-07-02T12:00:00Z"})
    assert "digest mismatch" in _refused(tmp_path, record, changed, org=org)


def test_an_approval_body_showing_another_diff_writes_nothing(tmp_path: Path) -> None:
    """A forged review XCom rendered a harmless-looking body around the real digest: the person did not see
    the plan apply would write."""
    org = hw.Org()
    entries = _plan(org)
    shown = _shown(entries)
    record = _record(shown, body=f"Plan digest `{shown['digest']}`\n\nnothing changes")
    assert "another diff" in _refused(tmp_path, record, entries, org=org)


def test_an_unreadable_record_writes_nothing_and_says_why(tmp_path: Path) -> None:
    reason = _refused(tmp_path, None, error="approval record unreadable: ConnectError reaching the api-server")
    assert "unreadable" in reason


def test_an_unreadable_record_fails_the_run_naming_the_cause_but_a_reject_does_not(tmp_path: Path) -> None:
    """A misconfigured ``airflow_api`` login used to end every apply run green with NOT_APPROVED: writes
    stopped in silence. A person's Reject stays a green run; an unreadable record is a deployment fault."""
    from genesys_pipelines.approval import approval_fault
    from genesys_pipelines.pacing_forecast.output import run_fault

    org = hw.Org()
    entries = _plan(org)
    why = "approval record unreadable: the api-server refused the 'airflow_api' login (401)"
    outcomes, _ = _apply(tmp_path, org, entries, None, error=why)
    assert not org.landed and {o["status"] for o in outcomes} == {"NOT_APPROVED"}
    fault = approval_fault(outcomes)
    assert fault and hw.C in fault and "refused the 'airflow_api' login (401)" in fault
    by_campaign = {o["campaign_id"]: o for o in outcomes}
    assert run_fault(by_campaign) == fault  # the pacing DAG's deliver fails on the same fault
    rejected, _ = _apply(tmp_path, org, entries, _record(_shown(entries), chosen_options=["Reject"]))
    assert {o["status"] for o in rejected} == {"NOT_APPROVED"}
    assert approval_fault(rejected) is None and run_fault({o["campaign_id"]: o for o in rejected}) is None


def _outcome(tmp_path: Path, record: Any, error: str = "", entries_of: Any = None) -> dict[str, Any]:
    org = hw.Org()
    entries = _plan(org)
    outcomes, _ = _apply(tmp_path, org, entries, record(_shown(entries)) if callable(record) else record, error)
    assert org.landed == [] and [o["status"] for o in outcomes] == ["NOT_APPROVED"]
    return outcomes[0]


@pytest.mark.parametrize(("record", "error", "cause", "detail"), [
    (None, "approval record unreadable: ConnectError reaching the api-server", "unreadable", "ConnectError"),
    (None, "", "no_record", "no approval record"),
    (lambda shown: _record(shown, response_received=False, responded_by_user=None, chosen_options=None), "",
     "unanswered", "no recorded answer"),
    (lambda shown: _record(shown, chosen_options=["Reject"], responded_by_user=None), "", "timeout", "by nobody"),
    (lambda shown: _record(shown, chosen_options=["Reject"]), "", "declined", "answer ['Reject']"),
    (lambda shown: _record(shown, body=f"Plan digest `{shown['digest']}`\n\nnothing"), "", "other_plan", "another diff"),
])
def test_a_not_approved_outcome_carries_its_cause_and_detail(tmp_path: Path, record: Any, error: str, cause: str,
                                                             detail: str) -> None:
    """The cause is set where the outcome is built (machine-readable); the message users read is unchanged."""
    from genesys_pipelines.approval import CAUSES, approval_fault, refusal

    outcome = _outcome(tmp_path, record, error)
    assert outcome["cause"] == cause and cause in CAUSES and detail in outcome["detail"]
    assert outcome["error"] == refusal(SimpleNamespace(reason=outcome["detail"]))  # same text as before
    assert (approval_fault([outcome]) is not None) is (cause == "unreadable")


def test_a_declined_approval_whose_text_reads_like_an_unreadable_record_does_not_fail_the_run(tmp_path: Path) -> None:
    """The run fails on the cause, never on the text: a person's "no" whose recorded answer (or any reason)
    happens to contain the reader's marker words is still a declined approval, a green run. On the old code
    ``approval_fault`` found the marker in the message and failed the run."""
    from genesys_pipelines.approval import UNREADABLE, approval_fault
    from genesys_pipelines.pacing_forecast.output import run_fault

    words = f"{UNREADABLE}: the api-server refused the 'airflow_api' login (401)"
    outcome = _outcome(tmp_path, lambda shown: _record(shown, chosen_options=[words]))
    assert UNREADABLE in outcome["error"]  # the text users read says what the approver chose
    assert approval_fault([outcome]) is None and run_fault({hw.C: outcome}) is None
    assert outcome["cause"] == "declined"


def test_outcomes_stored_by_an_earlier_version_are_still_classified() -> None:
    """An apply XCom (a deliver retried after an upgrade) or audit row from before causes were recorded has
    no ``cause``: an unreadable record there still fails the run, naming the cause; any other stays green."""
    from genesys_pipelines.approval import approval_cause, approval_fault

    why = "approval record unreadable: the api-server refused the 'airflow_api' login (401)"
    old = {"campaign_id": "c1", "status": "NOT_APPROVED",
           "error": f"no recorded approval for this plan: not written ({why})"}
    declined = {"campaign_id": "c2", "status": "NOT_APPROVED",
                "error": "no recorded approval for this plan: not written (answer ['Reject'])"}
    assert approval_cause(old) == "unreadable" and approval_cause(declined) == "unknown"
    fault = approval_fault([old, declined])
    assert fault and fault.startswith("nothing written for c1: ") and why in fault
    assert approval_fault([declined]) is None and approval_cause({"status": "SUCCESS"}) is None


# -- the reader: the api-server's record, read with the airflow_api connection ---------------------------
def _conn(monkeypatch: pytest.MonkeyPatch, host: str = "http://api.test", deployed: str = "http://api.test") -> None:
    conn = SimpleNamespace(host=host, schema=None, port=None, login="reader", password="s3cr3t-pw")
    monkeypatch.setattr("airflow.sdk.BaseHook.get_connection", staticmethod(lambda _cid: conn))
    monkeypatch.setenv("GENESYS_AIRFLOW_API_URL", deployed)


def test_the_reader_asks_only_the_deployments_api_server(monkeypatch: pytest.MonkeyPatch) -> None:
    """A connection editor pointing airflow_api at their own server (which would answer "Approve" and collect
    the password) is refused before any request; the URL comes from deployment config."""
    _conn(monkeypatch, host="https://evil.example.com", deployed="http://127.0.0.1:8080")
    sent: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        sent.append(str(request.url))
        return httpx.Response(201 if request.url.path == "/auth/token" else 200,
                              json={"access_token": "tok", "response_received": True, "chosen_options": ["Approve"]})

    record, error = approvals.read_hitl_detail("d", "r", transport=httpx.MockTransport(handler))
    assert record is None and sent == [] and "not this deployment's api-server" in error
    _conn(monkeypatch, host="", deployed="http://127.0.0.1:8080")  # empty host: the deployment's server
    record, error = approvals.read_hitl_detail("d", "r", transport=httpx.MockTransport(handler))
    assert error == "" and sent[0].startswith("http://127.0.0.1:8080/auth/token")


@pytest.mark.parametrize("answer", [
    httpx.Response(502, text="<html>bad gateway</html>"), httpx.Response(200, text="<html>login</html>"),
    httpx.Response(200, json=["Approve"]), httpx.Response(201, json={"no": "token"})])
def test_the_reader_refuses_a_malformed_answer_cleanly(monkeypatch: pytest.MonkeyPatch, answer: httpx.Response) -> None:
    _conn(monkeypatch)

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/auth/token" and answer.status_code == 201:
            return answer
        if request.url.path == "/auth/token":
            return httpx.Response(201, json={"access_token": "tok"})
        return answer

    record, error = approvals.read_hitl_detail("d", "r", transport=httpx.MockTransport(handler))
    assert record is None and error.startswith("approval record unreadable")


def test_the_reader_logs_in_and_reads_the_approval_task_instances_record(monkeypatch: pytest.MonkeyPatch) -> None:
    _conn(monkeypatch)
    seen: list[tuple[str, str, str | None]] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append((request.method, request.url.raw_path.decode(), request.headers.get("authorization")))
        if request.url.path == "/auth/token":
            assert json.loads(request.content) == {"username": "reader", "password": "s3cr3t-pw"}
            return httpx.Response(201, json={"access_token": "tok"})
        return httpx.Response(200, json={"response_received": True, "chosen_options": ["Approve"]})

    record, error = approvals.read_hitl_detail("genesys_campaign_schedule_provisioning", "manual__2026-06-11T06:00:00+00:00",
                                               transport=httpx.MockTransport(handler))
    assert error == "" and record["chosen_options"] == ["Approve"]
    assert seen[1] == ("GET", "/api/v2/dags/genesys_campaign_schedule_provisioning/dagRuns/"
                       "manual__2026-06-11T06%3A00%3A00%2B00%3A00/taskInstances/approve/-1/hitlDetails", "Bearer tok")


@pytest.mark.parametrize(("token_status", "status", "expect"), [
    (201, 404, ""), (401, 200, "refused the 'airflow_api' login (401)"), (201, 403, "answered 403")])
def test_the_reader_fails_closed_and_never_quotes_the_password(monkeypatch: pytest.MonkeyPatch, token_status: int,
                                                              status: int, expect: str) -> None:
    _conn(monkeypatch)

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/auth/token":
            return httpx.Response(token_status, json={"access_token": "tok", "detail": "s3cr3t-pw"})
        return httpx.Response(status, json={"detail": "nope"})

    record, error = approvals.read_hitl_detail("d", "r", transport=httpx.MockTransport(handler))
    assert record is None and expect in error and "s3cr3t-pw" not in error


def test_the_reader_on_an_unreachable_api_server(monkeypatch: pytest.MonkeyPatch) -> None:
    _conn(monkeypatch)

    def handler(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused", request=request)

    record, error = approvals.read_hitl_detail("d", "r", transport=httpx.MockTransport(handler))
    assert record is None and "ConnectError" in error
