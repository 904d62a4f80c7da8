"""Wiring every Genesys DAG shares: default task args and the validate-params step that runs first.

Cheap to import (DAG files import it at top level): Airflow's task SDK is imported inside the functions.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import timedelta
from typing import Any

from genesys_cloud.config import settings
from genesys_pipelines.errors import InvalidParam

OWNER = "data-platform"


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


def validated_run(parse: Callable[[Mapping[str, Any]], Any]) -> dict[str, Any]:
    """Parse the run's params and derive its window, before any API call.

    ``parse`` turns the params mapping into a pydantic model or raises :class:`InvalidParam`; the window
    comes from :func:`genesys_cloud.context.window_from_context`. A bad param or window fails the task at
    once (``AirflowFailException``: never retried), naming the param. Returns ``{"params", "window"}``
    as JSON-safe dicts for XCom.
    """
    from airflow.sdk import get_current_context
    from airflow.sdk.exceptions import AirflowFailException

    from genesys_cloud.context import window_from_context

    context = get_current_context()
    try:
        params = parse(dict(context["params"]))
        window = window_from_context(context)
    except InvalidParam as exc:
        raise AirflowFailException(f"invalid param {exc}") from exc
    return {"params": params.model_dump(mode="json"), "window": window.to_dict()}
