"""The distributed topology (CeleryExecutor + PostgreSQL + Redis, every component its own process), driven
only through Airflow's REST API with the official client (``apache-airflow-client``).

The slow parts share one wave: every pipeline is triggered at once for the demo day while the sandbox
holds reporting exports in RUNNING (``slow_jobs``), so the same wave proves that a deferred export frees
the single worker slot. Then a 3-day backfill and its re-run, an invalid run, and the secret scan.
Tests depend on the wave (module-scoped fixtures), so they run in file order.
"""

from __future__ import annotations

import hashlib
import json
import re
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

import airflow_client.client as ac
import boto3
import httpx
import psycopg2
import pytest
from airflow_client.client.exceptions import ApiException
from stack_support import TERMINAL_STATES, NativeStack, Timings, wait_until

from genesys_sandbox.devstack import DEMO_DATE
from genesys_sandbox.org import FIXTURES
from tests import approvals

pytestmark = pytest.mark.e2e

DAY_END = (date.fromisoformat(DEMO_DATE) + timedelta(days=1)).isoformat()
DEMO_CONF = {"start": DEMO_DATE, "end": DAY_END}
EXPORT_DAG = "genesys_reporting_export"
EXPORT_TASK = "submit_and_wait"
# Fewest task instances per run of the partitioned pipelines: the backfill runs 2 x 3 of them on one slot.
BACKFILL_DAG = "genesys_conversation_report"
INVALID_DAG = "genesys_campaign_execution_stats"
# Long enough that other DAGs' tasks visibly run on the one worker slot while the export waits.
SLOW_EXPORT_SECONDS = 30
PER_DAG_CONF: dict[str, dict[str, Any]] = {
    # the desired-schedules file, written for real (the sandbox's write log shows it)
    "genesys_campaign_schedule_provisioning": {"mode": "reconcile", "dry_run": False},
    # propose only; two campaigns cover the WFM planning-group path and its fallback (each campaign is
    # a mapped forecasting task of ~8 s on one worker slot)
    "genesys_campaign_pacing_forecast": {
        "apply": False,
        "campaign_ids": [FIXTURES["normal_campaign"], FIXTURES["no_planning_group_campaign"]],
        # a narrower selection than the default publishes under selection=<digest>/ unless it replaces the day
        "replace_partition": True,
    },
}
RUN_TIMEOUT = 600.0
PRESIGNED_SIGNATURE = re.compile(r"(?i:X-Amz-Signature)=[0-9A-Fa-f]{16,}")
#: Runs of the wave that write (manual apply): their approval is answered over REST inside the wave.
APPROVAL_DAGS = ("genesys_campaign_schedule_provisioning",)


def state_of(obj: Any) -> str:
    """The plain state name (the client's states are str enums whose str() is 'DagRunState.SUCCESS')."""
    state = getattr(obj, "state", obj)
    return str(getattr(state, "value", state))


# -- REST helpers (official client) ---------------------------------------------------------------
class Rest:
    """The few REST calls the scenarios need, over one authenticated ``ApiClient``."""

    def __init__(self, native: NativeStack) -> None:
        self.client = native.client()
        self.dags = ac.DAGApi(self.client)
        self.runs = ac.DagRunApi(self.client)
        self.tis = ac.TaskInstanceApi(self.client)
        self.backfills = ac.BackfillApi(self.client)

    def unpause(self, dag_id: str) -> None:
        self.dags.patch_dag(dag_id, ac.DAGPatchBody(is_paused=False))

    def conf_for(self, dag_id: str) -> dict[str, Any]:
        """The demo day (for DAGs that take a window) plus the DAG's own choices (PER_DAG_CONF)."""
        params = self.dags.get_dag_details(dag_id).params or {}
        conf: dict[str, Any] = {k: v for k, v in DEMO_CONF.items() if k in params}
        return {**conf, **PER_DAG_CONF.get(dag_id, {})}

    def trigger(self, dag_id: str, conf: dict[str, Any]) -> str:
        body = ac.TriggerDAGRunPostBody(logical_date=None, conf=conf)
        return str(self.runs.trigger_dag_run(dag_id, body).dag_run_id)

    def run_state(self, dag_id: str, run_id: str) -> str:
        return state_of(self.runs.get_dag_run(dag_id, run_id))

    def wait_runs(self, runs: dict[str, str], timeout: float = RUN_TIMEOUT) -> dict[str, str]:
        """Wait for every (dag_id → run_id) to finish; returns the final states."""
        def finished() -> dict[str, str] | None:
            states = {dag: self.run_state(dag, run) for dag, run in runs.items()}
            return states if set(states.values()) <= TERMINAL_STATES else None

        return wait_until(finished, timeout, f"runs {runs}", interval=2.0)

    def task_instances(self, dag_id: str = "~", run_id: str = "~", **filters: Any) -> list[Any]:
        return list(self.tis.get_task_instances(dag_id, run_id, limit=500, **filters).task_instances)

    def log_text(self, ti: Any) -> str:
        """The task instance's log as the endpoint returns it (raw JSON: the client's log model drops the
        structured fields, among them the exception's message)."""
        kwargs = {"map_index": ti.map_index} if ti.map_index is not None and ti.map_index >= 0 else {}
        resp = self.tis.get_log_without_preload_content(
            ti.dag_id, ti.dag_run_id, ti.task_id, max(1, ti.try_number or 1), full_content=True, **kwargs)
        assert resp.status == 200, resp.status
        return resp.data.decode()


class Sandbox:
    """The sandbox's admin API (plus one token of its own to look at exports as Genesys reports them)."""

    def __init__(self, native: NativeStack) -> None:
        self.http = httpx.Client(base_url=native.devstack.sandbox_url, timeout=30.0)

    def faults(self, spec: str) -> None:
        self.http.post("/_sandbox/faults", json={"spec": spec}).raise_for_status()

    def writes(self) -> list[dict[str, Any]]:
        return self.http.get("/_sandbox/writes").json()

    def tokens(self) -> list[str]:
        return [t["token"] for t in self.http.get("/_sandbox/tokens").json()]

    def export_statuses(self) -> list[str]:
        token = self.http.post("/oauth/token", data={"grant_type": "client_credentials"},
                               auth=("sandbox-client", "sandbox-secret")).json()["access_token"]
        listing = self.http.get("/api/v2/analytics/reporting/exports", headers={"Authorization": f"Bearer {token}"})
        return [e["status"] for e in listing.json().get("entities", [])]


class Store:
    """The local S3 bucket and the audit table in the stack's PostgreSQL database."""

    def __init__(self, native: NativeStack) -> None:
        dev = native.devstack
        self.bucket = dev.bucket
        self.s3 = boto3.client("s3", endpoint_url=dev.s3_endpoint, region_name="us-east-1",
                               aws_access_key_id="testing", aws_secret_access_key="testing")
        self.database = native.database

    def objects(self, prefix: str = "") -> dict[str, str]:
        """key → sha256 of the bytes."""
        out: dict[str, str] = {}
        for page in self.s3.get_paginator("list_objects_v2").paginate(Bucket=self.bucket, Prefix=prefix):
            for obj in page.get("Contents", []):
                body = self.s3.get_object(Bucket=self.bucket, Key=obj["Key"])["Body"].read()
                out[obj["Key"]] = hashlib.sha256(body).hexdigest()
        return out

    def keys(self) -> set[str]:
        keys: set[str] = set()
        for page in self.s3.get_paginator("list_objects_v2").paginate(Bucket=self.bucket):
            keys.update(obj["Key"] for obj in page.get("Contents", []))
        return keys

    def trigger_kwargs(self, fernet_key: str) -> list[str]:
        """The decrypted kwargs of every trigger row now in the metadata DB (rows live while a task defers)."""
        from cryptography.fernet import Fernet

        conn = psycopg2.connect(host="127.0.0.1", port=5432, user="postgres", dbname=self.database)
        try:
            with conn.cursor() as cur:
                cur.execute("SELECT kwargs FROM trigger")
                rows = [r[0] for r in cur.fetchall()]
        finally:
            conn.close()
        return [r if r.startswith("{") else Fernet(fernet_key.encode()).decrypt(r.encode()).decode() for r in rows]

    def audit(self, where: str, args: tuple[Any, ...]) -> list[dict[str, Any]]:
        conn = psycopg2.connect(host="127.0.0.1", port=5432, user="postgres", dbname=self.database)
        try:
            with conn.cursor() as cur:
                cur.execute(f"SELECT * FROM genesys_audit WHERE {where}", args)  # noqa: S608 - test-owned SQL
                names = [c.name for c in cur.description]
                return [dict(zip(names, row, strict=True)) for row in cur.fetchall()]
        finally:
            conn.close()


@dataclass
class Wave:
    """The first wave: every pipeline triggered at once, with what was seen while an export was deferred."""

    runs: dict[str, str]
    states: dict[str, str]
    deferred_seen: bool = False
    ran_meanwhile: set[tuple[str, str]] = field(default_factory=set)
    sandbox_export_statuses: list[str] = field(default_factory=list)
    keys_before: set[str] = field(default_factory=set)
    approved: dict[str, dict[str, Any]] = field(default_factory=dict)
    trigger_rows: set[str] = field(default_factory=set)


@pytest.fixture(scope="module")
def rest(stack: NativeStack, pipelines: list[str]) -> Rest:
    api = Rest(stack)
    for dag_id in pipelines:
        api.unpause(dag_id)
    return api


@pytest.fixture(scope="module")
def sandbox(stack: NativeStack) -> Iterator[Sandbox]:
    admin = Sandbox(stack)
    yield admin
    admin.http.close()


@pytest.fixture(scope="module")
def store(stack: NativeStack) -> Store:
    return Store(stack)


@pytest.fixture(scope="module")
def wave(rest: Rest, sandbox: Sandbox, store: Store, timings: Timings, pipelines: list[str],
         stack: NativeStack) -> Wave:
    done = timings.measure("wave_all_dags")
    sandbox.faults(f"slow_jobs={SLOW_EXPORT_SECONDS}")
    keys_before = store.keys()
    runs = {dag_id: rest.trigger(dag_id, rest.conf_for(dag_id)) for dag_id in pipelines}
    seen = Wave(runs=runs, states={}, keys_before=keys_before)
    states: dict[str, str] = {}
    deadline = time.monotonic() + RUN_TIMEOUT
    approver = httpx.Client(base_url=stack.api_url, headers={"Authorization": f"Bearer {stack.token()}"}, timeout=30)
    while time.monotonic() < deadline:
        _observe_deferral(rest, sandbox, seen)
        _answer_approvals(approver, seen)
        seen.trigger_rows.update(store.trigger_kwargs(stack.env["AIRFLOW__CORE__FERNET_KEY"]))
        listed = rest.runs.get_dag_runs("~", limit=100).dag_runs
        states = {r.dag_id: state_of(r) for r in listed if runs.get(r.dag_id) == r.dag_run_id}
        if len(states) == len(runs) and set(states.values()) <= TERMINAL_STATES:
            seen.states = states
            break
        time.sleep(1.5)
    else:
        raise TimeoutError(f"wave not finished after {RUN_TIMEOUT:.0f} s: {states}")
    sandbox.faults("")
    done()
    return seen


def _answer_approvals(client: httpx.Client, seen: Wave) -> None:
    """A person's Approve over REST (``…/hitlDetails``, as the UI sends it) for every write run of the wave
    whose approval task is waiting (issue 17: a manual apply always asks)."""
    for dag_id in APPROVAL_DAGS:
        run_id = seen.runs.get(dag_id)
        if run_id is None or dag_id in seen.approved:
            continue
        request = client.get(approvals.hitl_path(dag_id, run_id))
        if request.status_code == 200:
            seen.approved[dag_id] = {"request": request.json(), "answer": approvals.answer(client, dag_id, run_id)}


def _observe_deferral(rest: Rest, sandbox: Sandbox, seen: Wave) -> None:
    """One snapshot (one query) of deferred and running task instances: while an export task instance is
    deferred, note every other task instance running on the single worker slot."""
    if EXPORT_DAG not in seen.runs:
        return
    snapshot = rest.task_instances(state=["deferred", "running"])
    deferred = [ti for ti in snapshot if state_of(ti) == "deferred" and ti.dag_id == EXPORT_DAG
                and ti.task_id == EXPORT_TASK and ti.dag_run_id == seen.runs[EXPORT_DAG]]
    if not deferred:
        return
    seen.deferred_seen = True
    others = {(ti.dag_id, ti.task_id) for ti in snapshot if state_of(ti) == "running"}
    if others and not seen.sandbox_export_statuses:
        seen.sandbox_export_statuses = sandbox.export_statuses()
    seen.ran_meanwhile |= others


# -- 1. every pipeline, one wave -------------------------------------------------------------------
def test_every_pipeline_succeeds_for_the_demo_day(wave: Wave, rest: Rest, store: Store,
                                                  pipelines: list[str]) -> None:
    assert set(wave.runs) == set(pipelines) and len(wave.runs) >= 4
    failed = {dag: state for dag, state in wave.states.items() if state != "success"}
    if failed:
        bad = [f"{ti.dag_id}.{ti.task_id}[{ti.map_index}]={state_of(ti)}" for dag in failed
               for ti in rest.task_instances(dag, wave.runs[dag]) if state_of(ti) not in ("success", "skipped")]
        pytest.fail(f"runs not successful: {failed}; task instances: {bad}")
    for dag_id, run_id in wave.runs.items():
        rows = store.audit("dag_id = %s AND run_id = %s", (dag_id, run_id))
        assert rows, f"no audit row for {dag_id} {run_id}"
        assert all(r["status"] for r in rows)
        doc = rest.dags.get_dag_details(dag_id).doc_md or ""
        if "_manifest.json" in doc:  # the DAG documents a published partition: it must be there
            partition = f"{dag_id}/date={DEMO_DATE}/"
            objects = store.objects(partition)
            assert f"{partition}_manifest.json" in objects, f"{dag_id}: no manifest in {sorted(objects)}"
            manifest = json.loads(store.s3.get_object(Bucket=store.bucket, Key=f"{partition}_manifest.json")["Body"].read())
            for entry in manifest["objects"]:
                assert objects.get(entry["key"]) == entry["sha256"], f"{dag_id}: {entry['key']} differs from manifest"


def test_the_runs_read_their_connections_from_the_metadata_db(wave: Wave, stack: NativeStack, store: Store) -> None:
    """As in docker-compose and `make airflow`: no AIRFLOW_CONN_* in any component's environment (it would be
    read before the DB and hide a UI edit); the init step's bootstrap created them in the DB, so the green
    wave above ran on those rows."""
    assert [k for k in stack.env if k.startswith("AIRFLOW_CONN_")] == []
    conn = psycopg2.connect(host="127.0.0.1", port=5432, user="postgres", dbname=store.database)
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT conn_id, extra FROM connection")
            rows = dict(cur.fetchall())
    finally:
        conn.close()
    assert {"genesys_cloud_default", "aws_default", "genesys_audit"} <= set(rows), sorted(rows)
    extra = rows["genesys_cloud_default"]
    if not extra.startswith("{"):  # encrypted with the deployment's Fernet key
        from cryptography.fernet import Fernet

        extra = Fernet(stack.env["AIRFLOW__CORE__FERNET_KEY"].encode()).decrypt(extra.encode()).decode()
    assert json.loads(extra)["api_base_url"] == stack.devstack.sandbox_url
    assert wave.states, "the wave ran no pipeline"


def test_a_manual_apply_waits_for_an_approval_answered_over_rest(wave: Wave, store: Store, rest: Rest) -> None:
    """Issue 17: the provisioning run's write needed a person's Approve; it was answered over REST (as the
    UI does), the approval body named the plan digest, and the landed writes' audit rows carry the approver."""
    dag_id = APPROVAL_DAGS[0]
    assert dag_id in wave.approved, f"{dag_id}: no approval request was ever shown"
    request = wave.approved[dag_id]["request"]
    assert "Plan digest" in json.dumps(request), request
    assert wave.states.get(dag_id) == "success"
    rows = store.audit("dag_id = %s AND run_id = %s", (dag_id, wave.runs[dag_id]))
    written = [r for r in rows if "admin" in json.dumps(r, default=str)]
    tis = rest.task_instances(dag_id, wave.runs[dag_id])
    states = [(ti.task_id, state_of(ti)) for ti in tis]
    assert all(s in ("success", "skipped") for _, s in states), \
        f"{states}: {[rest.log_text(ti)[-3000:] for ti in tis if state_of(ti) == 'failed']}"
    assert written, f"no audit row names the approver; tasks {states}; answer {wave.approved[dag_id]['answer']}; " \
                    f"statuses {[r['status'] for r in rows]}"


# -- 3. a deferred export frees the single worker slot ----------------------------------------------
def test_deferred_export_frees_the_worker_slot(wave: Wave, stack: NativeStack) -> None:
    if EXPORT_DAG not in wave.runs:
        pytest.fail(f"{EXPORT_DAG} is not in dags/")
    assert stack.env["AIRFLOW__CELERY__WORKER_CONCURRENCY"] == "1"
    assert wave.deferred_seen, f"{EXPORT_DAG}.{EXPORT_TASK} was never seen deferred"
    assert wave.ran_meanwhile, "no other task ran while the export was deferred (the slot was not freed)"
    assert {dag for dag, _ in wave.ran_meanwhile} - {EXPORT_DAG}, wave.ran_meanwhile
    assert "RUNNING" in wave.sandbox_export_statuses, wave.sandbox_export_statuses


# -- 2. backfill over REST, and its re-run ----------------------------------------------------------
def _backfill(rest: Rest, reprocess: str) -> list[Any]:
    body = ac.BackfillPostBody(
        dag_id=BACKFILL_DAG,
        from_date=datetime.fromisoformat(f"{DEMO_DATE}T00:00:00+00:00") - timedelta(days=2),
        to_date=datetime.fromisoformat(f"{DEMO_DATE}T12:00:00+00:00"),
        max_active_runs=3,
        reprocess_behavior=ac.ReprocessBehavior(reprocess),
    )
    backfill = rest.backfills.create_backfill(body)
    wait_until(lambda: rest.backfills.get_backfill(backfill.id).completed_at, RUN_TIMEOUT, f"backfill {backfill.id}",
               interval=2.0)
    runs = rest.runs.get_dag_runs(BACKFILL_DAG, run_type=["backfill"], limit=50).dag_runs
    return sorted(runs, key=lambda r: r.logical_date)


def test_backfill_three_days_then_rerun_without_duplicates(wave: Wave, rest: Rest, store: Store,
                                                           stack: NativeStack, timings: Timings) -> None:
    # The single-slot proof is done (the wave): from here on a second slot, as scaling workers would.
    stack.grow_worker_pool(1)
    done = timings.measure("backfill_first")
    runs = _backfill(rest, "none")
    done()
    assert len(runs) == 3 and {state_of(r) for r in runs} == {"success"}, [(r.dag_run_id, state_of(r)) for r in runs]
    # Each backfill run reports the reporting day before its logical date.
    days = [(r.logical_date.astimezone(UTC) - timedelta(days=1)).date().isoformat() for r in runs]
    assert len(set(days)) == 3
    partitions = [f"{BACKFILL_DAG}/date={day}/" for day in days]
    first = {p: store.objects(p) for p in partitions}
    for prefix, objects in first.items():
        assert f"{prefix}_manifest.json" in objects, f"missing partition {prefix}: {sorted(objects)}"
    span = (BACKFILL_DAG, days[0], (date.fromisoformat(days[-1]) + timedelta(days=1)).isoformat())
    audit_first = store.audit("dag_id = %s AND window_start >= %s AND window_start < %s", span)

    done = timings.measure("backfill_rerun")
    rerun = _backfill(rest, "completed")
    done()
    assert [r.dag_run_id for r in rerun] == [r.dag_run_id for r in runs]
    assert {state_of(r) for r in rerun} == {"success"}
    assert {p: store.objects(p) for p in partitions} == first, "the re-run changed keys or bytes"
    audit_rerun = store.audit("dag_id = %s AND window_start >= %s AND window_start < %s", span)
    key = ("dag_id", "window_start", "window_end", "task_id", "map_index", "entity_id", "event")
    assert len(audit_rerun) == len(audit_first) > 0
    assert sorted(tuple(r[k] for k in key) for r in audit_rerun) == sorted(tuple(r[k] for k in key) for r in audit_first)


# -- 4. invalid conf: fails before any write, naming the param -------------------------------------
def test_invalid_conf_fails_before_any_write(wave: Wave, rest: Rest, sandbox: Sandbox, store: Store,
                                             stack: NativeStack, timings: Timings) -> None:
    done = timings.measure("invalid_run")
    # A conf the params' JSON schema refuses never becomes a run: the API answers 400 naming the param.
    with pytest.raises(ApiException) as refused:
        rest.trigger(INVALID_DAG, {**DEMO_CONF, "zscore_threshold": -1})
    assert refused.value.status == 400 and "zscore_threshold" in str(refused.value.body)

    keys_before, writes_before = store.keys(), len(sandbox.writes())
    run_id = rest.trigger(INVALID_DAG, {"start": DEMO_DATE, "end": (date.fromisoformat(DEMO_DATE) - timedelta(days=1)).isoformat()})
    assert rest.wait_runs({INVALID_DAG: run_id}, timeout=180) == {INVALID_DAG: "failed"}
    done()
    tis = {ti.task_id: ti for ti in rest.task_instances(INVALID_DAG, run_id)}
    assert state_of(tis["validate_params"]) == "failed"
    assert not [t for t, ti in tis.items() if state_of(ti) == "success"], {t: state_of(ti) for t, ti in tis.items()}
    log = rest.log_text(tis["validate_params"])
    assert re.search(r"invalid param (end|start)\b", log), log[-2000:]
    assert store.keys() == keys_before
    assert len(sandbox.writes()) == writes_before


# -- 5. no secret in any task log ------------------------------------------------------------------
def test_no_secret_or_token_in_any_log(wave: Wave, sandbox: Sandbox, stack: NativeStack) -> None:
    tokens = sandbox.tokens()
    assert tokens, "the sandbox issued no token: the runs did not authenticate"
    files = [p for p in stack.logs_dir().rglob("*") if p.is_file()]
    assert len(files) >= len(wave.runs)
    needles = {"client secret": "sandbox-secret", **{f"token {t[:8]}…": t for t in tokens}}
    leaks = [(str(p.relative_to(stack.logs_dir())), what) for p in files
             for what, needle in needles.items() if needle in p.read_text(errors="replace")]
    assert not leaks, leaks
    # Issue 16: the components' own logs (worker, triggerer, scheduler, ...) and the trigger rows the wave
    # saw while tasks were deferred (decrypted kwargs) carry no secret, token or presigned link either.
    components = {name: stack.component_log(name).read_text(errors="replace") for name in stack.procs}
    assert components and wave.trigger_rows, "no component log or trigger row to scan"
    texts = {**{f"log {n}": t for n, t in components.items()},
             **{f"trigger row {i}": t for i, t in enumerate(sorted(wave.trigger_rows))}}
    found = [(where, what) for where, text in texts.items() for what, needle in needles.items() if needle in text]
    found += [(where, "presigned signature") for where, text in texts.items() if PRESIGNED_SIGNATURE.search(text)]
    assert not found, found
