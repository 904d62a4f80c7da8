"""The hostile-answer write suite (issue 17): for every read the two writers make, answers that are valid
JSON but wrong; each case must end with no unintended write, and every landed write audited.

The writers run their production code (``schedule_provisioning.steps`` read → plan → apply, and
``pacing_forecast.steps.apply_all`` with ``recommend``) over the provider's real outbound verbs and
``put_versioned`` (:class:`HostileHook` replaces only the HTTP transport). :class:`Org` is the truth: the
server's real state. One read position answers a hostile body at its n-th occurrence (optionally after a
409 on the first PUT). The oracle judges every landed PUT against the TRUE state it replaced:

* schedule (merge mode): the PUT's windows (read as wall clock in its own timeZone) must cover every
  true window (``before ⊆ after`` on instants), and the request's version must be the true one;
* pacing: values finite and non-negative, ``abandonRate`` ≤ target, calls per agent and lines inside
  the absolute bounds, and a rise at most ``max_relative_step`` above the true current value.

A write violating that is *unintended*. ``landed`` counts campaigns with at least one landed PUT;
``audited`` those of them whose write-ahead journal row says a write landed or may have landed.
``tools/chaos.py`` prints the figures as the ``WRITES`` line; ``tests/plugins/test_hostile_writes.py``
asserts every case.
"""

from __future__ import annotations

import copy
import math
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from genesys_cloud.exceptions import GenesysConflictError, GenesysNotFoundError
from genesys_cloud.hooks.outbound import OutboundVerbs
from genesys_cloud.hooks.writes import WriteVerbs
from genesys_pipelines.pacing_forecast import recommend as rec
from genesys_pipelines.pacing_forecast import steps as pacing
from genesys_pipelines.pacing_forecast.params import PacingParams
from genesys_pipelines.schedule_provisioning import steps as provisioning
from genesys_pipelines.schedule_provisioning.planning import current_intervals

RUN_AFTER = datetime(2026, 6, 11, 6, tzinfo=UTC)
C = "c-target"  # the campaign written
SIB = "c-sibling"  # shares the contact list and the queue: read, never written
TRUE_WINDOWS = [{"start": "2026-06-20T09:00:00.000Z", "end": "2026-06-20T12:00:00.000Z"},
                {"start": "2026-06-21T09:00:00.000Z", "end": "2026-06-21T12:00:00.000Z"}]
REQUESTED = {"start": "2026-07-01T09:00:00Z", "end": "2026-07-01T12:00:00Z"}
PARAMS = PacingParams(apply=True, max_write_attempts=3)


def _campaign(cid: str, **extra: Any) -> dict[str, Any]:
    return {"id": cid, "name": cid, "version": 5, "priority": 3, "campaignStatus": "on",
            "dialingMode": "predictive", "contactList": {"id": "cl-1"}, "queue": {"id": "q-1"},
            "maxCallsPerAgent": 2, "maxCallsPerAgentDecimal": 2.0, "abandonRate": 3.0, **extra}


def _schedule(cid: str, intervals: list[dict[str, str]], version: int = 3, zone: str = "UTC") -> dict[str, Any]:
    return {"id": cid, "name": f"{cid} schedule", "version": version, "intervals": copy.deepcopy(intervals),
            "timeZone": zone, "campaign": {"id": cid}}


@dataclass
class Org:
    """The server's true state, its landed writes, and the hostile answer of one read position."""

    position: str = ""
    nth: int = 1
    answer: Any = None
    conflict_first_put: bool = False
    campaigns: dict[str, dict[str, Any]] = field(default_factory=lambda: {C: _campaign(C), SIB: _campaign(SIB)})
    schedules: dict[str, dict[str, Any]] = field(default_factory=lambda: {
        C: _schedule(C, TRUE_WINDOWS), SIB: _schedule(SIB, [TRUE_WINDOWS[0]], zone="Europe/Berlin")})
    seen: Counter = field(default_factory=Counter)
    landed: list[tuple[str, str, dict[str, Any], dict[str, Any] | None]] = field(default_factory=list)
    puts: int = 0

    def read(self, position: str, truth: Any) -> Any:
        self.seen[position] += 1
        if position == self.position and self.seen[position] == self.nth:
            return copy.deepcopy(self.answer)
        return copy.deepcopy(truth)


class HostileHook(OutboundVerbs, WriteVerbs):
    """The provider's outbound verbs and versioned write over :class:`Org` instead of HTTP."""

    def __init__(self, org: Org) -> None:
        self.org = org

    def get(self, path: str, params: Any = None) -> Any:
        org, parts = self.org, path.split("/")
        if path.endswith("/outbound/schedules/campaigns"):
            return org.read("schedules.all", list(org.schedules.values()))
        if "/schedules/campaigns/" in path:
            cid = parts[-1]
            if cid not in org.schedules:
                raise GenesysNotFoundError(404, message="no schedule", endpoint=path)
            return org.read("schedule", org.schedules[cid])
        if "/contactlists/" in path:
            return org.read("contact_list", {"id": parts[-1], "name": "list", "size": 1000})
        if "/campaigns/" in path:
            return org.read("campaign", org.campaigns[parts[-1]])
        raise AssertionError(f"unexpected GET {path}")

    def paginate(self, path: str, params: dict[str, Any] | None = None, page_size: int = 100,
                 concurrency: int = 1) -> Iterator[Any]:
        key = "siblings.contact_list" if "contactListId" in (params or {}) else "siblings.queue"
        yield from self.org.read(key, list(self.org.campaigns.values())) or []

    def put(self, path: str, body: dict[str, Any], params: Any = None) -> Any:
        org, cid = self.org, path.split("/")[-1]
        org.puts += 1
        store = org.schedules if "/schedules/" in path else org.campaigns
        if org.conflict_first_put and org.puts == 1:
            raise GenesysConflictError(409, message="version conflict", endpoint=path)
        truth = store.get(cid)
        if truth is not None and body.get("version") != truth.get("version"):
            raise GenesysConflictError(409, message="stale version", endpoint=path)
        kind = "schedule" if store is org.schedules else "campaign"
        org.landed.append((kind, cid, copy.deepcopy(body), copy.deepcopy(truth)))
        store[cid] = {**copy.deepcopy(body), "version": (truth or {}).get("version", 0) + 1}
        return copy.deepcopy(store[cid])

    def delete(self, path: str) -> None:
        org, cid = self.org, path.split("/")[-1]
        org.landed.append(("delete", cid, {}, copy.deepcopy(org.schedules.get(cid))))
        org.schedules.pop(cid, None)


class Journal:
    """The write-ahead journal's interface (``intend``/``complete``), rows kept per entity in memory."""

    def __init__(self) -> None:
        self.rows: dict[str, dict[str, Any]] = {}

    def intend(self, entity_id: str, details: dict[str, Any]) -> None:
        self.rows[entity_id] = {"status": "INTENDED", **details, "write_may_have_landed": True}

    def complete(self, entity_id: str, status: str, details: dict[str, Any]) -> None:
        self.rows[entity_id] = {**details, "status": status}

    def says_landed(self, entity_id: str) -> bool:
        row = self.rows.get(entity_id) or {}
        return bool(row.get("write_may_have_landed") or (row.get("writes") and row.get("status") in (
            "SUCCESS", "APPLIED", "ALREADY_APPLIED")))


# -- the oracle ----------------------------------------------------------------------------------------
def unintended(kind: str, body: dict[str, Any], truth: dict[str, Any] | None, params: PacingParams) -> str | None:
    """Why a landed write was not one the writers may make, or None."""
    if kind == "delete":
        return "a merge deleted a schedule"
    if kind == "schedule":
        try:
            after = set(current_intervals(body))
            before = current_intervals(truth)
        except ValueError as exc:
            return f"unreadable body written: {exc}"
        lost = [i for i in before if not any(a.start <= i.start and i.end <= a.end for a in after)]
        return f"dropped or shortened true windows {lost}" if lost else None
    problems = []
    for key in (rec.FIELD_CALLS, rec.FIELD_ABANDON, rec.FIELD_LINES, "maxCallsPerAgent"):
        value = body.get(key)
        if value is not None and (isinstance(value, bool) or not isinstance(value, int | float)
                                  or not math.isfinite(value) or value < 0):
            problems.append(f"{key}={value!r}")
    calls, true_calls = body.get(rec.FIELD_CALLS), (truth or {}).get(rec.FIELD_CALLS)
    if isinstance(calls, int | float):
        if calls > params.max_calls_per_agent_max + 1e-9:
            problems.append(f"calls {calls} above the bound")
        if isinstance(true_calls, int | float) and calls > true_calls * (1 + params.max_relative_step) + 1e-6:
            problems.append(f"calls {calls} rose more than the step from {true_calls}")
    abandon = body.get(rec.FIELD_ABANDON)
    if isinstance(abandon, int | float) and abandon > params.abandon_rate_target + 1e-9:
        problems.append(f"abandonRate {abandon} above the target")
    return "; ".join(problems) or None


@dataclass
class CaseResult:
    name: str
    landed: int
    audited: int
    unintended: list[str]
    outcome: str


def _judge(name: str, org: Org, journal: Journal, outcome: str, params: PacingParams = PARAMS) -> CaseResult:
    bad = [f"{kind} {cid}: {why}" for kind, cid, body, truth in org.landed
           if (why := unintended(kind, body, truth, params))]
    landed_ids = {cid for _, cid, _, _ in org.landed}
    return CaseResult(name, len(landed_ids), sum(1 for cid in landed_ids if journal.says_landed(cid)), bad, outcome)


# -- the two writers -----------------------------------------------------------------------------------
def run_provisioning(org: Org) -> tuple[Journal, str]:
    hook, journal = HostileHook(org), Journal()
    run = {"mode": "manual", "dry_run": False, "policy": "refuse", "source": "test", "horizon_days": 60,
           "run_after": RUN_AFTER.isoformat(), "max_write_attempts": 3, "fail_on_conflict": False,
           "deliver_webhook": False, "campaign_ids": [C],
           "requests": [{"campaign_id": C, "intervals": [REQUESTED]}]}
    try:
        facts = provisioning.read_facts(hook, [C])
        entries = provisioning.plan_for_run(run, facts)
        outcomes = provisioning.apply_run(hook, run, entries, journal)
    except Exception as exc:  # noqa: BLE001 - a read step failing before any write is a valid end
        return journal, f"read/plan failed: {type(exc).__name__}"
    return journal, ",".join(o["status"] for o in outcomes)


FORECAST = {"hours": [f"2026-06-12T{h:02d}:00:00+00:00" for h in range(24)], "mean": [0.3] * 24,
            "lower": [0.25] * 24, "upper": [0.35] * 24}


_TRUE = object()


def run_pacing(org: Org, analysed: Any = _TRUE, stats: Any = None) -> tuple[Journal, str]:
    """Analysis (the campaign as read, checked like ``fetch_inputs``; recommend; capacity from ``stats``)
    then apply_all."""
    hook, journal = HostileHook(org), Journal()
    campaign = copy.deepcopy(org.campaigns[C]) if analysed is _TRUE else analysed
    try:
        campaign = rec.check_campaign_read(campaign)
        capacity = pacing.cap.capacity_from_idle_agents(FORECAST["hours"], stats if stats is not None else
                                                        {"idleAgents": 10}, "test")
        typical = [50.0] * 24
        plan = rec.recommend(campaign, FORECAST, capacity["agents"], typical, PARAMS, 0.3)
    except Exception as exc:  # noqa: BLE001 - the analysis refusing a hostile read: no write
        return journal, f"analysis failed: {type(exc).__name__}"
    result = {"campaign_id": C, "status": "forecast", "recommendation": plan, "forecast": FORECAST,
              "capacity": capacity, "typical_attempts": typical, "history_rate": 0.3}
    outcomes = pacing.apply_all(hook, [result], PARAMS, {}, journal)
    return journal, ",".join(o["status"] for o in outcomes.values()) or "no write planned"


# -- the cases ------------------------------------------------------------------------------------------
def _hostile_schedules() -> dict[str, Any]:
    good = _schedule(C, TRUE_WINDOWS)
    return {
        "null": None, "empty object": {}, "a list": [good],
        "intervals missing": {k: v for k, v in good.items() if k != "intervals"},
        "intervals null": {**good, "intervals": None}, "intervals empty": {**good, "intervals": []},
        "version missing": {k: v for k, v in good.items() if k != "version"},
        "version negative": {**good, "version": -3}, "version a string": {**good, "version": "3"},
        "zero-length interval": {**good, "intervals": [{"start": TRUE_WINDOWS[0]["start"]} | {
            "end": TRUE_WINDOWS[0]["start"]}]},
        "reversed interval": {**good, "intervals": [{"start": TRUE_WINDOWS[0]["end"], "end": TRUE_WINDOWS[0]["start"]}]},
        "wrong zone, same version": {**good, "timeZone": "Pacific/Kiritimati"},
        "unknown zone": {**good, "timeZone": "Mars/Olympus"},
        "DST-gap interval": {**good, "timeZone": "America/New_York", "intervals": [
            {"start": "2026-03-08T02:30:00.000Z", "end": "2026-03-08T05:00:00.000Z"}]},
        "interval start null": {**good, "intervals": [{"start": None, "end": TRUE_WINDOWS[0]["end"]}]},
        "a window dropped, same version": {**good, "intervals": TRUE_WINDOWS[:1]},
    }


def _hostile_campaigns() -> dict[str, Any]:
    good = _campaign(C)
    return {
        "null": None, "empty object": {},
        "version missing": {k: v for k, v in good.items() if k != "version"},
        "version negative": {**good, "version": -1},
        "abandonRate negative": {**good, "abandonRate": -3.0},
        "abandonRate a string": {**good, "abandonRate": "3"},
        "abandonRate true": {**good, "abandonRate": True},
        "calls negative": {**good, "maxCallsPerAgentDecimal": -1.0, "maxCallsPerAgent": -1},
        "calls far above the bound": {**good, "maxCallsPerAgentDecimal": 40.0, "maxCallsPerAgent": 40},
        "dialingMode missing": {k: v for k, v in good.items() if k != "dialingMode"},
        "pacing fields missing": {k: v for k, v in good.items()
                                  if k not in ("maxCallsPerAgent", "maxCallsPerAgentDecimal", "abandonRate")},
    }


@dataclass
class Case:
    name: str
    position: str
    run: Callable[[], CaseResult]


def _schedule_case(label: str, position: str, nth: int, answer: Any, conflict: bool = False) -> Case:
    def run() -> CaseResult:
        org = Org(position=position, nth=nth, answer=answer, conflict_first_put=conflict)
        journal, outcome = run_provisioning(org)
        return _judge(f"{label}", org, journal, outcome)
    return Case(label, label.split(": ")[0], run)


def _pacing_case(label: str, position: str, nth: int, answer: Any, conflict: bool = False) -> Case:
    def run() -> CaseResult:
        org = Org(position=position, nth=nth, answer=answer, conflict_first_put=conflict)
        journal, outcome = run_pacing(org)
        return _judge(label, org, journal, outcome)
    return Case(label, label.split(": ")[0], run)


def _analysis_case(label: str, campaign: Any = _TRUE, stats: Any = None) -> Case:
    def run() -> CaseResult:
        org = Org()
        journal, outcome = run_pacing(org, analysed=campaign, stats=stats)
        return _judge(label, org, journal, outcome)
    return Case(label, label.split(": ")[0], run)


def cases() -> list[Case]:
    out: list[Case] = []
    schedules = _hostile_schedules()
    # The schedule GET of the written campaign: 1 = planning read, 2 = re-read before the PUT,
    # 3 = the read-back after the PUT, or (with a 409 on the first PUT) the re-read after the 409.
    for where, nth, conflict in (("schedule at plan", 1, False), ("schedule before the PUT", 2, False),
                                 ("schedule after a 409", 3, True), ("schedule read back", 3, False)):
        out += [_schedule_case(f"{where}: {name}", "schedule", nth, body, conflict) for name, body in schedules.items()]
    all_schedules = {"empty list": [], "null item": [None], "empty item": [{}], "an object": {"entities": []},
                     "sibling intervals missing": [{"id": SIB, "campaign": {"id": SIB}, "version": 1}]}
    out += [_schedule_case(f"all schedules: {n}", "schedules.all", 1, b) for n, b in all_schedules.items()]
    campaign_reads = {"null": None, "empty object": {}, "id missing": {"name": "x"},
                      "contact list null": {**_campaign(C), "contactList": None}, "priority negative":
                      {**_campaign(C), "priority": -4}}
    out += [_schedule_case(f"campaign (provisioning): {n}", "campaign", 1, b) for n, b in campaign_reads.items()]
    siblings = {"null item": [None], "item without id": [{"name": "x"}], "null": None}
    out += [_schedule_case(f"siblings by contact list: {n}", "siblings.contact_list", 1, b) for n, b in siblings.items()]
    out += [_schedule_case(f"siblings by queue: {n}", "siblings.queue", 1, b) for n, b in siblings.items()]
    lists = {"size negative": {"id": "cl-1", "size": -5}, "size a string": {"id": "cl-1", "size": "big"},
             "null": None}
    out += [_schedule_case(f"contact list: {n}", "contact_list", 1, b) for n, b in lists.items()]
    campaigns = _hostile_campaigns()
    for where, nth, conflict in (("campaign before the pacing PUT", 1, False),
                                 ("campaign after a pacing 409", 2, True),
                                 ("campaign pacing read back", 2, False)):
        out += [_pacing_case(f"{where}: {name}", "campaign", nth, body, conflict) for name, body in campaigns.items()]
    out += [_analysis_case(f"campaign at analysis: {name}", campaign=body) for name, body in campaigns.items()]
    stats = {"idleAgents negative": {"idleAgents": -5}, "idleAgents huge": {"idleAgents": 10**9},
             "idleAgents a string": {"idleAgents": "ten"}, "idleAgents zero": {"idleAgents": 0}}
    out += [_analysis_case(f"capacity (campaign stats): {name}", stats=body) for name, body in stats.items()]
    return out


def run_all() -> dict[str, Any]:
    """Every case; the figures of the WRITES line and the failing cases."""
    results = [case.run() for case in cases()]
    return {
        "read_positions": len({c.position for c in cases()}),
        "hostile_cases": len(results),
        "unintended_writes": sum(len(r.unintended) for r in results),
        "landed_writes": sum(r.landed for r in results),
        "audited_writes": sum(r.audited for r in results),
        "failures": [r for r in results if r.unintended or r.landed != r.audited],
    }
