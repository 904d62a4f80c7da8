"""DAG parse cost, measured by Airflow itself (`airflow dags report`).

Prints each DAG file's parse time and ends with ``BENCH parse files=<n> max_s=<x> total_s=<x>``.
Runs in a throwaway AIRFLOW_HOME; no services needed.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _seconds(duration: str) -> float:
    h, m, s = duration.split(":")
    return int(h) * 3600 + int(m) * 60 + float(s)


def main() -> int:
    with tempfile.TemporaryDirectory(prefix="genesys-parse-") as home:
        env = {
            **os.environ,
            "AIRFLOW_HOME": home,
            "AIRFLOW__CORE__DAGS_FOLDER": str(ROOT / "dags"),
            "AIRFLOW__CORE__PLUGINS_FOLDER": str(ROOT / "plugins"),
            "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
            "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{home}/airflow.db",
        }
        subprocess.run([sys.executable, "-m", "airflow", "db", "migrate"], env=env, check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        out = subprocess.run([sys.executable, "-m", "airflow", "dags", "report", "-o", "json"], env=env,
                             check=True, capture_output=True, text=True)
    json_lines = [line for line in out.stdout.splitlines() if line.startswith("[")]
    rows = json.loads(json_lines[-1]) if json_lines else []
    times = []
    print(f"{'file':60} {'parse_s':>8} {'dags':>5} {'tasks':>6}")
    for row in rows:
        secs = _seconds(str(row["duration"]))
        times.append(secs)
        print(f"{row['file']:60} {secs:8.3f} {row['dag_num']:>5} {row['task_num']:>6}")
    print(f"BENCH parse files={len(times)} max_s={max(times, default=0):.3f} total_s={sum(times):.3f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
