"""Run windows: the one place every pipeline gets its time range from.

Airflow 3 turns cron schedules into ``CronTriggerTimetable``, whose runs have no data interval
(start == end), and manual runs may have no logical date at all. So the window is derived here, from
what every run does have:

1. explicit ``start``/``end`` params (ISO dates or datetimes; a bare date means local midnight);
2. else the window carried by the triggering asset event (asset-scheduled runs);
3. else the full reporting day (in the configured IANA time zone, UTC by default) before the run's
   logical date;
4. else the full reporting day before ``run_after`` (manual runs with ``logical_date: null``).

Validation compares with ``run_after`` (when the run was allowed to start), never with the wall clock,
so a backfill and its re-run see exactly the same window. Pure: no Airflow import.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from genesys_pipelines.errors import InvalidParam

WindowSource = Literal["params", "asset_event", "logical_date", "run_after"]

#: Default longest window a run may ask for (a guard against a typo'd year, not an API rule).
DEFAULT_MAX_DAYS = 366


class WindowError(InvalidParam):
    """A window that cannot be used; the message names the offending param."""


def zone(tz: str) -> ZoneInfo:
    """The IANA zone ``tz``, or a :class:`WindowError` naming the ``timezone`` param."""
    try:
        return ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError, TypeError) as exc:
        raise WindowError("timezone", f"unknown IANA time zone {tz!r}") from exc


def _utc(dt: datetime) -> datetime:
    return dt.astimezone(timezone.utc)


def format_instant(dt: datetime) -> str:
    """Genesys Cloud's datetime format: ``yyyy-MM-ddTHH:mm:ss.SSSZ`` in UTC."""
    return _utc(dt).strftime("%Y-%m-%dT%H:%M:%S.") + f"{_utc(dt).microsecond // 1000:03d}Z"


def parse_instant(value: str) -> datetime:
    """ISO-8601 instant (``Z`` or an offset; naive = UTC) -> aware UTC datetime."""
    parsed = datetime.fromisoformat(value.strip())
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=timezone.utc)
    return parsed.astimezone(timezone.utc)


def format_interval(interval: tuple[datetime, datetime]) -> str:
    """The API's ``start/end`` interval string."""
    return f"{format_instant(interval[0])}/{format_instant(interval[1])}"


def utc_days(interval: tuple[datetime, datetime]) -> list[tuple[datetime, datetime]]:
    """The interval cut at UTC midnights: one piece per UTC day it touches."""
    start, end = interval
    pieces: list[tuple[datetime, datetime]] = []
    cursor = start
    while cursor < end:
        next_midnight = datetime(cursor.year, cursor.month, cursor.day, tzinfo=timezone.utc) + timedelta(days=1)
        pieces.append((cursor, min(end, next_midnight)))
        cursor = next_midnight
    return pieces


def day_start(day: date, tzinfo: Any) -> datetime:
    """The first instant of local ``day`` in ``tzinfo``.

    Usually local midnight. Where a DST change happens at midnight (America/Santiago, Asia/Beirut,
    America/Havana, Africa/Cairo...) the spring-forward day has no 00:00: it begins at 01:00, the instant
    the gap ends (a nonexistent wall time with ``fold=0`` maps to exactly that instant). An ambiguous
    midnight (clocks back at 01:00 to 00:00) gives the first one.
    """
    return datetime.combine(day, time(0), tzinfo).astimezone(timezone.utc).astimezone(tzinfo)


def is_local_day(start: datetime, end: datetime) -> bool:
    """True when ``[start, end)`` is exactly one calendar day in ``start``'s zone (23/24/25 h on DST days,
    a day that starts at 01:00 because its midnight does not exist included)."""
    local_end = end.astimezone(start.tzinfo)
    first = start.date()
    return start == day_start(first, start.tzinfo) and local_end == day_start(first + timedelta(days=1), start.tzinfo)


@dataclass(frozen=True)
class Window:
    """A half-open time range ``[start, end)`` in UTC, with the reporting time zone it was cut in."""

    start: datetime
    end: datetime
    tz: str = "UTC"
    source: WindowSource = "params"

    def __post_init__(self) -> None:
        if self.start.tzinfo is None or self.end.tzinfo is None:
            raise WindowError("start", "window bounds must be timezone-aware")
        object.__setattr__(self, "start", _utc(self.start))
        object.__setattr__(self, "end", _utc(self.end))
        if self.end <= self.start:
            raise WindowError("end", f"end {self.end.isoformat()} must be after start {self.start.isoformat()}")

    # -- views -------------------------------------------------------------------------------------
    def interval(self) -> str:
        """The Genesys ``interval`` string ``start/end`` (end exclusive)."""
        return f"{format_instant(self.start)}/{format_instant(self.end)}"

    def local_start(self) -> datetime:
        return self.start.astimezone(zone(self.tz))

    def local_end(self) -> datetime:
        return self.end.astimezone(zone(self.tz))

    def is_single_day(self) -> bool:
        """True when the window is exactly one calendar day in its time zone (23/24/25 h on DST days)."""
        return is_local_day(self.local_start(), self.local_end())

    def day(self) -> date:
        """The reporting day of a single-day window."""
        if not self.is_single_day():
            raise WindowError("start", "not a single reporting day")
        return self.local_start().date()

    def partition(self) -> str:
        """The partition path segment: ``date=YYYY-MM-DD`` for one day, ``interval=START_END`` otherwise."""
        if self.is_single_day():
            return f"date={self.day().isoformat()}"
        fmt = "%Y%m%dT%H%M%SZ"
        return f"interval={self.start.strftime(fmt)}_{self.end.strftime(fmt)}"

    def days(self) -> Iterator[Window]:
        """The window cut into reporting days of its zone (first and last may be partial)."""
        tzinfo = zone(self.tz)
        cursor = self.start
        while cursor < self.end:
            local_next = datetime.combine(cursor.astimezone(tzinfo).date() + timedelta(days=1), time(0), tzinfo)
            nxt = min(_utc(local_next), self.end)
            yield Window(cursor, nxt, self.tz, self.source)
            cursor = nxt

    def shifted_back(self, days: int) -> Window:
        """The window covering the ``days`` reporting days that end where this one starts."""
        tzinfo = zone(self.tz)
        local_start = self.local_start()
        earlier = local_start.date() - timedelta(days=days)
        if local_start == day_start(local_start.date(), tzinfo):  # a day's start (maybe 01:00 after a gap)
            start = day_start(earlier, tzinfo)
        else:
            start = datetime.combine(earlier, local_start.time(), tzinfo)
        return Window(start, self.start, self.tz, self.source)

    # -- transport (XCom, asset event extra) ---------------------------------------------------------
    def to_dict(self) -> dict[str, str]:
        return {
            "start": self.start.isoformat(),
            "end": self.end.isoformat(),
            "tz": self.tz,
            "source": self.source,
            "interval": self.interval(),
            "partition": self.partition(),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Window:
        try:
            return cls(
                datetime.fromisoformat(str(data["start"])),
                datetime.fromisoformat(str(data["end"])),
                str(data.get("tz") or "UTC"),
                data.get("source", "params"),  # type: ignore[arg-type]
            )
        except KeyError as exc:
            raise WindowError("window", f"missing key {exc.args[0]!r} in {dict(data)!r}") from exc
        except ValueError as exc:
            if isinstance(exc, WindowError):
                raise
            raise WindowError("window", f"not a window: {dict(data)!r} ({exc})") from exc


def parse_bound(value: str | date | datetime, tz: str, param: str) -> datetime:
    """An ISO date or datetime param as an aware datetime (naive values are local to ``tz``)."""
    tzinfo = zone(tz)
    if isinstance(value, datetime):
        dt = value
    elif isinstance(value, date):
        dt = datetime.combine(value, time(0))
    elif isinstance(value, str):
        text = value.strip()
        if not text:
            raise WindowError(param, "empty value")
        try:
            dt = datetime.fromisoformat(text.replace("Z", "+00:00")) if "T" in text or " " in text else datetime.combine(date.fromisoformat(text), time(0))
        except ValueError as exc:
            raise WindowError(param, f"not an ISO-8601 date or datetime: {value!r}") from exc
    else:
        raise WindowError(param, f"expected an ISO-8601 string, got {type(value).__name__}")
    return dt.replace(tzinfo=tzinfo) if dt.tzinfo is None else dt


def reporting_day_before(instant: datetime, tz: str, source: WindowSource) -> Window:
    """The full calendar day (in ``tz``) before the local date of ``instant``."""
    if instant.tzinfo is None:
        raise WindowError("logical_date", "must be timezone-aware")
    tzinfo = zone(tz)
    day = instant.astimezone(tzinfo).date() - timedelta(days=1)
    start = datetime.combine(day, time(0), tzinfo)
    end = datetime.combine(day + timedelta(days=1), time(0), tzinfo)
    return Window(start, end, tz, source)


def window_from_asset_extra(extra: Mapping[str, Any] | None) -> Window | None:
    """The window an upstream pipeline put in its asset event's ``extra`` (key ``window``), if any."""
    if not extra:
        return None
    data = extra.get("window")
    if isinstance(data, Mapping):
        return Window.from_dict({**data, "source": "asset_event"})
    return None


def resolve_window(
    *,
    start: str | date | datetime | None = None,
    end: str | date | datetime | None = None,
    logical_date: datetime | None = None,
    run_after: datetime | None = None,
    tz: str | None = None,
    asset_window: Window | None = None,
    allow_future: bool = False,
    max_days: int = DEFAULT_MAX_DAYS,
) -> Window:
    """The run's window (see module doc for precedence), validated against ``run_after``."""
    tz = tz or "UTC"
    zone(tz)
    has_start, has_end = start not in (None, ""), end not in (None, "")
    if has_start != has_end:
        raise WindowError("end" if has_start else "start", "start and end must be given together")
    if has_start and has_end:
        s = parse_bound(start, tz, "start")  # type: ignore[arg-type]
        e = parse_bound(end, tz, "end")  # type: ignore[arg-type]
        if e <= s:
            raise WindowError("end", f"end {e.isoformat()} must be after start {s.isoformat()}")
        window = Window(s, e, tz, "params")
    elif asset_window is not None:
        window = asset_window
    elif logical_date is not None:
        window = reporting_day_before(logical_date, tz, "logical_date")
    elif run_after is not None:
        window = reporting_day_before(run_after, tz, "run_after")
    else:
        raise WindowError("logical_date", "a run needs a logical date, run_after or explicit start/end")

    if run_after is not None and not allow_future and window.end > _utc(run_after):
        raise WindowError(
            "end",
            f"window ends {window.end.isoformat()}, after the run's run_after {_utc(run_after).isoformat()}: "
            "data for the future does not exist yet",
        )
    if window.end - window.start > timedelta(days=max_days, hours=1):
        raise WindowError("end", f"window longer than {max_days} days")
    return window
