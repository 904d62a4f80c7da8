"""Run params of ``genesys_reporting_export``, validated before any API call.

Errors name the param as the form shows it (``exports[1].view_type``), so a user fixing a manual run
sees at once which field is wrong.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from genesys_pipelines.errors import InvalidParam
from genesys_pipelines.models.exports import VIEW_TYPES

#: The exports a scheduled run makes when the params do not say otherwise.
DEFAULT_EXPORTS: tuple[dict[str, Any], ...] = (
    {"view_type": "CAMPAIGN_PERFORMANCE_SUMMARY_VIEW", "filter": {"mediaTypes": ["voice"]}},
    {"view_type": "QUEUE_PERFORMANCE_SUMMARY_VIEW", "filter": {"mediaTypes": ["voice"]}},
)


class ExportSpec(BaseModel):
    """One configured export: a view, its filter and optionally a period and the columns to select."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    view_type: str = Field(description="The export's viewType.", json_schema_extra={"enum": list(VIEW_TYPES)})
    filter: dict[str, Any] = Field(default_factory=dict,
                                   description="ViewFilter (JSON names, e.g. queueIds, mediaTypes).")
    period: str | None = Field(None, description="ISO-8601 duration, e.g. P1D or PT30M.")
    selected_columns: tuple[str, ...] | None = None

    @field_validator("view_type")
    @classmethod
    def _real_view_type(cls, value: str) -> str:
        if value not in VIEW_TYPES:
            import difflib

            prefixed = [v for v in VIEW_TYPES if v.startswith(value.upper())] if value else []
            close = prefixed[:1] or difflib.get_close_matches(value.upper(), VIEW_TYPES, n=1)
            hint = f" (did you mean {close[0]}?)" if close else ""
            raise ValueError(f"{value!r} is not a viewType of the API{hint}")
        return value

    @field_validator("selected_columns")
    @classmethod
    def _no_blank_columns(cls, value: tuple[str, ...] | None) -> tuple[str, ...] | None:
        if value is not None and any(not c.strip() for c in value):
            raise ValueError("column names must not be blank")
        return value


class ReportingExportParams(BaseModel):
    # Unknown keys are refused: a misspelt param must fail by name, not fall back to a default.
    model_config = ConfigDict(extra="forbid", frozen=True)

    start: str | None = Field(None, title="Window start", json_schema_extra={"section": "Window", "format": "date"},
                              description="First reporting day (`YYYY-MM-DD`, a day in `timezone`); give *Window end* too. Empty (both): the reporting day before the run.")
    end: str | None = Field(None, title="Window end (exclusive)", json_schema_extra={"section": "Window", "format": "date"},
                            description="The day after the last reporting day (exclusive, `YYYY-MM-DD`), not after the run. Empty (both): the reporting day before the run.")
    timezone: str = Field("UTC", title="Time zone", json_schema_extra={"section": "Window"},
                          description="IANA time zone of the reporting day and of the exports.")
    exports: tuple[ExportSpec, ...] = Field(
        default=tuple(ExportSpec(**e) for e in DEFAULT_EXPORTS), min_length=1, title="Exports",
        json_schema_extra={"section": "Exports"},
        description="The exports to run: a view type with a configured column mapping (views.yaml), its filter, "
        "and optionally a period and the columns to select.")
    max_dropped_share: float | None = Field(
        default=None, ge=0.0, le=1.0, title="Largest dropped share", json_schema_extra={"section": "Checks"},
        description="Fail an export whose share of rows without key exceeds this (default from views.yaml).")
    fail_on_no_data: bool = Field(
        False, title="Fail when there is no data", json_schema_extra={"section": "Delivery"},
        description="Fail the run (after delivering) when every export came back without a data row. Off: the "
        "run succeeds, flagged NO_DATA with a warning.")
    deliver_webhook: bool = Field(True, title="Send the webhook", json_schema_extra={"section": "Delivery"},
                                  description="POST the signed result to the BI webhook.")


def _loc(loc: tuple[Any, ...]) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "params"


def validate_params(raw: Mapping[str, Any]) -> ReportingExportParams:
    """The params as a model, or a :class:`~genesys_pipelines.errors.InvalidParam` naming each bad param."""
    data = {k: v for k, v in raw.items() if v is not None}
    try:
        return ReportingExportParams.model_validate(data)
    except ValidationError as exc:
        raise InvalidParam("; ".join(f"{_loc(e['loc'])}: {e['msg']}" for e in exc.errors())) from None
