"""Benchmark: answer-rate forecast skill on every sandbox campaign (backtest against seasonal naive).

Starts the sandbox (seed and clock of the demo) in its own process, walks the campaign listing through
GenesysCloudHook, fetches each campaign's hourly history exactly as the pipeline does (chunked PT1H
aggregates queries over ``history_days`` before the window end), and backtests the pipeline's model:
the last 24 hours held out, MAE, and MASE = MAE ÷ MAE of the seasonal-naive forecast (same hour a day
earlier) over the held-out hours with attempts. Campaigns under 96 usable hours are skipped (listed).
Ends with

    BENCH forecast campaigns=<n> mae=<x> mase=<x> mase_worst=<x>

(means over the campaigns backtested; target: mean MASE < 0.9).
Run: ``python bench/forecast.py`` (or ``make bench NAME=forecast``).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path


def start_sandbox(port: int, seed: int, clock: str, workdir: Path) -> subprocess.Popen:
    from genesys_sandbox.devstack import wait_http

    cmd = [sys.executable, "-m", "genesys_sandbox", "--host", "127.0.0.1", "--port", str(port),
           "--seed", str(seed), "--clock", clock, "--requests-per-minute", "3000"]
    log = open(workdir / "sandbox.log", "wb")  # noqa: SIM115 (kept open for the child's lifetime)
    proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    wait_http(f"http://127.0.0.1:{port}/_sandbox/health", proc=proc)
    return proc


def make_hook(base_url: str):  # noqa: ANN201 (imports airflow lazily)
    from genesys_cloud.hooks.genesys_cloud import GenesysCloudHook

    extra = {"api_base_url": base_url, "login_base_url": base_url, "requests_per_minute": 3000, "sandbox": True}
    conn = {"conn_type": "genesys_cloud", "login": "sandbox-client", "password": "sandbox-secret", "extra": extra}
    os.environ["AIRFLOW_CONN_GENESYS_BENCH_FORECAST"] = json.dumps(conn)
    return GenesysCloudHook(genesys_cloud_conn_id="genesys_bench_forecast")


def main() -> int:
    from genesys_sandbox.devstack import DEMO_CLOCK, DEMO_DATE, DEMO_SEED

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--day", default=DEMO_DATE, help="window day (UTC); the held-out day is this day")
    parser.add_argument("--history-days", type=int, default=14)
    parser.add_argument("--seed", type=int, default=DEMO_SEED)
    parser.add_argument("--clock", default=DEMO_CLOCK)
    args = parser.parse_args()

    workdir = Path(tempfile.mkdtemp(prefix="bench-forecast-"))
    os.environ.setdefault("AIRFLOW_HOME", str(workdir / "airflow"))
    from genesys_cloud.operators.pacing_forecast import CAMPAIGNS_PATH, fetch_history
    from genesys_pipelines.pacing_forecast import history, model
    from genesys_pipelines.pacing_forecast.params import PacingParams
    from genesys_pipelines.windows import Window
    from genesys_sandbox.devstack import free_port, stop_process

    port = free_port()
    proc = start_sandbox(port, args.seed, args.clock, workdir)
    try:
        hook = make_hook(f"http://127.0.0.1:{port}")
        hook.authenticate()
        start = datetime.fromisoformat(args.day).replace(tzinfo=UTC)
        window = Window(start, start + timedelta(days=1), "UTC")
        params = PacingParams(history_days=args.history_days)
        span = history.history_window(window, params.history_days)
        campaigns = sorted(hook.paginate(CAMPAIGNS_PATH, page_size=100), key=lambda c: c["id"])
        print(f"sandbox seed {args.seed}, clock {args.clock}; window {window.interval()}; "
              f"history {params.history_days} days; {len(campaigns)} campaigns")
        print(f"{'campaign':<28} {'mode':<12} {'usable_h':>8} {'eval_h':>6} {'mae':>8} {'naive':>8} {'mase':>7}  model")
        scored, skipped = [], []
        started = time.monotonic()
        for campaign in campaigns:
            grid = history.hourly_grid(fetch_history(hook, campaign["id"], window, params), span)
            try:
                skill = model.backtest(grid)
            except model.ShortHistoryError as exc:
                skipped.append((campaign["name"], str(exc)))
                continue
            scored.append(skill)
            mase = "n/a" if skill.mase is None else f"{skill.mase:.3f}"
            print(f"{campaign['name'][:28]:<28} {campaign.get('dialingMode', ''):<12} {history.usable_hours(grid):>8} "
                  f"{skill.hours_evaluated:>6} {skill.mae:>8.4f} {skill.naive_mae:>8.4f} {mase:>7}  {skill.method}")
        elapsed = time.monotonic() - started
        for name, reason in skipped:
            print(f"skipped {name}: {reason}")
        mases = [s.mase for s in scored if s.mase is not None]
        if not scored or not mases:
            print("no campaign could be backtested")
            return 1
        mae, mase, worst = statistics.mean(s.mae for s in scored), statistics.mean(mases), max(mases)
        print(f"{len(scored)} backtested, {len(skipped)} skipped in {elapsed:.1f}s; mean MASE {mase:.3f} "
              f"({'meets' if mase < 0.9 else 'MISSES'} the < 0.9 target); "
              f"{sum(m < 1 for m in mases)}/{len(mases)} beat seasonal naive")
        print(f"BENCH forecast campaigns={len(scored)} mae={mae:.4f} mase={mase:.4f} mase_worst={worst:.4f}")
        return 0
    finally:
        stop_process(proc)


if __name__ == "__main__":
    sys.exit(main())
