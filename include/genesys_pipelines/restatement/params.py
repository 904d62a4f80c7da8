"""The restatement sweep's params (one model: the form and the run's validation)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from genesys_pipelines.errors import InvalidParam

REPORT = "genesys_conversation_report"
STATS = "genesys_campaign_execution_stats"
Pipeline = Literal["genesys_conversation_report", "genesys_campaign_execution_stats"]


class SweepParams(BaseModel):
    """Which days and pipelines the sweep probes. With ``start``/``end`` it sweeps exactly those days (a
    forced re-sweep from a date); otherwise the ``days`` reporting days before the run."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    start: str | None = Field(None, title="Sweep from", json_schema_extra={"section": "Window"},
                              description="First reporting day to sweep (ISO date). With `end`.")
    end: str | None = Field(None, title="Sweep until", json_schema_extra={"section": "Window"},
                            description="Day after the last one to sweep (ISO date, exclusive).")
    timezone: str = Field("UTC", title="Time zone", json_schema_extra={"section": "Window"},
                          description="IANA zone of the reporting days (as the pipelines were run).")
    days: int = Field(0, ge=0, le=62, title="Days", json_schema_extra={"section": "Sweep"},
                      description="Reporting days to look back; 0 = GENESYS_RESTATE_DAYS (default 7).")
    pipelines: tuple[Pipeline, ...] = Field((REPORT, STATS), title="Pipelines", json_schema_extra={"section": "Sweep"},
                                            description="The pipelines whose partitions are probed.")
    dry_run: bool = Field(False, title="Dry run", json_schema_extra={"section": "Sweep"},
                          description="Probe and report the changed days, re-run nothing.")


def parse_params(raw: Mapping[str, Any]) -> SweepParams:
    try:
        return SweepParams.model_validate(dict(raw))
    except ValidationError as exc:
        first = exc.errors()[0]
        name = ".".join(str(p) for p in first["loc"]) or "params"
        raise InvalidParam(name, first["msg"]) from exc
