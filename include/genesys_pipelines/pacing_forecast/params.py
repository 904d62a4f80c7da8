"""Run parameters of the pacing forecast pipeline, validated before any API call.

The DAG's JSON-schema form already checks types; this model re-checks everything (a REST trigger or an
asset-triggered run can bypass the form) and fails with :class:`ParamError`, whose message starts with
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


class ParamError(InvalidParam):
    """An invalid run parameter; ``param`` names it and the message starts with it."""


class PacingParams(BaseModel):
    """The DAG's params (see the DAG's doc_md for the user-facing description of each)."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    campaign_ids: list[str] = Field(default_factory=list)
    start: str | None = None
    end: str | None = None
    timezone: str = "UTC"
    history_days: int = Field(default=14, ge=5, le=56)
    chunk_days: int = Field(default=7, ge=1, le=7)
    apply: bool = False
    # A PERCENTAGE, as Campaign.abandonRate is (3 means 3 %): values under 0.5 are almost surely a
    # fraction typed by mistake (0.03), which would silently make the dialer 100x more conservative.
    abandon_rate_target: float = Field(default=3.0, ge=0.5, le=100)
    max_relative_step: float = Field(default=0.2, gt=0, le=1)
    min_change: float = Field(default=0.02, ge=0, lt=1)
    max_calls_per_agent_min: float = Field(default=1.0, gt=0, le=100)
    max_calls_per_agent_max: float = Field(default=4.0, gt=0, le=100)
    outbound_line_count_min: int = Field(default=1, ge=1)
    outbound_line_count_max: int = Field(default=500, ge=1)
    max_write_attempts: int = Field(default=5, ge=1, le=10)
    deliver_webhook: bool = True

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


def parse_params(raw: Mapping[str, Any]) -> PacingParams:
    """Validate the run's params; raise :class:`ParamError` naming the first bad param."""
    unknown = sorted(set(raw) - set(PacingParams.model_fields))
    if unknown:  # a typo (e.g. `aply: true`) must not silently mean "don't apply"
        raise ParamError(unknown[0], "unknown param (not one of the DAG's params)")
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
        raise ParamError(param, f"{message}{suffix}") from exc
