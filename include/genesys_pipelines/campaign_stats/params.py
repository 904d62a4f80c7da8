"""Run parameters of the campaign execution statistics pipeline, validated before any API call.

The DAG's JSON-schema form already checks types; this model re-checks everything (a REST trigger or a
backfill's ``dag_run_conf`` can bypass the form) and fails with :class:`InvalidParam`, whose message
starts with the offending param's name.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from genesys_pipelines.errors import InvalidParam
from genesys_pipelines.windows import WindowError, zone

CampaignStatusFilter = Literal["on", "stopping", "off", "complete", "invalid", "forced_off", "forced_stopping"]

#: Campaigns per aggregates query (one `or` clause of `outboundCampaignId` predicates per batch).
DEFAULT_BATCH_SIZE = 25


def _canonical_uuid(value: str, param: str) -> str:
    try:
        parsed = uuid.UUID(str(value))
    except (ValueError, AttributeError, TypeError) as exc:
        raise ValueError(f"{param}: {value!r} is not a UUID") from exc
    return str(parsed)


def _uuid_list(values: list[str], param: str) -> list[str]:
    # Sorted and de-duplicated: the selection (and so every output byte) must not depend on input order.
    return sorted({_canonical_uuid(v, param) for v in values})


class CampaignStatsParams(BaseModel):
    """The DAG's params (see the DAG's doc_md for the user-facing description of each)."""

    # Unknown keys are refused: a misspelt param (``campagin_ids``) must not silently mean "every campaign".
    model_config = ConfigDict(extra="forbid", frozen=True)

    campaign_ids: list[str] = Field(
        default_factory=list, title="Campaigns",
        description="Outbound campaign ids to report on, one per line. Empty: every campaign of the listing. "
        "Campaign ids: Admin > Outbound > Campaign Management (the id at the end of the campaign's URL), or `GET /api/v2/outbound/campaigns`.",
        json_schema_extra={"section": "Selection"})
    start: str | None = Field(
        None, title="Window start", description="First reporting day (`YYYY-MM-DD`, a day in `timezone`); give *Window end* too. Empty (both): the reporting day before the run.",
        json_schema_extra={"section": "Window", "format": "date"})
    end: str | None = Field(
        None, title="Window end (exclusive)", description="The day after the last reporting day (exclusive, `YYYY-MM-DD`), not after the run. Empty (both): the reporting day before the run.",
        json_schema_extra={"section": "Window", "format": "date"})
    timezone: str = Field("UTC", title="Time zone", description="IANA time zone of the reporting day.",
                          json_schema_extra={"section": "Window"})
    publish_days: bool = Field(
        False, title="Publish one partition per day", json_schema_extra={"section": "Window"},
        description="For a window of several reporting days: read each batch of campaigns once for the range "
        "(per-day buckets) and publish one `date=YYYY-MM-DD` partition per day, byte-identical to the "
        "day-by-day runs, each with its own asset event. Off: one `interval=` partition for the whole window.")
    success_wrapup_codes: list[str] = Field(
        default_factory=list, title="Success wrap-up codes",
        description="Wrap-up code ids that count as conversions, one per line. Empty: codes mapped to "
        "`BUSINESS_SUCCESS`. Ids: Admin > Contact Center > Wrap-up Codes, or `GET /api/v2/routing/wrapupcodes`.",
        json_schema_extra={"section": "Definitions"})
    zscore_threshold: float = Field(
        default=3.0, gt=0, le=100, title="Outlier threshold",
        description="Flag a figure whose |z-score| against 28-day history exceeds this.",
        json_schema_extra={"section": "Definitions"})
    fail_on_flags: bool = Field(False, title="Fail on flags",
                                description="Fail the run (after delivering) when any campaign has a flag.",
                                json_schema_extra={"section": "Delivery"})
    fail_on_no_data: bool = Field(
        False, title="Fail when there is no data",
        description="Fail the run (after delivering) when no campaign had any activity in the window. Off: the "
        "run succeeds, flagged NO_DATA with a warning.",
        json_schema_extra={"section": "Delivery"})
    deliver_webhook: bool = Field(True, title="Send the webhook", description="POST the signed rows to the BI webhook.",
                                  json_schema_extra={"section": "Delivery"})
    include_live_snapshot: bool = Field(
        False, title="Live snapshot", description="Add live /stats and /progress to the webhook (not the files).",
        json_schema_extra={"section": "Delivery"})
    status_filter: list[CampaignStatusFilter] = Field(
        default_factory=list, title="Campaign statuses", description="Only campaigns in these statuses. Empty: any status.",
        json_schema_extra={"section": "Selection", "values_display": {
            "on": "On", "stopping": "Stopping", "off": "Off", "complete": "Complete", "invalid": "Invalid",
            "forced_off": "Forced off", "forced_stopping": "Forced stopping"}})
    division_ids: list[str] = Field(
        default_factory=list, title="Divisions",
        description="Only campaigns in these divisions, one division id per line. Empty: any division. Ids: Admin > "
        "People & Permissions > Divisions, or `GET /api/v2/authorization/divisions`.",
        json_schema_extra={"section": "Selection"})
    batch_size: int = Field(default=DEFAULT_BATCH_SIZE, ge=1, le=100, json_schema_extra={"form": False})

    @field_validator("campaign_ids", "success_wrapup_codes", "division_ids", mode="before")
    @classmethod
    def _none_is_empty(cls, value: Any) -> Any:
        return [] if value is None else value

    @field_validator("campaign_ids")
    @classmethod
    def _campaign_ids(cls, value: list[str]) -> list[str]:
        return _uuid_list(value, "campaign_ids")

    @field_validator("success_wrapup_codes")
    @classmethod
    def _wrapup_codes(cls, value: list[str]) -> list[str]:
        return _uuid_list(value, "success_wrapup_codes")

    @field_validator("division_ids")
    @classmethod
    def _division_ids(cls, value: list[str]) -> list[str]:
        return _uuid_list(value, "division_ids")

    @field_validator("status_filter")
    @classmethod
    def _status_filter(cls, value: list[str]) -> list[str]:
        return sorted(set(value))

    @field_validator("timezone", mode="before")
    @classmethod
    def _timezone(cls, value: Any) -> str:
        text = str(value or "UTC")
        try:
            zone(text)
        except WindowError as exc:
            raise ValueError(str(exc)) from exc
        return text


def parse_params(raw: Mapping[str, Any]) -> CampaignStatsParams:
    """Validate the run's params; raise :class:`InvalidParam` naming the first bad param."""
    try:
        return CampaignStatsParams.model_validate(dict(raw))
    except ValidationError as exc:
        first = exc.errors()[0]
        param = str(first["loc"][0]) if first.get("loc") else "params"
        if first.get("type") == "extra_forbidden":
            raise InvalidParam(param, "unknown param (not one of the DAG's params)") from exc
        message = str(first.get("msg", "invalid value")).removeprefix("Value error, ")
        message = message.removeprefix(f"{param}: ")
        raise InvalidParam(param, f"{message} (got {first.get('input')!r})") from exc
