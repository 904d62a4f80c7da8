"""`make airflow`'s metadata DB: the CLI waits for SQLite's lock instead of failing with "database is locked".

The launcher's configuration (what `bin/airflow` reads from airflow.env) carries a 60 s busy timeout, and
the engine Airflow builds from it has that timeout; a transaction that Airflow starts with a SAVEPOINT
(`backfill create` makes every run in one) waits for a writer holding the lock instead of failing at once,
which the timeout alone does not do (SQLite never waits to turn an open read transaction into a write).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from airflow_ui import metadata_db, ui_env

# A writer (another process's transaction, as the scheduler's) holds the lock for 3 s; meanwhile the Airflow
# engine runs what backfill creation runs: SAVEPOINT, read the day's run, insert one.
PROBE = r"""
import sqlite3, threading, time
from sqlalchemy import text
from airflow import settings

database = settings.engine.url.database
with settings.engine.connect() as conn:
    print("busy_timeout", conn.execute(text("PRAGMA busy_timeout")).scalar())
setup = sqlite3.connect(database)
setup.execute("CREATE TABLE runs (day TEXT)")
setup.commit()
holding = threading.Event()

def writer():
    other = sqlite3.connect(database)
    other.execute("BEGIN IMMEDIATE")
    other.execute("INSERT INTO runs VALUES ('2026-06-07')")
    holding.set()
    time.sleep(3)
    other.commit()

thread = threading.Thread(target=writer)
thread.start()
holding.wait()
session = settings.Session()
try:
    with session.begin_nested():
        session.execute(text("SELECT count(*) FROM runs WHERE day = '2026-06-08'")).scalar()
        session.execute(text("INSERT INTO runs VALUES ('2026-06-08')"))
    session.commit()
    print("savepoint transaction committed")
except Exception as exc:
    print("savepoint transaction failed:", exc)
thread.join()
print("rows", sqlite3.connect(database).execute("SELECT count(*) FROM runs").fetchone()[0])
"""


def _launcher_env(home: Path) -> dict[str, str]:
    env = ui_env(home, 8080, {}, "genesys-pipelines", home / "passwords.json")
    base = {k: v for k, v in os.environ.items() if not k.startswith(("AIRFLOW", "GENESYS_", "PYTHONPATH"))}
    return {**base, **env}


def test_the_launcher_gives_the_metadata_db_a_60_s_busy_timeout(tmp_path: Path) -> None:
    env = ui_env(tmp_path, 8080, {}, "genesys-pipelines", tmp_path / "passwords.json")
    assert env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"] == metadata_db(tmp_path)
    assert env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"].endswith("/airflow.db?timeout=60")


def test_a_savepoint_transaction_of_the_airflow_engine_waits_for_the_lock(tmp_path: Path) -> None:
    out = subprocess.run(  # noqa: S603 - our interpreter, our script
        [sys.executable, "-c", PROBE], env=_launcher_env(tmp_path), capture_output=True, text=True, timeout=120,
    )
    assert out.returncode == 0, out.stderr[-3000:]
    lines = out.stdout.splitlines()
    assert "busy_timeout 60000" in lines, out.stdout  # Airflow passes the URL's timeout to sqlite3.connect
    assert "savepoint transaction committed" in lines, (out.stdout, out.stderr[-3000:])
    assert "rows 2" in lines, out.stdout
