"""The DAG's params, validated before any API call, and how mode / dry_run are decided.

``mode``: explicit param, else by run type: a manually triggered run (``dag_run.run_type == "manual"``)
is ``manual``; every other run type (scheduled, backfill, asset-triggered) is ``reconcile``.
``dry_run``: explicit param, else true for ``manual`` (look before you write) and false for
``reconcile`` (the file is the reviewed desired state).
"""

from __future__ import annotations

import os
from datetime import datetime
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from genesys_pipelines.errors import InvalidParam
from genesys_pipelines.schedule_provisioning.desired import (
    DEFAULT_DESIRED_PATH,
    DesiredFileError,
    load_desired,
)
from genesys_pipelines.schedule_provisioning.requests import (
    RequestError,
    ScheduleRequest,
    format_validation_error,
    parse_requests,
)

__all__ = ["DESIRED_ENV", "ParamsError", "RunParams", "decide_mode", "resolve_requests"]

DESIRED_ENV = "GENESYS_DESIRED_SCHEDULES"
# Params that describe the manual request, mapped to ScheduleRequest fields.
_MANUAL_FIELDS = {
    "campaign_id": "campaign_id",
    "intervals": "intervals",
    "delivery_window": "delivery_window",
    "recurrences": "recurrences",
    "schedule_name": "name",
    "time_zone": "time_zone",
    "prune": "prune",
    "allow_past": "allow_past",
}


class ParamsError(InvalidParam):
    """A param is invalid; the message starts with the param's name."""


class RunParams(BaseModel):
    """The run-level params (the manual request's fields are validated by ScheduleRequest)."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    mode: Literal["manual", "reconcile"] | None = None
    dry_run: bool | None = None
    conflict_policy: Literal["refuse", "warn"] = "refuse"
    desired_schedules_path: str | None = None
    horizon_days: int = Field(default=90, ge=1, le=730)
    max_write_attempts: int = Field(default=4, ge=1, le=10)
    fail_on_conflict: bool = True
    deliver_webhook: bool = True


def decide_mode(params: RunParams, run_type: str | None) -> tuple[str, bool]:
    """``(mode, dry_run)`` from the params and the run type (see the module docstring)."""
    mode = params.mode or ("manual" if run_type == "manual" else "reconcile")
    dry_run = params.dry_run if params.dry_run is not None else mode == "manual"
    return mode, dry_run


def resolve_requests(
    raw_params: dict[str, Any], run_type: str | None, run_after: datetime
) -> tuple[RunParams, str, bool, str, list[dict[str, Any]], list[ScheduleRequest]]:
    """Validate everything: ``(params, mode, dry_run, source, raw requests, parsed requests)``.

    Raises :class:`ParamsError` naming the param (``params.delivery_window.time_zone: ...``,
    ``desired_schedules_path: ...``, ``desired_schedules[1].campaign_id: ...``).
    """
    # A misspelt param (``dry_rn``) must fail by name, not silently fall back to a default that writes.
    unknown = sorted(set(raw_params) - set(RunParams.model_fields) - set(_MANUAL_FIELDS))
    if unknown:
        raise ParamsError(f"params.{unknown[0]}: unknown param (not one of the DAG's params)")
    try:
        params = RunParams.model_validate(raw_params)
    except ValidationError as exc:
        raise ParamsError(format_validation_error("params", exc)) from exc
    mode, dry_run = decide_mode(params, run_type)
    if mode == "manual":
        if not raw_params.get("campaign_id"):
            raise ParamsError("params.campaign_id: required in manual mode")
        raw = [
            {
                field: raw_params[name]
                for name, field in _MANUAL_FIELDS.items()
                if raw_params.get(name) is not None
            }
        ]
        source = "params"
        try:
            parsed = parse_requests(raw, run_after, "params", indexed=False)
        except RequestError as exc:
            raise ParamsError(str(exc)) from exc
        return params, mode, dry_run, source, raw, parsed

    path = Path(params.desired_schedules_path or os.environ.get(DESIRED_ENV) or DEFAULT_DESIRED_PATH)
    try:
        raw = load_desired(path)
        parsed = parse_requests(raw, run_after, "desired_schedules", skip_ended=True)
    except (DesiredFileError, RequestError) as exc:
        raise ParamsError(f"desired_schedules_path ({path}): {exc}") from exc
    return params, mode, dry_run, str(path), raw, parsed
