"""`make airflow`: the Airflow UI (standalone) on the embedded default, for manual triggers and backfills.

Starts the sandbox and the local S3, bootstraps .airflow/ (kept between runs), then `airflow standalone`
in its own process group (standalone does not forward SIGTERM). Ctrl-C stops everything it started.
Login: admin / admin.

    python tools/airflow_ui.py [--home DIR] [--port N]      (AIRFLOW_PORT also sets the port)
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path

from bootstrap import embedded_airflow_env

from genesys_sandbox.devstack import free_port, start_stack

ROOT = Path(__file__).resolve().parents[1]


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def ui_env(home: Path, port: int, stack_env: Mapping[str, str], bucket: str, passwords: Path) -> dict[str, str]:
    """The environment of every Airflow component the launcher starts.

    The API server listens on ``port``; tasks reach the metadata DB through its Execution API, whose URL
    defaults to port 8080, so it must name the port actually used (else every task dies before it starts).
    """
    return {
        **embedded_airflow_env(home, stack_env, bucket, ROOT),
        "AIRFLOW__API__PORT": str(port),
        "AIRFLOW__API__HOST": "127.0.0.1",
        "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"http://127.0.0.1:{port}/execution/",
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE": str(passwords),
        "AIRFLOW__SCHEDULER__ENABLE_HEALTH_CHECK": "False",
        # standalone starts its components as `airflow ...` from PATH: the venv's, not whatever is installed.
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--home", type=Path, default=ROOT / ".airflow", help="AIRFLOW_HOME (default .airflow/)")
    parser.add_argument("--port", type=int, default=int(os.environ.get("AIRFLOW_PORT", "0") or 0),
                        help="UI/API port (default: AIRFLOW_PORT, else a free port)")
    args = parser.parse_args(argv)
    home = args.home.resolve()
    home.mkdir(parents=True, exist_ok=True)
    stack = start_stack(home / "devstack" if args.home != ROOT / ".airflow" else ROOT / ".devstack-ui")
    port = args.port or free_port()
    passwords = home / "simple_auth_manager_passwords.json"
    passwords.write_text(json.dumps({"admin": "admin"}))
    env = {**os.environ, **ui_env(home, port, stack.settings_env(), stack.bucket, passwords)}
    proc = None
    signal.signal(signal.SIGTERM, _interrupt)  # a TERM stops everything too, not just Ctrl-C
    try:
        subprocess.run([sys.executable, "-m", "airflow", "db", "migrate"], env=env, check=True,
                       stdout=subprocess.DEVNULL)
        subprocess.run([sys.executable, str(ROOT / "tools" / "bootstrap.py")], env=env, check=True)
        print(f"Airflow UI: http://127.0.0.1:{port}  (admin / admin)\nsandbox: {stack.sandbox_url}\n"
              f"local S3: {stack.s3_endpoint}\nCtrl-C to stop.", flush=True)
        proc = subprocess.Popen([sys.executable, "-m", "airflow", "standalone"], env=env, start_new_session=True)
        proc.wait()
    except KeyboardInterrupt:
        pass
    finally:
        if proc is not None and proc.poll() is None:
            os.killpg(proc.pid, signal.SIGINT)
            try:
                proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
        stack.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
