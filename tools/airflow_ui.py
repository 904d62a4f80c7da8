"""`make airflow`: the Airflow UI on the embedded default, for manual triggers and backfills.

Starts the sandbox (on the real clock: a scheduled or default manual run reports yesterday's data) and
a local S3 whose objects persist in .airflow/s3/, bootstraps .airflow/ (kept between runs; the audit
trail is .airflow/audit.db), then the Airflow components as separate processes: api-server, scheduler,
dag-processor, triggerer (not `airflow standalone`: it does not forward signals, so a stop took a
minute and left orphans). Ctrl-C or SIGTERM stops them all in parallel, within 15 s.
It prints how long the start (to a healthy UI) and the stop took. Login: admin / admin.

Connections live in the metadata DB only (no AIRFLOW_CONN_* variables, which tasks would read before the
DB): the bootstrap creates missing ones and never overwrites one, so an edit in the UI is what tasks use,
after a restart too. The sandbox and the local S3 keep their ports between starts (.airflow/stack.json);
if one is taken, the new URL replaces the old one in the connections that still name it.

It also writes .airflow/airflow.env, the environment of the components, which `bin/airflow` (the
airflow CLI for this project) reads, so CLI commands from the project root use the same Airflow.

    python tools/airflow_ui.py [--home DIR] [--port N] [--dags-folder DIR]   (AIRFLOW_PORT also sets the port)
"""

from __future__ import annotations

import argparse
import ctypes
import json
import os
import shlex
import signal
import socket
import sqlite3
import subprocess
import sys
import time
import uuid
from collections.abc import Mapping
from pathlib import Path
from urllib.parse import urlsplit

import httpx
from bootstrap import embedded_airflow_env

from genesys_sandbox.devstack import free_port, start_stack, stop_processes

ROOT = Path(__file__).resolve().parents[1]
#: The directory of the embedded Airflow's ``airflow_local_settings`` (SQLite lock waits), on PYTHONPATH.
LOCAL_SETTINGS = ROOT / "tools" / "embedded_airflow"
COMPONENTS = ("api-server", "scheduler", "dag-processor", "triggerer")
#: Seconds the components get to exit after SIGTERM before the rest is killed (the stop must take ≤ 15 s).
STOP_GRACE_S = 10.0
START_TIMEOUT_S = 240.0
#: Marks every process the launcher starts (inherited by task processes), so the stop can find any that
#: left the process groups it signals.
MARKER = "GENESYS_LAUNCHER_ID"


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def ui_env(home: Path, port: int, stack_env: Mapping[str, str], bucket: str, passwords: Path,
           dags_folder: Path | None = None) -> dict[str, str]:
    """The environment of every Airflow component the launcher starts (and of `bin/airflow`).

    The API server listens on ``port``; tasks reach the metadata DB through its Execution API, whose URL
    defaults to port 8080, so it must name the port actually used (else every task dies before it starts).
    The scheduler's and triggerer's log servers get free ports (defaults 8793/8794 would clash with a
    second Airflow on the machine). SQLite waits up to 60 s for a lock instead of Python's 5 s (the URL's
    ``timeout``), and ``tools/embedded_airflow/airflow_local_settings.py`` (on PYTHONPATH) makes the
    transactions Airflow starts with a SAVEPOINT take the write lock first, where that wait applies: a CLI
    `bin/airflow backfill create` otherwise failed at once with "database is locked" while the scheduler wrote.
    """
    return {
        **embedded_airflow_env(home, stack_env, bucket, ROOT, connections_in_env=False),
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": metadata_db(home),
        "PYTHONPATH": os.pathsep.join(filter(None, [str(LOCAL_SETTINGS), os.environ.get("PYTHONPATH")])),
        # The connection form's Test button (off by default in Airflow 3); the genesys_cloud hook's test
        # refuses a login or API host off the region's Genesys domain before sending the secret.
        "AIRFLOW__CORE__TEST_CONNECTION": "Enabled",
        "AIRFLOW__API__PORT": str(port),
        "AIRFLOW__API__HOST": "127.0.0.1",
        "AIRFLOW__API__BASE_URL": f"http://127.0.0.1:{port}",
        "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"http://127.0.0.1:{port}/execution/",
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE": str(passwords),
        "AIRFLOW__SCHEDULER__ENABLE_HEALTH_CHECK": "False",
        "AIRFLOW__LOGGING__WORKER_LOG_SERVER_PORT": str(free_port()),
        "AIRFLOW__LOGGING__TRIGGER_LOG_SERVER_PORT": str(free_port()),
        **({"AIRFLOW__CORE__DAGS_FOLDER": str(dags_folder)} if dags_folder else {}),
    }


def reusable_port(url: str | None) -> int | None:
    """The port of ``url`` (a previous start's sandbox or S3) when it is free again on loopback, else None."""
    try:
        port = urlsplit(url or "").port
    except ValueError:
        return None
    if not port:
        return None
    with socket.socket() as probe:
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return None
    return port


def relocations(previous: Mapping[str, str], stack_urls: Mapping[str, str]) -> list[str]:
    """``--relocate OLD=NEW`` arguments of the bootstrap for the local-stack URLs that moved since last start."""
    args: list[str] = []
    for name, url in stack_urls.items():
        old = previous.get(name)
        if old and old != url:
            args += ["--relocate", f"{old}={url}"]
    return args


def metadata_db(home: Path) -> str:
    return f"sqlite:///{home / 'airflow.db'}?timeout=60"


def use_wal(database: Path) -> None:
    """Write-ahead logging for the metadata DB (kept in the file): a CLI command reading it no longer blocks
    the scheduler's commits, which with SQLite's default journal made `backfill create --reprocess-behavior
    completed` fail with "database is locked" while runs were active."""
    with sqlite3.connect(database) as db:
        db.execute("PRAGMA journal_mode=WAL")


def write_env_file(path: Path, env: Mapping[str, str]) -> None:
    """``export KEY='value'`` lines: read by `bin/airflow`, or `source`d into a shell."""
    lines = ["# Written by `make airflow` (tools/airflow_ui.py) at each start: the components' environment."]
    lines += [f"export {key}={shlex.quote(value)}" for key, value in sorted(env.items())]
    path.write_text("\n".join(lines) + "\n")
    path.chmod(0o600)


def _die_with_parent() -> None:
    """In the child: start a new session (own process group) and get SIGTERM if the launcher dies."""
    os.setsid()
    try:
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):  # not Linux: the process group stop still applies
        pass


def spawn(args: list[str], log: Path, env: Mapping[str, str]) -> subprocess.Popen:
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("ab") as handle:
        return subprocess.Popen(  # noqa: S603 - our interpreter, fixed argv
            args, stdout=handle, stderr=subprocess.STDOUT, env=dict(env), preexec_fn=_die_with_parent,
        )


def component_command(name: str, port: int) -> list[str]:
    command = [sys.executable, "-m", "airflow", name]
    if name == "api-server":
        command += ["--host", "127.0.0.1", "--port", str(port)]
    return command


def health(url: str) -> dict[str, str]:
    """Status per component from the API server's health endpoint ({} while it does not answer)."""
    try:
        answer = httpx.get(f"{url}/api/v2/monitor/health", timeout=5)
    except httpx.HTTPError:
        return {}
    if answer.status_code != 200:
        return {}
    return {name: (info or {}).get("status") or "unknown" for name, info in answer.json().items()}


def wait_healthy(url: str, procs: Mapping[str, subprocess.Popen], logs: Path, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    status: dict[str, str] = {}
    while time.monotonic() < deadline:
        for name, proc in procs.items():
            if proc.poll() is not None:
                raise RuntimeError(f"{name} exited with {proc.returncode}; see {logs / (name + '.log')}")
        status = health(url)
        if status and all(value == "healthy" for value in status.values()):
            return
        time.sleep(0.5)
    raise TimeoutError(f"Airflow not healthy after {timeout:.0f} s: {status or 'no answer'}; logs in {logs}")


def stragglers(marker: str) -> list[int]:
    """PIDs of live processes carrying this launcher's marker (none once the stop is done)."""
    needle = f"{MARKER}={marker}".encode()
    found = []
    for entry in Path("/proc").glob("[0-9]*"):
        try:
            if int(entry.name) != os.getpid() and needle in (entry / "environ").read_bytes().split(b"\0"):
                found.append(int(entry.name))
        except (OSError, ValueError):
            continue
    return found


def main(argv: list[str] | None = None) -> int:
    started = time.monotonic()
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--home", type=Path, default=ROOT / ".airflow", help="AIRFLOW_HOME (default .airflow/)")
    parser.add_argument("--port", type=int, default=int(os.environ.get("AIRFLOW_PORT", "0") or 0),
                        help="UI/API port (default: AIRFLOW_PORT, else a free port)")
    parser.add_argument("--dags-folder", type=Path, help="another DAGs folder (default: the project's dags/)")
    args = parser.parse_args(argv)
    home = args.home.resolve()
    logs = home / "launcher"
    home.mkdir(parents=True, exist_ok=True)
    port = args.port or free_port()
    marker = uuid.uuid4().hex
    passwords = home / "simple_auth_manager_passwords.json"
    passwords.write_text(json.dumps({"admin": "admin"}))
    signal.signal(signal.SIGTERM, _interrupt)  # a TERM stops everything too, not just Ctrl-C
    stack = None
    procs: dict[str, subprocess.Popen] = {}
    return_code = 0
    try:
        # The metadata DB migrates while the sandbox and the local S3 start (it needs neither).
        base_env = {**os.environ, "AIRFLOW_HOME": str(home), MARKER: marker,
                    "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": metadata_db(home)}
        procs["db-migrate"] = spawn([sys.executable, "-m", "airflow", "db", "migrate"], logs / "db-migrate.log",
                                    base_env)
        state = home / "stack.json"
        previous = json.loads(state.read_text()) if state.exists() else {}
        stack = start_stack(home / "devstack", clock=None, s3_data_dir=home / "s3", audit_db=home / "audit.db",
                            sandbox_port=reusable_port(previous.get("sandbox_url")),
                            s3_port=reusable_port(previous.get("s3_endpoint")))
        stack_urls = {"sandbox_url": stack.sandbox_url, "s3_endpoint": stack.s3_endpoint}
        env = ui_env(home, port, stack.settings_env(), stack.bucket, passwords,
                     args.dags_folder.resolve() if args.dags_folder else None)
        write_env_file(home / "airflow.env", env)
        env = {**os.environ, **env, MARKER: marker}
        if procs.pop("db-migrate").wait() != 0:
            raise RuntimeError(f"airflow db migrate failed; see {logs / 'db-migrate.log'}")
        use_wal(home / "airflow.db")
        subprocess.run([sys.executable, str(ROOT / "tools" / "bootstrap.py"), *relocations(previous, stack_urls)],
                       env=env, check=True)
        state.write_text(json.dumps(stack_urls))
        url = f"http://127.0.0.1:{port}"
        for name in COMPONENTS:
            procs[name] = spawn(component_command(name, port), logs / f"{name}.log", env)
        wait_healthy(url, procs, logs, START_TIMEOUT_S)
        print(f"Airflow UI: {url}  (admin / admin)\nsandbox: {stack.sandbox_url}  (real clock)\n"
              f"local S3: {stack.s3_endpoint}  (objects kept in {home / 's3'})\n"
              f"outputs: {url}/genesys-outputs/\ncomponent logs: {logs}\n"
              f"CLI: bin/airflow ...  (environment in {home / 'airflow.env'})\n"
              f"started in {time.monotonic() - started:.1f} s. Ctrl-C to stop.", flush=True)
        while all(proc.poll() is None for proc in procs.values()):
            time.sleep(0.5)
        exited = [f"{name} (exit {proc.returncode})" for name, proc in procs.items() if proc.poll() is not None]
        raise RuntimeError(f"{', '.join(exited)} stopped by itself; stopping the rest (logs in {logs})")
    except KeyboardInterrupt:
        pass
    except (RuntimeError, TimeoutError, subprocess.CalledProcessError) as exc:
        print(f"make airflow: {exc}", file=sys.stderr, flush=True)
        return_code = 1
    finally:
        signal.signal(signal.SIGTERM, signal.SIG_IGN)  # a second TERM must not cut the stop short
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        stopping = time.monotonic()
        stop_processes([*procs.values(), *(stack.procs if stack else [])], STOP_GRACE_S)
        for pid in stragglers(marker):
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        print(f"stopped in {time.monotonic() - stopping:.1f} s", flush=True)
    return return_code


if __name__ == "__main__":
    raise SystemExit(main())
