"""Benchmark of the restatement sweep's probe cost: fingerprint N days, land late data on K, re-probe.

    python bench/restate.py [--days 7] [--late 1] [--scale 20000]

The sandbox runs in its own process (seed and clock of the demo, no rate limit). The pipeline side is the
DAG's code path without Airflow: the conversation report's query for each day, its source fingerprint
(``restatement.source.details_source``, as the plan step reads it), then late conversations on K days
(``POST /_sandbox/late_data``), then the sweep's decisions (``candidates`` → ``probe_day`` → ``triggers``)
counting the API requests the probes cost (from the sandbox's own counters). Ends with

    BENCH restate days=<n> changed=<k> triggered=<k> untouched=<n-k> sweep_requests_per_day=<r> probe_ms_per_day=<ms>

(the end-to-end re-run, with byte-identical untouched days, is tested in
``tests/dags/test_genesys_restatement_sweep.py``; multi-day range runs are not implemented yet.)
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

CLIENT = ("sandbox-client", "sandbox-secret")
DETAILS = "POST /api/v2/analytics/conversations/details/query"


def main() -> None:
    import httpx

    from genesys_cloud.hooks.genesys_cloud import GenesysCloudHook
    from genesys_pipelines.conversation_report.params import validate_params
    from genesys_pipelines.conversation_report.query import build_query
    from genesys_pipelines.restatement import sweep
    from genesys_pipelines.restatement.source import details_source, probe_day, run_conf
    from genesys_pipelines.restatement.versions import next_block
    from genesys_pipelines.windows import Window
    from genesys_sandbox.devstack import DEMO_CLOCK, DEMO_DATE, DEMO_SEED, free_port, stop_process, wait_http

    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--days", type=int, default=7)
    parser.add_argument("--late", type=int, default=1, help="days that receive late conversations")
    parser.add_argument("--scale", type=int, default=20_000, help="conversations per day in the sandbox")
    args = parser.parse_args()

    os.environ["GENESYS_SETTLE_HOURS"] = str(24 * (args.days + 2))  # every swept day is still open
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    with tempfile.TemporaryDirectory(prefix="bench-restate-") as tmp:
        env = {**os.environ, "AIRFLOW_HOME": str(Path(tmp) / "airflow"), "AIRFLOW__CORE__LOAD_EXAMPLES": "False"}
        log = open(Path(tmp) / "sandbox.log", "wb")  # noqa: SIM115 - closed below
        sandbox = subprocess.Popen(
            [sys.executable, "-m", "genesys_sandbox", "--host", "127.0.0.1", "--port", str(port), "--seed",
             str(DEMO_SEED), "--clock", DEMO_CLOCK, "--scale", str(args.scale), "--requests-per-minute",
             "10000000", "--no-self-validation"], stdout=log, stderr=subprocess.STDOUT, env=env,
            start_new_session=True)
        try:
            wait_http(f"{url}/_sandbox/health", proc=sandbox)
            hook = GenesysCloudHook.from_connection_dict(
                "bench", *CLIENT, {"api_base_url": url, "login_base_url": url, "requests_per_minute": 10_000_000})
            admin = httpx.Client(base_url=url, timeout=60)
            last = date.fromisoformat(DEMO_DATE)
            days = [last - timedelta(days=n) for n in range(args.days - 1, -1, -1)]
            params = validate_params({})
            manifests = []
            for day in days:
                start = datetime(day.year, day.month, day.day, tzinfo=UTC)
                window = Window(start, start + timedelta(days=1), "UTC")
                query = build_query(params, window.interval()).to_api()
                block, _ = next_block(None, f"digest-{day}", details_source(hook, query, window),
                                      run_conf(params.model_dump(mode="json"), window))
                manifests.append(("genesys_conversation_report", day, {
                    "extra": {"restatement": block}, "objects": [], "partition": f"date={day}",
                    "window": {"start": window.start.isoformat(), "end": window.end.isoformat()}}))
            late_days = days[len(days) // 2: len(days) // 2 + args.late]
            for day in late_days:
                admin.post("/_sandbox/late_data", json={"day": day.isoformat(), "conversations": 50}).raise_for_status()

            before = admin.get("/_sandbox/counters").json()
            t0 = time.perf_counter()
            found = sweep.candidates(manifests, hook.details_job_availability())
            outcomes = [sweep.outcome(f, probe_day(hook, f)) for f in found]
            triggers = sweep.triggers(outcomes)
            elapsed = time.perf_counter() - t0
            after = admin.get("/_sandbox/counters").json()
            hook.close()
        finally:
            stop_process(sandbox)
            log.close()
    probes = after.get(DETAILS, 0) - before.get(DETAILS, 0)
    requests = sum(n for k, n in after.items() if " /api/v2/" in k) - sum(n for k, n in before.items() if " /api/v2/" in k)
    changed = [o for o in outcomes if o["changes"]]
    for o in changed:
        print(f"changed {o['day']}: {'; '.join(o['changes'])}")
    print(f"days={len(days)} probed={len(found)} details_probes={probes} api_requests={requests} "
          f"(incl. 1 availability read) sweep_s={elapsed:.2f}")
    assert sorted(t["conf"]["start"] for t in triggers) == sorted(d.isoformat() for d in late_days), triggers
    print(f"BENCH restate days={len(days)} changed={len(changed)} triggered={len(triggers)} "
          f"untouched={len(days) - len(triggers)} sweep_requests_per_day={requests / len(days):.2f} "
          f"probe_ms_per_day={1000 * elapsed / len(days):.1f}")


if __name__ == "__main__":
    main()
