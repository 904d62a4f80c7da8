"""Interval parsing/formatting, daily delivery windows across DST, recurrences."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from genesys_pipelines.models.outbound import Reoccurrence
from genesys_pipelines.schedule_provisioning.intervals import (
    Interval,
    WallClockError,
    expand_daily_window,
    format_api_datetime,
    parse_api_datetime,
)
from genesys_pipelines.schedule_provisioning.recurrences import expand_recurrence, validate_recurrence

NY = ZoneInfo("America/New_York")
ZONES = ["America/New_York", "Europe/Dublin", "Australia/Sydney", "Asia/Kolkata", "UTC", "Europe/Berlin"]


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def test_api_format_round_trip_and_naive_strings_use_schedule_zone() -> None:
    value = utc(2026, 7, 1, 9, 30, 5, 123456)
    assert format_api_datetime(value) == "2026-07-01T09:30:05.123Z"
    assert parse_api_datetime("2026-07-01T09:30:05.123Z") == utc(2026, 7, 1, 9, 30, 5, 123000)
    # No offset: read in the schedule's zone (Dublin is UTC+1 in July).
    assert parse_api_datetime("2026-07-01T10:00:00", "Europe/Dublin") == utc(2026, 7, 1, 9)
    assert parse_api_datetime("2026-07-01T10:00:00") == utc(2026, 7, 1, 10)


def test_interval_requires_order_and_awareness() -> None:
    with pytest.raises(ValueError, match="after start"):
        Interval(utc(2026, 7, 1, 10), utc(2026, 7, 1, 10))
    with pytest.raises(ValueError, match="timezone-aware"):
        Interval(datetime(2026, 7, 1, 9), utc(2026, 7, 1, 10))


def test_window_keeps_local_hours_across_spring_forward() -> None:
    # US clocks go forward on 2026-03-08 at 02:00.
    out = expand_daily_window(time(9), time(17), "America/New_York", date(2026, 3, 7), date(2026, 3, 9))
    assert [i.start for i in out] == [utc(2026, 3, 7, 14), utc(2026, 3, 8, 13), utc(2026, 3, 9, 13)]
    assert all(i.end - i.start == timedelta(hours=8) for i in out)


def test_cross_midnight_window_is_shorter_and_longer_on_change_nights() -> None:
    spring = expand_daily_window(time(22), time(6), "America/New_York", date(2026, 3, 7), date(2026, 3, 7))
    autumn = expand_daily_window(
        time(22), time(6), "America/New_York", date(2026, 10, 31), date(2026, 10, 31)
    )
    assert spring[0].end - spring[0].start == timedelta(hours=7)
    assert autumn[0].end - autumn[0].start == timedelta(hours=9)
    assert spring[0].end.astimezone(NY).time() == time(6)


def test_window_starting_or_ending_in_the_gap_is_refused_by_name() -> None:
    # 02:30 does not exist on 2026-03-08 in New York: refused, never silently moved or skipped (issue 17).
    with pytest.raises(WallClockError, match="starts at 2026-03-08 02:30:00"):
        expand_daily_window(time(2, 30), time(4), "America/New_York", date(2026, 3, 7), date(2026, 3, 9))
    with pytest.raises(WallClockError, match="ends at 2026-03-08 02:30:00"):
        expand_daily_window(time(22), time(2, 30), "America/New_York", date(2026, 3, 7), date(2026, 3, 7))
    ok = expand_daily_window(time(2, 30), time(4), "America/New_York", date(2026, 3, 9), date(2026, 3, 9))
    assert ok[0].start.astimezone(NY).time() == time(2, 30)


def test_ambiguous_time_takes_first_occurrence() -> None:
    # 01:30 happens twice on 2026-11-01 in New York; the first is EDT (UTC-4).
    out = expand_daily_window(time(1, 30), time(5), "America/New_York", date(2026, 11, 1), date(2026, 11, 1))
    assert out[0].start == utc(2026, 11, 1, 5, 30)


def test_days_of_week_filter() -> None:
    out = expand_daily_window(
        time(9), time(10), "UTC", date(2026, 6, 1), date(2026, 6, 14), frozenset({0, 4})
    )  # Mondays, Fridays
    assert [i.start.date() for i in out] == [date(2026, 6, d) for d in (1, 5, 8, 12)]


@settings(max_examples=150, deadline=None)
@given(
    tz=st.sampled_from(ZONES),
    first=st.dates(min_value=date(2024, 1, 1), max_value=date(2028, 12, 1)),
    days=st.integers(min_value=0, max_value=40),
    start=st.times().map(lambda t: t.replace(second=0, microsecond=0)),
    end=st.times().map(lambda t: t.replace(second=0, microsecond=0)),
)
def test_window_expansion_properties(tz: str, first: date, days: int, start: time, end: time) -> None:
    if start == end:
        return
    zone = ZoneInfo(tz)
    last = first + timedelta(days=days)
    try:
        out = expand_daily_window(start, end, tz, first, last)
    except WallClockError as exc:  # a start or end in a DST gap is refused, naming it
        assert "does not exist" in str(exc)
        return
    # At most one window per day; windows never overlap each other and come out sorted.
    assert len(out) <= days + 1
    assert out == sorted(out)
    assert all(not a.overlaps(b) for a, b in zip(out, out[1:], strict=False))
    for item in out:
        local_start = item.start.astimezone(zone)
        assert first <= local_start.date() <= last + timedelta(days=1)
        assert local_start.time() == start  # the wall-clock start is kept (gaps are refused)
        # Duration = wall-clock difference, give or take one DST shift (at most 1 h here... or 30 min).
        wall = datetime.combine(date(2000, 1, 2 if end <= start else 1), end) - datetime.combine(
            date(2000, 1, 1), start
        )
        assert abs((item.end - item.start) - wall) <= timedelta(hours=1)
    assert len(out) == days + 1  # no day is skipped


def test_weekly_recurrence_with_range_and_alterations() -> None:
    rec = Reoccurrence.model_validate(
        {
            "start": "2026-06-01T09:00:00",
            "end": "2026-06-01T12:00:00",
            "timeZone": "Europe/Dublin",
            "pattern": {"type": "Weekly", "interval": 1, "daysOfWeek": ["Monday", "Wednesday"]},
            "range": {"type": "EndDate", "end": "2026-06-17T23:59:59"},
            "alterations": [
                {"type": "Exclusion", "start": "2026-06-03T00:00:00", "end": "2026-06-04T00:00:00"},
                {"type": "Inclusion", "start": "2026-06-06T10:00:00", "end": "2026-06-06T11:00:00"},
            ],
        }
    )
    out = expand_recurrence(rec, None, Interval(utc(2026, 5, 1), utc(2026, 12, 1)))
    # Mondays 1, 8, 15 and Wednesdays 10, 17 (3rd excluded), plus the Saturday inclusion; 09:00 IST = 08:00Z.
    assert [i.start for i in out] == [
        utc(2026, 6, 1, 8),
        utc(2026, 6, 6, 9),
        utc(2026, 6, 8, 8),
        utc(2026, 6, 10, 8),
        utc(2026, 6, 15, 8),
        utc(2026, 6, 17, 8),
    ]


def test_daily_numbered_recurrence_counts_from_first_and_clips_to_horizon() -> None:
    rec = Reoccurrence.model_validate(
        {
            "start": "2026-06-01T22:00:00",
            "end": "2026-06-02T02:00:00",
            "pattern": {"type": "Daily", "interval": 2},
            "range": {"type": "Numbered", "numberOfOccurrences": 4},
        }
    )
    out = expand_recurrence(rec, "UTC", Interval(utc(2026, 6, 3), utc(2026, 7, 1)))
    # Occurrences on 1, 3, 5, 7 June; the one on the 1st ends before the horizon.
    assert [i.start.day for i in out] == [3, 5, 7]
    assert all(i.end - i.start == timedelta(hours=4) for i in out)


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        (
            {"start": "2026-06-01T09:00:00", "end": "2026-06-01T08:00:00", "pattern": {"type": "Daily"}},
            "after start",
        ),
        ({"start": "2026-06-01T09:00:00", "end": "2026-06-01T10:00:00"}, "pattern.type"),
        (
            {"start": "2026-06-01T09:00:00", "end": "2026-06-01T10:00:00", "pattern": {"type": "Weekly"}},
            "daysOfWeek",
        ),
        (
            {
                "start": "2026-06-01T09:00:00",
                "end": "2026-06-01T10:00:00",
                "pattern": {"type": "Daily"},
                "timeZone": "Mars/Base",
            },
            "unknown IANA",
        ),
    ],
)
def test_invalid_recurrences(payload: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        validate_recurrence(Reoccurrence.model_validate(payload))


@settings(max_examples=100, deadline=None)
@given(
    tz=st.sampled_from(ZONES),
    first=st.dates(min_value=date(2025, 1, 1), max_value=date(2027, 12, 1)),
    days=st.sets(
        st.sampled_from(["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]),
        min_size=1,
    ),
    every=st.integers(min_value=1, max_value=3),
    hour=st.integers(min_value=0, max_value=22),
)
def test_weekly_recurrence_properties(tz: str, first: date, days: set[str], every: int, hour: int) -> None:
    rec = Reoccurrence.model_validate(
        {
            "start": f"{first.isoformat()}T{hour:02d}:15:00",
            "end": f"{first.isoformat()}T{hour + 1:02d}:00:00",
            "timeZone": tz,
            "pattern": {"type": "Weekly", "interval": every, "daysOfWeek": sorted(days)},
            "range": {"type": "NoEnd"},
        }
    )
    horizon = Interval(
        datetime.combine(first, time(0), tzinfo=UTC) - timedelta(days=1),
        datetime.combine(first, time(0), tzinfo=UTC) + timedelta(days=60),
    )
    out = expand_recurrence(rec, None, horizon)
    zone = ZoneInfo(tz)
    week0 = first - timedelta(days=first.weekday())
    assert out == sorted(out)
    assert all(not a.overlaps(b) for a, b in zip(out, out[1:], strict=False))
    for item in out:
        local = item.start.astimezone(zone)
        assert local.strftime("%A") in days
        assert ((local.date() - week0).days // 7) % every == 0
        assert local.date() >= first
        assert local.minute in (0, 15)  # 15, or the end of a DST gap the start fell into
