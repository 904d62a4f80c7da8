"""`make airflow` as a user runs it: one launcher (user env, own AIRFLOW_HOME) for the whole module.

In order: a default manual run reports yesterday (real clock); the outputs page refuses requests without
an Airflow token; the README's backfill commands, verbatim from the project root, then their re-run;
outputs and the audit trail survive stopping and starting the launcher, whose stop takes ≤ 15 s and
leaves no process behind.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import httpx
import jwt
import pytest
from ui_support import (
    RunningUI,
    log_tail,
    processes_with_home,
    readme_blocks,
    run_readme_block,
    seed_partition,
    start_ui,
    wait_for,
)

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

DAG_ID = "genesys_campaign_execution_stats"
STOP_LIMIT_S = 15.0


class Launcher:
    """The module's running launcher; the restart test replaces it."""

    def __init__(self, ui: RunningUI) -> None:
        self.ui = ui


@pytest.fixture(scope="module")
def launcher(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Launcher]:
    handle = Launcher(start_ui(tmp_path_factory.mktemp("airflow-ui") / "home"))
    print(f"make airflow started in {handle.ui.started_s:.1f} s")
    try:
        wait_for(lambda: handle.ui.api("GET", f"/dags/{DAG_ID}").status_code == 200, 180, f"{DAG_ID} to be parsed")
        yield handle
    finally:
        stop_s = handle.ui.stop()
        print(f"make airflow stopped in {stop_s:.1f} s")
    assert processes_with_home(handle.ui.home) == [], "processes left behind after the launcher stopped"


def _digests(partitions: list[dict]) -> dict[str, dict[str, str]]:
    return {p["partition"]: {o["name"]: o["sha256"] for o in p["objects"]} for p in partitions if p["complete"]}


def test_a_default_manual_run_reports_yesterday_on_the_real_clock(launcher: Launcher) -> None:
    ui = launcher.ui
    assert not ui.url.endswith(":8080")  # a free port, which the execution API URL must follow
    ui.api("PATCH", f"/dags/{DAG_ID}", json={"is_paused": False}).raise_for_status()
    created = ui.api("POST", f"/dags/{DAG_ID}/dagRuns", json={"logical_date": None, "conf": {}})
    created.raise_for_status()
    run_id = created.json()["dag_run_id"]
    state = ui.wait_run(DAG_ID, run_id, 420)
    assert state == "success", f"{run_id} ended {state}\n{log_tail(ui.log)}"
    yesterday = (datetime.now(UTC) - timedelta(days=1)).date().isoformat()
    # Unpausing also starts the scheduled run of the same day; audit rows are keyed by window, so the
    # partition, not the run id, is what to look at.
    [partition] = [p for p in ui.outputs(DAG_ID) if p["partition"] == f"date={yesterday}"]
    assert partition["complete"], partition
    summary = next(row for row in partition["audit_rows"] if row["event"] == "run_summary")
    assert summary["details"]["totals"]["attempted"] > 0, summary  # the sandbox's org has data for yesterday


def test_the_outputs_page_refuses_requests_without_an_airflow_token(launcher: Launcher) -> None:
    ui = launcher.ui
    paths = ["/genesys-outputs/", f"/genesys-outputs/dags/{DAG_ID}", f"/genesys-outputs/dags/{DAG_ID}/partitions",
             f"/genesys-outputs/dags/{DAG_ID}/download?key={DAG_ID}/date=2026-06-07/_manifest.json"]
    forged = jwt.encode({"sub": "admin", "role": "ADMIN", "aud": "apache-airflow", "iss": "x",
                         "exp": int(time.time()) + 600}, "not-the-deployment-secret", algorithm="HS512")
    for path in paths:
        assert httpx.get(f"{ui.url}{path}", timeout=30).status_code == 401, path
        assert httpx.get(f"{ui.url}{path}", headers={"Authorization": f"Bearer {forged}"},
                         timeout=30).status_code in (401, 403), path
        assert httpx.get(f"{ui.url}{path}", cookies={"_token": forged}, timeout=30).status_code in (401, 403), path
    # The UI's own credential: the `_token` cookie set at login (the outputs page runs in its iframe).
    answer = httpx.get(f"{ui.url}/genesys-outputs/dags/{DAG_ID}", cookies={"_token": ui.token()}, timeout=60)
    assert answer.status_code == 200 and "outputs" in answer.text
    # Only objects listed by a manifest of that DAG are presigned.
    assert httpx.get(f"{ui.url}/genesys-outputs/dags/{DAG_ID}/download", params={"key": "xcom/anything"},
                     headers={"Authorization": f"Bearer {ui.token()}"}, timeout=30).status_code == 404


def test_the_readme_backfill_commands_verbatim_then_their_rerun(launcher: Launcher) -> None:
    ui = launcher.ui
    first, rerun = readme_blocks("backfill create")
    done = run_readme_block(first, ui.home)
    assert done.returncode == 0, f"README block failed:\n{first}\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    backfill = ui.wait_backfill_done(DAG_ID, 600)
    runs = [r for r in ui.runs(DAG_ID) if r["run_type"] == "backfill"]
    assert sorted(r["logical_date"][:10] for r in runs) == ["2026-06-08", "2026-06-09", "2026-06-10"], runs
    assert {r["state"] for r in runs} == {"success"}, (runs, log_tail(ui.log))
    days = ["date=2026-06-07", "date=2026-06-08", "date=2026-06-09"]  # exactly the reporting days the README names
    before = {k: v for k, v in _digests(ui.outputs(DAG_ID)).items() if k in days}
    assert sorted(before) == days

    done = run_readme_block(rerun, ui.home)
    assert done.returncode == 0, f"README block failed:\n{rerun}\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    again = ui.wait_backfill_done(DAG_ID, 600)
    assert again["id"] != backfill["id"]
    runs = [r for r in ui.runs(DAG_ID) if r["run_type"] == "backfill"]
    assert {r["state"] for r in runs} == {"success"}, runs
    after = {k: v for k, v in _digests(ui.outputs(DAG_ID)).items() if k in days}
    assert after == before  # a re-run rewrites each partition byte-identically


def test_outputs_and_the_audit_trail_survive_a_restart(launcher: Launcher) -> None:
    ui = launcher.ui
    dag_id = "genesys_conversation_report"
    key = seed_partition(ui.home, dag_id, "2026-05-04T00:00:00+00:00", "2026-05-05T00:00:00+00:00",
                         {"report.csv": "queue,conversations\nq1,3\n"})
    before = ui.outputs(dag_id)
    ran_before = ui.outputs(DAG_ID)
    file_key = key.replace("_manifest.json", "report.csv")
    content = ui.download(dag_id, file_key)
    assert content == b"queue,conversations\nq1,3\n"

    stop_s = ui.stop()
    assert processes_with_home(ui.home) == [], "processes left behind after the launcher stopped"
    assert stop_s <= STOP_LIMIT_S, f"the launcher took {stop_s:.1f} s to stop\n{log_tail(ui.log)}"
    print(f"make airflow stopped in {stop_s:.1f} s")

    launcher.ui = ui = start_ui(ui.home)
    print(f"make airflow restarted in {ui.started_s:.1f} s")
    assert ui.outputs(dag_id) == before  # partitions, manifests and audit rows, as before the restart
    assert ui.outputs(DAG_ID) == ran_before  # what the runs above published, audit rows included
    assert hashlib.sha256(ui.download(dag_id, file_key)).digest() == hashlib.sha256(content).digest()
