"""Schedule interval strings are wall-clock time in the schedule's timeZone (issue 17, finding 1).

On old main the pipeline wrote UTC instants (``13:00Z``) next to ``timeZone: America/New_York`` and read
``09:00Z`` as UTC: a 09:00-18:00 New York window dialled 13:00-22:00 New York time. Every test here
fails on that reading.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time

import pytest

from genesys_pipelines.schedule_provisioning.intervals import (
    Interval,
    WallClockError,
    expand_daily_window,
    schedule_wall_clock,
    to_schedule_wall_clock,
)
from genesys_pipelines.schedule_provisioning.planning import (
    MalformedSchedule,
    check_read,
    current_intervals,
    dropped_windows,
    plan_change,
)
from genesys_pipelines.schedule_provisioning.requests import ScheduleRequest


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


@pytest.mark.parametrize(("zone", "wall", "instant"), [
    # summer and winter in each zone: the offset follows the date
    ("America/New_York", "2026-06-12T09:00:00.000", utc(2026, 6, 12, 13)),
    ("America/New_York", "2026-01-12T09:00:00.000", utc(2026, 1, 12, 14)),
    ("Europe/Berlin", "2026-06-12T09:00:00.000", utc(2026, 6, 12, 7)),
    ("Europe/Berlin", "2026-01-12T09:00:00.000", utc(2026, 1, 12, 8)),
    ("Australia/Sydney", "2026-06-12T09:00:00.000", utc(2026, 6, 11, 23)),
    ("Australia/Sydney", "2026-01-12T09:00:00.000", utc(2026, 1, 11, 22)),
])
def test_interval_strings_are_wall_clock_in_the_schedule_zone(zone: str, wall: str, instant: datetime) -> None:
    assert to_schedule_wall_clock(instant, zone) == wall
    for suffix in ("", "Z", "+00:00", "-05:00"):  # whatever suffix the string carries
        assert schedule_wall_clock(wall + suffix, zone) == instant


@pytest.mark.parametrize(("zone", "gap"), [
    ("America/New_York", "2026-03-08T02:30:00.000Z"),   # spring forward 02:00 -> 03:00
    ("Europe/Berlin", "2026-03-29T02:30:00.000Z"),      # 02:00 -> 03:00
    ("Australia/Sydney", "2026-10-04T02:30:00.000Z"),   # 02:00 -> 03:00
])
def test_a_time_in_the_spring_forward_gap_is_refused_by_name(zone: str, gap: str) -> None:
    with pytest.raises(WallClockError, match=f"does not exist in {zone}"):
        schedule_wall_clock(gap, zone)
    with pytest.raises(MalformedSchedule, match="intervals\\[0\\]"):
        check_read({"version": 1, "timeZone": zone, "intervals": [{"start": gap, "end": gap[:11] + "05:00:00.000Z"}]})


@pytest.mark.parametrize(("zone", "fold", "first", "second"), [
    ("America/New_York", "2026-11-01T01:30:00.000", utc(2026, 11, 1, 5, 30), utc(2026, 11, 1, 6, 30)),
    ("Europe/Berlin", "2026-10-25T02:30:00.000", utc(2026, 10, 25, 0, 30), utc(2026, 10, 25, 1, 30)),
    ("Australia/Sydney", "2026-04-05T02:30:00.000", utc(2026, 4, 4, 15, 30), utc(2026, 4, 4, 16, 30)),
])
def test_fall_back_fold_is_the_first_occurrence_and_the_second_cannot_be_written(
        zone: str, fold: str, first: datetime, second: datetime) -> None:
    assert schedule_wall_clock(fold + "Z", zone) == first
    assert to_schedule_wall_clock(first, zone) == fold
    with pytest.raises(WallClockError, match="second"):
        to_schedule_wall_clock(second, zone)


def test_a_delivery_window_starting_in_the_gap_is_refused_by_name() -> None:
    with pytest.raises(WallClockError, match="2026-03-08 02:30:00, which does not exist in America/New_York"):
        expand_daily_window(time(2, 30), time(6), "America/New_York", date(2026, 3, 7), date(2026, 3, 9))


def test_a_new_york_window_is_written_as_new_york_wall_clock() -> None:
    request = ScheduleRequest.model_validate({
        "campaign_id": "c1", "time_zone": "America/New_York",
        "intervals": [{"start": "2026-06-12T09:00:00-04:00", "end": "2026-06-12T18:00:00-04:00"}]})
    plan = plan_change(request, None)
    assert plan.after["timeZone"] == "America/New_York"
    assert plan.after["intervals"] == [{"start": "2026-06-12T09:00:00.000", "end": "2026-06-12T18:00:00.000"}]
    # audit and overlap work on true instants
    assert plan.added == [{"start": "2026-06-12T13:00:00.000Z", "end": "2026-06-12T22:00:00.000Z"}]


def test_a_read_new_york_schedule_is_compared_on_instants() -> None:
    current = {"version": 2, "timeZone": "America/New_York", "name": "s",
               "intervals": [{"start": "2026-06-12T09:00:00.000Z", "end": "2026-06-12T18:00:00.000Z"}]}
    assert current_intervals(current) == [Interval(utc(2026, 6, 12, 13), utc(2026, 6, 12, 22))]
    same = ScheduleRequest.model_validate({
        "campaign_id": "c1", "intervals": [{"start": "2026-06-12T13:00:00Z", "end": "2026-06-12T22:00:00Z"}]})
    assert plan_change(same, current).action == "noop"


def test_a_time_zone_change_in_merge_mode_keeps_the_existing_instants() -> None:
    current = {"version": 4, "timeZone": "UTC", "name": "s",
               "intervals": [{"start": "2026-06-12T13:00:00.000Z", "end": "2026-06-12T17:00:00.000Z"}]}
    request = ScheduleRequest.model_validate({
        "campaign_id": "c1", "time_zone": "Europe/Berlin",
        "intervals": [{"start": "2026-06-13T09:00:00+02:00", "end": "2026-06-13T12:00:00+02:00"}]})
    plan = plan_change(request, current)
    assert plan.after["timeZone"] == "Europe/Berlin"
    # the existing 13:00-17:00 UTC window is re-expressed as 15:00-19:00 Berlin wall clock: same instants
    assert plan.after["intervals"][0] == {"start": "2026-06-12T15:00:00.000", "end": "2026-06-12T19:00:00.000"}
    assert plan.removed == [] and dropped_windows(current, plan.after) == []


@pytest.mark.parametrize(("body", "why"), [
    ({"version": 3, "timeZone": "UTC"}, "intervals is missing"),
    ({"version": 3, "intervals": None}, "intervals is None"),
    ({"version": 3, "intervals": []}, "intervals is empty"),
    ({"intervals": [{"start": "2026-06-12T09:00:00Z", "end": "2026-06-12T10:00:00Z"}]}, "version is None"),
    ({"version": -1, "intervals": [{"start": "2026-06-12T09:00:00Z", "end": "2026-06-12T10:00:00Z"}]},
     "version is -1"),
    ({"version": 3, "intervals": [{"start": "2026-06-12T09:00:00Z", "end": "2026-06-12T09:00:00Z"}]}, "must be after"),
    ({"version": 3, "intervals": [{"start": "2026-06-12T09:00:00Z"}]}, "intervals\\[0\\]"),
    ({"version": 3, "intervals": ["x"]}, "intervals\\[0\\]"),
    ({"version": 3, "intervals": [{"start": "2026-06-12T09:00:00Z", "end": "2026-06-12T10:00:00Z"}],
      "timeZone": "Mars/Olympus"}, "timeZone"),
    ([], "expected a CampaignSchedule"),
])
def test_a_read_lacking_what_a_write_depends_on_is_a_payload_error(body: object, why: str) -> None:
    with pytest.raises(MalformedSchedule, match=why):
        check_read(body)


def test_dropped_windows_names_lost_and_shortened_parts() -> None:
    before = {"timeZone": "UTC", "intervals": [{"start": "2026-06-12T09:00:00Z", "end": "2026-06-12T12:00:00Z"},
                                                {"start": "2026-06-13T09:00:00Z", "end": "2026-06-13T12:00:00Z"}]}
    after = {"timeZone": "UTC", "intervals": [{"start": "2026-06-12T08:00:00Z", "end": "2026-06-12T11:00:00Z"}]}
    assert dropped_windows(before, after) == [
        {"start": "2026-06-12T11:00:00.000Z", "end": "2026-06-12T12:00:00.000Z"},
        {"start": "2026-06-13T09:00:00.000Z", "end": "2026-06-13T12:00:00.000Z"}]
    assert dropped_windows(before, before) == []
