"""Running `make airflow` (tools/airflow_ui.py) the way a user does, from a test: start, log in, stop.

The launcher runs with a user's environment (no AIRFLOW_* / GENESYS_* variables of the test session) and
its own AIRFLOW_HOME, so it neither sees nor touches the test harness' sandbox or metadata DB.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
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
