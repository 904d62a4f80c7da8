"""The embedded default stack: the Genesys Cloud sandbox and a local S3 (moto), on free loopback ports.

Used by ``make demo``, ``make airflow``, the test fixtures and the benchmarks. Each service runs in its
own process group so stopping the stack stops exactly what it started; :func:`stop_processes` stops
several groups in parallel (TERM to all, one shared deadline, then KILL).

The local S3 is moto's server, in memory (tests, ``make demo``: ephemeral by design) or, with
``s3_data_dir``, mirrored to a SQLite file so ``make airflow``'s outputs survive a restart
(``python -m genesys_sandbox.devstack s3 --data-dir DIR``; see :class:`S3Mirror` for why this way).
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

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


def _signal_group(proc: subprocess.Popen, signum: int) -> None:
    try:
        os.killpg(proc.pid, signum)
    except (ProcessLookupError, PermissionError):
        pass


def stop_processes(procs: Iterable[subprocess.Popen], timeout: float = 15.0) -> None:
    """SIGTERM every process group at once, wait for all within one ``timeout``, SIGKILL the groups left.

    The groups also lose any child still running after its leader exited (e.g. a task process of the
    scheduler), so a stop leaves nothing behind.
    """
    procs = list(procs)
    for proc in procs:
        _signal_group(proc, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    for proc in procs:
        try:
            proc.wait(timeout=max(0.0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            pass
    for proc in procs:
        _signal_group(proc, signal.SIGKILL)  # no-op for an empty group
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:  # pragma: no cover - a process SIGKILL cannot end
            pass


def stop_process(proc: subprocess.Popen, timeout: float = 15.0) -> None:
    """SIGTERM the process group, then SIGKILL what is left after ``timeout``."""
    stop_processes([proc], timeout)


@dataclass
class Stack:
    """A running sandbox + local S3. ``env()`` gives what Airflow processes need to use them."""

    workdir: Path
    sandbox_url: str
    s3_endpoint: str
    bucket: str
    audit_db: Path | None = None
    procs: list[subprocess.Popen] = field(default_factory=list)

    def settings_env(self) -> dict[str, str]:
        """Variables expanded by ``config/airflow_settings.yaml`` and read by ``genesys_cloud.config``."""
        return {
            "GENESYS_API_BASE_URL": self.sandbox_url,
            "GENESYS_LOGIN_BASE_URL": self.sandbox_url,
            "GENESYS_SANDBOX": "true",  # http on loopback is allowed for the emulator only
            "GENESYS_S3_ENDPOINT_URL": self.s3_endpoint,
            "GENESYS_WEBHOOK_URL": f"{self.sandbox_url}/_sandbox/webhooks/bi",
            "GENESYS_AUDIT_CONN_TYPE": "sqlite",
            "GENESYS_AUDIT_HOST": str(self.audit_db or self.workdir / "audit.db"),
            "GENESYS_BUCKET": self.bucket,
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_DEFAULT_REGION": "us-east-1",
        }

    def stop(self, timeout: float = 15.0) -> None:
        stop_processes(self.procs, timeout)
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
    s3_data_dir: Path | str | None = None,
    audit_db: Path | str | None = None,
) -> Stack:
    """Start the sandbox and moto's S3 server on 127.0.0.1 (free ports unless given), create the bucket.

    ``clock=None`` runs the sandbox on the real clock (``make airflow``); the default is the fixed demo
    clock. ``s3_data_dir`` keeps the S3 objects in a file there across restarts (default: in memory);
    ``audit_db`` is the audit trail's SQLite file (default: ``workdir/audit.db``).
    """
    workdir = Path(workdir)
    workdir.mkdir(parents=True, exist_ok=True)
    sandbox_port, s3_port = sandbox_port or free_port(), s3_port or free_port()
    sandbox_cmd = [sys.executable, "-m", "genesys_sandbox", "--host", "127.0.0.1", "--port", str(sandbox_port),
                   "--seed", str(seed), *(["--clock", clock] if clock else []), *sandbox_args]
    if s3_data_dir is None:
        s3_cmd = [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(s3_port)]
    else:
        s3_cmd = [sys.executable, "-m", "genesys_sandbox.devstack", "s3", "--host", "127.0.0.1",
                  "--port", str(s3_port), "--data-dir", str(Path(s3_data_dir).resolve())]
    stack = Stack(workdir, f"http://127.0.0.1:{sandbox_port}", f"http://127.0.0.1:{s3_port}", bucket,
                  audit_db=Path(audit_db) if audit_db else workdir / "audit.db")
    try:
        sandbox = _spawn(sandbox_cmd, workdir / "sandbox.log")
        stack.procs.append(sandbox)
        s3 = _spawn(s3_cmd, workdir / "s3.log")
        stack.procs.append(s3)
        wait_http(f"{stack.sandbox_url}/_sandbox/health", proc=sandbox)
        wait_http(f"{stack.s3_endpoint}/", proc=s3, timeout=120 if s3_data_dir else 30)
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
    # Default encryption (SSE-S3), as every AWS bucket has since 2023: objects written without an SSE
    # header (Airflow's object-storage XCom through s3fs) are encrypted like the outputs. Set on every
    # start: a restored bucket (S3Mirror) does not keep its configuration.
    s3.put_bucket_encryption(Bucket=bucket, ServerSideEncryptionConfiguration={"Rules": [
        {"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}, "BucketKeyEnabled": False}]})


# -- a local S3 that survives a restart ---------------------------------------------------------------
class S3Mirror:
    """moto's S3 state mirrored, object by object, into one SQLite file, and loaded back at start.

    Why this way: the pipelines, S3Hook, s3fs (object-storage XCom) and presigned URLs are tested against
    moto's S3 (copy with metadata, SSE headers, multi-object delete, multipart uploads); a different
    S3-compatible server would be a second, less tested implementation of all that. moto itself keeps
    state only in memory, and its recorder (``MOTO_ENABLE_RECORDING``) appends every request, reads and
    staging uploads included, to a log that grows without bound and is replayed request by request at
    each start. Here the server stays moto; after every write request the changed objects (compared by
    etag, size, content type, metadata and encryption) are upserted and the deleted ones removed, in one
    SQLite transaction before the response goes out, so what the client was told is on disk (a crash loses
    nothing acknowledged). At start the buckets and objects go back into moto's backend with the same
    metadata. Only what is needed locally is kept: bucket names and current object versions.
    """

    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(self.path, check_same_thread=False)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("CREATE TABLE IF NOT EXISTS buckets (name TEXT PRIMARY KEY, region TEXT NOT NULL)")
        self._db.execute(
            "CREATE TABLE IF NOT EXISTS objects (bucket TEXT NOT NULL, key TEXT NOT NULL, signature TEXT NOT NULL,"
            " etag TEXT NOT NULL, metadata TEXT NOT NULL, encryption TEXT, body BLOB NOT NULL,"
            " PRIMARY KEY (bucket, key))"
        )
        self._db.commit()
        self._lock = threading.Lock()
        self._known: dict[tuple[str, str], str] = {
            (b, k): sig for b, k, sig in self._db.execute("SELECT bucket, key, signature FROM objects")
        }
        self._buckets = {name for (name,) in self._db.execute("SELECT name FROM buckets")}

    @staticmethod
    def backend() -> Any:
        from moto.core import DEFAULT_ACCOUNT_ID
        from moto.s3.models import s3_backends

        return s3_backends[DEFAULT_ACCOUNT_ID]["aws"]

    @staticmethod
    def _signature(key: Any) -> str:
        return json.dumps([key.etag, key.size, dict(key.metadata), key.encryption], sort_keys=True, default=str)

    def restore(self) -> int:
        """Load the stored buckets and objects into moto's backend; returns the number of objects."""
        backend = self.backend()
        for name, region in self._db.execute("SELECT name, region FROM buckets"):
            if name not in backend.buckets:
                backend.create_bucket(name, region)
        count = 0
        for bucket, key_name, etag, metadata, encryption, body in self._db.execute(
            "SELECT bucket, key, etag, metadata, encryption, body FROM objects"
        ):
            # The stored etag too: a multipart upload's etag is not the md5 of its bytes.
            key = backend.put_object(bucket, key_name, bytes(body), etag=etag, encryption=encryption,
                                     disable_notification=True)
            key.set_metadata(json.loads(metadata), replace=True)
            count += 1
        return count

    def sync(self) -> None:
        """Write what changed in moto's backend since the last sync (one transaction)."""
        backend = self.backend()
        with self._lock, self._db:
            buckets = {name: bucket for name, bucket in list(backend.buckets.items())}
            for name in set(buckets) - self._buckets:
                self._db.execute("INSERT OR REPLACE INTO buckets VALUES (?, ?)",
                                 (name, getattr(buckets[name], "region_name", "us-east-1")))
            for name in self._buckets - set(buckets):
                self._db.execute("DELETE FROM buckets WHERE name = ?", (name,))
                self._db.execute("DELETE FROM objects WHERE bucket = ?", (name,))
            self._buckets = set(buckets)
            seen: set[tuple[str, str]] = set()
            for bucket_name, bucket in buckets.items():
                for key_name, key in bucket.keys.items():
                    if key is None or getattr(key, "is_delete_marker", False):
                        continue
                    ident = (bucket_name, key_name)
                    seen.add(ident)
                    signature = self._signature(key)
                    if self._known.get(ident) == signature:
                        continue
                    self._db.execute(
                        "INSERT OR REPLACE INTO objects VALUES (?, ?, ?, ?, ?, ?, ?)",
                        (bucket_name, key_name, signature, key.etag.strip('"'), json.dumps(dict(key.metadata)),
                         key.encryption, sqlite3.Binary(key.value)),
                    )
                    self._known[ident] = signature
            for ident in set(self._known) - seen:
                self._db.execute("DELETE FROM objects WHERE bucket = ? AND key = ?", ident)
                del self._known[ident]

    def close(self) -> None:
        self._db.close()


class _SyncAfterWrites:
    """WSGI middleware: a write request's response is released only after the mirror stored its effect."""

    def __init__(self, app: Any, mirror: S3Mirror) -> None:
        self.app, self.mirror = app, mirror
        self._writes = threading.Lock()  # writes one at a time, so each sync sees a settled state

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        if environ.get("REQUEST_METHOD") in ("GET", "HEAD", "OPTIONS"):
            return self.app(environ, start_response)
        with self._writes:
            captured: list[Any] = []

            def capture(status: str, headers: list[Any], exc_info: Any = None) -> Any:
                captured[:] = [status, headers, exc_info]
                return lambda data: None

            result = self.app(environ, capture)
            try:
                body = b"".join(result)
            finally:
                if hasattr(result, "close"):
                    result.close()
            self.mirror.sync()
        start_response(*captured)
        return [body]


def _quiet_handler(base: type) -> type:
    class Handler(base):  # type: ignore[misc, valid-type]
        """Access log without query strings: a presigned URL's signature never lands in a log file."""

        def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
            self.log("info", '"%s %s" %s', self.command, self.path.split("?", 1)[0], code)

    return Handler


def serve_s3(host: str, port: int, data_dir: Path) -> None:
    """moto's S3 server on ``host:port`` with its state kept in ``data_dir/s3.sqlite`` (until SIGTERM)."""
    from moto.moto_server.werkzeug_app import (
        DomainDispatcherApplication,
        MotoRequestHandler,
        create_backend_app,
    )
    from werkzeug.serving import make_server

    mirror = S3Mirror(Path(data_dir) / "s3.sqlite")
    restored = mirror.restore()
    app = _SyncAfterWrites(DomainDispatcherApplication(create_backend_app), mirror)
    server = make_server(host, port, app, threaded=True, request_handler=_quiet_handler(MotoRequestHandler))
    signal.signal(signal.SIGTERM, lambda *_: threading.Thread(target=server.shutdown, daemon=True).start())
    print(f"local S3 on http://{host}:{port}, {restored} objects restored from {mirror.path}", flush=True)
    try:
        server.serve_forever()
    finally:
        mirror.close()


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m genesys_sandbox.devstack")
    sub = parser.add_subparsers(dest="command", required=True)
    s3 = sub.add_parser("s3", help="a local S3 (moto) whose objects persist in --data-dir")
    s3.add_argument("--host", default="127.0.0.1")
    s3.add_argument("--port", type=int, required=True)
    s3.add_argument("--data-dir", type=Path, required=True)
    args = parser.parse_args(argv)
    serve_s3(args.host, args.port, args.data_dir)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
