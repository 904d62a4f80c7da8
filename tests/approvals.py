"""Answer a human-approval task over Airflow's REST API, as a person does from the UI (issue 17).

``dag.test()`` waits forever on an ``ApprovalOperator``; tests of the real stack answer it here:
``PATCH /api/v2/dags/{dag}/dagRuns/{run}/taskInstances/{task}/{map}/hitlDetails`` with the chosen option.
"""

from __future__ import annotations

import time
from typing import Any
from urllib.parse import quote

import httpx


def hitl_path(dag_id: str, run_id: str, task_id: str = "approve", map_index: int = -1) -> str:
    ids = [quote(x, safe="") for x in (dag_id, run_id, task_id)]
    return f"/api/v2/dags/{ids[0]}/dagRuns/{ids[1]}/taskInstances/{ids[2]}/{map_index}/hitlDetails"


def wait_for_request(client: httpx.Client, dag_id: str, run_id: str, task_id: str = "approve",
                     timeout: float = 300.0) -> dict[str, Any]:
    """The approval request once the task has written it (the body names the plan digest)."""
    deadline = time.monotonic() + timeout
    while True:
        response = client.get(hitl_path(dag_id, run_id, task_id))
        if response.status_code == 200:
            return response.json()
        if time.monotonic() > deadline:
            raise TimeoutError(f"no approval request for {dag_id}/{run_id}/{task_id}: {response.status_code}")
        time.sleep(1.0)


def answer(client: httpx.Client, dag_id: str, run_id: str, option: str = "Approve", task_id: str = "approve",
           map_index: int = -1) -> dict[str, Any]:
    """Choose ``option`` ("Approve" or "Reject"); ``client`` carries the Airflow bearer token."""
    response = client.patch(hitl_path(dag_id, run_id, task_id, map_index),
                            json={"chosen_options": [option], "params_input": {}})
    response.raise_for_status()
    return response.json()
