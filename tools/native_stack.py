"""The distributed topology of docker-compose.yaml, run natively on 127.0.0.1 (no containers).

PostgreSQL (metadata + audit DB; a dedicated database created and dropped per run), Redis (Celery broker,
our own db index), and the Airflow components as separate OS processes: api-server, scheduler,
dag-processor, triggerer and one Celery worker; the sandbox and the local S3 beside them. Every process
runs in its own process group on free ports and is stopped by PID; waits are bounded.

Used by ``tests/e2e/test_stack.py`` (``make stack-test``) and runnable alone:
``python tools/native_stack.py`` starts it, prints the URLs and waits for Ctrl-C.
"""

from __future__ import annotations

import json
import os
import secrets
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from genesys_cloud.bootstrap import connection_env, load_settings
from genesys_sandbox.devstack import Stack, free_port, start_stack, stop_process, wait_http

ROOT = Path(__file__).resolve().parents[1]
PG_HOST, PG_PORT, PG_USER = "127.0.0.1", 5432, "postgres"
REDIS_HOST, REDIS_PORT = "127.0.0.1", 6379
REDIS_DB = int(os.environ.get("GENESYS_STACK_REDIS_DB", "11"))
COMPONENTS = ("api-server", "scheduler", "dag-processor", "triggerer", "worker")


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


@dataclass
class NativeStack:
    """A running CeleryExecutor Airflow on PostgreSQL + Redis, with the sandbox and local S3."""

    home: Path
    database: str
    api_port: int
    devstack: Stack
    env: dict[str, str]
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

    def stop(self) -> None:
        for name in reversed(list(self.procs)):
            stop_process(self.procs[name], timeout=30)
        self.procs.clear()
        self.devstack.stop()
        try:
            _pg_admin(f'DROP DATABASE IF EXISTS "{self.database}" WITH (FORCE)')
        finally:
            _redis_flush(REDIS_DB)


def start_native_stack(workdir: Path, *, worker_concurrency: int = 1, sandbox_args: tuple[str, ...] = ()) -> NativeStack:
    """Start everything; raises (after cleaning up) if a component is not healthy in time."""
    workdir.mkdir(parents=True, exist_ok=True)
    home = workdir / "airflow"
    home.mkdir(exist_ok=True)
    database = f"genesys_stack_{os.getpid()}_{secrets.token_hex(3)}"
    _pg_admin(f'CREATE DATABASE "{database}"')
    _redis_flush(REDIS_DB)
    devstack = start_stack(workdir / "devstack", sandbox_args=sandbox_args)
    api_port = free_port()
    passwords = home / "passwords.json"
    passwords.write_text(json.dumps({"admin": "admin"}))
    pg = f"{PG_USER}@{PG_HOST}:{PG_PORT}/{database}"
    env: dict[str, str] = {
        **os.environ,
        **devstack.settings_env(),
        "AIRFLOW_HOME": str(home),
        "AIRFLOW__CORE__EXECUTOR": "CeleryExecutor",
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"postgresql+psycopg2://{pg}",
        "AIRFLOW__CELERY__BROKER_URL": f"redis://{REDIS_HOST}:{REDIS_PORT}/{REDIS_DB}",
        "AIRFLOW__CELERY__RESULT_BACKEND": f"db+postgresql://{pg}",
        "AIRFLOW__CELERY__WORKER_CONCURRENCY": str(worker_concurrency),
        "AIRFLOW__CORE__PARALLELISM": "8",
        "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"http://127.0.0.1:{api_port}/execution/",
        "AIRFLOW__API_AUTH__JWT_SECRET": secrets.token_hex(16),
        "AIRFLOW__API__SECRET_KEY": secrets.token_hex(16),
        "AIRFLOW__CORE__FERNET_KEY": "",
        "AIRFLOW__CORE__DAGS_FOLDER": str(ROOT / "dags"),
        "AIRFLOW__CORE__PLUGINS_FOLDER": str(ROOT / "plugins"),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS": "admin:admin",
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE": str(passwords),
        "AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL": "5",
        "AIRFLOW__SCHEDULER__ENABLE_HEALTH_CHECK": "True",
        "AIRFLOW__SCHEDULER__SCHEDULER_HEALTH_CHECK_SERVER_PORT": str(free_port()),
        "AIRFLOW__LOGGING__WORKER_LOG_SERVER_PORT": str(free_port()),
        "AIRFLOW__LOGGING__TRIGGER_LOG_SERVER_PORT": str(free_port()),
        "AIRFLOW__CORE__XCOM_BACKEND": "airflow.providers.common.io.xcom.backend.XComObjectStorageBackend",
        "AIRFLOW__COMMON_IO__XCOM_OBJECTSTORAGE_PATH": f"s3://aws_default@{devstack.bucket}/xcom",
        "AIRFLOW__COMMON_IO__XCOM_OBJECTSTORAGE_THRESHOLD": "65536",
        "GENESYS_AUDIT_CONN_TYPE": "postgres",
        "GENESYS_AUDIT_HOST": PG_HOST,
        "GENESYS_AUDIT_SCHEMA": database,
        "GENESYS_AUDIT_LOGIN": PG_USER,
        "GENESYS_AUDIT_PORT": str(PG_PORT),
        "GENESYS_TASK_RETRY_DELAY": os.environ.get("GENESYS_TASK_RETRY_DELAY", "2"),
        "GENESYS_POLL_INTERVAL": os.environ.get("GENESYS_POLL_INTERVAL", "1"),
    }
    env.update(connection_env(load_settings(env=env)))
    stack = NativeStack(home, database, api_port, devstack, env)
    try:
        airflow = [sys.executable, "-m", "airflow"]
        subprocess.run([*airflow, "db", "migrate"], env=env, check=True, stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL, timeout=300)
        subprocess.run([sys.executable, "-m", "genesys_cloud.bootstrap"], env=env, check=True,
                       stdout=subprocess.DEVNULL, timeout=120)
        commands = {
            "api-server": [*airflow, "api-server", "--host", "127.0.0.1", "--port", str(api_port)],
            "scheduler": [*airflow, "scheduler"],
            "dag-processor": [*airflow, "dag-processor"],
            "triggerer": [*airflow, "triggerer"],
            "worker": [*airflow, "celery", "worker", "--concurrency", str(worker_concurrency)],
        }
        for name in COMPONENTS:
            log = (workdir / f"{name}.log").open("ab")
            stack.procs[name] = subprocess.Popen(commands[name], env=env, stdout=log, stderr=subprocess.STDOUT,
                                                 start_new_session=True)
            if name == "api-server":
                wait_http(f"{stack.api_url}/api/v2/monitor/health", timeout=120, proc=stack.procs[name])
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            dead = [n for n, p in stack.procs.items() if p.poll() is not None]
            if dead:
                raise RuntimeError(f"stack component(s) exited: {dead}; logs in {workdir}")
            if _healthy(stack):
                return stack
            time.sleep(1)
        raise TimeoutError(f"stack not healthy after 120 s; logs in {workdir}")
    except BaseException:
        stack.stop()
        raise


def _healthy(stack: NativeStack) -> bool:
    import httpx

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
