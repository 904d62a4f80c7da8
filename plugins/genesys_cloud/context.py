"""Airflow-context adapters: the run window (from the one shared helper) and run identity.

Pipelines get their time range ONLY from :func:`window_from_context`, which reads the pieces every
Airflow 3 run has (params, logical date, ``run_after``, triggering asset events) and delegates the
rules to the pure :func:`genesys_pipelines.windows.resolve_window`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

from genesys_cloud.upstream import window_restatement  # noqa: F401  (the run's restated upstream day, if any)
from genesys_pipelines.windows import Window, resolve_window

log = logging.getLogger(__name__)


def _dag_run_attr(context: Mapping[str, Any], name: str) -> Any:
    dag_run = context.get("dag_run")
    return getattr(dag_run, name, None) if dag_run is not None else None


def _asset_window(context: Mapping[str, Any]) -> Window | None:
    """The window of the newest triggering asset event that carries one (asset-scheduled runs).

    The scheduler may fold several upstream events into one run (e.g. during an upstream backfill); the
    older windows are not processed by this run: logged here, and failed by name at the end of the run
    (:func:`genesys_cloud.upstream.fail_on_unprocessed_windows`).
    """
    from genesys_cloud.upstream import asset_windows

    windows = asset_windows(context)
    if not windows:
        return None
    newest, skipped = windows[-1], sorted(w.partition() for w in windows[:-1])
    if skipped:
        log.warning("asset events for %d more window(s) folded into this run and not processed here: %s; "
                    "trigger a run with start/end for each to cover them", len(skipped), ", ".join(skipped))
    return newest


def window_from_context(context: Mapping[str, Any], *, allow_future: bool = False) -> Window:
    """The run's window: explicit params, else the asset event's, else the reporting day before the run.

    Params read: ``start``, ``end`` (ISO dates/datetimes) and ``timezone`` (IANA, default UTC).
    """
    params: Mapping[str, Any] = context.get("params") or {}
    logical_date: datetime | None = _dag_run_attr(context, "logical_date")
    run_after: datetime | None = _dag_run_attr(context, "run_after")
    return resolve_window(
        start=params.get("start"),
        end=params.get("end"),
        logical_date=logical_date,
        run_after=run_after,
        tz=params.get("timezone") or "UTC",
        asset_window=_asset_window(context),
        allow_future=allow_future,
    )


def run_type(context: Mapping[str, Any]) -> str | None:
    """The run's type as a string (``manual``, ``scheduled``, ``backfill``, ``asset_triggered``...)."""
    value = _dag_run_attr(context, "run_type")
    return getattr(value, "value", value)


def run_after(context: Mapping[str, Any]) -> datetime:
    """When the run was allowed to start (UTC): ``run_after``, else its logical date."""
    from datetime import UTC

    from genesys_pipelines.errors import InvalidParam

    value = _dag_run_attr(context, "run_after") or _dag_run_attr(context, "logical_date")
    if value is None:
        raise InvalidParam("run_after: the run has neither run_after nor a logical date")
    return value.astimezone(UTC)


def run_identity(context: Mapping[str, Any]) -> dict[str, Any]:
    """Non-secret identity of the running task instance (for audit rows and idempotency keys)."""
    ti = context.get("ti") or context.get("task_instance")
    return {
        "dag_id": getattr(ti, "dag_id", None) or getattr(context.get("dag"), "dag_id", None),
        "run_id": getattr(ti, "run_id", None) or _dag_run_attr(context, "run_id"),
        "task_id": getattr(ti, "task_id", None),
        "map_index": getattr(ti, "map_index", -1) if getattr(ti, "map_index", None) is not None else -1,
        "try_number": getattr(ti, "try_number", 1),
    }


def validated_run(parse: Callable[[Mapping[str, Any]], Any]) -> dict[str, Any]:
    """Parse the running task's params and derive its window, before any API call.

    ``parse`` turns the params mapping into a pydantic model or raises
    :class:`~genesys_pipelines.errors.InvalidParam`; the window comes from :func:`window_from_context`. A bad
    param or window fails the task at once (``AirflowFailException``: never retried), naming the param.
    Returns the :class:`~genesys_pipelines.runspec.RunSpec` as XCom JSON (``{"params", "window"}``).
    """
    from airflow.sdk import get_current_context
    from airflow.sdk.exceptions import AirflowFailException

    from genesys_pipelines.errors import InvalidParam
    from genesys_pipelines.runspec import RunSpec

    context = get_current_context()
    try:
        # `replace_partition` is a run-conf flag read by the delivery step, not a pipeline param.
        params = {k: v for k, v in dict(context["params"]).items() if k != "replace_partition"}
        spec = RunSpec(params=parse(params), window=window_from_context(context))
    except InvalidParam as exc:
        raise AirflowFailException(f"invalid param {exc}") from exc
    return spec.to_xcom()


def invalid_param_fails(call: Callable[[], Any]) -> Any:
    """``call()``, with an :class:`~genesys_pipelines.errors.InvalidParam` it raises turned into a failed task
    (``AirflowFailException``: a bad param is not retried), e.g. an unknown campaign id found in a listing."""
    from airflow.sdk.exceptions import AirflowFailException

    from genesys_pipelines.errors import InvalidParam

    try:
        return call()
    except InvalidParam as exc:
        raise AirflowFailException(f"invalid param {exc}") from exc
