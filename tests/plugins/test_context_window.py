"""window_from_context: the Airflow side of the one window helper (params, logical date, run_after, assets)."""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from types import SimpleNamespace

import pytest

from genesys_cloud.context import run_identity, window_from_context
from genesys_pipelines.windows import WindowError, resolve_window


def ctx(params=None, logical_date=None, run_after=None, events=None):
    dag_run = SimpleNamespace(logical_date=logical_date, run_after=run_after, run_id="r1")
    return {"params": params or {}, "dag_run": dag_run, "triggering_asset_events": events or {}}


def test_scheduled_manual_and_param_windows() -> None:
    tick = datetime(2026, 6, 11, 2, tzinfo=UTC)
    assert window_from_context(ctx(logical_date=tick, run_after=tick)).partition() == "date=2026-06-10"
    assert window_from_context(ctx(run_after=tick)).source == "run_after"
    w = window_from_context(ctx({"start": "2026-06-01", "end": "2026-06-03", "timezone": "Europe/Paris"},
                                run_after=tick))
    assert (w.source, w.tz, w.start) == ("params", "Europe/Paris", datetime(2026, 5, 31, 22, tzinfo=UTC))


def test_window_after_run_after_names_the_param() -> None:
    with pytest.raises(WindowError) as err:
        window_from_context(ctx({"start": "2026-06-10", "end": "2026-06-12"}, run_after=datetime(2026, 6, 11, tzinfo=UTC)))
    assert err.value.param == "end"


def test_asset_triggered_run_takes_the_newest_event_window_and_logs_the_others(caplog) -> None:
    older = resolve_window(logical_date=datetime(2026, 6, 10, 3, tzinfo=UTC))
    newer = resolve_window(logical_date=datetime(2026, 6, 11, 3, tzinfo=UTC))
    events = {"genesys://campaign_execution_stats": [
        SimpleNamespace(extra={"window": older.to_dict()}), SimpleNamespace(extra={"window": newer.to_dict()}),
        SimpleNamespace(extra={}),
    ]}
    with caplog.at_level(logging.WARNING, logger="genesys_cloud.context"):
        w = window_from_context(ctx(run_after=datetime(2026, 6, 11, 4, tzinfo=UTC), events=events))
    assert (w.start, w.end, w.source) == (newer.start, newer.end, "asset_event")
    assert "date=2026-06-09" in caplog.text


def test_run_identity_reads_the_task_instance() -> None:
    ti = SimpleNamespace(dag_id="d", run_id="r", task_id="t", map_index=3, try_number=2)
    assert run_identity({"ti": ti}) == {"dag_id": "d", "run_id": "r", "task_id": "t", "map_index": 3, "try_number": 2}
