"""The restatement sweep's params (one model: the form and the run's validation)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from genesys_pipelines.errors import InvalidParam

REPORT = "genesys_conversation_report"
STATS = "genesys_campaign_execution_stats"
Pipeline = Literal["genesys_conversation_report", "genesys_campaign_execution_stats"]


class SweepParams(BaseModel):
    """Which days and pipelines the sweep probes. With ``start``/``end`` it sweeps exactly those days (a
    forced re-sweep from a date); otherwise the ``days`` reporting days before the run."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    start: str | None = Field(None, title="Sweep from", json_schema_extra={"section": "Window", "format": "date"},
                              description="First reporting day to sweep (ISO date). With `end`.")
    end: str | None = Field(None, title="Sweep until", json_schema_extra={"section": "Window", "format": "date"},
                            description="Day after the last one to sweep (ISO date, exclusive).")
    timezone: str = Field("UTC", title="Time zone", json_schema_extra={"section": "Window"},
                          description="IANA zone of the reporting days (as the pipelines were run).")
    days: int = Field(0, ge=0, le=62, title="Days", json_schema_extra={"section": "Sweep"},
                      description="Reporting days to look back; 0 = GENESYS_RESTATE_DAYS (default 7).")
    pipelines: tuple[Pipeline, ...] = Field((REPORT, STATS), title="Pipelines", json_schema_extra={"section": "Sweep"},
                                            description="The pipelines whose partitions are probed.")
    dry_run: bool = Field(False, title="Dry run", json_schema_extra={"section": "Sweep"},
                          description="Probe and report the changed days, re-run nothing.")
    reset_from: str | None = Field(
        None, title="Reset from", json_schema_extra={"section": "Window", "format": "date"},
        description="Reset the sweep's watermark: probe every published day from this reporting day (ISO date) "
        "up to the run's day again, final ones included (their recorded finality is ignored), and re-run those "
        "that changed. REST: conf `{\"reset_from\": \"YYYY-MM-DD\"}`.")

    @field_validator("reset_from")
    @classmethod
    def _day(cls, value: str | None) -> str | None:
        if value in (None, ""):
            return None
        try:
            return date.fromisoformat(value).isoformat()
        except ValueError as exc:
            raise ValueError(f"not an ISO date (YYYY-MM-DD): {value!r}") from exc


def parse_params(raw: Mapping[str, Any]) -> SweepParams:
    try:
        return SweepParams.model_validate(dict(raw))
    except ValidationError as exc:
        first = exc.errors()[0]
        name = ".".join(str(p) for p in first["loc"]) or "params"
        raise InvalidParam(name, first["msg"]) from exc
