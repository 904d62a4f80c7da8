"""``make chaos``: the full resilience and security suite, one table, one CHAOS line.

1. Chaos equivalence of all five pipelines, bad inputs and secrets: the pytest modules of tests/e2e
   (they run the pipelines with dag.test() against the sandbox; each result is appended as a JSON line
   to the file named by $GENESYS_CHAOS_REPORT, read back here).
2. The 30-day backfill of genesys_conversation_report and genesys_campaign_execution_stats with Airflow's
   real backfill (REST ``/api/v2/backfills``) on the native distributed stack (tools/native_stack.py:
   CeleryExecutor + PostgreSQL + Redis), at the sandbox's default volume and 300/min budget; requests
   and 429s from the sandbox counters; wall time against requests ÷ (budget × pool slots); then the
   backfill again (reprocess completed runs), which must change no output byte.
3. EDGES: the hook's hostile cases (tests/e2e/test_edges.py), one ``EDGES …`` line.
4. WRITES: the hostile-answer write suite in-process and through the sandbox's ``hostile=`` fault, and the
   two writing pipelines on the native stack with their approvals answered over REST inside the run
   (tools/chaos_writes.py: a Reject, a forged approval and two Approves; landed writes from the sandbox's write journal
   against the audit rows), one ``WRITES …`` line.

    python tools/chaos.py [--days 30] [--skip-backfill] [--skip-suite] [--skip-stack-writes] [--only-writes]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tools"))
SUITE = ["tests/e2e/test_chaos.py::test_faulted_run_equals_clean_run", "tests/e2e/test_bad_input.py",
         "tests/e2e/test_secrets.py", "tests/e2e/test_infra_faults.py"]
BACKFILL_DAGS = ("genesys_conversation_report", "genesys_campaign_execution_stats")
BUDGET_PER_MINUTE = 300
BACKFILL_TIMEOUT = 4 * 3600.0


def run_suite(report: Path) -> int:
    """The pytest part; returns pytest's exit code (the figures come from the report file)."""
    env = {**os.environ, "GENESYS_CHAOS_REPORT": str(report)}
    argv = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *SUITE]
    return subprocess.run(argv, cwd=ROOT, env=env, check=False).returncode  # noqa: S603 - our interpreter


#: The secrets scans whose presigned signatures count as "in logs" for the EDGES line.
LOG_SCANS = ("task logs and error messages", "xcom", "rendered templates")


def run_edges(presigned_in_logs: int | None = None) -> int:
    """The EDGES line: tests/e2e/test_edges.py run as a script in its own process (so its peak RSS is the
    hostile cases' own), printing its cases and ``EDGES cases=… clean=… token_to_foreign_host=…
    max_call_s=… peak_rss_mib=… presigned_in_logs=…`` through the harness's own summary()."""
    argv = [sys.executable, str(ROOT / "tests" / "e2e" / "test_edges.py")]
    env = {**os.environ, "GENESYS_EDGES_PRESIGNED_IN_LOGS": "" if presigned_in_logs is None else str(presigned_in_logs)}
    return subprocess.run(argv, cwd=ROOT, env=env, check=False).returncode  # noqa: S603 - our interpreter


def read_report(report: Path) -> list[dict[str, Any]]:
    if not report.exists():
        return []
    return [json.loads(line) for line in report.read_text().splitlines() if line.strip()]


# -- the backfill ---------------------------------------------------------------------------------------


@dataclass
class BackfillFigures:
    days: int
    runs: int
    runs_succeeded: int
    tasks_failed: int
    tasks_retried_after_429: int
    requests: int
    rate_limited_429: int
    wall_s: float
    pool_slots: int
    lower_bound_s: float
    rerun_wall_s: float
    rerun_identical: bool


def _objects(s3: Any, bucket: str, prefixes: tuple[str, ...]) -> dict[str, str]:
    out: dict[str, str] = {}
    for prefix in prefixes:
        for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
            for obj in page.get("Contents", []):
                key = obj["Key"]
                if "/_staging/" not in key and "/_work/" not in key:
                    out[key] = hashlib.sha256(s3.get_object(Bucket=bucket, Key=key)["Body"].read()).hexdigest()
    return out


def _api_requests(counters: dict[str, int]) -> int:
    return sum(n for key, n in counters.items() if " /api/v2/" in key)


def _wait_backfills(backfills: Any, ids: list[int]) -> None:
    deadline = time.monotonic() + BACKFILL_TIMEOUT
    while time.monotonic() < deadline:
        if all(backfills.get_backfill(i).completed_at for i in ids):
            return
        time.sleep(5)
    raise TimeoutError(f"backfills {ids} not complete after {BACKFILL_TIMEOUT:.0f} s")


def _create_backfills(rest: Any, ac: Any, first_day: date, last_day: date, reprocess: str) -> list[int]:
    ids = []
    for dag_id in BACKFILL_DAGS:
        body = ac.BackfillPostBody(
            dag_id=dag_id,
            # Daily runs whose logical date (the day after the reporting day) falls in the span.
            from_date=datetime.combine(first_day + timedelta(days=1), datetime.min.time(), UTC),
            to_date=datetime.combine(last_day + timedelta(days=1), datetime.min.time(), UTC).replace(hour=23),
            max_active_runs=4, reprocess_behavior=ac.ReprocessBehavior(reprocess),
        )
        ids.append(rest.create_backfill(body).id)
    return ids


def _task_outcomes(client: Any, ac: Any, log_dir: Path) -> tuple[int, int, int, int]:
    """(runs, runs succeeded, task instances failed, tries retried whose log names a 429)."""
    runs_api, tis_api = ac.DagRunApi(client), ac.TaskInstanceApi(client)
    runs = ok = failed = retried_429 = 0
    for dag_id in BACKFILL_DAGS:
        for dag_run in runs_api.get_dag_runs(dag_id, run_type=["backfill"], limit=100).dag_runs:
            runs += 1
            ok += str(getattr(dag_run.state, "value", dag_run.state)) == "success"
            for ti in tis_api.get_task_instances(dag_id, dag_run.dag_run_id, limit=100).task_instances:
                state = str(getattr(ti.state, "value", ti.state))
                failed += state in ("failed", "upstream_failed")
                if (ti.try_number or 0) > 1:
                    logs = "".join(p.read_text(errors="replace") for p in log_dir.rglob("*")
                                   if p.is_file() and f"dag_id={dag_id}" in str(p) and f"task_id={ti.task_id}" in str(p)
                                   and f"run_id={dag_run.dag_run_id}" in str(p))
                    retried_429 += "429" in logs
    return runs, ok, failed, retried_429


def run_backfill(days: int) -> BackfillFigures:
    import airflow_client.client as ac
    from native_stack import services_available, start_native_stack

    from genesys_sandbox.devstack import DEMO_DATE

    available, why = services_available()
    if not available:
        raise RuntimeError(f"the native stack needs PostgreSQL and Redis on loopback: {why}")
    last_day = date.fromisoformat(DEMO_DATE)
    first_day = last_day - timedelta(days=days - 1)
    workdir = Path(tempfile.mkdtemp(prefix="genesys-chaos-"))
    # Four worker slots = the genesys_api pool's four slots: four tokens (one per task process) at once.
    stack = start_native_stack(workdir, worker_concurrency=4)
    try:
        stack.wait_for_dags(list(BACKFILL_DAGS), timeout=300)
        client = stack.client()
        rest = ac.BackfillApi(client)
        for dag_id in BACKFILL_DAGS:
            ac.DAGApi(client).patch_dag(dag_id, ac.DAGPatchBody(is_paused=False))
        import httpx

        admin = httpx.Client(base_url=stack.devstack.sandbox_url, timeout=30)
        pool_slots = int(ac.PoolApi(client).get_pool("genesys_api").slots)
        admin.post("/_sandbox/reset", json={"seed": 42}).raise_for_status()
        started = time.monotonic()
        _wait_backfills(rest, _create_backfills(rest, ac, first_day, last_day, "none"))
        wall = time.monotonic() - started
        counters = admin.get("/_sandbox/counters").json()
        runs, ok, failed, retried_429 = _task_outcomes(client, ac, stack.logs_dir())
        s3 = _s3(stack.devstack.s3_endpoint)
        prefixes = tuple(f"{d}/" for d in BACKFILL_DAGS)
        before = _objects(s3, stack.devstack.bucket, prefixes)
        started = time.monotonic()
        _wait_backfills(rest, _create_backfills(rest, ac, first_day, last_day, "completed"))
        rerun_wall = time.monotonic() - started
        after = _objects(s3, stack.devstack.bucket, prefixes)
        requests = _api_requests(counters)
        return BackfillFigures(
            days=days, runs=runs, runs_succeeded=ok, tasks_failed=failed, tasks_retried_after_429=retried_429,
            requests=requests, rate_limited_429=int(counters.get("status:429", 0)), wall_s=wall,
            pool_slots=pool_slots, lower_bound_s=requests / (BUDGET_PER_MINUTE * pool_slots) * 60,
            rerun_wall_s=rerun_wall, rerun_identical=bool(before) and before == after,
        )
    finally:
        stack.stop()


def _s3(endpoint: str) -> Any:
    import boto3

    return boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1",
                        aws_access_key_id="testing", aws_secret_access_key="testing")


# -- the table ------------------------------------------------------------------------------------------


def print_table(results: list[dict[str, Any]], backfill: BackfillFigures | None) -> dict[str, int]:
    equivalence = [r for r in results if r["kind"] == "equivalence"]
    bad = [r for r in results if r["kind"] == "bad_input"]
    secrets = [r for r in results if r["kind"] == "secrets"]
    print(f"\n{'pipeline':42} {'ok':>4} {'identical':>9} {'dup_writes':>10} {'webhooks':>8} {'audit':>5} "
          f"{'clean_s':>7} {'fault_s':>7} {'max_try':>7}  faults injected")
    for r in equivalence:
        print(f"{r['dag_id']:42} {yes(r['succeeded']):>4} {yes(r['outputs_identical']):>9} {r['duplicate_writes']:>10} "
              f"{yes(r['webhooks_identical']):>8} {yes(r['audit_identical'] and not r['audit_duplicates']):>5} "
              f"{r['clean_s']:>7} {r['faulted_s']:>7} {r['max_try']:>7}  {r['injected']}")
        for diff in r["differences"]:
            print(f"    ! {diff}")
    print(f"\nbad inputs: {len(bad)} cases, {sum(1 for b in bad if b['failed'] and b['named'] and b['clean'])} "
          "failed naming the cause before any write")
    for b in bad:
        if not (b["failed"] and b["named"] and b["clean"]):
            print(f"    ! {b['name']}: failed={b['failed']} named={b['named']} clean={b['clean']}")
    for s in secrets:
        print(f"secrets in {s['where']}: {s['found']} (of {s['secrets_checked']} secret values checked)")
    if backfill:
        print(f"\nbackfill {backfill.days} days x {len(BACKFILL_DAGS)} DAGs: runs={backfill.runs} "
              f"succeeded={backfill.runs_succeeded} tasks_failed={backfill.tasks_failed} "
              f"retries_after_429={backfill.tasks_retried_after_429} requests={backfill.requests} "
              f"429s={backfill.rate_limited_429} wall_s={backfill.wall_s:.0f} lower_bound_s={backfill.lower_bound_s:.0f} "
              f"(requests / ({BUDGET_PER_MINUTE}/min x {backfill.pool_slots} pool slots)) "
              f"rerun_wall_s={backfill.rerun_wall_s:.0f} rerun_identical={backfill.rerun_identical}")
    failures_429 = (backfill.tasks_retried_after_429 + backfill.tasks_failed) if backfill else 0
    return {
        "pipelines": len(equivalence),
        "succeeded": sum(1 for r in equivalence if r["succeeded"]),
        "outputs_identical": sum(1 for r in equivalence if r["outputs_identical"]),
        "duplicate_writes": sum(r["duplicate_writes"] for r in equivalence),
        "backfill_429_failures": failures_429,
        "bad_inputs": len(bad),
        "bad_inputs_clean": sum(1 for b in bad if b["failed"] and b["named"] and b["clean"]),
        "secrets_found": sum(s["found"] for s in secrets),
    }


def sandbox_writes() -> dict[str, Any]:
    """The hostile-answer cases through a real sandbox over HTTP (tests/hostile_sandbox.py): the sandbox's
    ``hostile=`` fault at the planning read and the re-read before the PUT, judged on its write journal."""
    import hostile_sandbox

    from genesys_cloud.hooks.genesys_cloud import GenesysCloudHook
    from genesys_sandbox.devstack import start_stack

    stack = start_stack(Path(tempfile.mkdtemp(prefix="genesys-chaos-sandbox-")))
    try:
        url = stack.sandbox_url

        def hook() -> Any:
            return GenesysCloudHook.from_connection_dict(
                "chaos_sandbox", "sandbox-client", "sandbox-secret",
                {"api_base_url": url, "login_base_url": url, "sandbox": True})

        return hostile_sandbox.run_all(url, hook)
    finally:
        stack.stop()


def writes_line(stack: dict[str, Any] | None = None) -> str:
    """The WRITES line: the hostile-answer write suite in-process (tests/hostile_writes.py) and through the
    sandbox (tests/hostile_sandbox.py), plus the native-stack write runs whose approvals were answered over
    REST inside the run (tools/chaos_writes.py; ``stack``, when that step ran). ``landed_writes`` and
    ``audited_writes`` add up all three."""
    import logging

    sys.path.insert(0, str(ROOT / "tests"))
    import hostile_writes

    logging.disable(logging.CRITICAL)  # hundreds of refusals are logged by design
    try:
        figures = hostile_writes.run_all()
        sandbox = sandbox_writes()
    finally:
        logging.disable(logging.NOTSET)
    for failure in figures.pop("failures") + sandbox.pop("failures"):
        print(f"    ! {failure.name}: unintended={failure.unintended} landed={failure.landed} "
              f"audited={failure.audited} outcome={failure.outcome}")
    figures["hostile_cases"] += sandbox["sandbox_cases"]
    figures["unintended_writes"] += sandbox["sandbox_unintended"]
    figures["landed_writes"] += sandbox["sandbox_landed"]
    figures["audited_writes"] += sandbox["sandbox_audited"]
    figures["sandbox_cases"] = sandbox["sandbox_cases"]
    if stack is not None:
        figures["landed_writes"] += stack["stack_landed"]
        figures["audited_writes"] += stack["stack_audited"]
        figures.update({k: v for k, v in stack.items() if k.startswith("stack_")})
    else:
        figures["stack_approvals_answered"] = "n/a"
    return "WRITES " + " ".join(f"{k}={v}" for k, v in figures.items())


def run_stack_step() -> dict[str, Any]:
    """tools/chaos_writes.py: provisioning and pacing applies on the native stack, approved over REST."""
    from chaos_writes import run_stack_writes

    figures = run_stack_writes()
    for run in figures.pop("runs"):
        print(f"    {run['dag_id']} {run['run_id']}: answered "
              f"{run['choice'] if run['answered'] else 'never'} -> {run.get('state')}")
    return figures


def print_writes(stack: dict[str, Any] | None) -> int:
    """Print the WRITES line; 1 when a write was unintended or unaudited, or an approval went unanswered."""
    line = writes_line(stack)
    print(line)
    values = dict(item.split("=", 1) for item in line.split()[1:])
    bad = values["unintended_writes"] != "0" or values["landed_writes"] != values["audited_writes"]
    if stack is not None:
        bad = (bad or stack["stack_approvals_answered"] != stack["stack_runs"] or bool(stack["stack_writes_after_reject"])
               or bool(stack["stack_writes_after_forgery"]) or bool(stack["stack_refused_audited_as_landed"]))
    return 1 if bad else 0


def yes(flag: bool) -> str:
    return "yes" if flag else "NO"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--days", type=int, default=30, help="backfill length in days (default 30)")
    parser.add_argument("--skip-backfill", action="store_true", help="only the pytest part")
    parser.add_argument("--skip-suite", action="store_true", help="only the backfill")
    parser.add_argument("--skip-stack-writes", action="store_true",
                        help="no native-stack write runs (approvals answered over REST) in the WRITES line")
    parser.add_argument("--only-writes", action="store_true", help="only the WRITES line (with its stack step)")
    args = parser.parse_args()
    if args.only_writes:
        return print_writes(None if args.skip_stack_writes else run_stack_step())
    report = Path(tempfile.mkdtemp(prefix="genesys-chaos-report-")) / "results.jsonl"
    code = 0 if args.skip_suite else run_suite(report)
    backfill = None
    if not args.skip_backfill:
        os.environ.setdefault("AIRFLOW_HOME", tempfile.mkdtemp(prefix="genesys-chaos-airflow-"))
        backfill = run_backfill(args.days)
    figures = print_table(read_report(report), backfill)
    print("CHAOS " + " ".join(f"{k}={v}" for k, v in figures.items()))
    scans = [r for r in read_report(report) if r["kind"] == "secrets" and r["where"] in LOG_SCANS]
    edges_code = 0 if args.skip_suite else run_edges(sum(r.get("presigned", 0) for r in scans) if scans else None)
    writes_code = print_writes(None if args.skip_stack_writes else run_stack_step())
    failed_backfill = backfill is not None and not (backfill.rerun_identical and backfill.runs == backfill.runs_succeeded)
    return 1 if code or edges_code or writes_code or failed_backfill or figures["backfill_429_failures"] else 0


if __name__ == "__main__":
    sys.exit(main())
