"""A refused write (400/403) on one campaign: the others are still written, and every write is audited.

The hook double keeps schedules in memory and refuses the PUTs of chosen campaigns with a real
GenesysApiError subclass, so apply_run and deliver_run run their production code end to end (the audit
rows go to a throwaway SQLite database).
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
import sqlalchemy as sa

RUN_AFTER = datetime(2026, 6, 11, 6, tzinfo=UTC)
NEW = {"start": "2026-07-01T09:00:00Z", "end": "2026-07-01T12:00:00Z"}
OLD = {"start": "2026-06-20T09:00:00.000Z", "end": "2026-06-20T12:00:00.000Z"}


from genesys_cloud.hooks.outbound import OutboundVerbs  # noqa: E402
from genesys_cloud.hooks.writes import WriteVerbs  # noqa: E402


class RefusingHook(OutboundVerbs, WriteVerbs):
    """Schedules per campaign id; PUTs of ``refuse`` campaigns raise the given API error. The hook's real
    outbound verbs and versioned write run over this in-memory transport."""

    def __init__(self, schedules: dict[str, dict[str, Any]], refuse: dict[str, Exception]) -> None:
        self.schedules = {k: dict(v) for k, v in schedules.items()}
        self.refuse = refuse
        self.writes: list[tuple[str, str]] = []

    @staticmethod
    def _cid(path: str) -> str:
        return path.rsplit("/", 1)[-1]

    def get(self, path: str, params: Any = None) -> dict[str, Any]:
        from genesys_cloud.exceptions import GenesysNotFoundError

        cid = self._cid(path)
        if cid not in self.schedules:
            raise GenesysNotFoundError(404, message="no schedule", endpoint=path)
        return dict(self.schedules[cid])

    def put(self, path: str, body: dict[str, Any], params: Any = None) -> dict[str, Any]:
        cid = self._cid(path)
        self.writes.append(("PUT", cid))
        if cid in self.refuse:
            raise self.refuse[cid]
        version = (self.schedules.get(cid) or {}).get("version", 0) + 1
        self.schedules[cid] = {**body, "id": f"s-{cid}", "version": version}
        return self.schedules[cid]

    def delete(self, path: str) -> None:
        cid = self._cid(path)
        self.writes.append(("DELETE", cid))
        if cid in self.refuse:
            raise self.refuse[cid]
        self.schedules.pop(cid)


def schedule(cid: str, intervals: list[dict[str, str]], version: int = 3) -> dict[str, Any]:
    return {"id": f"s-{cid}", "name": cid, "version": version, "intervals": intervals, "timeZone": "UTC",
            "campaign": {"id": cid}}


def fact(cid: str, priority: int, sched: dict[str, Any] | None) -> dict[str, Any]:
    # Own contact list and queue each: no sibling overlaps, so every entry is accepted.
    return {"id": cid, "name": cid, "priority": priority, "contactListId": f"cl-{cid}", "queueId": f"q-{cid}",
            "contactListSize": 100, "schedule": sched}


def reconcile_run(requests: list[dict[str, Any]]) -> dict[str, Any]:
    return {"mode": "reconcile", "dry_run": False, "policy": "refuse", "source": "test", "horizon_days": 90,
            "run_after": RUN_AFTER.isoformat(), "max_write_attempts": 3, "fail_on_conflict": True,
            "deliver_webhook": False, "requests": requests, "campaign_ids": [r["campaign_id"] for r in requests]}


# In rank order (priority 5 first): a create, a prune-delete, the refused one, then one more create.
SCHEDULES = {"camp-b": schedule("camp-b", [OLD]), "camp-c": schedule("camp-c", [OLD])}
FACTS = {
    "camp-a": fact("camp-a", 5, None),
    "camp-b": fact("camp-b", 4, SCHEDULES["camp-b"]),
    "camp-c": fact("camp-c", 3, SCHEDULES["camp-c"]),
    "camp-d": fact("camp-d", 1, None),
}
REQUESTS = [
    {"campaign_id": "camp-a", "intervals": [NEW]},
    {"campaign_id": "camp-b", "prune": True},
    {"campaign_id": "camp-c", "intervals": [NEW]},
    {"campaign_id": "camp-d", "intervals": [NEW]},
]


def deliver_run(context: Any, run: dict[str, Any], entries: list[Any], outcomes: list[Any]) -> dict[str, Any]:
    """What the DAG's deliver task does: the provider's delivery step with the pipeline's content."""
    from genesys_cloud.context import run_identity
    from genesys_cloud.sinks.delivery import Delivery, deliver
    from genesys_pipelines.schedule_provisioning import output

    what = output.delivery(run, entries, outcomes, run_identity(context))
    deliver(context, Delivery(**what), bounds=(run["run_after"], run["run_after"]))
    return output.summary(entries, outcomes)


@pytest.fixture
def audit_db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Any:
    from genesys_cloud.sinks import audit

    engine = sa.create_engine(f"sqlite:///{tmp_path / 'audit.db'}")
    real = audit.AuditSink
    # deliver_run builds AuditSink() from the Airflow connection: point it at the throwaway database.
    monkeypatch.setattr(audit, "AuditSink", lambda *a, **k: real(engine=engine))
    return lambda: real(engine=engine).rows(dag_id="sp", run_id="r1")


@pytest.mark.parametrize(
    ("status", "message"),
    [(403, "Missing permission outbound:schedule:edit"), (400, "intervals[0].end: invalid")],
    ids=["403", "400"],
)
def test_a_refused_write_fails_that_campaign_only_and_every_write_is_audited(
    status: int, message: str, audit_db: Any
) -> None:
    from genesys_cloud.exceptions import error_class_for
    from genesys_pipelines.schedule_provisioning.steps import apply_run, plan_for_run

    refusal = error_class_for(status)(status, message=message, endpoint="/api/v2/outbound/schedules/campaigns/x")

    run = reconcile_run(REQUESTS)
    entries = plan_for_run(run, FACTS)
    assert [e["campaign_id"] for e in entries] == ["camp-a", "camp-b", "camp-c", "camp-d"]
    assert [e["plan"]["action"] for e in entries] == ["create", "delete", "update", "create"]
    hook = RefusingHook(SCHEDULES, {"camp-c": refusal})

    outcomes = apply_run(hook, run, entries)  # raised out of the task before the fix

    assert hook.writes == [("PUT", "camp-a"), ("DELETE", "camp-b"), ("PUT", "camp-c"), ("PUT", "camp-d")]
    by_id = {o["campaign_id"]: o for o in outcomes}
    assert {k: o["status"] for k, o in by_id.items()} == {
        "camp-a": "SUCCESS", "camp-b": "SUCCESS", "camp-c": "FAILED", "camp-d": "SUCCESS"}
    assert str(refusal.status) in by_id["camp-c"]["error"] and refusal.message in by_id["camp-c"]["error"]
    assert by_id["camp-c"]["writes"] == 1  # a refusal is definitive: not retried

    context = {"ti": SimpleNamespace(dag_id="sp", run_id="r1", task_id="deliver", map_index=-1, try_number=1)}
    summary = deliver_run(context, run, entries, outcomes)
    assert summary["failed"] == ["camp-c"]  # the DAG's deliver task then fails the run

    rows = {r["entity_id"]: r for r in audit_db() if r["entity_type"] == "campaign_schedule"}
    assert set(rows) == {"camp-a", "camp-b", "camp-c", "camp-d"}
    # PUT (create): before absent, after as read back.
    assert rows["camp-a"]["details"]["before"] is None
    assert rows["camp-a"]["details"]["after"]["intervals"] == hook.schedules["camp-a"]["intervals"]
    # DELETE (prune): before is the old schedule, after absent.
    assert rows["camp-b"]["details"]["before"]["intervals"] == [OLD]
    assert rows["camp-b"]["details"]["after"] is None and "camp-b" not in hook.schedules
    # The refused campaign: unchanged, with the cause.
    assert rows["camp-c"]["status"] == "FAILED"
    assert rows["camp-c"]["details"]["before"] == rows["camp-c"]["details"]["after"] == SCHEDULES["camp-c"]
    assert refusal.message in rows["camp-c"]["details"]["error"]
    assert rows["camp-d"]["details"]["after"]["version"] == 1
    [run_row] = [r for r in audit_db() if r["entity_type"] == "run"]
    assert run_row["status"] == "FAILED"


def test_a_refused_first_read_fails_the_campaign_with_the_planned_state() -> None:
    from genesys_cloud.exceptions import GenesysForbiddenError
    from genesys_pipelines.schedule_provisioning.steps import apply_run, plan_for_run

    class ReadRefused(RefusingHook):
        def get(self, path: str, params: Any = None) -> dict[str, Any]:
            if path.endswith("camp-a"):
                raise GenesysForbiddenError(403, message="Missing permission outbound:schedule:view")
            return super().get(path, params)

    run = reconcile_run(REQUESTS[:2])
    entries = plan_for_run(run, FACTS)
    hook = ReadRefused(SCHEDULES, {})
    outcomes = {o["campaign_id"]: o for o in apply_run(hook, run, entries)}
    assert outcomes["camp-a"]["status"] == "FAILED" and "outbound:schedule:view" in outcomes["camp-a"]["error"]
    assert outcomes["camp-a"]["before"] is None and hook.writes == [("DELETE", "camp-b")]
    assert outcomes["camp-b"]["status"] == "SUCCESS"
