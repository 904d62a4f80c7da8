"""Running `make airflow` (tools/airflow_ui.py) the way a user does, from a test: start, log in, stop.

The launcher runs with a user's environment (no AIRFLOW_* / GENESYS_* variables of the test session) and
its own AIRFLOW_HOME, so it neither sees nor touches the test harness' sandbox or metadata DB.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import signal
import subprocess
import sys
import textwrap
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parents[2]
LOGIN = {"username": "admin", "password": "admin"}


def user_env(**extra: str) -> dict[str, str]:
    """The environment of a user's shell: none of the test session's Airflow or Genesys settings."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AIRFLOW", "GENESYS_", "AWS_"))}
    return {**env, **extra}


def processes_with_home(home: Path) -> list[int]:
    """PIDs of live processes whose environment names ``home`` as AIRFLOW_HOME (what a stop must leave: none)."""
    needle = f"AIRFLOW_HOME={home}".encode()
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            if needle in (entry / "environ").read_bytes().split(b"\0"):
                found.append(int(entry.name))
        except OSError:
            continue
    return found


@dataclass
class RunningUI:
    proc: subprocess.Popen
    home: Path
    log: Path
    url: str = ""
    sandbox_url: str = ""
    s3_endpoint: str = ""
    started_s: float = 0.0
    _token: str | None = field(default=None, repr=False)

    def token(self) -> str:
        if self._token is None:
            answer = httpx.post(f"{self.url}/auth/token", json=LOGIN, timeout=30)
            answer.raise_for_status()
            self._token = answer.json()["access_token"]
        return self._token

    def api(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        headers = {"Authorization": f"Bearer {self.token()}"}
        return httpx.request(method, f"{self.url}/api/v2{path}", headers=headers, timeout=30, **kwargs)

    def outputs(self, dag_id: str, **params: str) -> list[dict[str, Any]]:
        """The outputs page's partitions of ``dag_id`` (JSON), as the logged-in admin."""
        answer = httpx.get(f"{self.url}/genesys-outputs/dags/{dag_id}/partitions", params=params, timeout=60,
                           headers={"Authorization": f"Bearer {self.token()}"})
        answer.raise_for_status()
        return answer.json()

    def download(self, dag_id: str, key: str) -> bytes:
        """A file through the outputs page: its redirect to a presigned URL, followed."""
        answer = httpx.get(f"{self.url}/genesys-outputs/dags/{dag_id}/download", params={"key": key}, timeout=60,
                           headers={"Authorization": f"Bearer {self.token()}"}, follow_redirects=True)
        answer.raise_for_status()
        return answer.content

    def wait_backfill_done(self, dag_id: str, timeout: float) -> dict[str, Any]:
        """The DAG's newest backfill once completed, with its runs (all must have ended)."""
        def done() -> dict[str, Any] | None:
            backfills = self.api("GET", "/backfills", params={"dag_id": dag_id}).json()["backfills"]
            newest = max(backfills, key=lambda b: b["id"]) if backfills else None
            return newest if newest and newest.get("completed_at") else None

        return wait_for(done, timeout, f"the backfill of {dag_id} to complete", interval=5)

    def runs(self, dag_id: str) -> list[dict[str, Any]]:
        return self.api("GET", f"/dags/{dag_id}/dagRuns", params={"limit": 100}).json()["dag_runs"]

    def wait_run(self, dag_id: str, run_id: str, timeout: float) -> str:
        """The run's final state (success or failed)."""
        def ended() -> str | None:
            state = self.api("GET", f"/dags/{dag_id}/dagRuns/{run_id}").json().get("state")
            return state if state in ("success", "failed") else None

        return wait_for(ended, timeout, f"run {run_id} of {dag_id} to end", interval=3)

    def env(self) -> dict[str, str]:
        """The components' environment, from the launcher's airflow.env (what bin/airflow uses)."""
        return launcher_env(self.home)

    def stop(self, timeout: float = 120.0) -> float:
        """SIGTERM the launcher (as Ctrl-C / `kill` would); returns the seconds it took to exit."""
        started = time.monotonic()
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=10)
        return time.monotonic() - started


def start_ui(home: Path, timeout: float = 240.0, **env: str) -> RunningUI:
    """Start the launcher; return once the UI answers its health check (raises with the log tail otherwise)."""
    home.mkdir(parents=True, exist_ok=True)
    log = home / "launcher.log"
    started = time.monotonic()
    proc = subprocess.Popen(  # noqa: S603 - our interpreter, our script
        [sys.executable, str(ROOT / "tools" / "airflow_ui.py"), "--home", str(home)],
        cwd=ROOT, env=user_env(**env), stdout=log.open("wb"), stderr=subprocess.STDOUT, start_new_session=True,
    )
    ui = RunningUI(proc, home, log)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"launcher exited with {proc.returncode}:\n{log_tail(log)}")
        text = log.read_text(errors="replace")
        if not ui.url and (match := re.search(r"Airflow UI: (http://\S+)", text)):
            ui.url = match.group(1)
            ui.sandbox_url = re.search(r"sandbox: (\S+)", text).group(1)
            ui.s3_endpoint = re.search(r"local S3: (\S+)", text).group(1)
        if ui.url:
            try:
                if httpx.get(f"{ui.url}/api/v2/monitor/health", timeout=5).status_code == 200:
                    ui.started_s = time.monotonic() - started
                    return ui
            except httpx.HTTPError:
                pass
        time.sleep(1)
    ui.stop()
    raise TimeoutError(f"the UI was not healthy after {timeout:.0f} s:\n{log_tail(log)}")


def launcher_env(home: Path) -> dict[str, str]:
    """``export KEY='value'`` lines of ``home/airflow.env`` as a dict."""
    env = {}
    for line in (home / "airflow.env").read_text().splitlines():
        if line.startswith("export "):
            key, _, value = line[len("export "):].partition("=")
            env[key] = shlex.split(value)[0] if value else ""
    return env


SEED = r"""
import json, sys
from genesys_cloud.sinks.audit import AuditRow, AuditSink
from genesys_cloud.sinks.object_store import PartitionPublisher
dag_id, start, end, files = sys.argv[1], sys.argv[2], sys.argv[3], json.loads(sys.argv[4])
publisher = PartitionPublisher(dag_id, start, end, run_id="seeded")
for name, text in files.items():
    publisher.stage_bytes(name, text.encode(), "text/csv" if name.endswith(".csv") else "application/json")
manifest = publisher.publish()
sink = AuditSink()
sink.ensure_schema()
sink.record([AuditRow(dag_id=dag_id, run_id="seeded", window_start=start, window_end=end, task_id="publish",
                      event="seeded", status="SUCCESS", record_count=len(files))])
print(json.dumps(manifest["manifest_key"]))
"""


def seed_partition(home: Path, dag_id: str, start: str, end: str, files: dict[str, str]) -> str:
    """Publish a partition and one audit row with the launcher's settings (as a task would); its manifest key.

    The launcher keeps connections in its metadata DB only, which a plain process (not a task, not an
    Airflow component) does not read: the seeding process gets the settings file's local S3 and audit
    connections as variables, expanded with the launcher's environment.
    """
    from bootstrap import connection_env, load_settings

    env = launcher_env(home)
    connections = {k: v for k, v in connection_env(load_settings(env=env)).items()
                   if k in ("AIRFLOW_CONN_AWS_DEFAULT", "AIRFLOW_CONN_GENESYS_AUDIT")}
    out = subprocess.run(  # noqa: S603 - our interpreter
        [sys.executable, "-c", SEED, dag_id, start, end, json.dumps(files)],
        env={**user_env(), **env, **connections}, capture_output=True, text=True, timeout=120, check=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def readme_blocks(containing: str) -> list[str]:
    """The README's fenced ``bash`` blocks that contain ``containing``, each as its list of command lines."""
    text = (ROOT / "README.md").read_text()
    blocks = re.findall(r"```bash\n(.*?)```", text, flags=re.S)
    return [textwrap.dedent(b).strip() for b in blocks if containing in b]


def run_readme_block(block: str, home: Path, timeout: float = 180) -> subprocess.CompletedProcess:
    """Run a README block verbatim with bash from the project root, in a user's environment.

    ``GENESYS_AIRFLOW_HOME`` points `bin/airflow` at the test's launcher home instead of the project's
    `.airflow/` (a user's `make airflow` uses the default and needs nothing). A "database is locked"
    answer (and the AlreadyRunningBackfill that can follow it) is retried as the README's error table tells
    a user to (10 s apart, 30 s while the empty backfill stays open, at most 9 tries); every try is printed.
    """
    locked = False
    for attempt in range(9):
        done = subprocess.run(  # noqa: S603 - bash running the README's own text
            ["bash", "-euo", "pipefail", "-c", block], cwd=ROOT, env=user_env(GENESYS_AIRFLOW_HOME=str(home)),
            capture_output=True, text=True, timeout=timeout,
        )
        answer = done.stderr + done.stdout
        # Airflow 3.3 commits a backfill's row before creating its runs and cleans it up after a lock error
        # only on PostgreSQL/MySQL: after SQLite's "database is locked" an empty backfill stays open until the
        # scheduler closes it (2 minutes after its creation), and a retry meanwhile answers AlreadyRunningBackfill.
        orphan = locked and "AlreadyRunningBackfill" in answer
        if done.returncode == 0 or not ("database is locked" in answer or orphan):
            return done
        locked = True
        print(f"README block answered {'AlreadyRunningBackfill' if orphan else 'database is locked'} "
              f"(try {attempt + 1}); running it again")
        time.sleep(30 if orphan else 10)
    return done


def log_tail(log: Path, lines: int = 60) -> str:
    try:
        return "\n".join(log.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


def wait_for(predicate: Any, timeout: float, what: str, interval: float = 2.0) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise TimeoutError(f"timed out after {timeout:.0f} s waiting for {what}")
