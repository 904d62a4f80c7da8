"""Run parameters of the conversation report, validated before any API call.

A bad value raises :class:`InvalidParam` whose message starts with the parameter's name, so the
first task of the DAG fails with something a user can act on.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any, Literal, get_args
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from genesys_pipelines.errors import InvalidParam
from genesys_pipelines.models.analytics import MediaType

# Conversation-level dimensions the report can group by (see aggregate.py for how each is attributed).
GroupDimension = Literal["mediaType", "queueId", "originatingDirection", "outboundCampaignId"]
GROUP_DIMENSIONS: tuple[str, ...] = get_args(GroupDimension)
DEFAULT_GROUP_BY: tuple[str, ...] = ("mediaType", "queueId")
ReportFormat = Literal["csv", "json", "parquet"]
FORMATS: tuple[str, ...] = get_args(ReportFormat)
Mode = Literal["auto", "sync", "async"]
MEDIA_TYPES: tuple[str, ...] = get_args(MediaType)

# Segment dimensions accepted as extra `filters` (a subset of the 80 the API knows, §3b).
FILTER_DIMENSIONS: tuple[str, ...] = (
    "direction",
    "disconnectType",
    "outboundCampaignId",
    "outboundContactListId",
    "purpose",
    "segmentType",
    "userId",
    "wrapUpCode",
)
# Genesys ids are UUIDs; a typo'd id would silently match nothing, so reject it up front.
_ID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
MAX_QUEUE_IDS = 100  # keeps the request under the API's 512 kB body limit with room to spare
MAX_URL_EXPIRY_HOURS = 168  # S3 SigV4 presigned URLs live at most 7 days


class ReportParams(BaseModel):
    """The DAG's params, after validation. ``start``/``end``/``timezone`` are read by the window helper."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    start: str | None = Field(None, title="Window start", json_schema_extra={"section": "Window", "format": "date"},
                              description="First reporting day (`YYYY-MM-DD`, a day in `timezone`); give *Window end* too. Empty (both): the reporting day before the run.")
    end: str | None = Field(None, title="Window end (exclusive)", json_schema_extra={"section": "Window", "format": "date"},
                            description="The day after the last reporting day (exclusive, `YYYY-MM-DD`), not after the run. Empty (both): the reporting day before the run.")
    timezone: str = Field("UTC", title="Time zone", json_schema_extra={"section": "Window"},
                          description="IANA time zone of the reporting day.")
    publish_days: bool = Field(
        False, title="Publish one partition per day", json_schema_extra={"section": "Window"},
        description="For a window of several reporting days: extract the range once (the async job when it "
        "costs fewer requests than day-by-day queries) and publish one `date=YYYY-MM-DD` partition per day, "
        "byte-identical to the day-by-day runs. Off: one `interval=` partition for the whole window.")
    media_type: MediaType | None = Field(
        None, title="Media type", json_schema_extra={"section": "Selection", "values_display": {"null": "(all media types)"}},
        description="Only conversations with a segment of this media type. Empty: all.")
    queue_ids: tuple[str, ...] = Field(
        (), title="Queues", json_schema_extra={"section": "Selection", "maxItems": MAX_QUEUE_IDS},
        description="Only conversations with a segment in one of these queues (one queue id per line). Empty: all. "
        "Queue ids: Admin > Contact Center > Queues (the id at the end of the queue's URL), or "
        "`GET /api/v2/routing/queues`.")
    group_by: tuple[GroupDimension, ...] = Field(  # type: ignore[assignment]
        DEFAULT_GROUP_BY, title="Group by",
        json_schema_extra={"section": "Report", "minItems": 1, "uniqueItems": True, "values_display": {
            "mediaType": "Media type", "queueId": "Queue", "originatingDirection": "Direction (inbound / outbound)",
            "outboundCampaignId": "Outbound campaign"}},
        description="Report groups (conversation-level dimensions, see the DAG docs).")
    formats: tuple[ReportFormat, ...] = Field(  # type: ignore[assignment]
        FORMATS, title="Formats", json_schema_extra={"section": "Report", "minItems": 1, "uniqueItems": True,
                                                     "values_display": {"csv": "CSV", "json": "JSON", "parquet": "Parquet"}},
        description="Report files to write (the session table is always written).")
    url_expiry_hours: int = Field(
        24, title="Link lifetime (hours)",
        json_schema_extra={"section": "Delivery", "minimum": 1, "maximum": MAX_URL_EXPIRY_HOURS},
        description="Lifetime of the presigned URLs, hours (S3 allows at most 7 days).")
    fail_on_no_data: bool = Field(
        False, title="Fail when there is no data", json_schema_extra={"section": "Delivery"},
        description="Fail the run (after publishing) when the window has zero conversations. Off: the run "
        "succeeds, flagged NO_DATA with a warning.")
    mode: Mode = Field("auto", title="Extraction", json_schema_extra={"section": "Report", "values_display": {
        "auto": "Auto (sync query under 100,000 conversations a day, else async job)", "sync": "Sync details query",
        "async": "Async details job"}},
                       description="auto: sync query under the 100,000-results-per-day ceiling, else async job.")
    filters: dict[str, tuple[str, ...]] = Field({}, json_schema_extra={"form": False})

    @field_validator("media_type", mode="before")
    @classmethod
    def _blank_media_type(cls, value: Any) -> Any:
        return None if value in ("", "all") else value

    @field_validator("start", "end")
    @classmethod
    def _iso(cls, value: str | None) -> str | None:
        if value in (None, ""):
            return None
        try:
            datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError as exc:
            raise ValueError(f"not an ISO-8601 date or datetime: {value!r}") from exc
        return value

    @field_validator("timezone")
    @classmethod
    def _zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown IANA time zone {value!r}") from exc
        return value

    @field_validator("queue_ids")
    @classmethod
    def _queue_ids(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        bad = [v for v in value if not _ID.match(v)]
        if bad:
            raise ValueError(f"not Genesys ids (UUIDs): {bad}")
        if len(value) > MAX_QUEUE_IDS:
            raise ValueError(f"at most {MAX_QUEUE_IDS} queue ids, got {len(value)}")
        return tuple(sorted(set(value)))  # order-free: the same set gives the same query and output

    @field_validator("group_by", "formats")
    @classmethod
    def _non_empty_unique(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        if not value:
            raise ValueError("must name at least one value")
        if len(set(value)) != len(value):
            raise ValueError(f"repeats a value: {list(value)}")
        return value

    @field_validator("url_expiry_hours")
    @classmethod
    def _expiry(cls, value: int) -> int:
        if not 1 <= value <= MAX_URL_EXPIRY_HOURS:
            raise ValueError(f"must be between 1 and {MAX_URL_EXPIRY_HOURS} hours, got {value}")
        return value

    @field_validator("filters")
    @classmethod
    def _filters(cls, value: dict[str, tuple[str, ...]]) -> dict[str, tuple[str, ...]]:
        unknown = sorted(set(value) - set(FILTER_DIMENSIONS))
        if unknown:
            raise ValueError(f"unsupported dimension(s) {unknown}; use one of {list(FILTER_DIMENSIONS)}")
        empty = sorted(k for k, v in value.items() if not v or any(not s for s in v))
        if empty:
            raise ValueError(f"empty value list or empty value for {empty}")
        return {k: tuple(sorted(set(v))) for k, v in sorted(value.items())}

    @model_validator(mode="after")
    def _range(self) -> ReportParams:
        if (self.start is None) != (self.end is None):
            raise ValueError("start and end: give both or neither")
        return self


def validate_params(raw: dict[str, Any]) -> ReportParams:
    """Validate the DAG's params; the error message names the first offending param."""
    unknown = sorted(set(raw) - set(ReportParams.model_fields))
    if unknown:  # a typo (e.g. `queue_idz`) must not silently fall back to the default
        raise InvalidParam(unknown[0], "unknown param (not one of the DAG's params)")
    try:
        return ReportParams.model_validate(dict(raw))
    except ValidationError as exc:
        err = exc.errors()[0]
        loc = [str(p) for p in err["loc"]]
        param = loc[0] if loc else "params"
        message = err["msg"].removeprefix("Value error, ")
        if len(loc) > 1:  # e.g. group_by[1]: say which element
            message = f"item {'.'.join(loc[1:])}: {message} (got {err.get('input')!r})"
        if param == "params":  # model-level check: the message carries the names
            raise InvalidParam(message.split(":")[0], message) from exc
        raise InvalidParam(param, message) from exc
