"""Review findings on the pacing forecast: media-type capacity, compact XCom, per-window baseline, and a
refused write on one campaign that must not hide the writes already made to others."""

from __future__ import annotations

from typing import Any

import pytest

from genesys_pipelines.pacing_forecast import capacity as cap
from genesys_pipelines.pacing_forecast import history
from genesys_pipelines.pacing_forecast import output as out
from genesys_pipelines.pacing_forecast import recommend as rec
from genesys_pipelines.pacing_forecast.params import PacingParams
from genesys_pipelines.windows import Window

START = "2026-06-11T04:00:00.000Z"


def intraday(groupings: list[tuple[str, list[int]]]) -> dict[str, Any]:
    return {"status": "Complete", "result": {
        "startDate": START, "endDate": "2026-06-12T04:00:00.000Z", "intervalLengthMinutes": 60,
        "intradayDataGroupings": [
            {"mediaType": media, "scheduleDataPerInterval": [{"onQueueTimeSeconds": s} for s in seconds]}
            for media, seconds in groupings]}}


# ---- 4. capacity counts the Voice grouping only ------------------------------------------------------------
def test_capacity_uses_the_voice_grouping_not_the_sum_over_media_types() -> None:
    payload = intraday([("Callback", [3600, 3600]), ("Voice", [7200, 10800]), ("Email", [1800, 1800])])
    intervals = cap.agents_per_interval(payload)
    assert sorted(intervals.values()) == [2.0, 3.0]  # not 3.5 / 4.5: callback and email agents excluded


def test_no_voice_grouping_falls_back_with_the_reason() -> None:
    hours = [f"2026-06-11T{h:02d}:00:00+00:00" for h in range(4, 6)]
    payload = intraday([("Callback", [3600, 3600])])
    assert cap.capacity_from_wfm(hours, [payload], {"id": "pg"}, "UTC") is None
    assert cap.wfm_gap_reason([payload], {"id": "pg"}) == "planning group pg has no Voice intraday grouping (only Callback)"
    empty = {"status": "Complete", "result": {"startDate": START, "intervalLengthMinutes": 60,
                                              "noDataReason": "NoPublishedSchedule"}}
    assert "no intraday schedule" in cap.wfm_gap_reason([empty], {"id": "pg"})


# ---- 3. the API step hands the CPU step compact history ---------------------------------------------------
def test_dense_history_round_trips_to_the_same_grid(make_counts: Any, window: Window) -> None:
    import json

    span = history.history_window(window, 14)
    counts = make_counts(16)  # two days more than the span: those hours are outside and dropped
    dense = history.counts_to_dense(counts, span)
    assert len(dense["attempted"]) == 14 * 24
    assert len(json.dumps(dense)) < 4 * len(json.dumps(history.counts_to_records(counts)))
    back = history.hourly_grid(history.dense_to_counts(dense), span)
    assert back.equals(history.hourly_grid(counts, span))


# ---- 2. a re-run of the same window bounds from the recorded before ---------------------------------------
HOURS = [f"2026-06-11T{h:02d}:00:00+00:00" for h in range(24)]
FORECAST = {"hours": HOURS, "mean": [0.2] * 24, "lower": [0.15] * 24, "upper": [0.25] * 24}
TYPICAL, AGENTS = [0.0] * 8 + [20.0] * 13 + [0.0] * 3, [30.0] * 24
CAMPAIGN = {"id": "c1", "version": 7, "dialingMode": "predictive", "abandonRate": 3.0, "maxCallsPerAgent": 2,
            "maxCallsPerAgentDecimal": 2.0}


def _recorded(plan: dict[str, Any], apply: dict[str, Any] | None = None) -> dict[str, Any]:
    entry = {"campaign_id": "c1", "recommendation": plan, **({"apply": apply} if apply else {})}
    doc = out.recommendations_json([entry], {"start": "s", "end": "e", "tz": "UTC", "interval": "i"})
    return out.recorded_plans(doc)["c1"]


def test_rerun_after_apply_recommends_the_same_target_not_another_step() -> None:
    params = PacingParams(apply=True)
    first = rec.recommend(CAMPAIGN, FORECAST, AGENTS, TYPICAL, params)
    assert first["after"]["maxCallsPerAgentDecimal"] == pytest.approx(2.4)  # one 20 % step
    written = rec.apply_to_campaign(CAMPAIGN, first) | {"version": 8}
    # Without the record, the same window compounds: 2.4 → 2.88.
    assert rec.recommend(written, FORECAST, AGENTS, TYPICAL, params)["after"]["maxCallsPerAgentDecimal"] > 2.8
    recorded = _recorded(first, {"status": "APPLIED", "applied_recommendation": first["after"]})
    baseline = rec.window_baseline(written, recorded)
    assert baseline is not None
    assert rec.recommend(baseline, FORECAST, AGENTS, TYPICAL, params) == first


def test_recorded_baseline_is_ignored_when_someone_else_moved_the_fields() -> None:
    first = rec.recommend(CAMPAIGN, FORECAST, AGENTS, TYPICAL, PacingParams())
    recorded = _recorded(first)
    assert rec.window_baseline(CAMPAIGN, recorded) is not None  # untouched: same baseline
    moved = {**CAMPAIGN, "maxCallsPerAgentDecimal": 1.5, "version": 9}
    assert rec.window_baseline(moved, recorded) is None
    assert rec.window_baseline({**CAMPAIGN, "dialingMode": "power"}, recorded) is None


# ---- 1. a refused write on one campaign -----------------------------------------------------------------
from genesys_cloud.hooks.outbound import OutboundVerbs  # noqa: E402
from genesys_cloud.hooks.writes import WriteVerbs  # noqa: E402


class Campaigns(OutboundVerbs, WriteVerbs):
    """Campaigns by id; PUTs of the ``refuse`` ids raise the given status. The hook's real outbound verbs
    and versioned write run over this in-memory transport."""

    def __init__(self, campaigns: list[dict[str, Any]], refuse: dict[str, int]) -> None:
        self.campaigns = {c["id"]: dict(c) for c in campaigns}
        self.refuse = refuse
        self.puts: list[str] = []

    def get(self, path: str, params: Any = None) -> dict[str, Any]:
        return dict(self.campaigns[path.rsplit("/", 1)[-1]])

    def put(self, path: str, body: dict[str, Any], params: Any = None) -> dict[str, Any]:
        from genesys_cloud.exceptions import error_class_for

        cid = path.rsplit("/", 1)[-1]
        self.puts.append(cid)
        if cid in self.refuse:
            status = self.refuse[cid]
            raise error_class_for(status)(status, message=f"refused with {status}", endpoint=path)
        self.campaigns[cid] = {**body, "version": body["version"] + 1}
        return self.campaigns[cid]


def analysed(campaign: dict[str, Any]) -> dict[str, Any]:
    plan = rec.recommend(campaign, FORECAST, AGENTS, TYPICAL, PacingParams())
    return {"campaign_id": campaign["id"], "status": "forecast", "forecast": FORECAST, "typical_attempts": TYPICAL,
            "capacity": {"source": "wfm_intraday_schedule", "agents": AGENTS}, "recommendation": plan}


@pytest.mark.parametrize("status", [400, 403])
def test_a_refused_write_fails_that_campaign_and_the_others_are_still_applied(status: int) -> None:
    from genesys_pipelines.pacing_forecast.steps import apply_all

    campaigns = [{**CAMPAIGN, "id": cid} for cid in ("c1", "c2", "c3")]
    hook = Campaigns(campaigns, {"c2": status})
    outcomes = apply_all(hook, [analysed(c) for c in campaigns], PacingParams(apply=True))  # type: ignore[arg-type]
    assert hook.puts == ["c1", "c2", "c3"]  # c3 still written after c2 was refused
    assert {k: o["status"] for k, o in outcomes.items()} == {"c1": "APPLIED", "c2": "FAILED", "c3": "APPLIED"}
    failed = outcomes["c2"]
    assert f"refused with {status}" in failed["error"] and str(status) in failed["error"]
    assert failed["writes"] == 1 and failed["before"] == failed["after"]  # a refusal is definitive
    assert outcomes["c1"]["after"]["maxCallsPerAgentDecimal"] == pytest.approx(2.4)


def test_rerun_replays_the_recorded_apply_outcome_without_writing() -> None:
    from genesys_pipelines.pacing_forecast.steps import apply_all

    hook = Campaigns([CAMPAIGN], {})
    params = PacingParams(apply=True)
    first = apply_all(hook, [analysed(CAMPAIGN)], params)  # type: ignore[arg-type]
    assert hook.puts == ["c1"]
    result = analysed(CAMPAIGN)
    entry = out.recommendation_entry(result, first["c1"])
    doc = out.recommendations_json([entry], {"start": "s", "end": "e", "tz": "UTC", "interval": "i"})
    recorded = out.recorded_plans(doc)
    # The re-run: the analysis bounds from the recorded before, apply finds the target held.
    baseline = rec.window_baseline(hook.campaigns["c1"], recorded["c1"])
    again = {**result, "recommendation": rec.recommend(baseline, FORECAST, AGENTS, TYPICAL, params)}
    second = apply_all(hook, [again], params, recorded)  # type: ignore[arg-type]
    assert hook.puts == ["c1"]  # nothing written
    assert second["c1"]["replayed"] is True
    assert out.recommendations_json([out.recommendation_entry(again, second["c1"])],
                                    {"start": "s", "end": "e", "tz": "UTC", "interval": "i"}) == doc
