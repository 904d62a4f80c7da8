"""Helpers of the native-stack tests: the skip rule, timings, polling (imported by conftest and tests)."""

from __future__ import annotations

import os
import shutil
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.append(str(ROOT / "tools"))  # tools/ is not a package; native_stack is its only import here

from native_stack import NativeStack, services_available, services_broken, start_native_stack  # noqa: E402

__all__ = ["NativeStack", "start_native_stack"]

TERMINAL_STATES = {"success", "failed"}


def _installed() -> list[str]:
    """PostgreSQL / Redis programs present on this machine (a CI box that has them must not skip)."""
    return [name for name in ("postgres", "pg_ctl", "pg_isready", "redis-server", "redis-cli") if shutil.which(name)]


def require_services() -> None:
    available, why = services_available()
    if not available:
        installed = _installed()
        if os.environ.get("CI") == "true" and installed:
            pytest.fail(f"CI=true: {why}, but {', '.join(installed)} installed here; start them instead of skipping")
        pytest.skip(f"native stack needs PostgreSQL on 127.0.0.1:5432 and Redis on 127.0.0.1:6379: {why}")
    broken = services_broken()
    if broken:
        pytest.fail(f"PostgreSQL/Redis answer on loopback but cannot be used: {broken}")


class Timings:
    """Wall-clock figures of the module, printed at the end (the issue asks for measured durations)."""

    def __init__(self) -> None:
        self.values: dict[str, float] = {}
        self._t0 = time.monotonic()

    def measure(self, name: str) -> Callable[[], None]:
        started = time.monotonic()

        def done() -> None:
            self.values[name] = round(time.monotonic() - started, 1)

        return done

    def line(self) -> str:
        total = round(time.monotonic() - self._t0, 1)
        return "STACK " + " ".join(f"{k}={v}s" for k, v in {**self.values, "total": total}.items())


def dag_ids() -> list[str]:
    """Every pipeline in dags/ (one DAG per file, named after it)."""
    return sorted(p.stem for p in (ROOT / "dags").glob("genesys_*.py"))


def wait_until(predicate: Callable[[], Any], timeout: float, what: str, interval: float = 1.0) -> Any:
    """Poll ``predicate`` until it returns something truthy; bounded."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise TimeoutError(f"timed out after {timeout:.0f} s waiting for {what}")


def leftovers(native: NativeStack) -> list[str]:
    """What a stopped stack left behind: its database, keys in its Redis db index."""
    import psycopg2
    import redis

    found: list[str] = []
    conn = psycopg2.connect(host="127.0.0.1", port=5432, user="postgres", dbname="postgres")
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT 1 FROM pg_database WHERE datname = %s", (native.database,))
            if cur.fetchone():
                found.append(f"database {native.database}")
    finally:
        conn.close()
    keys = redis.Redis(host="127.0.0.1", port=6379, db=native.redis_db).dbsize()
    if keys:
        found.append(f"{keys} keys in Redis db {native.redis_db}")
    return found
