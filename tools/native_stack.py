"""The distributed topology of docker-compose.yaml, run natively on 127.0.0.1 (no containers).

PostgreSQL (metadata + audit DB; a dedicated database created and dropped per run), Redis (Celery broker,
our own db index), and the Airflow components as separate OS processes: api-server, scheduler,
dag-processor, triggerer and one Celery worker; the sandbox and the local S3 beside them. Every process
runs in its own process group on free ports and is stopped by PID; waits are bounded.

Used by ``tests/e2e/test_stack.py`` (``make stack-test``) and runnable alone:
``python tools/native_stack.py`` starts it, prints the URLs and waits for Ctrl-C.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cryptography.fernet import Fernet

from genesys_sandbox.devstack import Stack, free_port, start_stack, wait_http

ROOT = Path(__file__).resolve().parents[1]
PG_HOST, PG_PORT, PG_USER = "127.0.0.1", 5432, "postgres"
REDIS_HOST, REDIS_PORT = "127.0.0.1", 6379
# Redis db indexes the harness may take (the first empty one), unless GENESYS_STACK_REDIS_DB pins one.
REDIS_DBS = range(15, 7, -1)
COMPONENTS = ("api-server", "scheduler", "dag-processor", "triggerer", "worker")
# Inherited variables with these prefixes are dropped: the stack's settings must come from here alone
# (a pytest session has already exported the embedded SQLite/LocalExecutor settings).
_OWN_PREFIXES = ("AIRFLOW__", "AIRFLOW_CONN_", "AIRFLOW_VAR_", "GENESYS_", "AWS_")
STARTUP_TIMEOUT = 180.0


def port_open(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=1.0):
            return True
    except OSError:
        return False


def services_available() -> tuple[bool, str]:
    """Whether PostgreSQL and Redis answer on loopback (the harness needs both)."""
    missing = [name for name, port in (("PostgreSQL", PG_PORT), ("Redis", REDIS_PORT)) if not port_open("127.0.0.1", port)]
    return (not missing, f"{' and '.join(missing)} not reachable on 127.0.0.1" if missing else "")


def _pg_admin(sql: str) -> None:
    import psycopg2

    conn = psycopg2.connect(host=PG_HOST, port=PG_PORT, user=PG_USER, dbname="postgres")
    conn.autocommit = True
    try:
        with conn.cursor() as cur:
            cur.execute(sql)
    finally:
        conn.close()


def _redis_flush(db: int) -> None:
    import redis

    redis.Redis(host=REDIS_HOST, port=REDIS_PORT, db=db).flushdb()


def _pick_redis_db() -> int:
    """An empty Redis db index, so two runs (or another user of this Redis) never share a broker queue."""
    import redis

    pinned = os.environ.get("GENESYS_STACK_REDIS_DB", "").strip()
    if pinned:
        return int(pinned)
    for db in REDIS_DBS:
        if redis.Redis(host=REDIS_HOST, port=REDIS_PORT, db=db).dbsize() == 0:
            return db
    raise RuntimeError(f"no empty Redis db among {list(REDIS_DBS)} on {REDIS_HOST}:{REDIS_PORT}")


def services_broken() -> str:
    """Why PostgreSQL or Redis, though listening, cannot be used ('' when both work)."""
    import psycopg2
    import redis

    problems: list[str] = []
    try:
        psycopg2.connect(host=PG_HOST, port=PG_PORT, user=PG_USER, dbname="postgres", connect_timeout=5).close()
    except psycopg2.Error as exc:
        problems.append(f"PostgreSQL: {exc}".strip())
    try:
        redis.Redis(host=REDIS_HOST, port=REDIS_PORT, socket_timeout=5).ping()
    except redis.RedisError as exc:
        problems.append(f"Redis: {exc}")
    return "; ".join(problems)


@dataclass
class NativeStack:
    """A running CeleryExecutor Airflow on PostgreSQL + Redis, with the sandbox and local S3."""

    home: Path
    database: str
    api_port: int
    devstack: Stack
    env: dict[str, str]
    redis_db: int
    procs: dict[str, subprocess.Popen] = field(default_factory=dict)
    username: str = "admin"
    password: str = "admin"

    @property
    def api_url(self) -> str:
        return f"http://127.0.0.1:{self.api_port}"

    @property
    def pg_url(self) -> str:
        return f"postgresql+psycopg2://{PG_USER}@{PG_HOST}:{PG_PORT}/{self.database}"

    def token(self) -> str:
        import httpx

        resp = httpx.post(f"{self.api_url}/auth/token", json={"username": self.username, "password": self.password},
                          timeout=30)
        resp.raise_for_status()
        return str(resp.json()["access_token"])

    def client(self) -> Any:
        """An ``apache-airflow-client`` ApiClient authenticated against the api-server."""
        import airflow_client.client as ac

        config = ac.Configuration(host=self.api_url, access_token=self.token())
        return ac.ApiClient(config)

    def logs_dir(self) -> Path:
        return self.home / "logs"

    def component_log(self, name: str) -> Path:
        """stdout/stderr of one component (``api-server``, ``scheduler``, ...)."""
        return self.workdir / f"{name}.log"

    @property
    def workdir(self) -> Path:
        return self.home.parent

    def wait_for_dags(self, dag_ids: list[str], timeout: float = 120.0) -> None:
        """Block until the dag-processor has serialised every DAG in ``dag_ids`` (and none failed to import)."""
        import httpx

        deadline = time.monotonic() + timeout
        headers = {"Authorization": f"Bearer {self.token()}"}
        seen: set[str] = set()
        while time.monotonic() < deadline:
            resp = httpx.get(f"{self.api_url}/api/v2/dags", params={"limit": 100}, headers=headers, timeout=30)
            resp.raise_for_status()
            seen = {d["dag_id"] for d in resp.json()["dags"]}
            if set(dag_ids) <= seen:
                return
            errors = httpx.get(f"{self.api_url}/api/v2/importErrors", headers=headers, timeout=30).json()
            if errors.get("import_errors"):
                raise RuntimeError(f"DAG import errors: {errors['import_errors']}")
            time.sleep(1)
        raise TimeoutError(f"DAGs not parsed after {timeout} s: missing {sorted(set(dag_ids) - seen)}")

    def grow_worker_pool(self, processes: int = 1) -> None:
        """Add ``processes`` slots to the running Celery worker (Celery's ``pool_grow`` remote control).

        The native twin of ``docker compose up --scale airflow-worker=N``: the same broker, more slots.
        """
        from celery import Celery

        app = Celery(broker=self.env["AIRFLOW__CELERY__BROKER_URL"])
        try:
            replies = app.control.pool_grow(processes, reply=True, timeout=10)
        finally:
            app.close()
        if not replies or not all("ok" in next(iter(r.values())) for r in replies):
            raise RuntimeError(f"Celery worker did not grow its pool: {replies}")

    def restart_component(self, name: str, env: dict[str, str] | None = None, timeout: float = 60.0) -> None:
        """Stop one component (its process group, SIGTERM then SIGKILL) and start it again with ``env`` on
        top of the stack's environment (kept for later restarts), e.g. a scheduler that now creates cron
        and asset-triggered runs (``AIRFLOW__SCHEDULER__USE_JOB_SCHEDULE``)."""
        proc = self.procs.pop(name)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=5)
        with contextlib.suppress(ProcessLookupError):  # forked children left in the group
            os.killpg(proc.pid, signal.SIGKILL)
        self.env.update(env or {})
        command = component_commands(self.api_port, int(self.env["AIRFLOW__CELERY__WORKER_CONCURRENCY"]))[name]
        with self.component_log(name).open("ab") as log:
            self.procs[name] = subprocess.Popen(  # noqa: S603 - fixed argv of our own interpreter
                [sys.executable, "-m", "airflow", *command], env=self.env, stdout=log, stderr=subprocess.STDOUT,
                start_new_session=True)

    def stop(self, timeout: float = 30.0) -> None:
        """SIGTERM every component's process group at once, SIGKILL what is left after ``timeout``;
        then the sandbox and S3, the database (dropped) and the Redis db index (flushed)."""
        for proc in self.procs.values():
            if proc.poll() is None:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(proc.pid, signal.SIGTERM)
        deadline = time.monotonic() + timeout
        for proc in self.procs.values():
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(timeout=max(0.1, deadline - time.monotonic()))
            # Whatever is left in the group (a leader that exited can leave forked children behind).
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(timeout=5)
        self.procs.clear()
        self.devstack.stop()
        try:
            _pg_admin(f'DROP DATABASE IF EXISTS "{self.database}" WITH (FORCE)')
        finally:
            _redis_flush(self.redis_db)


def _base_env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith(_OWN_PREFIXES)}


# The Airflow CLI arguments of each component, as in docker-compose.yaml's `command:` (after `airflow`).
INIT_COMMANDS = (("python", "tools/bootstrap.py", "--check"), ("airflow", "db", "migrate"),
                 ("python", "tools/bootstrap.py"))


def component_commands(api_port: int, worker_concurrency: int) -> dict[str, list[str]]:
    """``airflow`` sub-commands of the five components (the compose services run the same ones)."""
    return {
        "api-server": ["api-server", "--host", "127.0.0.1", "--port", str(api_port)],
        "scheduler": ["scheduler"],
        "dag-processor": ["dag-processor"],
        # Every process here writes the same logs folder, which the api-server reads directly: no log
        # servers (they would also listen on all interfaces, not just loopback).
        "triggerer": ["triggerer", "--skip-serve-logs"],
        "worker": ["celery", "worker", "--concurrency", str(worker_concurrency), "--skip-serve-logs"],
    }


def airflow_env(
    *,
    home: Path,
    database: str,
    api_port: int,
    redis_db: int,
    devstack_env: dict[str, str],
    bucket: str,
    worker_concurrency: int = 1,
    scheduled_runs: bool = False,
) -> dict[str, str]:
    """The environment every component gets (the native twin of compose's ``x-airflow-common``)."""
    pg = f"{PG_USER}@{PG_HOST}:{PG_PORT}/{database}"
    env: dict[str, str] = {
        **_base_env(),
        **devstack_env,
        "AIRFLOW_HOME": str(home),
        "AIRFLOW__CORE__EXECUTOR": "CeleryExecutor",
        "AIRFLOW__CORE__AUTH_MANAGER": "airflow.api_fastapi.auth.managers.simple.simple_auth_manager.SimpleAuthManager",
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"postgresql+psycopg2://{pg}",
        "AIRFLOW__CELERY__BROKER_URL": f"redis://{REDIS_HOST}:{REDIS_PORT}/{redis_db}",
        "AIRFLOW__CELERY__RESULT_BACKEND": f"db+postgresql://{pg}",
        "AIRFLOW__CELERY__WORKER_CONCURRENCY": str(worker_concurrency),
        "AIRFLOW__CORE__PARALLELISM": "8",
        "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"http://127.0.0.1:{api_port}/execution/",
        "AIRFLOW__API_AUTH__JWT_SECRET": secrets.token_hex(16),
        "AIRFLOW__API__SECRET_KEY": secrets.token_hex(16),
        # A fresh key per stack: connection passwords are encrypted in the metadata DB, as in production.
        "AIRFLOW__CORE__FERNET_KEY": Fernet.generate_key().decode(),
        "AIRFLOW__CORE__DAGS_FOLDER": str(ROOT / "dags"),
        "AIRFLOW__CORE__PLUGINS_FOLDER": str(ROOT / "plugins"),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "false",
        "AIRFLOW__CORE__TEST_CONNECTION": "Enabled",
        "AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION": "true",
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS": "admin:admin",
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE": str(home / "passwords.json"),
        "AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL": "5",
        "AIRFLOW__SCHEDULER__ENABLE_HEALTH_CHECK": "true",
        "AIRFLOW__CORE__XCOM_BACKEND": "airflow.providers.common.io.xcom.backend.XComObjectStorageBackend",
        "AIRFLOW__COMMON_IO__XCOM_OBJECTSTORAGE_PATH": f"s3://aws_default@{bucket}/xcom",
        "AIRFLOW__COMMON_IO__XCOM_OBJECTSTORAGE_THRESHOLD": "65536",
        "AIRFLOW__COMMON_IO__XCOM_OBJECTSTORAGE_COMPRESSION": "gzip",
        # --- native-only (NATIVE_ONLY): loopback ports and test pacing -----------------------------
        # The scheduler's health server listens on a fixed port in containers; here on a free loopback one.
        "AIRFLOW__SCHEDULER__SCHEDULER_HEALTH_CHECK_SERVER_HOST": "127.0.0.1",
        "AIRFLOW__SCHEDULER__SCHEDULER_HEALTH_CHECK_SERVER_PORT": str(free_port()),
        # Only runs the caller creates (tests assert exact objects and writes): no cron/asset runs.
        "AIRFLOW__SCHEDULER__USE_JOB_SCHEDULE": str(scheduled_runs).lower(),
        # The task supervisor notices its task has exited only when its select() times out, which is
        # this interval (default 5 s): on one worker slot that idles 5 s after every task.
        "AIRFLOW__WORKERS__MIN_HEARTBEAT_INTERVAL": "1",
        "GENESYS_AUDIT_CONN_TYPE": "postgres",
        "GENESYS_AUDIT_HOST": PG_HOST,
        "GENESYS_AUDIT_SCHEMA": database,
        "GENESYS_AUDIT_LOGIN": PG_USER,
        "GENESYS_AUDIT_PORT": str(PG_PORT),
        # Short waits so a run takes seconds, not the production minutes (genesys_cloud.config defaults).
        "GENESYS_TASK_RETRY_DELAY": "2",
        "GENESYS_POLL_INTERVAL": "1",
        "GENESYS_RETRY_BACKOFF_BASE": "0.2",
        "GENESYS_API_POOL_SLOTS": os.environ.get("GENESYS_API_POOL_SLOTS", "4"),
        # apply reads the approval task's recorded answer from the api-server (connection airflow_api)
        "GENESYS_AIRFLOW_API_URL": f"http://127.0.0.1:{api_port}",
    }
    # No AIRFLOW_CONN_* here: tasks read environment connections before the metadata DB, so an exported
    # connection would hide every UI edit. As in docker-compose and `make airflow`, the connections live in
    # the DB only: the init step (INIT_COMMANDS: tools/bootstrap.py, rendered with this env) creates the
    # missing ones and never overwrites one that exists.
    return env


#: Settings the native run sets and docker-compose.yaml does not (or sets differently), and why.
NATIVE_ONLY = {
    "AIRFLOW__SCHEDULER__SCHEDULER_HEALTH_CHECK_SERVER_HOST": "loopback only",
    "AIRFLOW__SCHEDULER__SCHEDULER_HEALTH_CHECK_SERVER_PORT": "free loopback port per run",
    "AIRFLOW__SCHEDULER__USE_JOB_SCHEDULE": "tests create every run themselves",
    "AIRFLOW__WORKERS__MIN_HEARTBEAT_INTERVAL": "one worker slot: no 5 s idle after each task",
    "AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL": "new DAG files within seconds",
}


def start_native_stack(
    workdir: Path,
    *,
    worker_concurrency: int = 1,
    sandbox_args: tuple[str, ...] = (),
    scheduled_runs: bool = False,
    timeout: float = STARTUP_TIMEOUT,
    extra_env: dict[str, str] | None = None,
) -> NativeStack:
    """Start everything; raises (after cleaning up) if a component is not healthy within ``timeout``.

    ``scheduled_runs=False`` sets ``[scheduler] use_job_schedule = False``: unpausing a DAG then creates no
    cron or asset-triggered runs, so the only runs are the ones a caller triggers or backfills (tests
    assert on exact S3 objects and sandbox writes). The rest matches docker-compose.yaml (NATIVE_ONLY).
    """
    workdir.mkdir(parents=True, exist_ok=True)
    home = workdir / "airflow"
    home.mkdir(exist_ok=True)
    database = f"genesys_stack_{os.getpid()}_{secrets.token_hex(3)}"
    redis_db = _pick_redis_db()
    _pg_admin(f'CREATE DATABASE "{database}"')
    try:
        devstack = start_stack(workdir / "devstack", sandbox_args=sandbox_args)
    except BaseException:
        _pg_admin(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
        raise
    api_port = free_port()
    (home / "passwords.json").write_text(json.dumps({"admin": "admin"}))
    env = airflow_env(home=home, database=database, api_port=api_port, redis_db=redis_db,
                      devstack_env=devstack.settings_env(), bucket=devstack.bucket,
                      worker_concurrency=worker_concurrency, scheduled_runs=scheduled_runs)
    env.update(extra_env or {})  # a caller's deployment settings (e.g. chaos lifts the pacing staleness age)
    stack = NativeStack(home, database, api_port, devstack, env, redis_db)
    try:
        # The same two steps as docker-compose's airflow-init: migrations, then the settings file.
        with (workdir / "init.log").open("ab") as init_log:
            for program, *args in INIT_COMMANDS:
                argv = [sys.executable, "-m", "airflow", *args] if program == "airflow" else [sys.executable, *args]
                subprocess.run(argv, env=env, check=True, stdout=init_log,  # noqa: S603 - our interpreter
                               stderr=subprocess.STDOUT, timeout=timeout, cwd=ROOT)
        commands = component_commands(api_port, worker_concurrency)
        # All at once: each component spends its first seconds importing Airflow, which overlaps well.
        for name in COMPONENTS:
            with stack.component_log(name).open("ab") as log:
                stack.procs[name] = subprocess.Popen(  # noqa: S603 - fixed argv of our own interpreter
                    [sys.executable, "-m", "airflow", *commands[name]], env=env, stdout=log,
                    stderr=subprocess.STDOUT, start_new_session=True)
        wait_http(f"{stack.api_url}/api/v2/monitor/health", timeout=timeout, proc=stack.procs["api-server"])
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            dead = [n for n, p in stack.procs.items() if p.poll() is not None]
            if dead:
                raise RuntimeError(f"stack component(s) exited: {dead}; logs in {workdir}")
            if _healthy(stack):
                return stack
            time.sleep(1)
        raise TimeoutError(f"stack not healthy after {timeout:.0f} s; logs in {workdir}")
    except BaseException:
        stack.stop()
        raise


def _healthy(stack: NativeStack) -> bool:
    """api-server, metadata DB, scheduler, triggerer and dag-processor healthy, and the Celery worker ready."""
    import httpx

    if b" ready." not in stack.component_log("worker").read_bytes():
        return False

    try:
        health = httpx.get(f"{stack.api_url}/api/v2/monitor/health", timeout=5).json()
    except (httpx.HTTPError, ValueError):
        return False
    parts = ("metadatabase", "scheduler", "triggerer", "dag_processor")
    return all(str(health.get(p, {}).get("status")) == "healthy" for p in parts)


def main() -> int:
    ok, why = services_available()
    if not ok:
        print(why)
        return 2
    stack = start_native_stack(ROOT / ".stack")
    print(f"api-server {stack.api_url} (admin/admin)  sandbox {stack.devstack.sandbox_url}  "
          f"s3 {stack.devstack.s3_endpoint}  db {stack.database}\nCtrl-C to stop.", flush=True)
    try:
        while True:
            time.sleep(1)
    except KeyboardInterrupt:
        pass
    finally:
        stack.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
