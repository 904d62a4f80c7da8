"""An asset-triggered run that folds several upstream windows (a multi-day backfill upstream) processes the
newest and then fails naming every other window, with the run that covers it (never a green run)."""

from __future__ import annotations

from datetime import UTC, datetime
from types import SimpleNamespace

import pytest

from genesys_cloud.context import window_from_context
from genesys_cloud.upstream import asset_windows, fail_on_unprocessed_windows, unprocessed_windows
from genesys_pipelines.windows import resolve_window

DAYS = [resolve_window(logical_date=datetime(2026, 6, d, 3, tzinfo=UTC)) for d in (9, 10, 11)]  # 06-08..06-10


def ctx(params=None, events=None):
    dag_run = SimpleNamespace(logical_date=None, run_after=datetime(2026, 6, 11, 4, tzinfo=UTC), run_id="r1")
    return {"params": params or {}, "dag_run": dag_run, "triggering_asset_events": events or {}}


def three_day_backfill() -> dict:
    # the order events arrive in is not the window order (backfill runs finish in any order)
    return {"genesys://campaign_execution_stats": [
        SimpleNamespace(extra={"window": DAYS[1].to_dict()}), SimpleNamespace(extra={"window": DAYS[2].to_dict()}),
        SimpleNamespace(extra={"window": DAYS[0].to_dict()}), SimpleNamespace(extra={"window": DAYS[1].to_dict()}),
    ]}


def test_the_run_processes_the_newest_and_names_the_others() -> None:
    context = ctx(events=three_day_backfill())
    assert [w.partition() for w in asset_windows(context)] == ["date=2026-06-08", "date=2026-06-09", "date=2026-06-10"]
    assert window_from_context(context).partition() == "date=2026-06-10"
    assert [w.partition() for w in unprocessed_windows(context)] == ["date=2026-06-08", "date=2026-06-09"]


def test_unprocessed_windows_fail_the_run_by_name_with_the_covering_runs() -> None:
    from airflow.sdk.exceptions import AirflowFailException

    with pytest.raises(AirflowFailException) as err:
        fail_on_unprocessed_windows(ctx(events=three_day_backfill()), "genesys_campaign_pacing_forecast")
    text = str(err.value)
    assert "2 upstream window(s)" in text and "date=2026-06-08, date=2026-06-09" in text
    assert ("bin/airflow dags trigger genesys_campaign_pacing_forecast --conf "
            "'{\"start\": \"2026-06-08\", \"end\": \"2026-06-09\", \"timezone\": \"UTC\"}'") in text


def test_one_window_or_an_explicit_window_passes() -> None:
    one = {"a": [SimpleNamespace(extra={"window": DAYS[2].to_dict()})]}
    fail_on_unprocessed_windows(ctx(events=one), "d")
    fail_on_unprocessed_windows(ctx(), "d")
    fail_on_unprocessed_windows(ctx({"start": "2026-06-09", "end": "2026-06-10"}, events=three_day_backfill()), "d")


def test_malformed_restatement_facts_count_as_restated() -> None:
    """A restatement block that cannot be read fails closed: the consumer treats the window as stale (it
    used to raise inside the pacing teardown, so the stale summary was never audited)."""
    from genesys_cloud.upstream import window_restatement
    from genesys_pipelines.windows import window_from_asset_extra

    extra = {"window": {"start": "2026-06-10T00:00:00+00:00", "end": "2026-06-11T00:00:00+00:00", "tz": "UTC"}}
    window = window_from_asset_extra(extra)
    assert window is not None
    for block in ({"version": "two"}, ["v2"], {"version": {"n": 2}}):
        context = {"triggering_asset_events": {"stats": [{"extra": {**extra, "restatement": block}}]}}
        assert window_restatement(context, window)["version"] == 2
    assert window_restatement({"triggering_asset_events": {"stats": [{"extra": extra}]}}, window) is None


class _Events(list):
    """The task's inlet-events accessor: ``after(ts)`` filters to events newer than ``ts``."""

    def after(self, since):
        self.since = since
        return _Events(e for e in self if e.timestamp > since)


def test_a_restatement_after_the_run_started_is_a_reason_not_to_write_but_older_ones_and_other_days_are_not() -> None:
    from genesys_cloud.upstream import restated_during_run

    asset = "genesys://campaign_execution_stats"
    started = datetime(2026, 6, 11, 4, tzinfo=UTC)
    restated = {"window": DAYS[2].to_dict(), "restatement": {"version": 3, "restated_from": "ab"}}
    events = _Events([
        SimpleNamespace(timestamp=datetime(2026, 6, 11, 3, tzinfo=UTC), extra=restated),  # before the run: it read it
        SimpleNamespace(timestamp=datetime(2026, 6, 11, 5, tzinfo=UTC), extra={"window": DAYS[2].to_dict()}),
        SimpleNamespace(timestamp=datetime(2026, 6, 11, 5, tzinfo=UTC),
                        extra={"window": DAYS[1].to_dict(), "restatement": {"version": 2}}),  # another day
    ])
    context = {**ctx(), "dag_run": SimpleNamespace(start_date=started), "inlet_events": {asset: events}}
    assert restated_during_run(context, asset, DAYS[2]) is None
    events.append(SimpleNamespace(timestamp=datetime(2026, 6, 11, 6, tzinfo=UTC), extra=restated))
    reason = restated_during_run(context, asset, DAYS[2])
    assert reason and "date=2026-06-10 was restated (version 3) after this run started" in reason
    # an event list that cannot be read fails closed
    assert "could not be read" in restated_during_run({**context, "inlet_events": {}}, asset, DAYS[2])
