"""The approval task of the two writing DAGs can park in awaiting_input on a real stack (issue 17).

On the native stack the task failed when pausing: "Objects of type pendulum Duration are not supported"
(the task runner msgpack-encodes the pause message, which carries the response timeout's deadline).
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]

WRITERS = ("genesys_campaign_schedule_provisioning", "genesys_campaign_pacing_forecast")


def load(dag_id: str) -> Any:
    from airflow.dag_processing.dagbag import DagBag

    bag = DagBag(dag_folder=str(ROOT / "dags" / f"{dag_id}.py"))
    assert not bag.import_errors, bag.import_errors
    return bag.get_dag(dag_id)


@pytest.mark.parametrize("dag_id", WRITERS)
def test_the_approval_timeout_is_a_plain_timedelta_the_task_runner_can_send(dag_id: str, airflow_db) -> None:
    from airflow.sdk.execution_time.comms import AwaitInputTask, _RequestFrame

    approve = load(dag_id).get_task("approve")
    assert approve.response_timeout >= timedelta(hours=1) and approve.defaults == ["Reject"]
    # the message the task runner sends when it parks the task (raises for a pendulum Duration)
    parked = AwaitInputTask(timeout=approve.response_timeout, next_method="execute_complete", next_kwargs={})
    assert _RequestFrame(id=1, body=parked.model_dump()).as_bytes()
