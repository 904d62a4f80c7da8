"""The DAG's params, validated before any API call, and how mode / dry_run are decided.

``mode``: explicit param, else by run type: a manually triggered run (``dag_run.run_type == "manual"``)
that names a manual request (a campaign, windows, ...) is ``manual``; a manual run with the form's
defaults (no request) is ``reconcile`` of the desired-schedules file, a dry run unless switched off (it
plans every listed campaign and writes nothing); every other run type (scheduled, backfill,
asset-triggered) is ``reconcile``.
``dry_run``: a manually triggered run takes the ``dry_run`` param, whose default is ``true`` (the form
shows it on: a dry run unless someone switches it off). Every other run (the hourly reconcile) writes
only when the deployment enables it (``GENESYS_RECONCILE_APPLY=true``); otherwise it plans and writes
nothing. So triggering a dry run with the UI's "unpause on trigger" ticked can never start a writing
schedule by accident (issue 14): the DAG's own safeguard, not the user's memory.

``desired_schedules_path`` resolves only under the configured directories (the shipped file's, the one
of ``GENESYS_DESIRED_SCHEDULES``, and ``GENESYS_DESIRED_SCHEDULES_DIR``): a run param cannot make the
worker read any file, and errors name the path and the position, never the file's content.
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

__all__ = ["DESIRED_ENV", "ProvisioningForm", "RunParams", "decide_mode", "resolve_requests"]

DESIRED_ENV = "GENESYS_DESIRED_SCHEDULES"
DESIRED_DIR_ENV = "GENESYS_DESIRED_SCHEDULES_DIR"
RECONCILE_APPLY_ENV = "GENESYS_RECONCILE_APPLY"
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


class RunParams(BaseModel):
    """The run-level params (the manual request's fields are validated by ScheduleRequest)."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    mode: Literal["manual", "reconcile"] | None = Field(
        None, title="Mode", json_schema_extra={"section": "Run"},
        description="manual (the form, one campaign) or reconcile (the desired-schedules file). "
        "Empty: manual when the form names a campaign, else reconcile (with the defaults: a dry-run "
        "plan of every campaign in the file).")
    dry_run: bool = Field(True, title="Dry run (plan only, write nothing)", json_schema_extra={"section": "Run"},
                          description="On (the default): plan and report, write nothing. Switch off to write. "
                          "Scheduled runs ignore it: they write only when the deployment sets "
                          "GENESYS_RECONCILE_APPLY=true.")
    conflict_policy: Literal["refuse", "warn"] = Field(
        "refuse", title="On overlap", json_schema_extra={"section": "Safety"},
        description="Overlap with a related campaign: refuse the lower-ranked side, or warn.")
    desired_schedules_path: str | None = Field(
        None, title="Desired schedules file", json_schema_extra={"section": "Reconcile"},
        description="reconcile: YAML path (default env GENESYS_DESIRED_SCHEDULES, else the shipped "
        "desired_schedules.yaml).")
    horizon_days: int = Field(default=90, ge=1, le=730, title="Horizon (days)", json_schema_extra={"section": "Safety"},
                              description="Days after the run over which recurrences are expanded for overlap checks.")
    max_write_attempts: int = Field(default=4, ge=1, le=10, title="Write attempts", json_schema_extra={"section": "Safety"},
                                    description="Writes per campaign (first + retries after 409 / a lost answer).")
    fail_on_conflict: bool = Field(True, title="Fail on refusal", json_schema_extra={"section": "Safety"},
                                   description="Fail the run when a request was refused.")
    deliver_webhook: bool = Field(True, title="Send the webhook", json_schema_extra={"section": "Run"},
                                  description="POST the signed outcome to the webhook.")


class IntervalParam(BaseModel):
    start: str = Field(description="ISO-8601 with offset, e.g. 2026-07-01T09:00:00Z")
    end: str = Field(description="ISO-8601 with offset; exclusive, after start")


class ProvisioningForm(RunParams):
    """The trigger form: the run-level params plus the manual request's fields (validated by
    :class:`ScheduleRequest`, through :func:`resolve_requests`)."""

    campaign_id: str | None = Field(None, title="Campaign", json_schema_extra={"section": "Manual request"},
                                    description="manual: the outbound campaign id. Campaign ids: Admin > Outbound > Campaign Management (the id at the end of the campaign's URL), or `GET /api/v2/outbound/campaigns`.")
    intervals: list[IntervalParam] = Field(
        default_factory=list, title="Windows", json_schema_extra={"section": "Manual request"},
        description="manual: explicit windows [{start, end}], timezone-aware, end exclusive.")
    delivery_window: dict[str, Any] | None = Field(
        None, title="Daily window", json_schema_extra={"section": "Manual request"},
        description="manual: daily window {start_time: 'HH:MM', end_time: 'HH:MM' (at or before start = next "
        "day), time_zone (IANA), start_date, end_date (YYYY-MM-DD, inclusive), days_of_week: ['Monday', ...] "
        "(optional)}.")
    recurrences: list[dict[str, Any]] = Field(
        default_factory=list, title="Recurrences", json_schema_extra={"section": "Manual request"},
        description="manual: recurrences in the API's Reoccurrence shape (camelCase).")
    schedule_name: str | None = Field(None, title="Schedule name", json_schema_extra={"section": "Manual request"},
                                      description="manual: schedule name (default: current).")
    time_zone: str | None = Field(None, title="Schedule time zone", json_schema_extra={"section": "Manual request"},
                                  description="manual: the schedule's timeZone (IANA).")
    prune: bool = Field(False, title="Replace the schedule", json_schema_extra={"section": "Manual request"},
                        description="manual: replace the schedule with exactly this request (nothing requested = delete).")
    allow_past: bool = Field(False, title="Allow past windows", json_schema_extra={"section": "Manual request"},
                             description="manual: allow windows starting before the run.")


def reconcile_apply_enabled(env: Any = None) -> bool:
    """Whether the deployment lets scheduled (non-manual) runs write (``GENESYS_RECONCILE_APPLY``)."""
    env = os.environ if env is None else env
    return str(env.get(RECONCILE_APPLY_ENV, "")).strip().lower() in ("1", "true", "yes")


def manual_request_given(raw_params: dict[str, Any]) -> bool:
    """Whether the form names a manual request: any of its fields set to more than its empty default."""
    return any(raw_params.get(name) not in (None, "", [], {}, False) for name in _MANUAL_FIELDS)


def decide_mode(params: RunParams, run_type: str | None, env: Any = None, *,
                manual_request: bool = True) -> tuple[str, bool]:
    """``(mode, dry_run)`` from the params, the run type and the deployment (see the module docstring)."""
    mode = params.mode or ("manual" if run_type == "manual" and manual_request else "reconcile")
    dry_run = params.dry_run if run_type == "manual" else not reconcile_apply_enabled(env)
    return mode, dry_run


def desired_roots(env: Any = None) -> list[Path]:
    """The directories a desired-schedules file may live in."""
    env = os.environ if env is None else env
    roots = [DEFAULT_DESIRED_PATH.parent]
    if env.get(DESIRED_ENV):
        roots.append(Path(env[DESIRED_ENV]).parent)
    if env.get(DESIRED_DIR_ENV):
        roots.append(Path(env[DESIRED_DIR_ENV]))
    return [r.resolve() for r in roots]


def desired_path(param: str | None, env: Any = None) -> Path:
    """The desired-schedules file to read: the param, else ``GENESYS_DESIRED_SCHEDULES``, else the shipped
    file; refused (naming the path, not its content) unless it resolves under :func:`desired_roots`."""
    env = os.environ if env is None else env
    path = Path(param or env.get(DESIRED_ENV) or DEFAULT_DESIRED_PATH).resolve()
    if not any(path.is_relative_to(root) for root in desired_roots(env)):
        raise InvalidParam("desired_schedules_path", f"{path} is not under a configured directory "
                           f"(set {DESIRED_DIR_ENV} to allow one)")
    return path


def resolve_requests(
    raw_params: dict[str, Any], run_type: str | None, run_after: datetime
) -> tuple[RunParams, str, bool, str, list[dict[str, Any]], list[ScheduleRequest]]:
    """Validate everything: ``(params, mode, dry_run, source, raw requests, parsed requests)``.

    Raises :class:`InvalidParam` naming the param (``params.delivery_window.time_zone: ...``,
    ``desired_schedules_path: ...``, ``desired_schedules[1].campaign_id: ...``).
    """
    # A misspelt param (``dry_rn``) must fail by name, not silently fall back to a default that writes.
    unknown = sorted(set(raw_params) - set(RunParams.model_fields) - set(_MANUAL_FIELDS))
    if unknown:
        raise InvalidParam(f"params.{unknown[0]}: unknown param (not one of the DAG's params)")
    try:
        params = RunParams.model_validate(raw_params)
    except ValidationError as exc:
        raise InvalidParam(format_validation_error("params", exc)) from exc
    mode, dry_run = decide_mode(params, run_type, manual_request=manual_request_given(raw_params))
    if mode == "manual":
        if not raw_params.get("campaign_id"):
            raise InvalidParam("params.campaign_id: required in manual mode")
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
            raise InvalidParam(str(exc)) from exc
        return params, mode, dry_run, source, raw, parsed

    path = desired_path(params.desired_schedules_path)
    try:
        raw = load_desired(path)
        parsed = parse_requests(raw, run_after, "desired_schedules", skip_ended=True)
    except (DesiredFileError, RequestError) as exc:
        raise InvalidParam(f"desired_schedules_path ({path}): {exc}") from exc
    return params, mode, dry_run, str(path), raw, parsed
