"""What every Genesys DAG shares on the DAG side: house defaults, the API pool, the first task, the docs.

Cheap to import (DAG files import it at top level): Airflow's task SDK is imported inside the functions.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

from genesys_cloud.config import settings

OWNER = "data-platform"
#: Every task that calls the Genesys API runs in this pool (deferred waits count too).
API_POOL = settings().api_pool
DOCS = Path(__file__).resolve().parent


def default_args(**overrides: Any) -> dict[str, Any]:
    """Owner, retries and exponential retry backoff (``GENESYS_TASK_RETRY_DELAY`` doubling, capped).

    Airflow 3.3 reads ``retry_exponential_backoff`` as the multiplier: ``True`` (== 1) would mean no backoff.
    """
    return {
        "owner": OWNER,
        "retries": 2,
        "retry_delay": timedelta(seconds=settings().task_retry_delay),
        "retry_exponential_backoff": 2.0,
        "max_retry_delay": timedelta(minutes=30),
        **overrides,
    }


def doc(dag_id: str) -> str:
    """The absolute path of the DAG's ``.md`` doc (the Task SDK reads a ``.md`` path; a relative one that
    it cannot find is shown as the path string itself)."""
    return str(DOCS / f"{dag_id}.md")


def validate_params(parse: Any) -> Any:
    """The first task of a DAG: params and window checked before any API call (a bad param fails the task
    at once, by name). ``parse`` turns the params mapping into the pipeline's params model."""
    from airflow.sdk import task

    from genesys_cloud.context import validated_run

    @task(task_id="validate_params")
    def validate_params() -> dict[str, Any]:
        """Params and window, checked before any API call (a bad param fails here, by name)."""
        return validated_run(parse)

    return validate_params()


def approval(subject: str) -> Any:
    """The human approval between plan and apply (issue 17): Approve / Reject, ``Reject`` when nobody answers
    within ``GENESYS_APPROVAL_TIMEOUT_H``; its body is what the ``review`` task recorded (the diff and the
    plan digest the answer is bound to)."""
    from airflow.providers.standard.operators.hitl import ApprovalOperator

    from genesys_pipelines.approval import REJECT, timeout_hours

    return ApprovalOperator(task_id="approve", subject=subject, defaults=REJECT,
                            body="{{ ti.xcom_pull(task_ids='review', key='review')['body'] }}",
                            # a plain timedelta: the task runner cannot send a pendulum Duration to the
                            # supervisor when it parks the task in awaiting_input (the task failed so)
                            response_timeout=timedelta(hours=timeout_hours()))


def run_store(window: Any) -> Any:
    """The running task's partition publisher for ``window`` (its work area and published objects)."""
    from airflow.sdk import get_current_context

    from genesys_cloud.sinks.delivery import publisher_for

    return publisher_for(get_current_context(), window)


def run_outcome() -> Any:
    """The last ordinary task of a writing DAG, after ``apply``: ``deliver`` is a teardown (it audits
    whatever happened) and Airflow ignores a successful teardown when it decides the run's state, so without
    this leaf a failed read, plan or approval task ended in a green run. A Reject skips it (no failure)."""
    from airflow.providers.standard.operators.empty import EmptyOperator

    return EmptyOperator(task_id="run_outcome")
