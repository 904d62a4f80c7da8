"""Benchmark: conversations per second the sandbox serves through the async details job results.

Starts the sandbox in its own process (``--no-self-validation --scale N --requests-per-minute 1000000``),
submits one details job over a closed UTC day, and pulls every result page by cursor, as the report
pipeline does. Prints the figures and ends with

    BENCH sandbox conversations_per_s=<x> pages=<n>

Run: ``python bench/sandbox.py [--scale 100000] [--page-size 10000]`` (or
``make bench NAME=sandbox``).
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
import msgspec

from genesys_sandbox.devstack import free_port, stop_process, wait_http

CLOCK = "2026-05-15T12:00:00Z"
DAY = "2026-05-13T00:00:00.000Z/2026-05-14T00:00:00.000Z"  # a closed Wednesday
JOBS = "/api/v2/analytics/conversations/details/jobs"


class ResultsPage(msgspec.Struct):
    """Just enough of a results page to count and follow it: conversations stay raw JSON, so the figure
    measures the sandbox, not the benchmark's own JSON parsing (stdlib json takes 2-3x the server's time)."""

    conversations: list[msgspec.Raw] = []
    cursor: str | None = None


def start_sandbox(port: int, scale: int, log: Path) -> subprocess.Popen:
    cmd = [
        sys.executable, "-m", "genesys_sandbox", "--host", "127.0.0.1", "--port", str(port), "--clock", CLOCK,
        "--no-self-validation", "--scale", str(scale), "--requests-per-minute", "1000000",
    ]
    proc = subprocess.Popen(cmd, stdout=log.open("wb"), stderr=subprocess.STDOUT, start_new_session=True)  # noqa: S603
    wait_http(f"http://127.0.0.1:{port}/_sandbox/health", timeout=60, proc=proc)
    return proc


def pull_job(base: str, page_size: int) -> tuple[int, int, int, float, float]:
    """(conversations, pages, bytes, seconds to FULFILLED, seconds pulling results)."""
    with httpx.Client(base_url=base, timeout=120) as client:
        token = client.post("/oauth/token", data={"grant_type": "client_credentials"}, auth=("sandbox-client", "sandbox-secret"))
        client.headers["Authorization"] = f"Bearer {token.json()['access_token']}"
        submitted = time.perf_counter()
        job_id = client.post(JOBS, json={"interval": DAY, "startOfDayIntervalMatching": True}).json()["jobId"]
        while (state := client.get(f"{JOBS}/{job_id}").json()["state"]) != "FULFILLED":
            if state in ("FAILED", "CANCELLED", "EXPIRED"):
                raise RuntimeError(f"job ended {state}")
            time.sleep(0.1)
        ready = time.perf_counter() - submitted
        conversations = pages = size = 0
        cursor: str | None = None
        started = time.perf_counter()
        while True:
            params: dict[str, str | int] = {"pageSize": page_size, **({"cursor": cursor} if cursor else {})}
            response = client.get(f"{JOBS}/{job_id}/results", params=params)
            response.raise_for_status()
            page = msgspec.json.decode(response.content, type=ResultsPage)
            conversations += len(page.conversations)
            size += len(response.content)
            pages += 1
            cursor = page.cursor
            if not cursor:
                return conversations, pages, size, ready, time.perf_counter() - started


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=int, default=100_000, help="conversations per day")
    parser.add_argument("--page-size", type=int, default=10_000)
    args = parser.parse_args()
    port = free_port()
    with tempfile.TemporaryDirectory(prefix="bench-sandbox-") as tmp:
        proc = start_sandbox(port, args.scale, Path(tmp) / "sandbox.log")
        try:
            conversations, pages, size, ready, seconds = pull_job(f"http://127.0.0.1:{port}", args.page_size)
        finally:
            stop_process(proc)
    rate = conversations / seconds if seconds else 0.0
    print(f"scale                {args.scale} conversations/day")
    print(f"page size            {args.page_size}")
    print(f"job fulfilled after  {ready:.2f} s")
    print(f"conversations        {conversations}")
    print(f"pages                {pages}")
    print(f"bytes                {size / 1e6:.1f} MB ({size / max(conversations, 1):.0f} B/conversation)")
    print(f"results pulled in    {seconds:.2f} s")
    print(f"throughput           {rate:,.0f} conversations/s")
    print(f"BENCH sandbox conversations_per_s={rate:.0f} pages={pages}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
