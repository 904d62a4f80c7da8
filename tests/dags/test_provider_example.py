"""The provider's example DAG (dags/examples/), built only from provider operators, against the sandbox:
the proof that another team can build a pipeline from the provider without copying ours."""

from __future__ import annotations

import gzip
import json
from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]
DAG_ID = "genesys_provider_example"


def test_the_example_runs_on_provider_operators_only(sandbox: Any, airflow_db: Path) -> None:
    from airflow.dag_processing.dagbag import DagBag

    bag = DagBag(dag_folder=str(ROOT / "dags" / "examples" / f"{DAG_ID}.py"))
    assert not bag.import_errors, bag.import_errors
    dag = bag.get_dag(DAG_ID)
    assert dag.schedule is None  # never runs by itself
    assert {type(t).__module__.split(".")[0] for t in dag.tasks} == {"genesys_cloud"}

    fixture = sandbox.fixtures["idle_campaign"]
    run = dag.test(run_conf={"day": sandbox.demo_date, "campaign_id": fixture, "abandon_rate": 4.5})
    states = {ti.task_id: str(ti.state) for ti in run.get_task_instances()}
    assert set(states.values()) == {"success"}, states

    prefix = f"examples/{sandbox.demo_date}"
    handled = [json.loads(line) for line in gzip.decompress(sandbox.read(f"{prefix}/handled.jsonl.gz")).splitlines()]
    assert handled and all({"group", "interval", "metrics"} <= set(row) for row in handled)
    chunks = [k for k in sandbox.list_keys(f"{prefix}/conversations/") if k.endswith(".jsonl.gz")]
    conversations = [json.loads(line) for key in chunks for line in gzip.decompress(sandbox.read(key)).splitlines()]
    assert len(conversations) > 100 and len({c["conversationId"] for c in conversations}) == len(conversations)
    assert sandbox.read(f"{prefix}/queue_performance.csv").count(b"\n") > 1
    writes = [w for w in sandbox.writes() if w["method"] == "PUT"]
    assert len(writes) == 1 and writes[0]["body"]["abandonRate"] == 4.5 and writes[0]["status"] < 300
