"""Write-ahead audit (issue 17, finding 3): the intent is recorded before the PUT and completed after;
an audit store that is down means no write; an exception on one campaign marks it FAILED and the loop
goes on, so every landed write stays audited. On old main a later campaign's exception aborted the
apply loop after earlier PUTs had landed, and nothing recorded them."""

from __future__ import annotations

import sys
from pathlib import Path
from types import SimpleNamespace

import sqlalchemy as sa

from genesys_cloud.sinks.audit import AuditSink, WriteAheadJournal

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
import hostile_writes as hw  # noqa: E402

from genesys_pipelines.schedule_provisioning import steps as provisioning  # noqa: E402


def _context() -> dict:
    ti = SimpleNamespace(dag_id="d", run_id="manual__1", task_id="apply", map_index=-1, try_number=1)
    return {"ti": ti}


def _journal(tmp_path: Path) -> WriteAheadJournal:
    sink = AuditSink(engine=sa.create_engine(f"sqlite:///{tmp_path / 'audit.db'}"))
    return WriteAheadJournal(_context(), "2026-06-11T06:00:00+00:00", "2026-06-11T06:00:00+00:00",
                             "schedule_write", "campaign_schedule", sink=sink,
                             approver={"user": "ops-lead", "chosen": "Approve"})


def _run(org: hw.Org, journal) -> list[dict]:
    hook = hw.HostileHook(org)
    run = {"mode": "manual", "dry_run": False, "policy": "refuse", "source": "t", "horizon_days": 60,
           "run_after": hw.RUN_AFTER.isoformat(), "max_write_attempts": 3, "fail_on_conflict": False,
           "deliver_webhook": False, "campaign_ids": [hw.C],
           "requests": [{"campaign_id": hw.C, "intervals": [hw.REQUESTED]}]}
    entries = provisioning.plan_for_run(run, provisioning.read_facts(hook, [hw.C]))
    return provisioning.apply_run(hook, run, entries, journal)


def test_intent_then_completion_on_one_row_with_the_approver(tmp_path: Path) -> None:
    journal = _journal(tmp_path)
    outcomes = _run(hw.Org(), journal)
    assert [o["status"] for o in outcomes] == ["SUCCESS"]
    rows = journal.sink.rows()
    assert len(rows) == 1 and rows[0]["status"] == "SUCCESS" and rows[0]["entity_id"] == hw.C
    assert rows[0]["details"]["request_digest"] and rows[0]["details"]["approval"]["user"] == "ops-lead"


def test_an_intent_row_stands_when_the_task_dies_mid_write(tmp_path: Path) -> None:
    journal = _journal(tmp_path)
    journal.intend(hw.C, {"planned": {"intervals": []}})
    (row,) = journal.sink.rows()
    assert row["status"] == "INTENDED" and row["details"]["write_may_have_landed"] is True


def test_audit_store_down_means_no_write(tmp_path: Path) -> None:
    journal = _journal(tmp_path)
    journal.sink = AuditSink(engine=sa.create_engine(f"sqlite:///{tmp_path / 'missing' / 'no.db'}"))
    org = hw.Org()
    outcomes = _run(org, journal)
    assert org.landed == [] and outcomes[0]["status"] == "FAILED"
    assert "write-ahead audit failed" in outcomes[0]["error"]


class Exploding(hw.HostileHook):
    def put(self, path, body, params=None):
        raise RuntimeError("something nobody foresaw")


def test_any_exception_marks_the_campaign_failed_and_is_audited(tmp_path: Path) -> None:
    journal, org = _journal(tmp_path), hw.Org()
    hook = Exploding(org)
    run = {"mode": "manual", "dry_run": False, "policy": "refuse", "source": "t", "horizon_days": 60,
           "run_after": hw.RUN_AFTER.isoformat(), "max_write_attempts": 3, "fail_on_conflict": False,
           "deliver_webhook": False, "campaign_ids": [hw.C],
           "requests": [{"campaign_id": hw.C, "intervals": [hw.REQUESTED]}]}
    entries = provisioning.plan_for_run(run, provisioning.read_facts(hook, [hw.C]))
    (outcome,) = provisioning.apply_run(hook, run, entries, journal)
    assert outcome["status"] == "FAILED" and outcome["write_may_have_landed"] is True
    assert "something nobody foresaw" in outcome["error"]
    (row,) = journal.sink.rows()
    assert row["status"] == "FAILED" and row["details"]["write_may_have_landed"] is True


def test_a_dry_run_never_writes_nor_journals() -> None:
    org, journal = hw.Org(), hw.Journal()
    hook = hw.HostileHook(org)
    run = {"mode": "manual", "dry_run": True, "policy": "refuse", "source": "t", "horizon_days": 60,
           "run_after": hw.RUN_AFTER.isoformat(), "max_write_attempts": 3, "fail_on_conflict": False,
           "deliver_webhook": False, "campaign_ids": [hw.C],
           "requests": [{"campaign_id": hw.C, "intervals": [hw.REQUESTED], "prune": True}]}
    entries = provisioning.plan_for_run(run, provisioning.read_facts(hook, [hw.C]))
    assert [o["status"] for o in provisioning.apply_run(hook, run, entries, journal)] == ["DRY_RUN"]
    assert org.landed == [] and org.puts == 0 and journal.rows == {}
