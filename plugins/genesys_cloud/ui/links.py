"""The *Outputs* button on a Genesys task's page: a link to the outputs page of the task's run.

An operator extra link (Airflow 3: the worker renders it when the task ends and stores it in XCom), so it
names only the page and the run, never an object's presigned URL (that would grant access to anyone who
can read the XCom, and expire while the link stays). The page lists the run's partitions and presigns a
download when a file is clicked, after checking the user's Airflow token.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from airflow.sdk import BaseOperatorLink

if TYPE_CHECKING:
    from airflow.sdk.types import TaskInstanceKey

#: Where the plugin mounts the outputs page in the API server.
URL_PREFIX = "/genesys-outputs"


def outputs_url(dag_id: str, run_id: str | None = None) -> str:
    """The outputs page of a DAG (all its partitions) or of one run (that run's partitions)."""
    url = f"{URL_PREFIX}/dags/{quote(dag_id, safe='')}"
    return f"{url}?run_id={quote(run_id, safe='')}" if run_id else url


class GenesysOutputsLink(BaseOperatorLink):
    """*Outputs*: the outputs page of the task's run (its partitions, files, charts and audit rows)."""

    name = "Outputs"

    def get_link(self, operator: Any, *, ti_key: TaskInstanceKey) -> str:
        return outputs_url(ti_key.dag_id, ti_key.run_id)
