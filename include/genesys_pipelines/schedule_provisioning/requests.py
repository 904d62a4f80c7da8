"""Validated schedule requests: what one campaign's schedule should contain.

A request gives explicit ``intervals`` (timezone-aware), a daily ``delivery_window`` expanded to
intervals, and/or ``recurrences`` in the API's ``Reoccurrence`` shape. Validation runs before any API
call and names the offending field (``requests[1].delivery_window.time_zone: unknown IANA time zone``).
Intervals must not start before the run's ``run_after`` unless ``allow_past`` is set: provisioning a
window that is already over (or running) is almost always a typo in a date.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, Literal

from pydantic import (
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    ValidationError,
    field_validator,
    model_validator,
)

from genesys_pipelines.models.outbound import Reoccurrence
from genesys_pipelines.schedule_provisioning.intervals import DAY_NAMES, Interval, expand_daily_window, zone
from genesys_pipelines.schedule_provisioning.recurrences import validate_recurrence

__all__ = [
    "DeliveryWindow",
    "IntervalIn",
    "MAX_WINDOW_DAYS",
    "RequestError",
    "ScheduleRequest",
    "format_validation_error",
    "horizon_end",
    "parse_requests",
]

# A delivery window longer than a year is almost certainly a wrong date; recurrences cover open ends.
MAX_WINDOW_DAYS = 366
# Campaign ids are GUIDs in Genesys; the sandbox uses GUIDs too. Allow any id-like token, reject paths.
_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$")


class RequestError(ValueError):
    """A request failed validation; the message names the field (``requests[0].intervals.1.end: ...``)."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class IntervalIn(_Strict):
    start: AwareDatetime
    end: AwareDatetime

    @model_validator(mode="after")
    def _ordered(self) -> IntervalIn:
        if self.end <= self.start:
            raise ValueError("end must be after start")
        return self

    def to_interval(self) -> Interval:
        return Interval(self.start, self.end)


class DeliveryWindow(_Strict):
    """Daily local hours over a date range; ``end_time <= start_time`` crosses midnight."""

    start_time: time = Field(description="local daily start, HH:MM[:SS]")
    end_time: time = Field(description="local daily end, HH:MM[:SS]; at or before start_time = next day")
    time_zone: str = Field(description="IANA time zone of the local times")
    start_date: date = Field(description="first day a window starts (local)")
    end_date: date = Field(description="last day a window starts (local), inclusive")
    days_of_week: list[Literal[DAY_NAMES]] | None = Field(  # type: ignore[valid-type]
        default=None, description="only these days (Monday..Sunday); all days when empty"
    )

    @field_validator("time_zone")
    @classmethod
    def _zone(cls, value: str) -> str:
        zone(value)
        return value

    @field_validator("start_time", "end_time")
    @classmethod
    def _naive(cls, value: time) -> time:
        if value.tzinfo is not None:
            raise ValueError("give a local time without offset; the zone is time_zone")
        return value

    @model_validator(mode="after")
    def _range(self) -> DeliveryWindow:
        if self.end_date < self.start_date:
            raise ValueError("end_date must not be before start_date")
        if (self.end_date - self.start_date).days >= MAX_WINDOW_DAYS:
            raise ValueError(f"date range longer than {MAX_WINDOW_DAYS} days")
        if self.start_time == self.end_time:
            raise ValueError("start_time and end_time must differ")
        return self

    def expand(self) -> list[Interval]:
        days = frozenset(DAY_NAMES.index(d) for d in self.days_of_week) if self.days_of_week else None
        return expand_daily_window(
            self.start_time, self.end_time, self.time_zone, self.start_date, self.end_date, days
        )


class ScheduleRequest(_Strict):
    """The desired schedule of one campaign (a manual form or one entry of the desired-schedules file)."""

    campaign_id: str
    name: str | None = Field(default=None, description="schedule name; default: the current one")
    intervals: list[IntervalIn] = Field(default_factory=list)
    delivery_window: DeliveryWindow | None = None
    recurrences: list[Reoccurrence] = Field(default_factory=list)
    time_zone: str | None = Field(default=None, description="schedule timeZone (IANA); default: current/UTC")
    prune: bool = Field(
        default=False,
        description="replace the schedule (remove windows not requested; nothing requested = delete); "
        "default false merges: existing windows are kept",
    )
    allow_past: bool = False
    # Reconcile runs set this: windows that have already ended are dropped (see skipping_ended).
    _ended_before: datetime | None = PrivateAttr(default=None)

    @field_validator("campaign_id")
    @classmethod
    def _campaign_id(cls, value: str) -> str:
        if not _ID.match(value):
            raise ValueError("must be a campaign id (letters, digits, '-' or '_', up to 64)")
        return value

    @field_validator("time_zone")
    @classmethod
    def _zone(cls, value: str | None) -> str | None:
        if value is not None:
            zone(value)
        return value

    @field_validator("recurrences")
    @classmethod
    def _recurrences(cls, value: list[Reoccurrence]) -> list[Reoccurrence]:
        for index, rec in enumerate(value):
            try:
                validate_recurrence(rec)
            except ValueError as exc:
                raise ValueError(f"recurrences[{index}]: {exc}") from exc
        return value

    @model_validator(mode="after")
    def _something(self) -> ScheduleRequest:
        # The API requires ``intervals`` on every schedule, so recurrences come on top of windows.
        if self.recurrences and not (self.intervals or self.delivery_window):
            raise ValueError(
                "recurrences need intervals or a delivery_window too (the API requires intervals)"
            )
        if not (self.intervals or self.delivery_window or self.prune):
            raise ValueError("give intervals or a delivery_window (or prune: true with nothing, to delete)")
        return self

    @property
    def explicit_delete(self) -> bool:
        """``prune`` with no windows at all: the schedule should not exist."""
        return self.prune and not (self.intervals or self.delivery_window or self.recurrences)

    def skipping_ended(self, run_after: datetime) -> ScheduleRequest:
        """A copy that drops windows ended by ``run_after`` (a desired-state file keeps its history)."""
        copy = self.model_copy()
        copy._ended_before = run_after
        return copy

    def all_windows(self) -> list[Interval]:
        """Explicit intervals plus the expanded delivery window, deduplicated and sorted."""
        found = {i.to_interval() for i in self.intervals}
        if self.delivery_window is not None:
            found.update(self.delivery_window.expand())
        return sorted(found)

    def resolved_intervals(self) -> list[Interval]:
        """The windows to provision: :meth:`all_windows` minus those ended (reconcile runs only)."""
        cutoff = self._ended_before
        return [i for i in self.all_windows() if cutoff is None or i.end > cutoff]

    @property
    def all_ended(self) -> bool:
        """Windows were given but every one has ended: nothing to do (never a delete)."""
        return bool(self.intervals or self.delivery_window) and not self.resolved_intervals()

    def check_not_past(self, run_after: datetime) -> None:
        if self.allow_past:
            return
        for item in self.resolved_intervals():
            if item.start < run_after:
                raise ValueError(
                    f"interval {item.to_api()['start']}/{item.to_api()['end']} starts before run_after "
                    f"{run_after.astimezone(UTC).isoformat()} (set allow_past to permit)"
                )

    def recurrences_api(self) -> list[dict[str, Any]]:
        return [r.to_api() for r in self.recurrences]


def format_validation_error(prefix: str, exc: ValidationError) -> str:
    """One line per problem, each naming the field path: ``prefix.field.sub: message``."""
    lines = []
    for err in exc.errors():
        path = ".".join(str(p) for p in err["loc"])
        where = f"{prefix}.{path}" if path else prefix
        message = str(err["msg"]).removeprefix("Value error, ")
        lines.append(f"{where}: {message}")
    return "; ".join(lines)


def parse_requests(
    raw: list[dict[str, Any]],
    run_after: datetime,
    label: str = "requests",
    *,
    skip_ended: bool = False,
    indexed: bool = True,
) -> list[ScheduleRequest]:
    """Validate every raw request; raise :class:`RequestError` listing all problems with field paths.

    ``skip_ended=False`` (manual runs): a window starting before ``run_after`` is an error unless the
    request sets ``allow_past``. ``skip_ended=True`` (the reconcile of a desired-state file): windows
    that ended by ``run_after`` are dropped and running ones kept, so the file may keep its history.
    Duplicated campaign ids are refused: two desired states for one campaign cannot both win.
    """
    problems: list[str] = []
    out: list[ScheduleRequest] = []
    seen: dict[str, int] = {}
    for index, item in enumerate(raw):
        prefix = f"{label}[{index}]" if indexed else label
        try:
            request = ScheduleRequest.model_validate(item)
        except ValidationError as exc:
            problems.append(format_validation_error(prefix, exc))
            continue
        if skip_ended:
            request = request.skipping_ended(run_after)
        else:
            try:
                request.check_not_past(run_after)
            except ValueError as exc:
                problems.append(f"{prefix}.intervals: {exc}")
        if request.campaign_id in seen:
            problems.append(
                f"{prefix}.campaign_id: {request.campaign_id} already given in {label}[{seen[request.campaign_id]}]"
            )
        seen.setdefault(request.campaign_id, index)
        out.append(request)
    if not raw:
        problems.append(f"{label}: no schedule requests")
    if problems:
        raise RequestError("; ".join(problems))
    return out


def horizon_end(requests: list[ScheduleRequest], run_after: datetime, days: int) -> datetime:
    """End of the window recurrences are expanded over: ``days`` after run_after or the last interval."""
    last = max((i.end for r in requests for i in r.resolved_intervals()), default=run_after)
    return max(last, run_after + timedelta(days=days))
