"""Watermarks (issue 20): the sweep's state is the manifests (fingerprint, version, finality). A final day is
never probed again, so late data on it stays unseen, until an operator resets the watermark with the
sweep's ``reset_from`` param (REST: ``POST /api/v2/dags/genesys_restatement_sweep/dagRuns`` with conf
``{"reset_from": "YYYY-MM-DD"}``): then every published day from that date is probed, final or not, and the
changed one is re-run."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]
REPORT = "genesys_conversation_report"
SWEEP = "genesys_restatement_sweep"
DAY = "2026-06-08"


def load(dag_id: str) -> Any:
    from airflow.dag_processing.dagbag import DagBag

    bag = DagBag(dag_folder=str(ROOT / "dags" / f"{dag_id}.py"))
    assert not bag.import_errors, bag.import_errors
    return bag.get_dag(dag_id)


def changed(dag_run: Any) -> Any:
    [ti] = [ti for ti in dag_run.get_task_instances() if ti.task_id == "changed"]
    return ti.xcom_pull(task_ids="changed")


def test_a_reset_from_a_date_re_sweeps_final_days(sandbox: Any, airflow_db: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GENESYS_SETTLE_HOURS", "1")  # the data lake is past every published day: all final
    keys = [k for d in ("2026-06-08", "2026-06-09", "2026-06-10") for k in sandbox.list_keys(f"{REPORT}/date={d}/")]
    if keys:
        sandbox.s3.delete_objects(Bucket=sandbox.bucket, Delete={"Objects": [{"Key": k} for k in keys]})
    logical = datetime(2026, 6, 9, 2, tzinfo=UTC)
    assert str(load(REPORT).test(logical_date=logical, run_after=logical).state) == "success"
    first = json.loads(sandbox.read(f"{REPORT}/date={DAY}/_manifest.json"))["extra"]["restatement"]
    assert first["source"]["final"] is True and first["version"] == 1

    sandbox.admin.post("/_sandbox/late_data", json={"day": DAY, "conversations": 30}).raise_for_status()
    at = datetime(2026, 6, 11, 5, 40, tzinfo=UTC)
    quiet = load(SWEEP).test(logical_date=at, run_after=at, run_conf={"days": 3, "pipelines": [REPORT]})
    assert str(quiet.state) == "success" and changed(quiet) == []  # final: not probed, the change unseen

    at = datetime(2026, 6, 11, 5, 45, tzinfo=UTC)
    reset = load(SWEEP).test(logical_date=at, run_after=at, run_conf={"reset_from": DAY, "pipelines": [REPORT]})
    assert str(reset.state) == "success"
    [rerun] = changed(reset)
    assert rerun["trigger_dag_id"] == REPORT and rerun["conf"]["start"] == DAY and "total_hits" in rerun["note"]

    again = load(REPORT).test(logical_date=datetime(2026, 6, 11, 5, 46, tzinfo=UTC),
                              run_after=datetime(2026, 6, 11, 5, 46, tzinfo=UTC), run_conf=rerun["conf"])
    assert str(again.state) == "success"
    block = json.loads(sandbox.read(f"{REPORT}/date={DAY}/_manifest.json"))["extra"]["restatement"]
    assert block["version"] == 2 and block["restated_from"] == first["content_digest"]


def test_reset_from_is_a_validated_param() -> None:
    from genesys_pipelines.errors import InvalidParam
    from genesys_pipelines.restatement.params import parse_params

    assert parse_params({"reset_from": "2026-06-01"}).reset_from == "2026-06-01"
    with pytest.raises(InvalidParam, match="reset_from"):
        parse_params({"reset_from": "June 1st"})
