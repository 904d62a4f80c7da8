"""Where a submitting operator remembers what it submitted, across task tries.

Analytics jobs have no name and no list endpoint, so a retry cannot find "its" job on the server. XCom
cannot carry it either: Airflow 3 clears a task instance's XComs when a new try starts (the execution
API sends ``xcom_keys_to_clear`` and the task runner deletes them before ``execute``). The ledger is an
Airflow Variable keyed by the task instance (dag, run, task, map index), holding the job id and the
query's fingerprint; the operator deletes it once the job's outcome has been handed on.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from typing import Any, Protocol

PREFIX = "genesys_job_ledger"


class JobLedger(Protocol):
    def get(self, key: str) -> dict[str, Any] | None: ...

    def put(self, key: str, value: dict[str, Any]) -> None: ...

    def delete(self, key: str) -> None: ...


class VariableJobLedger:
    """The default ledger: Airflow Variables (metadata DB, reached through the Task SDK)."""

    def get(self, key: str) -> dict[str, Any] | None:
        from airflow.sdk import Variable

        value = Variable.get(key, default=None, deserialize_json=True)
        return value if isinstance(value, dict) else None

    def put(self, key: str, value: dict[str, Any]) -> None:
        from airflow.sdk import Variable

        Variable.set(
            key,
            value,
            description="Genesys job submitted by this task (reused on retry)",
            serialize_json=True,
        )

    def delete(self, key: str) -> None:
        from airflow.sdk import Variable

        Variable.delete(key)


def ledger_key(identity: Mapping[str, Any]) -> str:
    """One key per task instance (not per try): every try of it shares the entry."""
    return "::".join(
        [
            PREFIX,
            str(identity["dag_id"]),
            str(identity["run_id"]),
            str(identity["task_id"]),
            str(identity["map_index"]),
        ]
    )


def fingerprint(kind: str, body: Any) -> str:
    """sha256 of the canonical JSON of what is submitted: a changed query never reuses an old job."""
    canonical = json.dumps({"kind": kind, "body": body}, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()
