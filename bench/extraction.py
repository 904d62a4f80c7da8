"""Benchmark: extraction throughput of GenesysCloudHook against the sandbox's rate budget.

Starts the sandbox in its own process with a known budget and injected latency, then fetches page-number
listing pages through the hook with concurrency (all requests share the token's client-side limiter),
and the same listing one request at a time with another token. Prints the figures and ends with

    BENCH extraction ratio_to_ceiling=<x> http_429=<n> speedup_vs_sequential=<x> requests=<n>

Run: ``python bench/extraction.py`` (or ``make bench NAME=extraction``).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

CAMPAIGNS = "/api/v2/outbound/campaigns"


def start_sandbox(port: int, rpm: int, latency: float, workdir: Path) -> subprocess.Popen:
    from genesys_sandbox.devstack import wait_http

    cmd = [
        sys.executable, "-m", "genesys_sandbox", "--host", "127.0.0.1", "--port", str(port),
        "--requests-per-minute", str(rpm), "--faults", f"latency={latency}",
    ]  # fmt: skip
    log = open(workdir / "sandbox.log", "wb")  # noqa: SIM115 (kept open for the child's lifetime)
    proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    wait_http(f"http://127.0.0.1:{port}/_sandbox/health", proc=proc)
    return proc


class Counter:
    """Counts HTTP answers seen by a hook's client (before any retry), and 429s among them."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.responses = 0
        self.http_429 = 0

    def __call__(self, response) -> None:  # httpx response event hook
        if not response.request.url.path.startswith("/api/v2/"):
            return  # the token request is not an API call
        with self.lock:
            self.responses += 1
            self.http_429 += response.status_code == 429


def make_hook(conn_id: str, base_url: str, rpm: int):
    from genesys_cloud.hooks.genesys_cloud import GenesysCloudHook

    extra = {"api_base_url": base_url, "login_base_url": base_url, "requests_per_minute": rpm, "sandbox": True}
    conn = {
        "conn_type": "genesys_cloud",
        "login": "sandbox-client",
        "password": "sandbox-secret",
        "extra": extra,
    }
    os.environ[f"AIRFLOW_CONN_{conn_id.upper()}"] = json.dumps(conn)
    hook = GenesysCloudHook(genesys_cloud_conn_id=conn_id)
    counter = Counter()
    hook.get_conn().event_hooks["response"].append(counter)
    return hook, counter


def concurrent_run(hook, counter: Counter, pages: int, workers: int, concurrency: int) -> tuple[int, float]:
    """``workers`` threads each walk the listing (page size 1) with ``concurrency`` pages ahead."""
    fetched = 0
    lock = threading.Lock()
    start_count = counter.responses

    def worker() -> None:
        nonlocal fetched
        while True:
            with lock:
                if fetched >= pages:
                    return
            for _ in hook.paginate(CAMPAIGNS, page_size=1, concurrency=concurrency):
                with lock:
                    fetched += 1
                    if fetched >= pages:
                        break

    started = time.monotonic()
    threads = [threading.Thread(target=worker) for _ in range(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return counter.responses - start_count, time.monotonic() - started


def sequential_run(hook, counter: Counter, pages: int) -> tuple[int, float]:
    start_count = counter.responses
    started = time.monotonic()
    fetched = 0
    while fetched < pages:
        for _ in hook.paginate(CAMPAIGNS, page_size=1):
            fetched += 1
            if fetched >= pages:
                break
    return counter.responses - start_count, time.monotonic() - started


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=int, default=300, help="pages fetched by the concurrent client")
    parser.add_argument("--sequential-pages", type=int, default=20)
    parser.add_argument("--workers", type=int, default=4, help="listings walked at once")
    parser.add_argument("--concurrency", type=int, default=5, help="pages fetched ahead per listing")
    parser.add_argument("--rpm", type=int, default=600, help="the sandbox's budget per token")
    parser.add_argument("--latency", type=float, default=1.0, help="seconds added to every API answer")
    args = parser.parse_args()

    workdir = Path(tempfile.mkdtemp(prefix="bench-extraction-"))
    os.environ.setdefault("AIRFLOW_HOME", str(workdir / "airflow"))
    from genesys_sandbox.devstack import free_port, stop_process

    port = free_port()
    proc = start_sandbox(port, args.rpm, args.latency, workdir)
    try:
        base = f"http://127.0.0.1:{port}"
        ceiling = args.rpm / 60.0
        hook, counter = make_hook("genesys_bench_concurrent", base, args.rpm)
        facts = hook.authenticate()  # token + live limit, as every pipeline does first
        print(
            f"sandbox {base}: budget {args.rpm}/min per token, latency {args.latency}s; authenticate -> "
            f"requests_per_minute={facts['requests_per_minute']}"
        )
        requests, elapsed = concurrent_run(hook, counter, args.pages, args.workers, args.concurrency)
        rate = requests / elapsed
        print(
            f"concurrent : {requests} requests in {elapsed:.1f}s = {rate:.2f} req/s "
            f"(ceiling {ceiling:.2f} req/s, ratio {rate / ceiling:.3f}), 429s {counter.http_429}, "
            f"{args.workers} listings x {args.concurrency} pages ahead"
        )

        seq_hook, seq_counter = make_hook("genesys_bench_sequential", base, args.rpm)
        seq_requests, seq_elapsed = sequential_run(seq_hook, seq_counter, args.sequential_pages)
        seq_rate = seq_requests / seq_elapsed
        print(
            f"sequential : {seq_requests} requests in {seq_elapsed:.1f}s = {seq_rate:.2f} req/s "
            f"(ratio {seq_rate / ceiling:.3f}), 429s {seq_counter.http_429}"
        )
        speedup = rate / seq_rate
        http_429 = counter.http_429 + seq_counter.http_429
        print(f"speedup vs sequential: {speedup:.2f}x")
        print(
            f"BENCH extraction ratio_to_ceiling={rate / ceiling:.3f} http_429={http_429} "
            f"speedup_vs_sequential={speedup:.2f} requests={requests}"
        )
        hook.close()
        seq_hook.close()
    finally:
        stop_process(proc)
    return 0


if __name__ == "__main__":
    sys.exit(main())
