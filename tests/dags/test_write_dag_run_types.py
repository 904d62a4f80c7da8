"""Which runs may write (issue 17): the provisioning DAG refuses backfills (Airflow raises
DagRunTypeNotAllowed on `backfill create`); the pacing DAG runs on its asset and manually; both put a
human approval between plan and apply and deliver as a teardown. On old main any run type was allowed."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "dags"))


@pytest.fixture(scope="module")
def dags():
    from airflow.dag_processing.dagbag import DagBag

    bag = DagBag(dag_folder=str(Path(__file__).resolve().parents[2] / "dags"))
    assert not bag.import_errors
    return bag.dags


def test_provisioning_allows_no_backfill(dags) -> None:
    types = {str(t.value) for t in dags["genesys_campaign_schedule_provisioning"].allowed_run_types}
    assert types == {"manual", "scheduled"}


def test_pacing_runs_on_its_asset_and_manually(dags) -> None:
    types = {str(t.value) for t in dags["genesys_campaign_pacing_forecast"].allowed_run_types}
    assert types == {"asset_triggered", "manual"}


@pytest.mark.parametrize(("dag_id", "apply_id"), [("genesys_campaign_schedule_provisioning", "apply"),
                                                  ("genesys_campaign_pacing_forecast", "apply_changes")])
def test_approval_sits_between_plan_and_apply_and_deliver_is_a_teardown(dags, dag_id: str, apply_id: str) -> None:
    from airflow.providers.standard.operators.hitl import ApprovalOperator

    dag = dags[dag_id]
    approve = dag.get_task("approve")
    assert isinstance(approve, ApprovalOperator) and approve.defaults == ["Reject"]
    assert approve.response_timeout is not None
    assert "approve" in dag.get_task(apply_id).upstream_task_ids
    assert dag.get_task("deliver").is_teardown
    # a failure upstream must fail the run: an ordinary leaf after apply (a green teardown does not count)
    assert dag.get_task("run_outcome").upstream_task_ids == {apply_id} and not dag.get_task("run_outcome").is_teardown
