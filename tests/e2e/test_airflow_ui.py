"""`make airflow` as a user starts it: tasks of a manually triggered run really run, and a stop is clean."""

from __future__ import annotations

from pathlib import Path

import pytest
from ui_support import log_tail, processes_with_home, start_ui, wait_for

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

DAG_ID = "genesys_campaign_execution_stats"


def _task_state(ui, run_id: str, task_id: str) -> str | None:
    answer = ui.api("GET", f"/dags/{DAG_ID}/dagRuns/{run_id}/taskInstances/{task_id}")
    return answer.json().get("state") if answer.status_code == 200 else None


def test_a_manual_run_runs_its_tasks_on_a_random_port(tmp_path: Path) -> None:
    # No AIRFLOW_PORT: the launcher picks a free port, which the execution API URL must follow.
    ui = start_ui(tmp_path / "home")
    try:
        assert not ui.url.endswith(":8080")
        wait_for(lambda: ui.api("GET", f"/dags/{DAG_ID}").status_code == 200, 180, f"{DAG_ID} to be parsed")
        ui.api("PATCH", f"/dags/{DAG_ID}", json={"is_paused": False}).raise_for_status()
        created = ui.api("POST", f"/dags/{DAG_ID}/dagRuns", json={"logical_date": None, "conf": {}})
        created.raise_for_status()
        run_id = created.json()["dag_run_id"]
        for task_id in ("validate_params", "authenticate"):
            state = wait_for(
                lambda t=task_id: (s := _task_state(ui, run_id, t)) in ("success", "failed", "upstream_failed") and s,
                240, f"{task_id} to finish",
            )
            assert state == "success", f"{task_id} ended {state}\n{log_tail(ui.log)}"
    finally:
        stop_s = ui.stop()
    print(f"make airflow: started in {ui.started_s:.1f} s, stopped in {stop_s:.1f} s")
    assert processes_with_home(ui.home) == [], "processes left behind after the launcher stopped"
    assert stop_s <= 15, f"the launcher took {stop_s:.1f} s to stop (at most 15 s)\n{log_tail(ui.log)}"
