"""Benchmark of late-arriving data: day runs vs one range run, then a sweep that restates the changed days.

    python bench/restate.py [--days 30] [--late 1] [--scale 2000]

A sandbox (seed and clock of the demo, ``--scale`` conversations a day: 2,000 is its default volume, no
rate limit) and a local S3 run in their own processes. The pipeline side is the conversation report's DAG
code path without Airflow's scheduling: the same plan, extraction (sync query or async job, streamed into
chunk files uploaded to the run's work area), flatten, aggregate and restatement-aware publish
(``genesys_cloud.sinks.delivery.restate`` + ``publish_or_reuse``) the DAG's tasks call, on the real
partition publisher. In order:

1. **daily runs**: one run per reporting day of the last ``--days`` days (``daily_runs_s``);
2. **range run**: the partitions are deleted and ONE run over the whole range with ``publish_days``
   (one extraction, the method chosen by the cost estimate) publishes them again (``range_run_s``); every
   object and manifest must be byte-identical to the daily runs' (else the benchmark fails);
3. **late data** lands on ``--late`` days (``POST /_sandbox/late_data``); the sweep reads the manifests
   from S3, probes every day once (``sweep_requests_per_day``: API requests of the sweep, availability
   read included, per day) and re-runs exactly the changed days with their stored ``run_conf``;
4. the re-run days must be version 2 (``restated``), every other day byte-identical (``untouched_identical``).

Ends with
``BENCH restate days=<n> changed=<k> restated=<k> untouched_identical=<n-k> sweep_requests_per_day=<r>
range_run_s=<a> daily_runs_s=<b>``.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from contextlib import closing
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
CLIENT = ("sandbox-client", "sandbox-secret")
DAG_ID = "genesys_conversation_report"
API = " /api/v2/"


def extract(hook: Any, planned: dict[str, Any], publisher: Any, tmp: Path) -> dict[str, Any]:
    """What ``GenesysConversationDetailsToS3Operator`` does: sync pages or the async job's cursor pages,
    cut to the interval, streamed into sorted chunk files, uploaded to the run's work area."""
    from genesys_cloud.hooks.pagination import post_filter_interval, read_ahead
    from genesys_pipelines.conversation_report.chunks import ChunkWriter

    started = time.monotonic()
    if planned["method"] == "sync":
        rows = hook.iter_conversation_details(planned["query"], page_size=100)
    else:
        job_id = hook.submit_job("details", planned["async_query"])
        while (state := hook.job_status("details", job_id).state) != "FULFILLED":
            if state not in ("QUEUED", "PENDING"):
                raise RuntimeError(f"job {job_id} ended {state}")
            time.sleep(0.2)
        rows = post_filter_interval(hook.iter_job_rows("details", job_id, page_size=1000),
                                    planned["async_query"]["interval"])
    with tempfile.TemporaryDirectory(dir=tmp) as work, closing(read_ahead(rows, 1000)) as ahead:
        stats = ChunkWriter(Path(work)).add_all(ahead)
        keys = publisher.upload_work(stats.paths, "chunks")
    return {"chunk_keys": keys, "duplicates": stats.duplicates, "seconds": round(time.monotonic() - started, 3),
            "method": planned["method"]}


def publish(publisher: Any, params: Any, window: Any, planned: dict[str, Any], flat: dict[str, Any],
            report: dict[str, Any]) -> dict[str, Any]:
    """The partition part of ``genesys_cloud.sinks.delivery.deliver`` (no webhook, no audit row)."""
    from genesys_cloud.sinks.delivery import Delivery, publish_or_reuse, restate
    from genesys_pipelines.conversation_report.output import delivery

    what = Delivery(**delivery(DAG_ID, params, window, planned, flat, report))
    return publish_or_reuse(publisher, what.names, restate(publisher, what, dict(what.manifest_extra)))


def day_run(hook: Any, conf: dict[str, Any], run_id: str, tmp: Path) -> None:
    """One run of the report for one reporting day (the DAG's tasks in order)."""
    from genesys_cloud.sinks.object_store import PartitionPublisher
    from genesys_pipelines.conversation_report import steps
    from genesys_pipelines.conversation_report.params import validate_params
    from genesys_pipelines.windows import resolve_window

    params = validate_params(conf)
    window = resolve_window(start=params.start, end=params.end, tz=params.timezone,
                            run_after=datetime(2026, 6, 11, 6, tzinfo=UTC))
    publisher = PartitionPublisher(DAG_ID, window.local_start(), window.local_end(), run_id)
    planned = steps.plan_probed(hook, params, window, publisher.work_prefix)
    flat = steps.flatten(publisher, extract(hook, planned, publisher, tmp), planned["names"])
    report = steps.aggregate(publisher, params, window, flat, planned["names"])
    publish(publisher, params, window, planned, flat, report)
    publisher.clear_work()


def range_run(hook: Any, conf: dict[str, Any], run_id: str, tmp: Path) -> dict[str, Any]:
    """One run over the range with ``publish_days`` (the DAG's range path); the cost estimate."""
    from genesys_cloud.sinks.object_store import PartitionPublisher
    from genesys_pipelines import day_ranges
    from genesys_pipelines.conversation_report import ranges, steps
    from genesys_pipelines.conversation_report.params import validate_params
    from genesys_pipelines.windows import resolve_window

    params = validate_params(conf)
    window = resolve_window(start=params.start, end=params.end, tz=params.timezone,
                            run_after=datetime(2026, 6, 11, 6, tzinfo=UTC))
    days = day_ranges.range_days(window)
    publisher = PartitionPublisher(DAG_ID, window.local_start(), window.local_end(), run_id)
    day_publishers = [PartitionPublisher(DAG_ID, d.local_start(), d.local_end(), run_id) for d in days]
    planned = steps.plan_probed(hook, params, window, publisher.work_prefix, range_run=True)
    extracted = extract(hook, planned, publisher, tmp)
    flats = steps.flatten_days(publisher, day_publishers, days, extracted, planned["names"])
    for pub, day, day_plan, flat in zip(day_publishers, days, ranges.day_plans(planned, days), flats, strict=True):
        report = steps.aggregate(pub, params, day, flat, planned["names"])
        publish(pub, params, day, day_plan, flat, report)
    publisher.clear_work()
    return {**planned["range"], "method": extracted["method"]}


def snapshot(s3: Any, bucket: str, days: list[date]) -> dict[str, dict[str, bytes]]:
    out = {}
    for day in days:
        prefix = f"{DAG_ID}/date={day}/"
        keys = [o["Key"] for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix)
                for o in page.get("Contents", [])]
        out[day.isoformat()] = {k[len(prefix):]: s3.get_object(Bucket=bucket, Key=k)["Body"].read() for k in keys}
    return out


def drop(s3: Any, bucket: str, days: list[date]) -> None:
    for day in days:
        listing = s3.list_objects_v2(Bucket=bucket, Prefix=f"{DAG_ID}/date={day}/").get("Contents", [])
        if listing:
            s3.delete_objects(Bucket=bucket, Delete={"Objects": [{"Key": o["Key"]} for o in listing]})


def api_requests(counters: dict[str, int]) -> int:
    return sum(n for k, n in counters.items() if API in k)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--late", type=int, default=1, help="days that receive late conversations")
    parser.add_argument("--scale", type=int, default=2000, help="conversations per day (the sandbox's default)")
    args = parser.parse_args()

    sys.path.append(str(ROOT / "tools"))
    from bootstrap import embedded_airflow_env

    from genesys_sandbox.devstack import DEFAULT_BUCKET, DEMO_DATE, start_stack

    with tempfile.TemporaryDirectory(prefix="bench-restate-") as tmp_name:
        tmp = Path(tmp_name)
        stack = start_stack(tmp / "stack", bucket=DEFAULT_BUCKET, sandbox_args=[
            "--scale", str(args.scale), "--requests-per-minute", "10000000", "--no-self-validation"])
        try:
            os.environ.update(embedded_airflow_env(tmp / "airflow", stack.settings_env(), DEFAULT_BUCKET, ROOT))
            os.environ["GENESYS_SETTLE_HOURS"] = str(24 * (args.days + 2))  # every day of the range still open
            os.environ["AIRFLOW__LOGGING__LOGGING_LEVEL"] = "WARNING"  # no S3Hook line per object
            result = bench(stack, args, tmp, date.fromisoformat(DEMO_DATE))
        finally:
            stack.stop()
    print(json.dumps(result["range"], sort_keys=True))
    for line in result["changes"]:
        print(f"changed {line}")
    print(f"days={result['days']} daily_runs_s={result['daily_s']:.1f} range_run_s={result['range_s']:.1f} "
          f"range_identical={result['identical']} sweep_api_requests={result['sweep_requests']} "
          f"(incl. 1 availability read)")
    print(f"BENCH restate days={result['days']} changed={result['changed']} restated={result['restated']} "
          f"untouched_identical={result['untouched_identical']} "
          f"sweep_requests_per_day={result['sweep_requests'] / result['days']:.2f} "
          f"range_run_s={result['range_s']:.1f} daily_runs_s={result['daily_s']:.1f}")


def bench(stack: Any, args: argparse.Namespace, tmp: Path, last: date) -> dict[str, Any]:
    import boto3
    import httpx

    from genesys_cloud.hooks.genesys_cloud import GenesysCloudHook
    from genesys_cloud.sinks.sweep import read_partition_manifests
    from genesys_pipelines.restatement import sweep
    from genesys_pipelines.restatement.source import probe_partitions

    s3 = boto3.client("s3", endpoint_url=stack.s3_endpoint, region_name="us-east-1",
                      aws_access_key_id="testing", aws_secret_access_key="testing")
    admin = httpx.Client(base_url=stack.sandbox_url, timeout=120)
    hook = GenesysCloudHook.from_connection_dict("bench", *CLIENT, {
        "api_base_url": stack.sandbox_url, "login_base_url": stack.sandbox_url,
        "requests_per_minute": 10_000_000, "sandbox": True})
    days = [last - timedelta(days=n) for n in range(args.days - 1, -1, -1)]
    end = (last + timedelta(days=1)).isoformat()

    t0 = time.perf_counter()
    for day in days:
        day_run(hook, {"start": day.isoformat(), "end": (day + timedelta(days=1)).isoformat()}, f"daily__{day}", tmp)
    daily_s = time.perf_counter() - t0
    daily = snapshot(s3, stack.bucket, days)
    assert all("_manifest.json" in files for files in daily.values()), "a day run published nothing"

    drop(s3, stack.bucket, days)
    t0 = time.perf_counter()
    cost = range_run(hook, {"start": days[0].isoformat(), "end": end, "publish_days": True}, "range", tmp)
    range_s = time.perf_counter() - t0
    ranged = snapshot(s3, stack.bucket, days)
    identical = ranged == daily
    if not identical:
        bad = [d for d in daily if ranged.get(d) != daily[d]]
        raise SystemExit(f"range run partitions differ from the daily runs' on {len(bad)} day(s): {bad[:5]}")

    late_days = days[len(days) // 2: len(days) // 2 + args.late]
    for day in late_days:
        admin.post("/_sandbox/late_data", json={"day": day.isoformat(), "conversations": 50}).raise_for_status()
    before = admin.get("/_sandbox/counters").json()
    found = sweep.by_day(sweep.candidates(read_partition_manifests([DAG_ID], days), hook.details_job_availability()))
    outcomes = [sweep.day_outcome(day, probe_partitions(hook, day["partitions"])) for day in found]
    triggers = sweep.triggers(outcomes)
    sweep_requests = api_requests(admin.get("/_sandbox/counters").json()) - api_requests(before)
    for trigger in triggers:  # what the mapped TriggerDagRunOperator starts: a day run with the stored conf
        day_run(hook, trigger["conf"], trigger["trigger_run_id"], tmp)
    after = snapshot(s3, stack.bucket, days)
    hook.close()

    restated = [d for d in after if json.loads(after[d]["_manifest.json"])["extra"]["restatement"]["version"] == 2]
    untouched = [d for d in after if after[d] == daily[d]]
    changed = [o for o in sweep.partition_outcomes(outcomes) if o["changes"]]
    assert sorted(t["conf"]["start"] for t in triggers) == [d.isoformat() for d in late_days], triggers
    assert restated == [d.isoformat() for d in late_days], restated
    return {"days": len(days), "changed": len(changed), "restated": len(restated),
            "untouched_identical": len(untouched), "sweep_requests": sweep_requests, "range": cost,
            "daily_s": daily_s, "range_s": range_s, "identical": identical,
            "changes": [f"{o['day']}: {'; '.join(o['changes'])}" for o in changed]}


if __name__ == "__main__":
    main()
