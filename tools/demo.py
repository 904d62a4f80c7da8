"""`make demo`: every pipeline end to end on the embedded default, for one fixed past day.

Starts the Genesys Cloud sandbox and a local S3 on free loopback ports, bootstraps an embedded Airflow
(SQLite, in .airflow/), runs each DAG with `airflow dags test`, prints a summary table (one row per DAG:
dag_id, state, outputs), then the output keys, presigned URLs and audit rows, and stops what it started.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import re
import shutil
import sqlite3
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]

from bootstrap import embedded_airflow_env  # noqa: E402

from genesys_sandbox.devstack import DEMO_CLOCK, DEMO_DATE, DEMO_SEED, start_stack  # noqa: E402

#: Run order (the forecast consumes the statistics pipeline's asset) and per-DAG trigger conf.
ORDER = [
    "genesys_campaign_execution_stats",
    "genesys_conversation_report",
    "genesys_reporting_export",
    "genesys_campaign_schedule_provisioning",
    "genesys_campaign_pacing_forecast",
]
DEMO_CONF: dict[str, dict[str, Any]] = {
    "genesys_campaign_schedule_provisioning": {"mode": "reconcile", "dry_run": False},
}


def dag_ids() -> list[str]:
    present = {p.stem for p in (ROOT / "dags").glob("*.py") if not p.name.startswith("_")}
    return [d for d in ORDER if d in present] + sorted(present - set(ORDER))


def logical_date() -> str:
    """The logical date whose reporting day is DEMO_DATE (the window helper takes the day before)."""
    from datetime import date, timedelta

    return (date.fromisoformat(DEMO_DATE) + timedelta(days=1)).isoformat() + "T03:00:00+00:00"


def run(cmd: list[str], env: dict[str, str], log: Path) -> int:
    with log.open("ab") as out:
        return subprocess.call(cmd, env=env, stdout=out, stderr=subprocess.STDOUT)


def run_state(dag_id: str, env: dict[str, str]) -> str:
    out = subprocess.run([sys.executable, "-m", "airflow", "dags", "list-runs", dag_id, "-o", "json"],
                         env=env, capture_output=True, text=True)
    lines = [line for line in out.stdout.splitlines() if line.startswith("[")]
    try:
        runs = json.loads(lines[-1])
    except (IndexError, ValueError):
        return "unknown"
    return str(runs[0]["state"]) if runs else "none"


def find_urls(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value] if value.startswith("http") and "Signature" in value else []
    if isinstance(value, dict):
        return [u for v in value.values() for u in find_urls(v)]
    if isinstance(value, list):
        return [u for v in value for u in find_urls(v)]
    return []


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--digest", type=Path, help="also write a JSON digest of every output (sha256 of each "
                        "object, webhook bodies without presigned URLs, audit rows) to compare two versions")
    args = parser.parse_args(argv)
    workdir = ROOT / ".devstack"
    home = ROOT / ".airflow"
    for path in (workdir, home):
        shutil.rmtree(path, ignore_errors=True)
    home.mkdir(parents=True)
    log = workdir / "demo.log"
    print(f"starting the sandbox (seed {DEMO_SEED}, clock {DEMO_CLOCK}) and a local S3 ...", flush=True)
    stack = start_stack(workdir)
    try:
        env = {**os.environ, **embedded_airflow_env(home, stack.settings_env(), stack.bucket, ROOT),
               "GENESYS_WRITE_APPROVAL": "off",  # `airflow dags test` cannot answer an approval (issue 17)
               # the demo replays a past sandbox day with `airflow dags test` on today's clock: without this
               # the pacing staleness rule (GENESYS_PACING_MAX_AGE_H, 24 h) rightly recommends nothing
               "GENESYS_PACING_MAX_AGE_H": str(24 * 3650)}
        print(f"sandbox {stack.sandbox_url}  s3 {stack.s3_endpoint}  AIRFLOW_HOME {home}", flush=True)
        if run([sys.executable, "-m", "airflow", "db", "migrate"], env, log):
            print(f"airflow db migrate failed; see {log}")
            return 1
        subprocess.run([sys.executable, str(ROOT / "tools" / "bootstrap.py")], env=env, check=True,
                       stdout=subprocess.DEVNULL)
        results = []
        for dag_id in dag_ids():
            started = time.monotonic()
            conf = json.dumps(DEMO_CONF.get(dag_id, {}))
            print(f"running {dag_id} for {DEMO_DATE} ...", flush=True)
            code = run([sys.executable, "-m", "airflow", "dags", "test", dag_id, logical_date(), "-c", conf],
                       env, log)
            state = run_state(dag_id, env) if code == 0 else "failed"
            results.append((dag_id, state, time.monotonic() - started))
        code = report(results, stack, env)
        if args.digest:
            args.digest.write_text(json.dumps(digest(stack, env), indent=1, sort_keys=True))
            print(f"digest written to {args.digest}")
        return code
    finally:
        stack.stop()


def report(results: list[tuple[str, str, float]], stack: Any, env: dict[str, str]) -> int:
    import boto3
    import httpx

    s3 = boto3.client("s3", endpoint_url=stack.s3_endpoint, region_name="us-east-1",
                      aws_access_key_id="testing", aws_secret_access_key="testing")
    keys: dict[str, list[str]] = {}
    for dag_id, _, _ in results:
        pages = s3.get_paginator("list_objects_v2").paginate(Bucket=stack.bucket, Prefix=f"{dag_id}/")
        keys[dag_id] = [o["Key"] for p in pages for o in p.get("Contents", []) if "/_staging/" not in o["Key"]]
    print()
    print(f"{'dag_id':45} {'state':9} {'outputs':>7} {'seconds':>8}")
    for dag_id, state, secs in results:
        print(f"{dag_id:45} {state:9} {len(keys[dag_id]):7d} {secs:8.1f}")
    print("\noutput keys:")
    for dag_id, _, _ in results:
        for key in keys[dag_id]:
            print(f"  s3://{stack.bucket}/{key}")
    print("\npresigned URLs (from the webhook deliveries):")
    inbox = httpx.get(f"{stack.sandbox_url}/_sandbox/webhooks/bi", timeout=10).json()
    for url in sorted({u for delivery in inbox for u in find_urls(delivery)}):
        print(f"  {url}")
    print("\naudit rows:")
    audit_db = Path(env["GENESYS_AUDIT_HOST"])
    if audit_db.exists():
        with sqlite3.connect(audit_db) as db:
            try:
                rows = db.execute(
                    "SELECT dag_id, task_id, map_index, event, entity_id, status, record_count "
                    "FROM genesys_audit ORDER BY dag_id, task_id, map_index, entity_id"
                ).fetchall()
            except sqlite3.Error as exc:
                rows = []
                print(f"  (no audit table: {exc})")
        for row in rows:
            print("  " + "  ".join("" if v is None else str(v) for v in row))
    failed = [d for d, state, _ in results if state != "success"]
    print(f"\n{len(results) - len(failed)}/{len(results)} DAGs succeeded" + (f"; failed: {failed}" if failed else ""))
    return 1 if failed else 0


_URL = re.compile(r"https?://[^\s\"]*(Signature|X-Amz-)[^\s\"]*")
#: Run metadata that differs between two runs of the same code by design (never in the outputs).
_VOLATILE = {"run_id", "recorded_at", "latency_ms", "try_number", "seconds", "latency", "at", "dateModified", "dateCreated"}


def _stable(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _stable(v) for k, v in value.items() if k not in _VOLATILE}
    if isinstance(value, list):
        return [_stable(v) for v in value]
    if isinstance(value, str):
        return _URL.sub("<presigned>", value)
    return value


def digest(stack: Any, env: dict[str, str]) -> dict[str, Any]:
    """What two runs of the demo must agree on: object bytes, webhook bodies and audit rows."""
    import boto3
    import httpx

    s3 = boto3.client("s3", endpoint_url=stack.s3_endpoint, region_name="us-east-1",
                      aws_access_key_id="testing", aws_secret_access_key="testing")
    objects = {}
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=stack.bucket):
        for obj in page.get("Contents", []):
            key = obj["Key"]
            if key.startswith("xcom/") or "/_staging/" in key or "/_work/" in key:
                continue
            objects[key] = hashlib.sha256(s3.get_object(Bucket=stack.bucket, Key=key)["Body"].read()).hexdigest()
    inbox = httpx.get(f"{stack.sandbox_url}/_sandbox/webhooks/bi", timeout=10).json()
    writes = httpx.get(f"{stack.sandbox_url}/_sandbox/writes", timeout=10).json()
    audit: list[Any] = []
    audit_db = Path(env["GENESYS_AUDIT_HOST"])
    if audit_db.exists():
        with sqlite3.connect(audit_db) as db:
            audit = [list(r) for r in db.execute(
                "SELECT dag_id, task_id, map_index, event, entity_type, entity_id, status, record_count "
                "FROM genesys_audit ORDER BY dag_id, task_id, map_index, entity_id, event")]
    deliveries = [{"key": d.get("idempotencyKey"), "body": _stable(d.get("body"))} for d in inbox]
    return {"objects": objects, "webhooks": sorted(deliveries, key=lambda d: json.dumps(d, sort_keys=True)),
            "writes": _stable(writes), "audit": audit}


if __name__ == "__main__":
    raise SystemExit(main())
