"""Request validation, ranking/decisions, planning and the desired-schedules file."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from genesys_pipelines.schedule_provisioning.desired import (
    DEFAULT_DESIRED_PATH,
    DesiredFileError,
    load_desired,
    parse_desired,
)
from genesys_pipelines.schedule_provisioning.engine import plan_run
from genesys_pipelines.schedule_provisioning.planning import plan_change, schedules_equal
from genesys_pipelines.schedule_provisioning.ranking import decide, priority_score, rank
from genesys_pipelines.schedule_provisioning.requests import RequestError, ScheduleRequest, parse_requests

RUN_AFTER = datetime(2026, 6, 11, 6, tzinfo=UTC)
HORIZON = datetime(2026, 9, 1, tzinfo=UTC)


def one(**kw: object) -> ScheduleRequest:
    return parse_requests([{"campaign_id": "camp-a", **kw}], RUN_AFTER)[0]


WINDOW = {"start": "2026-07-01T09:00:00Z", "end": "2026-07-01T12:00:00Z"}
API_WINDOW = {"start": "2026-07-01T09:00:00.000Z", "end": "2026-07-01T12:00:00.000Z"}


# ---- validation -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("item", "field"),
    [
        ({"campaign_id": "a/b", "intervals": [WINDOW]}, "requests[0].campaign_id"),
        (
            {
                "campaign_id": "x",
                "intervals": [{"start": "2026-07-01T09:00:00", "end": "2026-07-01T10:00:00Z"}],
            },
            "requests[0].intervals.0.start",
        ),
        (
            {
                "campaign_id": "x",
                "intervals": [{"start": "2026-07-01T10:00:00Z", "end": "2026-07-01T09:00:00Z"}],
            },
            "requests[0].intervals.0",
        ),
        (
            {
                "campaign_id": "x",
                "intervals": [{"start": "2026-06-01T10:00:00Z", "end": "2026-06-01T11:00:00Z"}],
            },
            "before run_after",
        ),
        (
            {
                "campaign_id": "x",
                "delivery_window": {
                    "start_time": "09:00",
                    "end_time": "17:00",
                    "time_zone": "Nowhere/X",
                    "start_date": "2026-07-01",
                    "end_date": "2026-07-02",
                },
            },
            "requests[0].delivery_window.time_zone",
        ),
        (
            {
                "campaign_id": "x",
                "delivery_window": {
                    "start_time": "09:00",
                    "end_time": "17:00",
                    "time_zone": "UTC",
                    "start_date": "2026-07-03",
                    "end_date": "2026-07-02",
                },
            },
            "end_date must not be before",
        ),
        ({"campaign_id": "x"}, "give intervals"),
        ({"campaign_id": "x", "intervals": [WINDOW], "bogus": 1}, "requests[0].bogus"),
    ],
)
def test_bad_requests_name_the_field(item: dict, field: str) -> None:
    with pytest.raises(RequestError, match=field.replace("[", r"\[").replace("]", r"\]")):
        parse_requests([item], RUN_AFTER)


def test_allow_past_and_duplicates() -> None:
    past = {"start": "2026-06-01T10:00:00Z", "end": "2026-06-01T11:00:00Z"}
    assert parse_requests([{"campaign_id": "x", "intervals": [past], "allow_past": True}], RUN_AFTER)
    with pytest.raises(RequestError, match=r"requests\[1\].campaign_id: x already given"):
        parse_requests([{"campaign_id": "x", "intervals": [WINDOW]}] * 2, RUN_AFTER)


# ---- ranking ----------------------------------------------------------------------------------


def test_priority_dominates_size_then_size_then_id() -> None:
    assert priority_score(5, 0) > priority_score(4, 10**9)
    assert priority_score(3, 20_000) > priority_score(3, 100)
    assert priority_score(None, None) == 1.0
    assert rank({"b": 3.5, "a": 3.5, "c": 4.0}) == ["c", "a", "b"]


def _conflict(kind_other: str, other_id: str = "camp-b"):
    from genesys_pipelines.schedule_provisioning.intervals import Interval
    from genesys_pipelines.schedule_provisioning.overlap import Conflict, TaggedInterval

    i = Interval(datetime(2026, 7, 1, 9, tzinfo=UTC), datetime(2026, 7, 1, 12, tzinfo=UTC))
    kind = "request" if kind_other == "requested" else "sibling"
    return Conflict(kind, TaggedInterval(i, "camp-a", "requested"), TaggedInterval(i, other_id, kind_other))


def test_refuse_policy_refuses_lower_or_equal_against_sibling() -> None:
    low = decide({"camp-a": 2.0}, [_conflict("sibling")], "refuse", {"camp-b": 3.0})
    assert low["camp-a"].refused and "ranks higher" in low["camp-a"].reasons[0]
    assert low["camp-a"].conflicts[0]["other"]["campaign_id"] == "camp-b"
    tie = decide({"camp-a": 3.0}, [_conflict("sibling")], "refuse", {"camp-b": 3.0})
    assert tie["camp-a"].refused
    high = decide({"camp-a": 4.0}, [_conflict("sibling")], "refuse", {"camp-b": 3.0})
    assert not high["camp-a"].refused and high["camp-a"].warnings
    warn = decide({"camp-a": 2.0}, [_conflict("sibling")], "warn", {"camp-b": 3.0})
    assert not warn["camp-a"].refused and warn["camp-a"].warnings


def test_request_conflict_refuses_only_the_lower_ranked() -> None:
    out = decide({"camp-a": 2.0, "camp-b": 4.0}, [_conflict("requested")], "refuse")
    assert out["camp-a"].refused and not out["camp-b"].refused
    assert out["camp-b"].warnings  # the winner is told too


# ---- planning ---------------------------------------------------------------------------------


def current(intervals: list[dict], version: int = 3, **extra: object) -> dict:
    return {
        "id": "s1",
        "name": "A schedule",
        "version": version,
        "intervals": intervals,
        "timeZone": "UTC",
        "campaign": {"id": "camp-a"},
        **extra,
    }


def test_create_update_noop_delete() -> None:
    created = plan_change(one(intervals=[WINDOW]), None, "Camp A")
    # written as wall clock in the schedule's zone (UTC here): no suffix (issue 17)
    assert created.action == "create" and created.after["intervals"] == [
        {k: v.removesuffix("Z") for k, v in API_WINDOW.items()}]
    assert created.after["campaign"] == {"id": "camp-a", "name": "Camp A"} and "version" not in created.after

    noop = plan_change(one(intervals=[WINDOW]), current([API_WINDOW]))
    assert noop.action == "noop" and noop.added == []

    # The API may echo times without milliseconds: still the same instants.
    assert (
        plan_change(
            one(intervals=[WINDOW]),
            current([{"start": "2026-07-01T09:00:00Z", "end": "2026-07-01T12:00:00Z"}]),
        ).action
        == "noop"
    )

    later = {"start": "2026-07-02T09:00:00Z", "end": "2026-07-02T12:00:00Z"}
    merged = plan_change(one(intervals=[later]), current([API_WINDOW]))
    assert merged.action == "update" and merged.after["version"] == 3
    assert len(merged.after["intervals"]) == 2 and merged.removed == []

    replaced = plan_change(one(intervals=[later], prune=True), current([API_WINDOW]))
    assert replaced.action == "update" and replaced.removed == [API_WINDOW]

    deleted = plan_change(one(prune=True), current([API_WINDOW]))
    assert deleted.action == "delete" and deleted.after is None
    assert plan_change(one(prune=True), None).action == "noop"


def test_recurrences_compare_without_server_fields() -> None:
    rec = {
        "start": "2026-07-01T09:00:00",
        "end": "2026-07-01T10:00:00",
        "pattern": {"type": "Daily", "interval": 1},
        "range": {"type": "NoEnd"},
    }
    req = one(intervals=[WINDOW], recurrences=[rec])
    after = plan_change(req, None).after
    echoed = {**after, "version": 1, "recurrences": [{**rec, "id": "r1", "nextOccurrenceDetails": {}}]}
    assert schedules_equal(echoed, after)
    assert plan_change(req, echoed).action == "noop"


# ---- the whole plan ---------------------------------------------------------------------------


def facts(**over: dict) -> dict:
    base = {
        "camp-a": {
            "id": "camp-a",
            "name": "A",
            "priority": 2,
            "contactListId": "cl1",
            "queueId": "q1",
            "contactListSize": 100,
            "schedule": None,
        },
        "camp-b": {
            "id": "camp-b",
            "name": "B",
            "priority": 4,
            "contactListId": "cl1",
            "queueId": "q2",
            "contactListSize": 100,
            "schedule": current([{"start": "2026-07-01T11:00:00.000Z", "end": "2026-07-01T13:00:00.000Z"}]),
        },
        "camp-c": {
            "id": "camp-c",
            "name": "C",
            "priority": 5,
            "contactListId": "cl9",
            "queueId": "q9",
            "contactListSize": 100,
            "schedule": current([{"start": "2026-07-01T09:00:00.000Z", "end": "2026-07-01T13:00:00.000Z"}]),
        },
    }
    base.update(over)
    return base


def test_plan_run_refuses_overlap_with_higher_sibling_and_ignores_unrelated() -> None:
    out = plan_run([one(intervals=[WINDOW])], facts(), "refuse", RUN_AFTER, HORIZON)
    (entry,) = out
    assert entry["refused"]
    assert [(c["kind"], c["other"]["campaign_id"]) for c in entry["conflicts"]] == [("sibling", "camp-b")]
    assert entry["conflicts"][0]["overlap"] == {
        "start": "2026-07-01T11:00:00.000Z",
        "end": "2026-07-01T12:00:00.000Z",
    }
    assert entry["plan"]["action"] == "create"  # the plan is still shown; the refusal stops the write


def test_plan_run_sibling_recurrence_is_expanded() -> None:
    sibling_schedule = {
        "id": "s2",
        "version": 1,
        "intervals": [],
        "timeZone": "Europe/Dublin",
        "recurrences": [
            {
                "start": "2026-06-15T10:30:00",
                "end": "2026-06-15T11:30:00",
                "pattern": {"type": "Daily", "interval": 1},
                "range": {"type": "NoEnd"},
            }
        ],
    }
    f = facts(**{"camp-b": {**facts()["camp-b"], "schedule": sibling_schedule}})
    (entry,) = plan_run([one(intervals=[WINDOW])], f, "refuse", RUN_AFTER, HORIZON)
    # 10:30 Dublin = 09:30Z on 1 July.
    assert entry["refused"] and entry["conflicts"][0]["overlap"]["start"] == "2026-07-01T09:30:00.000Z"


def test_plan_run_orders_by_rank() -> None:
    requests = parse_requests(
        [
            {"campaign_id": "camp-a", "intervals": [WINDOW]},
            {
                "campaign_id": "camp-c",
                "intervals": [{"start": "2026-08-01T09:00:00Z", "end": "2026-08-01T10:00:00Z"}],
            },
        ],
        RUN_AFTER,
    )
    out = plan_run(requests, facts(), "warn", RUN_AFTER, HORIZON)
    assert [e["campaign_id"] for e in out] == ["camp-c", "camp-a"]
    assert [e["rank"] for e in out] == [1, 2]
    assert not any(e["refused"] for e in out) and out[1]["warnings"]


# ---- desired file -----------------------------------------------------------------------------


def test_desired_file_defaults_and_dates(tmp_path: Path) -> None:
    text = """
defaults: {time_zone: Europe/Dublin}
campaigns:
  - campaign_id: camp-a
    delivery_window: {start_time: "09:00", end_time: "17:00", time_zone: Europe/Dublin,
                      start_date: 2026-07-01, end_date: 2026-07-03}
  - campaign_id: camp-b
    prune: true
    time_zone: UTC
"""
    entries = parse_desired(text)
    assert entries[0]["time_zone"] == "Europe/Dublin" and entries[1]["time_zone"] == "UTC"
    assert entries[0]["delivery_window"]["start_date"] == "2026-07-01"  # JSON-safe for XCom
    requests = parse_requests(entries, RUN_AFTER, "desired_schedules")
    assert len(requests[0].resolved_intervals()) == 3 and requests[1].prune


def test_desired_file_errors(tmp_path: Path) -> None:
    with pytest.raises(DesiredFileError, match="campaigns"):
        parse_desired("campaigns: 3")
    with pytest.raises(DesiredFileError, match="missing.yaml"):
        load_desired(tmp_path / "missing.yaml")


def test_shipped_desired_file_is_valid() -> None:
    entries = load_desired(DEFAULT_DESIRED_PATH)
    assert parse_requests(entries, RUN_AFTER, "desired_schedules")


# ---- reconcile: ended windows, params -----------------------------------------------------------


def test_reconcile_skips_ended_windows_and_never_deletes_because_of_them() -> None:
    entry = {
        "campaign_id": "camp-a",
        "prune": True,
        "intervals": [{"start": "2026-06-01T09:00:00Z", "end": "2026-06-01T10:00:00Z"}],
    }
    (req,) = parse_requests([entry], RUN_AFTER, "desired_schedules", skip_ended=True)
    assert req.all_ended and req.resolved_intervals() == []
    assert plan_change(req, current([API_WINDOW])).action == "noop"  # prune + all ended: not a delete
    with pytest.raises(RequestError, match="before run_after"):
        parse_requests([entry], RUN_AFTER, "desired_schedules")
    running = {
        "campaign_id": "camp-a",
        "intervals": [
            {"start": "2026-06-11T05:00:00Z", "end": "2026-06-11T07:00:00Z"},
            {"start": "2026-06-10T05:00:00Z", "end": "2026-06-10T07:00:00Z"},
        ],
    }
    (req,) = parse_requests([running], RUN_AFTER, "desired_schedules", skip_ended=True)
    assert [i.to_api()["start"] for i in req.resolved_intervals()] == ["2026-06-11T05:00:00.000Z"]


def test_mode_and_dry_run_follow_run_type_unless_explicit() -> None:
    from genesys_pipelines.schedule_provisioning.params import RunParams, decide_mode

    assert RunParams().dry_run is True  # issue 14: the form's default renders as what it means (on)
    assert decide_mode(RunParams(), "manual") == ("manual", True)
    # Scheduled runs write only when the deployment enables it, whatever the params say (issue 14).
    assert decide_mode(RunParams(), "scheduled", {}) == ("reconcile", True)
    assert decide_mode(RunParams(dry_run=False), "scheduled", {}) == ("reconcile", True)
    assert decide_mode(RunParams(), "scheduled", {"GENESYS_RECONCILE_APPLY": "true"}) == ("reconcile", False)
    assert decide_mode(RunParams(), "backfill", {}) == ("reconcile", True)
    assert decide_mode(RunParams(mode="reconcile", dry_run=True), "manual") == ("reconcile", True)
    assert decide_mode(RunParams(mode="reconcile", dry_run=False), "manual") == ("reconcile", False)


def test_a_manual_run_with_the_form_defaults_is_a_dry_run_plan_of_the_desired_file() -> None:
    """Issue 14: the form submitted as it opens must not fail with "campaign_id required"."""
    from genesys_pipelines.schedule_provisioning.desired import DEFAULT_DESIRED_PATH, load_desired
    from genesys_pipelines.schedule_provisioning.params import (
        InvalidParam,
        ProvisioningForm,
        RunParams,
        decide_mode,
        resolve_requests,
    )

    assert decide_mode(RunParams(), "manual", manual_request=False) == ("reconcile", True)
    assert decide_mode(RunParams(dry_run=False), "manual", manual_request=False) == ("reconcile", False)
    defaults = ProvisioningForm().model_dump(mode="json")  # every field as the form sends it untouched
    _, mode, dry_run, source, raw, parsed = resolve_requests(defaults, "manual", RUN_AFTER)
    assert (mode, dry_run, source) == ("reconcile", True, str(DEFAULT_DESIRED_PATH.resolve()))
    assert [r.campaign_id for r in parsed] == [e["campaign_id"] for e in load_desired(DEFAULT_DESIRED_PATH)]
    # a manual request without its campaign still fails by name (it is not silently a reconcile)
    with pytest.raises(InvalidParam, match=r"^params.campaign_id: required"):
        resolve_requests({**defaults, "intervals": [{"start": "2026-06-20T10:00:00Z",
                                                     "end": "2026-06-20T11:00:00Z"}]}, "manual", RUN_AFTER)


def test_desired_schedules_path_only_under_a_configured_directory(tmp_path, monkeypatch) -> None:
    from genesys_pipelines.schedule_provisioning.params import InvalidParam, resolve_requests

    secret = tmp_path / "secret.yaml"
    secret.write_text("campaigns: [{campaign_id: TOPSECRETVALUE, intervals: [}")
    monkeypatch.delenv("GENESYS_DESIRED_SCHEDULES_DIR", raising=False)
    with pytest.raises(InvalidParam, match="not under a configured directory") as refused:
        resolve_requests({"mode": "reconcile", "desired_schedules_path": str(secret)}, "manual", RUN_AFTER)
    assert "TOPSECRETVALUE" not in str(refused.value)
    monkeypatch.setenv("GENESYS_DESIRED_SCHEDULES_DIR", str(tmp_path))
    with pytest.raises(InvalidParam, match="not valid YAML at line 1") as broken:
        resolve_requests({"mode": "reconcile", "desired_schedules_path": str(secret)}, "manual", RUN_AFTER)
    assert "TOPSECRETVALUE" not in str(broken.value)


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"mode": "manual"}, r"^params.campaign_id: required"),
        (
            {"mode": "manual", "campaign_id": "x", "delivery_window": {"start_time": "09:00"}},
            r"params.delivery_window.end_time: Field required",
        ),
        ({"mode": "sideways"}, r"^params.mode: "),
        ({"mode": "reconcile", "dry_rn": True}, r"^params.dry_rn: unknown param"),
        ({"conflict_policy": "maybe"}, r"^params.conflict_policy: "),
        (
            {"mode": "reconcile", "desired_schedules_path": "/nope.yaml"},
            r"^desired_schedules_path: /nope.yaml is not under a configured directory",
        ),
    ],
)
def test_param_errors_name_the_param(params: dict, message: str) -> None:
    from genesys_pipelines.schedule_provisioning.params import InvalidParam, resolve_requests

    with pytest.raises(InvalidParam, match=message):
        resolve_requests(params, "manual", RUN_AFTER)


def test_manual_params_map_to_one_request() -> None:
    from genesys_pipelines.schedule_provisioning.params import resolve_requests

    _, mode, dry_run, source, raw, (req,) = resolve_requests(
        {
            "campaign_id": "camp-a",
            "intervals": [WINDOW],
            "schedule_name": "Evenings",
            "prune": False,
            "recurrences": None,
        },
        "manual",
        RUN_AFTER,
    )
    assert (mode, dry_run, source) == ("manual", True, "params")
    assert raw == [{"campaign_id": "camp-a", "intervals": [WINDOW], "name": "Evenings", "prune": False}]
    assert req.name == "Evenings"


def test_own_conflicts_only_in_merge_mode() -> None:
    from genesys_pipelines.schedule_provisioning.apply import own_conflicts, verified

    partial = current([{"start": "2026-07-01T11:00:00.000Z", "end": "2026-07-01T13:00:00.000Z"}])
    assert [c["kind"] for c in own_conflicts(one(intervals=[WINDOW]), partial)] == ["current"]
    assert own_conflicts(one(intervals=[WINDOW], prune=True), partial) == []
    assert own_conflicts(one(intervals=[WINDOW]), current([API_WINDOW])) == []
    plan = plan_change(one(intervals=[WINDOW]), None)
    assert verified(plan, {**plan.after, "version": 1, "id": "s"}) and not verified(plan, None)


def test_apply_revalidates_the_run_instead_of_trusting_the_handed_over_one() -> None:
    """The run dict reaches apply through XCom, which anyone with REST XCom write can change: a manual dry run
    re-labelled a live scheduled run would have skipped the approval and written. apply validates the run's
    own params again and refuses a run that differs, naming what differs."""
    import json

    from genesys_pipelines.errors import InvalidParam
    from genesys_pipelines.schedule_provisioning.params import ProvisioningForm
    from genesys_pipelines.schedule_provisioning.steps import checked_run, resolve_run

    params = ProvisioningForm().model_dump(mode="json")
    handed = json.loads(json.dumps(resolve_run(params, "manual", RUN_AFTER)))  # as XCom carries it
    assert checked_run(handed, params, "manual", RUN_AFTER) == resolve_run(params, "manual", RUN_AFTER)
    forged = {**handed, "run_type": "scheduled", "dry_run": False}
    with pytest.raises(InvalidParam, match=r"^run: .*\(dry_run, run_type\): nothing written"):
        checked_run(forged, params, "manual", RUN_AFTER)
