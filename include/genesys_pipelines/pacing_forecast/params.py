"""Run parameters of the pacing forecast pipeline, validated before any API call.

The DAG's JSON-schema form already checks types; this model re-checks everything (a REST trigger or an
asset-triggered run can bypass the form) and fails with :class:`InvalidParam`, whose message starts with
the offending param's name.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from genesys_pipelines.errors import InvalidParam
from genesys_pipelines.windows import WindowError, zone

#: Below this much usable history (hours with attempts) a campaign is skipped, not forecast.
MIN_USABLE_HOURS = 96


class PacingParams(BaseModel):
    """The DAG's params (see the DAG's doc_md for the user-facing description of each)."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    campaign_ids: list[str] = Field(
        default_factory=list, title="Campaigns", json_schema_extra={"section": "Selection"},
        description="Outbound campaign ids to forecast, one per line. Empty: every campaign that is on/stopping. "
        "Campaign ids: Admin > Outbound > Campaign Management (the id at the end of the campaign's URL), or `GET /api/v2/outbound/campaigns`.")
    start: str | None = Field(
        None, title="Window start", json_schema_extra={"section": "Window", "format": "date"},
        description="First day of the window (`YYYY-MM-DD`, in `timezone`); give *Window end* too. "
        "Empty: the upstream asset event's window, else the day before the run.")
    end: str | None = Field(None, title="Window end (exclusive)", json_schema_extra={"section": "Window", "format": "date"},
                            description="The day after the window (exclusive, `YYYY-MM-DD`). The forecast covers "
                            "the 24 hours after it.")
    timezone: str = Field("UTC", title="Time zone", json_schema_extra={"section": "Window"},
                          description="IANA time zone of the window and the history query.")
    history_days: int = Field(default=14, ge=5, le=56, title="History (days)", json_schema_extra={"section": "Forecast"},
                              description="Days of hourly history before the window end (15+ adds weekly seasonality).")
    chunk_days: int = Field(default=7, ge=1, le=7, title="Days per query", json_schema_extra={"section": "Forecast"},
                            description="Days per history query.")
    apply: bool = Field(False, title="Apply", json_schema_extra={"section": "Apply"},
                        description="Write the recommendation to the campaigns (PUT). Off: propose only.")
    # A PERCENTAGE, as Campaign.abandonRate is (3 means 3 %): values under 0.5 are almost surely a
    # fraction typed by mistake (0.03), which would silently make the dialer 100x more conservative.
    abandon_rate_target: float = Field(
        default=3.0, ge=0.5, le=100, title="Abandon target (%)", json_schema_extra={"section": "Guard rails"},
        description="Compliance abandon target in PERCENT (3 = 3 %), as Campaign.abandonRate.")
    max_relative_step: float = Field(default=0.2, gt=0, le=1, title="Largest step", json_schema_extra={"section": "Guard rails"},
                                     description="Largest change per run, relative to the current value.")
    min_change: float = Field(default=0.02, ge=0, lt=1, title="Smallest change", json_schema_extra={"section": "Guard rails"},
                              description="Smallest relative change worth a write.")
    max_calls_per_agent_min: float = Field(
        default=1.0, gt=0, le=100, title="Calls per agent, min", json_schema_extra={"section": "Guard rails"},
        description="Lower bound of maxCallsPerAgentDecimal.")
    max_calls_per_agent_max: float = Field(
        default=4.0, gt=0, le=100, title="Calls per agent, max", json_schema_extra={"section": "Guard rails"},
        description="Upper bound of maxCallsPerAgentDecimal.")
    outbound_line_count_min: int = Field(default=1, ge=1, title="Lines, min", json_schema_extra={"section": "Guard rails"},
                                         description="Lower bound of outboundLineCount.")
    outbound_line_count_max: int = Field(default=500, ge=1, title="Lines, max", json_schema_extra={"section": "Guard rails"},
                                         description="Upper bound of outboundLineCount.")
    max_write_attempts: int = Field(default=5, ge=1, le=10, title="Write attempts", json_schema_extra={"section": "Apply"},
                                    description="Writes per campaign (first try + retries after a 409 or lost answer).")
    deliver_webhook: bool = Field(True, title="Send the webhook", json_schema_extra={"section": "Apply"},
                                  description="POST the signed summary to the webhook.")

    @field_validator("campaign_ids", mode="before")
    @classmethod
    def _none_is_empty(cls, value: Any) -> Any:
        return [] if value is None else value

    @field_validator("campaign_ids")
    @classmethod
    def _campaign_ids(cls, value: list[str]) -> list[str]:
        out = set()
        for item in value:
            try:
                out.add(str(uuid.UUID(str(item))))
            except (ValueError, AttributeError, TypeError) as exc:
                raise ValueError(f"{item!r} is not a UUID") from exc
        # Sorted: the selection (and so every output byte) must not depend on input order.
        return sorted(out)

    @field_validator("timezone", mode="before")
    @classmethod
    def _timezone(cls, value: Any) -> str:
        text = str(value or "UTC")
        try:
            zone(text)
        except WindowError as exc:
            raise ValueError(str(exc)) from exc
        return text

    @model_validator(mode="after")
    def _bounds(self) -> PacingParams:
        if self.max_calls_per_agent_min > self.max_calls_per_agent_max:
            raise ValueError("max_calls_per_agent_max: must be >= max_calls_per_agent_min")
        if self.outbound_line_count_min > self.outbound_line_count_max:
            raise ValueError("outbound_line_count_max: must be >= outbound_line_count_min")
        return self


class DeploymentLimits(BaseModel):
    """Absolute guard rails of the deployment (environment settings, not run params): a run's params may
    tighten them, never loosen them (:func:`apply_limits`). Defaults: the 3 % abandon ceiling US (TCPA)
    and UK (Ofcom) rules use, a 20 % step, 1-4 calls per agent, 1-500 lines, and windows older than 24 h
    never write (the forecast covers the 24 hours after the window: by then they are over)."""

    model_config = ConfigDict(frozen=True)

    abandon_rate_target_max: float = Field(3.0, gt=0, le=100)
    max_relative_step: float = Field(0.2, gt=0, le=1)
    max_calls_per_agent_min: float = Field(1.0, gt=0)
    max_calls_per_agent_max: float = Field(4.0, gt=0)
    outbound_line_count_min: int = Field(1, ge=1)
    outbound_line_count_max: int = Field(500, ge=1)
    max_age_hours: float = Field(24.0, gt=0)


#: Environment variable → DeploymentLimits field.
LIMIT_SETTINGS = {
    "GENESYS_PACING_ABANDON_TARGET_MAX": "abandon_rate_target_max",
    "GENESYS_PACING_MAX_STEP": "max_relative_step",
    "GENESYS_PACING_CALLS_PER_AGENT_MIN": "max_calls_per_agent_min",
    "GENESYS_PACING_CALLS_PER_AGENT_MAX": "max_calls_per_agent_max",
    "GENESYS_PACING_LINES_MIN": "outbound_line_count_min",
    "GENESYS_PACING_LINES_MAX": "outbound_line_count_max",
    "GENESYS_PACING_MAX_AGE_H": "max_age_hours",
}


def deployment_limits(env: Mapping[str, str] | None = None) -> DeploymentLimits:
    """The deployment's guard rails from ``env`` (default: the process environment); a bad setting fails
    naming the variable (a misconfigured guard rail must not fall back silently)."""
    import os

    env = os.environ if env is None else env
    values = {field: env[name] for name, field in LIMIT_SETTINGS.items() if env.get(name, "").strip()}
    try:
        return DeploymentLimits.model_validate(values)
    except ValidationError as exc:
        field = str(exc.errors()[0]["loc"][0])
        name = next(n for n, f in LIMIT_SETTINGS.items() if f == field)
        raise InvalidParam(name, f"bad deployment setting: {exc.errors()[0]['msg']}") from exc


def apply_limits(params: PacingParams, limits: DeploymentLimits) -> PacingParams:
    """``params`` inside the deployment's guard rails: a value looser than the limit is replaced by the limit
    (a run may tighten: a lower target, a smaller step, a narrower range; never loosen)."""
    tightened = {
        "abandon_rate_target": min(params.abandon_rate_target, limits.abandon_rate_target_max),
        "max_relative_step": min(params.max_relative_step, limits.max_relative_step),
        "max_calls_per_agent_min": max(params.max_calls_per_agent_min, limits.max_calls_per_agent_min),
        "max_calls_per_agent_max": min(params.max_calls_per_agent_max, limits.max_calls_per_agent_max),
        "outbound_line_count_min": max(params.outbound_line_count_min, limits.outbound_line_count_min),
        "outbound_line_count_max": min(params.outbound_line_count_max, limits.outbound_line_count_max),
    }
    if tightened["max_calls_per_agent_min"] > tightened["max_calls_per_agent_max"]:
        raise InvalidParam("max_calls_per_agent_min", "outside the deployment's calls-per-agent range "
                           f"[{limits.max_calls_per_agent_min:g}, {limits.max_calls_per_agent_max:g}]")
    if tightened["outbound_line_count_min"] > tightened["outbound_line_count_max"]:
        raise InvalidParam("outbound_line_count_min", "outside the deployment's line range "
                           f"[{limits.outbound_line_count_min}, {limits.outbound_line_count_max}]")
    return params.model_copy(update=tightened)


def parse_params(raw: Mapping[str, Any], env: Mapping[str, str] | None = None) -> PacingParams:
    """Validate the run's params and bound them by the deployment's guard rails
    (:func:`deployment_limits` from ``env``); raise :class:`InvalidParam` naming the first bad param."""
    return apply_limits(_parse(raw), deployment_limits(env))


def _parse(raw: Mapping[str, Any]) -> PacingParams:
    unknown = sorted(set(raw) - set(PacingParams.model_fields))
    if unknown:  # a typo (e.g. `aply: true`) must not silently mean "don't apply"
        raise InvalidParam(unknown[0], "unknown param (not one of the DAG's params)")
    try:
        return PacingParams.model_validate(dict(raw))
    except ValidationError as exc:
        first = exc.errors()[0]
        message = str(first.get("msg", "invalid value")).removeprefix("Value error, ")
        loc = first.get("loc") or ()
        if loc:
            param = str(loc[0])
        else:  # a model-level check names its param at the start of its message
            param, _, message = message.partition(": ")
        message = message.removeprefix(f"{param}: ")
        return_value = first.get("input")
        suffix = "" if isinstance(return_value, dict) else f" (got {return_value!r})"
        raise InvalidParam(param, f"{message}{suffix}") from exc
