"""Benchmark of the conversation report: extraction → flatten → aggregate for one day.

    python bench/report.py [--scales 100000,1000000] [--page-size 10000]

For each scale the sandbox runs in its own process (no rate limit, no faults, no self-validation) and
the pipeline in another, fresh one, so the peak RSS measured (``ru_maxrss``) is the pipeline's only. The
pipeline path is the DAG's: async details job, cursor pages post-filtered to the day, streamed into
sorted Parquet chunks, k-way merged into the session table, aggregated in batches. A third process then
times the vectorised aggregation against the pure-Python row-by-row reference over the same session rows
(checking both give the same report), at every scale. Ends with one ``BENCH report ...`` line: rows, peak
RSS and wall time of the largest scale, and the *smallest* aggregation speedup over the scales.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
CLIENT = ("sandbox-client", "sandbox-secret")


def peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


# -- worker: the pipeline path, in a process of its own ----------------------------------------------


def pipeline_worker(url: str, day: str, page_size: int, workdir: Path) -> dict[str, Any]:
    from contextlib import closing
    from datetime import date, timedelta

    from genesys_cloud.hooks.genesys_cloud import GenesysCloudHook
    from genesys_cloud.hooks.pagination import post_filter_interval, read_ahead
    from genesys_pipelines.conversation_report.aggregate import aggregate, read_session_batches
    from genesys_pipelines.conversation_report.chunks import ChunkWriter, write_session_table
    from genesys_pipelines.conversation_report.params import validate_params
    from genesys_pipelines.conversation_report.query import build_async_query

    interval = f"{day}T00:00:00.000Z/{(date.fromisoformat(day) + timedelta(days=1)).isoformat()}T00:00:00.000Z"
    hook = GenesysCloudHook.from_connection_dict(
        "bench", *CLIENT, {"api_base_url": url, "login_base_url": url, "requests_per_minute": 10_000_000, "sandbox": True})
    rss_start = peak_rss_mib()
    t0 = time.perf_counter()
    # The same calls the pipeline's extraction operator makes (GenesysConversationDetailsToS3Operator).
    job_id = hook.submit_job("details", build_async_query(validate_params({}), interval).to_api())
    while (state := hook.job_status("details", job_id).state) != "FULFILLED":
        if state not in ("QUEUED", "PENDING"):
            raise RuntimeError(f"job {job_id} ended {state}")
        time.sleep(0.2)
    t_job = time.perf_counter()
    rows = post_filter_interval(hook.iter_job_rows("details", job_id, page_size=page_size), interval)
    with closing(read_ahead(rows, page_size)) as items:
        chunks = ChunkWriter(workdir / "chunks").add_all(items)
    t_extract = time.perf_counter()
    session_path = workdir / "sessions.parquet"
    merged = write_session_table(chunks.paths, str(session_path))
    t_flatten = time.perf_counter()
    report = aggregate(read_session_batches(session_path))
    t_aggregate = time.perf_counter()
    hook.close()
    return {
        "conversations": merged.conversations, "session_rows": merged.rows, "chunks": len(chunks.paths),
        "duplicates": chunks.duplicates + merged.duplicates, "groups": len(report),
        "job_wait_s": t_job - t0, "extract_s": t_extract - t_job, "flatten_s": t_flatten - t_extract,
        "aggregate_s": t_aggregate - t_flatten, "wall_s": t_aggregate - t0,
        "rss_after_imports_mib": rss_start, "peak_rss_mib": peak_rss_mib(), "session_path": str(session_path),
    }


# -- worker: vectorised vs pure-Python aggregation over the same rows --------------------------------


def compare_worker(session_path: str) -> dict[str, Any]:
    """Process CPU time (the machine is shared: wall time would measure the neighbours) of the vectorised
    aggregation against the pure-Python loop over the same rows (the whole session table), each over its
    input already in memory (Arrow tables for one, dicts for the other), best of several runs each;
    reading the Parquet file is timed on its own."""
    from genesys_pipelines.conversation_report.aggregate import aggregate, read_session_batches
    from genesys_pipelines.conversation_report.params import DEFAULT_GROUP_BY
    from genesys_pipelines.conversation_report.reference import add_rows, finish

    t0 = time.process_time()
    tables = list(read_session_batches(session_path))
    t_read = time.process_time() - t0
    fast: list[dict[str, Any]] = []
    fast_runs = []
    for _ in range(7):  # best of seven: the first pays for lazy kernel initialisation
        t0 = time.process_time()
        fast = aggregate(tables)
        fast_runs.append(time.process_time() - t0)
    rows = [table.to_pylist() for table in tables]
    slow: list[dict[str, Any]] = []
    slow_runs = []
    for _ in range(2):
        t0 = time.process_time()
        state: dict[str, dict[str, Any]] = {}
        for batch in rows:
            add_rows(state, batch)
        slow = finish(state, DEFAULT_GROUP_BY)
        slow_runs.append(time.process_time() - t0)
    if slow != fast:
        raise AssertionError("vectorised and reference reports differ")
    t_fast, t_slow = min(fast_runs), min(slow_runs)
    return {"read_s": t_read, "vectorised_s": t_fast, "python_loop_s": t_slow, "speedup": t_slow / t_fast}


# -- driver ---------------------------------------------------------------------------------------


def run_json(args: list[str], env: dict[str, str]) -> dict[str, Any]:
    out = subprocess.run([sys.executable, __file__, *args], check=True, env=env, capture_output=True, text=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def bench_scale(scale: int, page_size: int, env: dict[str, str], tmp: Path) -> dict[str, Any]:
    from genesys_sandbox.devstack import DEMO_CLOCK, DEMO_DATE, DEMO_SEED, free_port, stop_process, wait_http

    port = free_port()
    url = f"http://127.0.0.1:{port}"
    log = open(tmp / f"sandbox-{scale}.log", "wb")  # noqa: SIM115 - closed below
    sandbox = subprocess.Popen(
        [sys.executable, "-m", "genesys_sandbox", "--host", "127.0.0.1", "--port", str(port), "--seed",
         str(DEMO_SEED), "--clock", DEMO_CLOCK, "--scale", str(scale), "--requests-per-minute", "10000000",
         "--no-self-validation"], stdout=log, stderr=subprocess.STDOUT, env=env,
        start_new_session=True)  # stop_process signals the process group
    try:
        wait_http(f"{url}/_sandbox/health", proc=sandbox)
        work = tmp / f"run-{scale}"
        work.mkdir()
        result = run_json(["--worker", "--url", url, "--day", DEMO_DATE, "--page-size", str(page_size),
                           "--workdir", str(work)], env)
    finally:
        stop_process(sandbox)
        log.close()
    result.update(run_json(["--compare", result["session_path"]], env))
    result["scale"] = scale
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--scales", default="100000,1000000", help="conversations per day, comma-separated")
    parser.add_argument("--page-size", type=int, default=10_000, help="async job results page size")
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--compare", help=argparse.SUPPRESS)
    parser.add_argument("--url", help=argparse.SUPPRESS)
    parser.add_argument("--day", help=argparse.SUPPRESS)
    parser.add_argument("--workdir", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        print(json.dumps(pipeline_worker(args.url, args.day, args.page_size, Path(args.workdir))))
        return
    if args.compare:
        print(json.dumps(compare_worker(args.compare)))
        return

    scales = [int(s) for s in args.scales.split(",")]
    with tempfile.TemporaryDirectory(prefix="bench-report-") as tmp:
        env = {**os.environ, "AIRFLOW_HOME": str(Path(tmp) / "airflow"), "AIRFLOW__CORE__LOAD_EXAMPLES": "False"}
        results = []
        for scale in scales:
            started = time.perf_counter()
            r = bench_scale(scale, args.page_size, env, Path(tmp))
            r["bench_wall_s"] = time.perf_counter() - started
            results.append(r)
            print(f"scale={scale:>9,} conversations={r['conversations']:,} session_rows={r['session_rows']:,} "
                  f"chunks={r['chunks']} groups={r['groups']} duplicates={r['duplicates']}\n"
                  f"  wall={r['wall_s']:.1f}s (job wait {r['job_wait_s']:.1f}, extract {r['extract_s']:.1f}, "
                  f"flatten/merge {r['flatten_s']:.1f}, aggregate {r['aggregate_s']:.2f})\n"
                  f"  peak_rss={r['peak_rss_mib']:.0f} MiB (after imports {r['rss_after_imports_mib']:.0f} MiB)\n"
                  f"  aggregation (CPU s, input in memory): vectorised {r['vectorised_s']:.3f} vs pure-Python "
                  f"loop {r['python_loop_s']:.2f} = {r['speedup']:.1f}x (Parquet read {r['read_s']:.2f})",
                  flush=True)
    last = results[-1]
    growth = last["peak_rss_mib"] / results[0]["peak_rss_mib"] if len(results) > 1 else 1.0
    speedup = min(r["speedup"] for r in results)
    print("aggregation speedup by scale: " + ", ".join(f"{r['scale']:,}: {r['speedup']:.1f}x" for r in results)
          + f" (BENCH: the minimum, {speedup:.1f}x)")
    print(f"BENCH report rows={last['conversations']} peak_rss_mib={last['peak_rss_mib']:.0f} "
          f"rss_growth_100k_to_1m={growth:.2f} agg_speedup_vs_python={speedup:.1f} "
          f"wall_s={last['wall_s']:.1f}")


if __name__ == "__main__":
    main()
