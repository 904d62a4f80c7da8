"""Late data after a 7-day backfill, on the native stack (issue 20's proof; ``dag.test()`` cannot run the runs a
``TriggerDagRunOperator`` or an asset event creates): the restatement sweep, triggered over REST, re-runs
exactly the changed day of campaign statistics through Airflow; the six other days stay byte-identical with
no webhook; the receiver gets one ``restated`` event whose idempotency key carries the content digest; the
audit says why; and the pacing run the restated asset event starts writes nothing.

The stack parses only the DAGs the scenario needs (a folder of links to ``dags/``). The pacing forecast is
deployed after the backfill, as a deployment that had already paced those days would be: its first
asset-triggered run then starts from the restated event (catchup off), not from the backfill's seven. The
scheduler creates no cron or asset-triggered run until the last step, when it is restarted with
``use_job_schedule`` on (the stats and sweep DAGs paused first, so the only run it can create is pacing's).
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import airflow_client.client as ac
import pytest
from stack_support import (
    ROOT,
    NativeStack,
    Timings,
    leftovers,
    require_services,
    start_native_stack,
    wait_until,
)
from test_stack import Rest, Sandbox, Store, state_of

from genesys_sandbox.devstack import DEMO_DATE
from genesys_sandbox.org import FIXTURES

pytestmark = pytest.mark.e2e

STATS = "genesys_campaign_execution_stats"
SWEEP = "genesys_restatement_sweep"
PACING = "genesys_campaign_pacing_forecast"
LAST = date.fromisoformat(DEMO_DATE)
DAYS = [(LAST - timedelta(days=n)).isoformat() for n in range(6, -1, -1)]  # 7 reporting days, oldest first
LATE_DAY = DAYS[4]  # a Monday (the sandbox dials no outbound on Sundays: late data there changes no stats)
# The fewest task instances: one campaign (one mapped query batch), no live snapshot.
STATS_CONF = {"campaign_ids": [FIXTURES["normal_campaign"]]}
LATE_CONVERSATIONS = 400
RUN_TIMEOUT = 600.0  # bounds only: on a busy 2-core box the backfill alone took 224 s


def link_dags(folder: Path, dag_ids: list[str]) -> None:
    """Links to ``dags/``'s shared module, docs and the named DAG files (the dag-processor lists the folder
    every few seconds: a link added later is a DAG deployed later)."""
    folder.mkdir(exist_ok=True)
    wanted = [ROOT / "dags" / "_common.py", *(ROOT / "dags").glob("*.md"), *(ROOT / "dags" / f"{d}.py" for d in dag_ids)]
    for path in wanted:
        target = folder / path.name
        if not target.exists():
            target.symlink_to(path)


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory, timings: Timings) -> Iterator[NativeStack]:
    """Its own stack (two worker slots): the stats and sweep DAGs only; days stay non-final (settle 240 h)
    and a pacing run is never stale by age (so only the restatement can keep it from writing)."""
    require_services()
    workdir = tmp_path_factory.mktemp("restatement-stack")
    dags = workdir / "dags"
    link_dags(dags, [STATS, SWEEP])
    done = timings.measure("stack_start")
    native = start_native_stack(workdir, worker_concurrency=2, extra_env={
        "AIRFLOW__CORE__DAGS_FOLDER": str(dags), "GENESYS_SETTLE_HOURS": "240",
        "GENESYS_PACING_MAX_AGE_H": str(24 * 3650)})
    try:
        done()
        native.wait_for_dags([STATS, SWEEP], timeout=120)
        yield native
    finally:
        native.stop()
    assert all(p.poll() is not None for p in native.devstack.procs) and not native.procs
    assert not leftovers(native), leftovers(native)


def partitions(store: Store) -> dict[str, dict[str, str]]:
    """Per reporting day: key → sha256 of every published object of the stats pipeline (any sub-prefix)."""
    out: dict[str, dict[str, str]] = {day: {} for day in DAYS}
    for key, digest in store.objects(f"{STATS}/").items():
        for day in DAYS:
            if f"/date={day}/" in key and "/_staging/" not in key and "/_work/" not in key:
                out[day][key] = digest
    return out


def manifest(store: Store, objects: dict[str, str]) -> dict[str, Any]:
    [key] = [k for k in objects if k.endswith("/_manifest.json")]
    return json.loads(store.s3.get_object(Bucket=store.bucket, Key=key)["Body"].read())


def audit(store: Store, dag_id: str, run_id: str, event: str) -> list[dict[str, Any]]:
    """The run's audit rows of one event, ``details`` parsed (the column holds JSON text)."""
    rows = store.audit("dag_id = %s AND run_id = %s AND event = %s", (dag_id, run_id, event))
    return [{**r, "details": json.loads(r["details"]) if isinstance(r["details"], str) else r["details"]} for r in rows]


def runs_of(rest: Rest, dag_id: str, **filters: Any) -> list[Any]:
    return list(rest.runs.get_dag_runs(dag_id, limit=100, **filters).dag_runs)


def failures(rest: Rest, dag_id: str, run_id: str) -> list[str]:
    return [f"{ti.task_id}[{ti.map_index}]={state_of(ti)}: {rest.log_text(ti)[-1500:]}"
            for ti in rest.task_instances(dag_id, run_id) if state_of(ti) not in ("success", "skipped")]


def test_late_data_on_one_day_restates_that_day_only(stack: NativeStack, timings: Timings,
                                                       capsys: pytest.CaptureFixture[str]) -> None:
    started = time.monotonic()
    rest, sandbox, store = Rest(stack), Sandbox(stack), Store(stack)
    for dag_id in (STATS, SWEEP):
        rest.unpause(dag_id)

    # 1. A 7-day backfill of campaign statistics over REST (one run per reporting day).
    done = timings.measure("backfill_7_days")
    body = ac.BackfillPostBody(
        dag_id=STATS, dag_run_conf=STATS_CONF, max_active_runs=7, reprocess_behavior=ac.ReprocessBehavior("none"),
        from_date=datetime.fromisoformat(f"{DAYS[0]}T00:00:00+00:00") + timedelta(days=1),
        to_date=datetime.fromisoformat(f"{DAYS[-1]}T12:00:00+00:00") + timedelta(days=1))
    backfill = rest.backfills.create_backfill(body)
    wait_until(lambda: rest.backfills.get_backfill(backfill.id).completed_at, RUN_TIMEOUT, "the backfill", interval=2)
    done()
    backfilled = runs_of(rest, STATS, run_type=["backfill"])
    assert len(backfilled) == 7, [r.dag_run_id for r in backfilled]
    bad = {r.dag_run_id: failures(rest, STATS, r.dag_run_id) for r in backfilled if state_of(r) != "success"}
    assert not bad, bad
    before = partitions(store)
    manifests = {day: manifest(store, before[day]) for day in DAYS}
    for day, built in manifests.items():
        block = built["extra"]["restatement"]
        assert block["version"] == 1 and block["source"]["final"] is False, (day, block)
    hooks_before = sandbox.http.get("/_sandbox/webhooks/bi").json()
    assert len(hooks_before) == 7, [d["body"].get("event") for d in hooks_before]

    # 2. The pacing forecast is deployed (a link in the DAGs folder) and unpaused; then late data lands.
    link_dags(Path(stack.env["AIRFLOW__CORE__DAGS_FOLDER"]), [PACING])
    stack.wait_for_dags([PACING], timeout=60)
    rest.unpause(PACING)
    late = sandbox.http.post("/_sandbox/late_data", json={"day": LATE_DAY, "conversations": LATE_CONVERSATIONS})
    late.raise_for_status()
    writes_before = len(sandbox.writes())

    # 3. The sweep over the seven days, triggered over REST; it triggers the restatement run itself.
    done = timings.measure("sweep_and_restatement")
    sweep_run = rest.trigger(SWEEP, {"start": DAYS[0], "end": (LAST + timedelta(days=1)).isoformat(),
                                     "pipelines": [STATS]})
    assert rest.wait_runs({SWEEP: sweep_run}, timeout=RUN_TIMEOUT) == {SWEEP: "success"}, failures(rest, SWEEP, sweep_run)
    [sweep_row] = audit(store, SWEEP, sweep_run, "restatement_sweep")
    assert sweep_row["status"] == "restating" and sweep_row["record_count"] == 7, sweep_row["details"]
    assert sweep_row["details"]["changed"] == [f"{STATS}:{LATE_DAY}"], sweep_row["details"]
    [restated_run] = [r for r in runs_of(rest, STATS) if r.dag_run_id.startswith("restate__")]
    assert restated_run.dag_run_id.startswith(f"restate__{STATS}__{LATE_DAY}__"), restated_run.dag_run_id
    # rebuilt with the params the day was built with (the manifest's run_conf), the day made explicit
    assert restated_run.conf["campaign_ids"] == STATS_CONF["campaign_ids"], restated_run.conf
    assert (restated_run.conf["start"], restated_run.conf["end"]) == (LATE_DAY, DAYS[5]), restated_run.conf
    states = rest.wait_runs({STATS: restated_run.dag_run_id}, timeout=RUN_TIMEOUT)
    assert states == {STATS: "success"}, failures(rest, STATS, restated_run.dag_run_id)
    done()

    # 4. Pacing's asset-triggered run: the scheduler now creates scheduled runs (stats and sweep paused, so
    #    the restated event's queued pacing run is the only one it can create).
    done = timings.measure("pacing_triggered")
    for dag_id in (STATS, SWEEP):
        rest.dags.patch_dag(dag_id, ac.DAGPatchBody(is_paused=True))
    stack.restart_component("scheduler", {"AIRFLOW__SCHEDULER__USE_JOB_SCHEDULE": "true"})
    [pacing_run] = wait_until(lambda: runs_of(rest, PACING), RUN_TIMEOUT, "the asset-triggered pacing run")
    assert str(getattr(pacing_run.run_type, "value", pacing_run.run_type)) == "asset_triggered"
    states = rest.wait_runs({PACING: pacing_run.dag_run_id}, timeout=RUN_TIMEOUT)
    assert states == {PACING: "success"}, failures(rest, PACING, pacing_run.dag_run_id)
    done()

    # -- the sweep probed seven days, found one changed, and re-ran it ----------------------------------
    assert sweep_row["details"]["reruns"] == [restated_run.dag_run_id]

    # -- only that day changed: six partitions byte-identical -------------------------------------------
    after = partitions(store)
    for day in DAYS:
        if day != LATE_DAY:
            assert after[day] == before[day], f"{day} changed: {before[day]} -> {after[day]}"
    assert set(after[LATE_DAY]) == set(before[LATE_DAY]) and after[LATE_DAY] != before[LATE_DAY]
    old, new = manifests[LATE_DAY], manifest(store, after[LATE_DAY])
    block = new["extra"]["restatement"]
    from genesys_pipelines.restatement.versions import manifest_digest

    assert block["version"] == 2 and block["restated_from"] == manifest_digest(old), block
    assert block["content_digest"] == manifest_digest(new)

    # -- one webhook, a `restated` event keyed by the content digest --------------------------------------
    deliveries = sandbox.http.get("/_sandbox/webhooks/bi").json()
    assert deliveries[:7] == hooks_before
    [restated] = deliveries[7:]
    assert restated["body"]["event"] == "restated" and restated["body"]["window"]["partition"] == f"date={LATE_DAY}"
    assert restated["body"]["restatement"]["content_digest"] == block["content_digest"]
    from genesys_cloud.sinks.webhook import idempotency_key

    window = restated["body"]["window"]
    [first] = [d for d in hooks_before if d["body"]["window"]["partition"] == f"date={LATE_DAY}"]
    # the one-campaign run's selection digest (its sub-partition's name) is part of every key it sends
    [selection] = {part.split("=", 1)[1] for key in after[LATE_DAY] for part in key.split("/")
                   if part.startswith("selection=")}
    expected = idempotency_key(STATS, window["start"], window["end"], "deliver", -1,
                               f"restated:{block['content_digest']}", selection=selection)
    assert restated["idempotencyKey"] == expected != first["idempotencyKey"]

    # -- the audit records why ----------------------------------------------------------------------------
    rows = audit(store, STATS, restated_run.dag_run_id, "restated")
    assert len(rows) == 1 and f"/date={LATE_DAY}/" in rows[0]["entity_id"], rows
    assert rows[0]["entity_id"].endswith("#v2") and rows[0]["details"]["version"] == 2, rows
    assert "attempted" in rows[0]["details"]["reason"] or "connected" in rows[0]["details"]["reason"], rows[0]

    # -- pacing: triggered by the restated event alone, wrote nothing, said why ----------------------------
    events = rest.runs.get_upstream_asset_events(PACING, pacing_run.dag_run_id).asset_events
    assert [e.extra["restatement"]["version"] for e in events] == [2], [e.extra for e in events]
    assert events[0].source_run_id == restated_run.dag_run_id
    assert len(sandbox.writes()) == writes_before, sandbox.writes()[writes_before:]
    assert not store.objects(f"{PACING}/"), "pacing published a partition"
    assert sandbox.http.get("/_sandbox/webhooks/bi").json() == deliveries, "pacing sent a webhook"
    [summary] = audit(store, PACING, pacing_run.dag_run_id, "run_summary")
    assert summary["status"] == "stale" and "restated" in summary["details"]["stale"], summary
    assert not store.audit("dag_id = %s AND event = %s", (PACING, "pacing_write"))

    assert len(runs_of(rest, PACING)) == 1  # and no other pacing run since
    with capsys.disabled():  # shown under -q too
        print(f"\nTIMING restatement_e2e test_s={time.monotonic() - started:.0f} "
              + " ".join(f"{k}={v}s" for k, v in timings.values.items()))
