"""The embedded default stack: the Genesys Cloud sandbox and a local S3 (moto), on free loopback ports.

Used by ``make demo``, ``make airflow``, the test fixtures and the benchmarks. Each service runs in its
own process group so stopping the stack stops exactly what it started.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import httpx

#: The fixed past day demos and end-to-end tests run, and the sandbox clock that makes it "yesterday".
DEMO_DATE = "2026-06-10"
DEMO_CLOCK = "2026-06-11T06:00:00Z"
DEMO_SEED = 42
DEFAULT_BUCKET = "genesys-pipelines"


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_http(url: str, timeout: float = 30.0, proc: subprocess.Popen | None = None) -> None:
    deadline = time.monotonic() + timeout
    last: Exception | None = None
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"process for {url} exited with {proc.returncode}")
        try:
            if httpx.get(url, timeout=2.0).status_code < 500:
                return
        except httpx.HTTPError as exc:
            last = exc
        time.sleep(0.2)
    raise TimeoutError(f"{url} not healthy after {timeout}s: {last}")


def _spawn(cmd: Sequence[str], log: Path, env: Mapping[str, str] | None = None) -> subprocess.Popen:
    log.parent.mkdir(parents=True, exist_ok=True)
    handle = log.open("ab")
    return subprocess.Popen(  # noqa: S603 - fixed argv of our own interpreter
        list(cmd), stdout=handle, stderr=subprocess.STDOUT, start_new_session=True,
        env={**os.environ, **(env or {})},
    )


def stop_process(proc: subprocess.Popen, timeout: float = 15.0) -> None:
    """SIGTERM the process group, then SIGKILL what is left after ``timeout``."""
    if proc.poll() is not None:
        return
    try:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=timeout)
    except (ProcessLookupError, subprocess.TimeoutExpired):
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        proc.wait(timeout=5)


@dataclass
class Stack:
    """A running sandbox + local S3. ``env()`` gives what Airflow processes need to use them."""

    workdir: Path
    sandbox_url: str
    s3_endpoint: str
    bucket: str
    procs: list[subprocess.Popen] = field(default_factory=list)

    def settings_env(self) -> dict[str, str]:
        """Variables expanded by ``config/airflow_settings.yaml`` and read by ``genesys_cloud.config``."""
        return {
            "GENESYS_API_BASE_URL": self.sandbox_url,
            "GENESYS_LOGIN_BASE_URL": self.sandbox_url,
            "GENESYS_S3_ENDPOINT_URL": self.s3_endpoint,
            "GENESYS_WEBHOOK_URL": f"{self.sandbox_url}/_sandbox/webhooks/bi",
            "GENESYS_AUDIT_CONN_TYPE": "sqlite",
            "GENESYS_AUDIT_HOST": str(self.workdir / "audit.db"),
            "GENESYS_BUCKET": self.bucket,
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_DEFAULT_REGION": "us-east-1",
        }

    def stop(self) -> None:
        for proc in reversed(self.procs):
            stop_process(proc)
        self.procs.clear()

    def __enter__(self) -> Stack:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def start_stack(
    workdir: Path | str,
    *,
    seed: int = DEMO_SEED,
    clock: str | None = DEMO_CLOCK,
    bucket: str = DEFAULT_BUCKET,
    sandbox_args: Sequence[str] = (),
    sandbox_port: int | None = None,
    s3_port: int | None = None,
) -> Stack:
    """Start the sandbox and moto's S3 server on 127.0.0.1 (free ports unless given), create the bucket."""
    workdir = Path(workdir)
    workdir.mkdir(parents=True, exist_ok=True)
    sandbox_port, s3_port = sandbox_port or free_port(), s3_port or free_port()
    sandbox_cmd = [sys.executable, "-m", "genesys_sandbox", "--host", "127.0.0.1", "--port", str(sandbox_port),
                   "--seed", str(seed), *(["--clock", clock] if clock else []), *sandbox_args]
    s3_cmd = [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(s3_port)]
    stack = Stack(workdir, f"http://127.0.0.1:{sandbox_port}", f"http://127.0.0.1:{s3_port}", bucket)
    try:
        sandbox = _spawn(sandbox_cmd, workdir / "sandbox.log")
        stack.procs.append(sandbox)
        s3 = _spawn(s3_cmd, workdir / "s3.log")
        stack.procs.append(s3)
        wait_http(f"{stack.sandbox_url}/_sandbox/health", proc=sandbox)
        wait_http(f"{stack.s3_endpoint}/", proc=s3)
        create_bucket(stack.s3_endpoint, bucket)
    except BaseException:
        stack.stop()
        raise
    return stack


def create_bucket(endpoint: str, bucket: str) -> None:
    import boto3

    s3 = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1",
                      aws_access_key_id="testing", aws_secret_access_key="testing")
    existing = {b["Name"] for b in s3.list_buckets().get("Buckets", [])}
    if bucket not in existing:
        s3.create_bucket(Bucket=bucket)
