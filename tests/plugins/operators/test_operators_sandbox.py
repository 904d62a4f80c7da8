"""Operators and triggers against the sandbox (real HTTP), and one dag.test() run through the triggerer path."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta
from typing import Any

import pytest

from genesys_cloud.hooks.genesys_cloud import GenesysCloudHook
from genesys_cloud.operators.analytics_job import GenesysAnalyticsJobOperator
from genesys_cloud.operators.reporting_export import GenesysReportingExportOperator
from genesys_cloud.triggers.analytics_job import AnalyticsJobTrigger
from genesys_cloud.triggers.reporting_export import ReportingExportTrigger


class TI:
    dag_id, run_id, task_id, map_index, try_number = "d", "r", "t", -1, 1

    def __init__(self) -> None:
        self.xcoms: dict[str, Any] = {}

    def xcom_push(self, key: str, value: Any) -> None:
        self.xcoms[key] = value


    def xcom_pull(self, task_ids: str, key: str, map_indexes: int = -1) -> Any:
        return self.xcoms.get(key)


class MemoryStore:
    """``context["task_state_store"]`` of one task instance."""

    def __init__(self) -> None:
        self.entries: dict[str, Any] = {}

    def get(self, key, default=None):
        return self.entries.get(key, default)

    def set(self, key, value, **kwargs):
        self.entries[key] = value

    def delete(self, key):
        self.entries.pop(key, None)


def ctx() -> dict[str, Any]:
    return {"ti": TI(), "task_state_store": MemoryStore()}


def _interval(devstack) -> str:
    day = datetime.fromisoformat(str(devstack.demo_date)).date()
    start = datetime(day.year, day.month, day.day)
    return f"{start:%Y-%m-%dT%H:%M:%S}.000Z/{start + timedelta(days=1):%Y-%m-%dT%H:%M:%S}.000Z"


def _export_request(devstack, name: str) -> dict[str, Any]:
    return {
        "name": name,
        "timeZone": "UTC",
        "exportFormat": "CSV",
        "interval": _interval(devstack),
        "period": "P1D",
        "viewType": "CAMPAIGN_PERFORMANCE_SUMMARY_VIEW",
        "filter": {"mediaTypes": ["voice"]},
        "locale": "en-US",
    }


def test_export_operator_worker_mode_and_reuse_by_name(sandbox) -> None:
    request = _export_request(sandbox, "provider-test export")
    op = GenesysReportingExportOperator(
        task_id="export", request=request, deferrable=False, poll_interval=0.2
    )
    first = op.execute(ctx())
    assert first["status"] == "COMPLETED" and first["download_url"] and first["partial"] is False

    again = GenesysReportingExportOperator(task_id="export", request=request, deferrable=False).execute(ctx())
    assert again["export_id"] == first["export_id"] and again["polls"] == 0  # found by name, not re-POSTed


def test_export_trigger_against_sandbox(sandbox) -> None:
    with GenesysCloudHook() as hook:
        export = hook.create(
            "/api/v2/analytics/reporting/exports", _export_request(sandbox, "provider-trigger")
        )
    trigger = ReportingExportTrigger(
        "genesys_cloud_default", export_id=export["id"], poll_interval=0.2, timeout_seconds=60
    )

    async def first_event() -> dict[str, Any]:
        async for event in trigger.run():
            return event.payload
        raise AssertionError("no event")

    event = asyncio.run(first_event())
    assert event["status"] == "success" and event["export_status"] == "COMPLETED" and event["polls"] >= 1


def test_job_operator_and_trigger_against_sandbox(sandbox, monkeypatch) -> None:
    query = {"interval": _interval(sandbox), "order": "asc", "orderBy": "conversationStart"}
    op = GenesysAnalyticsJobOperator(task_id="job", query=query, deferrable=False, poll_interval=0.2)
    result = op.execute(ctx())
    assert result["state"] == "FULFILLED" and result["polls"] >= 1

    trigger = AnalyticsJobTrigger(
        "genesys_cloud_default", job_kind="details", job_id=result["job_id"], poll_interval=0.2
    )

    async def events() -> list[dict[str, Any]]:
        return [e.payload async for e in trigger.run()]

    assert asyncio.run(events()) == [
        {"status": "success", "job_id": result["job_id"], "state": "FULFILLED", "polls": 1}
    ]


DAG_FILE = """
from datetime import datetime

from airflow.sdk import DAG

from genesys_cloud.operators.analytics_job import GenesysAnalyticsJobOperator
from genesys_cloud.operators.authenticate import GenesysAuthenticateOperator
from genesys_cloud.operators.reporting_export import GenesysReportingExportOperator

with DAG("provider_operators_e2e", schedule=None, start_date=datetime(2024, 1, 1), catchup=False) as dag:
    auth = GenesysAuthenticateOperator(task_id="authenticate")
    job = GenesysAnalyticsJobOperator(task_id="job", query={QUERY}, poll_interval=0.2, timeout=120)
    export = GenesysReportingExportOperator(task_id="export", request={REQUEST}, poll_interval=0.2, timeout=120)
    auth >> [job, export]
"""


@pytest.mark.e2e
def test_deferrable_operators_in_dag_test(sandbox, airflow_db, tmp_path) -> None:
    """The real path: submit in the task, defer, trigger (async connection), execute_complete, task state store."""
    from airflow.dag_processing.dagbag import DagBag, sync_bag_to_db
    from airflow.models.task_state_store import TaskStateStoreModel
    from airflow.utils.session import create_session

    query = {"interval": _interval(sandbox), "order": "asc"}
    request = _export_request(sandbox, "provider-e2e")
    path = tmp_path / "provider_operators_e2e.py"
    path.write_text(DAG_FILE.replace("{QUERY}", repr(query)).replace("{REQUEST}", repr(request)))
    bag = DagBag(dag_folder=str(path))
    assert not bag.import_errors, bag.import_errors
    # dag.test() serialises only the DAGs of the configured bundles: register this one ourselves.
    from airflow.dag_processing.bundles.manager import DagBundlesManager

    DagBundlesManager().sync_bundles_to_db()
    sync_bag_to_db(bag, "dags-folder", None)
    run = bag.get_dag("provider_operators_e2e").test()

    tis = {ti.task_id: ti for ti in run.get_task_instances()}
    assert {task_id: ti.state for task_id, ti in tis.items()} == {
        "authenticate": "success",
        "job": "success",
        "export": "success",
    }
    assert tis["job"].xcom_pull(task_ids="job")["state"] == "FULFILLED"
    assert tis["export"].xcom_pull(task_ids="export")["status"] == "COMPLETED"
    with create_session() as session:
        stored = session.query(TaskStateStoreModel).filter_by(dag_id="provider_operators_e2e", run_id=run.run_id).all()
    assert stored == []  # the submitted job was kept across the deferral, then cleared once handed on
