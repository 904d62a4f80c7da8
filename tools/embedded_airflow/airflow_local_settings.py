"""Airflow local settings of the embedded Airflow (`make airflow`, `bin/airflow`): SQLite lock waits that work.

`make airflow` puts this directory on the components' PYTHONPATH (and so on `bin/airflow`'s, through
.airflow/airflow.env); Airflow imports ``airflow_local_settings`` at start and uses its
``create_metadata_engine`` for the metadata DB.

Why: the SQLite URL's ``?timeout=60`` gives every connection a 60 s busy timeout (Airflow 3.3 passes it on,
and turns WAL on itself), but SQLite never waits for a lock that a connection needs to turn its open *read*
transaction into a write: it answers "database is locked" at once (waiting could deadlock). Airflow opens
such transactions with ``session.begin_nested()``: `backfill create` makes each run inside a SAVEPOINT
(read the day's latest run, then insert or clear it), and the SAVEPOINT starts the transaction, so the
CLI failed at once whenever the scheduler was writing. Here a SAVEPOINT that would start the transaction
starts it with ``BEGIN IMMEDIATE`` instead: the write lock is taken first, and that wait honours the
timeout. Other transactions are left as pysqlite opens them (a plain BEGIN before the first write).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import create_engine, event
from sqlalchemy.engine import Connection, Engine

__all__ = ["create_metadata_engine"]  # Airflow copies every public name of this module into its settings


def _write_lock_first(conn: Connection, name: str | None) -> None:
    """Before a SAVEPOINT outside any transaction: open the transaction with the write lock."""
    dbapi = conn.connection.dbapi_connection
    if dbapi is not None and not dbapi.in_transaction:
        dbapi.execute("BEGIN IMMEDIATE")


def create_metadata_engine(sql_alchemy_conn: str, *, engine_args: dict[str, Any],
                           connect_args: dict[str, Any]) -> Engine:
    """Airflow's metadata engine (as ``airflow.settings.create_metadata_engine`` makes it), SQLite's
    SAVEPOINT-started transactions taking the write lock first."""
    engine = create_engine(sql_alchemy_conn, connect_args=connect_args, **engine_args)
    if engine.dialect.name == "sqlite":
        event.listen(engine, "savepoint", _write_lock_first)
    return engine
