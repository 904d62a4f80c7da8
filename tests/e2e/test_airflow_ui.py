"""`make airflow` as a user runs it: one launcher (user env, own AIRFLOW_HOME) for the whole module.

In order: a default manual run reports yesterday (real clock); the outputs page refuses requests without
an Airflow token; the README's backfill commands, verbatim from the project root, then their re-run; the
README's watermark reset (`reset_from`) and its two `publish_days` range runs, verbatim (the reset probes
the backfill's final days again; the campaign-stats range rewrites the backfill's days byte-identically);
outputs, the audit trail and a connection edited over REST survive stopping and starting the launcher
(whose stop takes ≤ 15 s and leaves no process behind), and a task run after the restart uses the edit.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta

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


SWEEP = "genesys_restatement_sweep"
REPORT = "genesys_conversation_report"
RANGE_CONF = {"start": "2026-06-04", "end": "2026-06-11", "publish_days": True}  # the README's week
RANGE_DAYS = [f"date={date(2026, 6, 4) + timedelta(days=n)}" for n in range(7)]  # 06-04 … 06-10


def _run_block(ui: RunningUI, containing: str) -> None:
    [block] = readme_blocks(containing)
    done = run_readme_block(block, ui.home)
    assert done.returncode == 0, f"README block failed:\n{block}\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"


def _triggered_run(ui: RunningUI, dag_id: str, conf: dict) -> str:
    """The run id of the manual run with ``conf`` that a README `dags trigger` made."""
    def made() -> str | None:
        runs = [r for r in ui.runs(dag_id) if r["run_type"] == "manual" and r["conf"] == conf]
        return max(runs, key=lambda r: r["run_after"])["dag_run_id"] if runs else None

    return wait_for(made, 60, f"the README's run of {dag_id}")


def _xcom(ui: RunningUI, dag_id: str, run_id: str, task_id: str) -> object:
    value = ui.api("GET", f"/dags/{dag_id}/dagRuns/{run_id}/taskInstances/{task_id}/xcomEntries/return_value"
                   ).json()["value"]
    return json.loads(value) if isinstance(value, str) else value


def test_the_readme_reset_and_range_run_commands_verbatim(launcher: Launcher) -> None:
    ui = launcher.ui
    started = time.monotonic()
    before = _digests(ui.outputs(DAG_ID))
    final_days = sorted(k[len("date="):] for k in before if k < "date=2026-06-10")  # the backfill's, long final
    assert final_days == ["2026-06-07", "2026-06-08", "2026-06-09"]
    # The watermark reset and the report's range run at once (the report's days are other partitions).
    _run_block(ui, '"reset_from"')
    _run_block(ui, f"dags trigger {REPORT}")
    sweep_run = _triggered_run(ui, SWEEP, {"reset_from": "2026-05-01"})
    report_run = _triggered_run(ui, REPORT, RANGE_CONF)
    assert ui.wait_run(SWEEP, sweep_run, 600) == "success", log_tail(ui.log)
    tis = ui.api("GET", f"/dags/{SWEEP}/dagRuns/{sweep_run}/taskInstances", params={"limit": 200}).json()
    probed = {ti["rendered_map_index"] for ti in tis["task_instances"] if ti["task_id"] == "probe"}
    # A sweep without reset_from looks back 7 days and skips final days: these are probed only after a reset.
    assert {f"{DAG_ID} {day}" for day in final_days} <= probed, (final_days, probed)
    assert _xcom(ui, SWEEP, sweep_run, "changed") == []  # nothing changed, nothing re-run
    swept_s = time.monotonic() - started

    # The campaign-stats range run after the sweep: it republishes (identically) days the sweep reads.
    _run_block(ui, f"dags trigger {DAG_ID}")
    stats_run = _triggered_run(ui, DAG_ID, RANGE_CONF)
    assert ui.wait_run(DAG_ID, stats_run, 600) == "success", log_tail(ui.log)
    after = _digests(ui.outputs(DAG_ID, run_id=stats_run))  # the partitions that run wrote
    assert sorted(after) == RANGE_DAYS, sorted(_digests(ui.outputs(DAG_ID, limit="366")))  # each day, complete
    assert {day: after[day] for day in before if day in after} == {  # the backfill's days, byte-identical
        day: before[day] for day in before if day in after}
    assert ui.wait_run(REPORT, report_run, 900) == "success", log_tail(ui.log)
    wrote = _digests(ui.outputs(REPORT, run_id=report_run))
    assert sorted(wrote) == RANGE_DAYS, sorted(_digests(ui.outputs(REPORT, limit="366")))
    print(f"README reset + range runs: sweep done after {swept_s:.0f} s, all after {time.monotonic() - started:.0f} s")
    # The README's blocks unpaused the report and the sweep, and an unpaused DAG gets its latest scheduled
    # run on the real clock: pause them again and let such runs end, so the restart test below compares
    # outputs nothing is still writing to (whatever the time of day the suite runs at).
    for dag_id in (REPORT, SWEEP):
        ui.api("PATCH", f"/dags/{dag_id}", json={"is_paused": True}).raise_for_status()
        active = ui.api("GET", f"/dags/{dag_id}/dagRuns", params={"state": ["queued", "running"]}).json()
        for run in active["dag_runs"]:
            ui.wait_run(dag_id, run["dag_run_id"], 600)


CONN_ID = "genesys_cloud_default"
EDITED_RPM = 123  # not the settings file's 300: a task that reports it read the edited connection


def test_outputs_the_audit_trail_and_an_edited_connection_survive_a_restart(launcher: Launcher) -> None:
    ui = launcher.ui
    # Connections live in the metadata DB only: an AIRFLOW_CONN_* variable would win over any UI edit.
    assert not [k for k in ui.env() if k.startswith("AIRFLOW_CONN_")], "make airflow exports connections"
    conn = ui.api("GET", f"/connections/{CONN_ID}").json()
    extra = {**json.loads(conn["extra"]), "requests_per_minute": EDITED_RPM}
    ui.api("PATCH", f"/connections/{CONN_ID}", params={"update_mask": ["extra"]},
           json={"connection_id": CONN_ID, "conn_type": conn["conn_type"], "extra": json.dumps(extra)},
           ).raise_for_status()
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

    # The edit survived the bootstrap of the restart, and a task run uses it (its XCom reports the budget).
    assert json.loads(ui.api("GET", f"/connections/{CONN_ID}").json()["extra"])["requests_per_minute"] == EDITED_RPM
    ui.api("PATCH", f"/dags/{DAG_ID}", json={"is_paused": False}).raise_for_status()  # also when run alone
    created = ui.api("POST", f"/dags/{DAG_ID}/dagRuns", json={"logical_date": None, "conf": {}})
    created.raise_for_status()
    run_id = created.json()["dag_run_id"]
    path = f"/dags/{DAG_ID}/dagRuns/{run_id}/taskInstances/authenticate"

    def authenticated() -> str | None:
        try:
            state = ui.api("GET", path).json().get("state")
        except httpx.HTTPError:  # a busy SQLite API server may miss the 30 s read timeout: ask again
            return None
        assert state not in ("failed", "upstream_failed"), f"authenticate {state}\n{log_tail(ui.log)}"
        return state if state == "success" else None

    wait_for(authenticated, 300, f"the authenticate task of {run_id}")
    facts = ui.api("GET", f"{path}/xcomEntries/return_value").json()["value"]
    facts = json.loads(facts) if isinstance(facts, str) else facts
    assert facts["configured_requests_per_minute"] == EDITED_RPM, facts
