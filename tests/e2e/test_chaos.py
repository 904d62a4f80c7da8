"""Chaos equivalence (short form of ``make chaos``): each pipeline run for the demo day twice from the same
sandbox seed, clean and with every fault on; the faulted run must succeed and produce the same bytes, the
same applied Genesys writes, the same webhook deliveries and the same audit rows. Then a 3-day backfill
under 429 bursts, and its re-run, byte for byte.
"""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from chaos_support import (
    CHAOS_FAULTS,
    EXCLUDED_FIELDS,
    chaos_equivalence,
    chaos_runs,
    max_try,
    published_objects,
    record,
    run_pipeline,
    task_states,
)

from genesys_sandbox.devstack import DEMO_DATE

pytestmark = pytest.mark.e2e

RUNS = {spec.dag_id: spec for spec in chaos_runs()}


@pytest.mark.parametrize("dag_id", list(RUNS))
def test_faulted_run_equals_clean_run(dag_id: str, sandbox: Any, airflow_db: Path) -> None:
    result = chaos_equivalence(sandbox, RUNS[dag_id])
    record("equivalence", dag_id=dag_id, succeeded=result.succeeded, outputs_identical=result.outputs_identical,
           writes_identical=result.writes_identical, duplicate_writes=result.duplicate_writes,
           webhooks_identical=result.webhooks_identical, audit_identical=result.audit_identical,
           audit_duplicates=result.audit_duplicates, clean_s=round(result.clean_s, 1),
           faulted_s=round(result.faulted_s, 1), max_try=result.faulted_max_try, injected=result.injected,
           differences=result.differences)
    print(f"\nCHAOS {dag_id} clean_s={result.clean_s:.1f} faulted_s={result.faulted_s:.1f} "
          f"max_try={result.faulted_max_try} injected={result.injected} faults={CHAOS_FAULTS} excluded={sorted(EXCLUDED_FIELDS)}")
    assert result.succeeded, result.differences
    assert result.outputs_identical, result.differences
    assert result.writes_identical and result.duplicate_writes == 0, result.differences
    assert result.webhooks_identical, result.differences
    assert result.audit_identical and result.audit_duplicates == 0, result.differences
    assert result.ok


BACKFILL = ("genesys_campaign_execution_stats", "genesys_conversation_report")


def _backfill_conf(dag_id: str) -> dict[str, Any]:
    # The report's scheduled mode ("auto" picks the sync query for a day this small).
    return {"mode": "auto"} if dag_id == "genesys_conversation_report" else {}


def test_three_day_backfill_under_429_bursts_then_rerun_identical(sandbox: Any, airflow_db: Path) -> None:
    """Three days of both pipelines with 429 bursts: no task needs a retry (the hook waits out each
    Retry-After), the days differ, and a clean re-run writes the same bytes."""
    last = date.fromisoformat(DEMO_DATE)
    days = [(last - timedelta(days=n)).isoformat() for n in (2, 1, 0)]
    sandbox.set_faults("429=0.2")
    first: dict[tuple[str, str], dict[str, str]] = {}
    for dag_id in BACKFILL:
        for day in days:
            spec = next(s for s in chaos_runs(day) if s.dag_id == dag_id)
            dag_run = run_pipeline(spec, **_backfill_conf(dag_id))
            assert str(dag_run.state) == "success", task_states(dag_run)
            assert max_try(dag_run) == 1, task_states(dag_run)  # no task failed because of a 429
            first[(dag_id, day)] = published_objects(sandbox, f"{dag_id}/date={day}/")
            assert first[(dag_id, day)], (dag_id, day)
    assert sandbox.admin.get("/_sandbox/faults").json()["injected"].get("status_429", 0) > 0
    for dag_id in BACKFILL:
        assert len({frozenset(first[(dag_id, d)].values()) for d in days}) == 3  # real, different days
    sandbox.set_faults("")
    for dag_id in BACKFILL:
        for day in days:
            spec = next(s for s in chaos_runs(day) if s.dag_id == dag_id)
            assert str(run_pipeline(spec, **_backfill_conf(dag_id)).state) == "success"
            assert published_objects(sandbox, f"{dag_id}/date={day}/") == first[(dag_id, day)]
