"""Upstream days a stale asset-triggered pacing run folded in and left out (after a campaign-stats backfill):
recorded in its summary, not failed on, only when the run is stale and each day is stale on its own. A run
that is not stale fails naming every left-out day, as before."""

from __future__ import annotations

from datetime import UTC, datetime
from types import SimpleNamespace

import pytest

from genesys_pipelines.pacing_forecast import output, steps
from genesys_pipelines.windows import resolve_window

DAYS = [resolve_window(logical_date=datetime(2026, 6, d, 3, tzinfo=UTC)) for d in (9, 10, 11)]  # 06-08..06-10


def _staleness(run_after: datetime, restated: tuple[str, ...] = ()):
    return lambda w: steps.run_staleness(w, run_after, {"version": 2} if w.partition() in restated else None, env={})


def test_a_run_that_is_not_stale_leaves_every_left_out_day_to_fail_on() -> None:
    run_after = datetime(2026, 6, 11, 4, tzinfo=UTC)  # the newest day ended 4 h before: not stale
    assert steps.window_staleness(DAYS[2], run_after, env={}) is None
    skipped, uncovered = steps.left_out_windows(DAYS[:2], None, _staleness(run_after))
    assert skipped == [] and uncovered == DAYS[:2]  # even 06-08, stale on its own: today's behaviour


def test_a_stale_run_records_the_left_out_days_that_are_stale_on_their_own() -> None:
    run_after = datetime(2026, 6, 12, 6, tzinfo=UTC)  # 30 h after the newest day's end
    stale = steps.window_staleness(DAYS[2], run_after, env={})
    assert stale
    skipped, uncovered = steps.left_out_windows(DAYS[:2], stale, _staleness(run_after))
    assert uncovered == []
    assert [s["window"] for s in skipped] == ["date=2026-06-08", "date=2026-06-09"]
    assert all(s["stale"].startswith("stale: the run starts") for s in skipped)
    assert skipped[0]["start"] == str(DAYS[0].start) and skipped[0]["end"] == str(DAYS[0].end)


def test_a_stale_run_still_fails_on_a_left_out_day_a_run_of_its_own_could_pace() -> None:
    """The newest day is stale only because it was restated; an older, partial-day window ended 2 h before
    the run: a run of its own could still pace it, so it is not skipped."""
    run_after = datetime(2026, 6, 11, 4, tzinfo=UTC)
    recent = resolve_window(start="2026-06-10T12:00:00+00:00", end="2026-06-11T02:00:00+00:00")
    stale = steps.run_staleness(DAYS[2], run_after, {"version": 2}, env={})
    assert stale and "restated" in stale
    skipped, uncovered = steps.left_out_windows([DAYS[1], recent], stale, _staleness(run_after))
    assert [s["window"] for s in skipped] == ["date=2026-06-09"] and uncovered == [recent]


def test_the_left_out_days_are_in_the_manifest_summary_and_the_audit() -> None:
    window = DAYS[2].to_dict()
    left = [{"window": "date=2026-06-09", "start": "a", "end": "b", "stale": "stale: old"}]
    published = SimpleNamespace(partition="p", manifest_key="m", webhook=None)
    for restated in (False, True):
        what = output.delivery("d", window, [], {}, True, False, "stale: the run starts 30.0 h after",
                               restated=restated, left_out=left)
        [summary] = [r for r in what["audit"](published) if r["event"] == "run_summary"]
        assert summary["status"] == "stale" and summary["details"]["left_out"] == left
        if not restated:
            assert what["manifest_extra"]["summary"]["left_out"] == left
    plain = output.delivery("d", window, [], {}, True, False, None)
    assert "left_out" not in plain["manifest_extra"]["summary"]


def test_fail_on_unprocessed_windows_fails_on_the_uncovered_ones_only(caplog: pytest.LogCaptureFixture) -> None:
    from airflow.sdk.exceptions import AirflowFailException

    from genesys_cloud.upstream import fail_on_unprocessed_windows

    events = {"a": [SimpleNamespace(extra={"window": d.to_dict()}) for d in DAYS]}
    context = {"params": {}, "triggering_asset_events": events}
    left = [{"window": "date=2026-06-08", "stale": "stale: old"}]
    with caplog.at_level("WARNING"):
        fail_on_unprocessed_windows(context, "d", [], left)  # a stale run, every left-out day skipped: green
    assert "date=2026-06-08: stale: old" in caplog.text
    with pytest.raises(AirflowFailException, match=r"1 upstream window\(s\).*date=2026-06-09"):
        fail_on_unprocessed_windows(context, "d", [DAYS[1]], left)
    with pytest.raises(AirflowFailException, match="date=2026-06-08, date=2026-06-09"):
        fail_on_unprocessed_windows(context, "d")  # default: every left-out day, as before
