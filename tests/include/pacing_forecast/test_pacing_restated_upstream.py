"""A restated campaign-stats day (issue 20): its re-emitted asset event (restatement version >= 2) makes the
pacing run stale even the same day, so it recommends nothing and writes nothing. Fails on old main (the
run was fresh: 3 h after the window's end)."""

from __future__ import annotations

from datetime import UTC, datetime
from types import SimpleNamespace

from genesys_cloud.upstream import window_restatement
from genesys_pipelines.pacing_forecast.output import delivery
from genesys_pipelines.pacing_forecast.params import PacingParams
from genesys_pipelines.pacing_forecast.steps import restated_reason, run_staleness, select_campaigns
from genesys_pipelines.windows import Window

DAY = Window(datetime(2026, 6, 10, tzinfo=UTC), datetime(2026, 6, 11, tzinfo=UTC), "UTC", "asset_event")
SAME_DAY = datetime(2026, 6, 11, 3, tzinfo=UTC)  # 3 h after the window's end: not old
RESTATED = {"version": 2, "restated_from": "ab" * 32}


class NoApi:
    def __getattr__(self, name: str):
        raise AssertionError(f"API called for a restated upstream day: {name}")


def events(*extras: dict) -> dict:
    return {"genesys://campaign_execution_stats": [SimpleNamespace(extra=e) for e in extras]}


def test_a_restated_upstream_day_is_stale_the_same_day() -> None:
    assert run_staleness(DAY, SAME_DAY) is None  # the first publication paces
    assert run_staleness(DAY, SAME_DAY, {"version": 1, "restated_from": None}) is None
    reason = run_staleness(DAY, SAME_DAY, RESTATED)
    assert reason and reason.startswith("stale") and "restated" in reason and "version 2" in reason
    assert restated_reason({"version": 1, "restated_from": "cd" * 32})  # restated_from alone is enough


def test_a_restated_upstream_day_selects_nothing_and_calls_no_api() -> None:
    assert select_campaigns(NoApi(), PacingParams(apply=True), DAY, SAME_DAY, RESTATED) == []


def test_the_restatement_is_read_from_the_event_of_the_processed_window() -> None:
    other = Window(datetime(2026, 6, 9, tzinfo=UTC), datetime(2026, 6, 10, tzinfo=UTC))
    first = {"window": DAY.to_dict(), "restatement": {"version": 1, "restated_from": None}}
    again = {"window": {**DAY.to_dict(), "source": "params"}, "restatement": RESTATED}
    elsewhere = {"window": other.to_dict(), "restatement": {"version": 3, "restated_from": "ef" * 32}}
    assert window_restatement({"triggering_asset_events": events(first)}, DAY) is None
    assert window_restatement({"triggering_asset_events": events(elsewhere)}, DAY) is None
    assert window_restatement({"triggering_asset_events": events(first, again)}, DAY) == RESTATED
    assert window_restatement({"triggering_asset_events": {}}, DAY) is None
    assert window_restatement({}, DAY) is None  # a manual run: no event
    # events as the REST/serialised form (mappings) count too
    assert window_restatement({"triggering_asset_events": {"a": [{"extra": again}]}}, DAY) == RESTATED


def test_a_restated_run_publishes_nothing_and_sends_no_webhook() -> None:
    reason = restated_reason(RESTATED)
    what = delivery("genesys_campaign_pacing_forecast", DAY.to_dict(), [], {}, True, True, reason, restated=True)
    assert what["partition"] is False and what["payload"] is None and "objects" not in what
    published = SimpleNamespace(partition=None, manifest_key=None, webhook=None)
    [summary] = what["audit"](published)
    assert summary["status"] == "stale" and "restated" in summary["details"]["stale"]
