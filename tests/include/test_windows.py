"""The one window helper: scheduled, manual, backfill and asset-triggered runs, DST days, validation."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from genesys_pipelines.windows import Window, WindowError, resolve_window, window_from_asset_extra


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def test_scheduled_cron_run_covers_the_previous_utc_day() -> None:
    # CronTriggerTimetable: logical_date == run_after == the cron tick (02:00 UTC), no data interval.
    w = resolve_window(logical_date=utc(2026, 6, 11, 2), run_after=utc(2026, 6, 11, 2))
    assert (w.start, w.end, w.source) == (utc(2026, 6, 10), utc(2026, 6, 11), "logical_date")
    assert w.interval() == "2026-06-10T00:00:00.000Z/2026-06-11T00:00:00.000Z"
    assert w.partition() == "date=2026-06-10"


def test_manual_run_without_logical_date_uses_run_after() -> None:
    w = resolve_window(logical_date=None, run_after=utc(2026, 6, 11, 14, 30))
    assert (w.start, w.end, w.source) == (utc(2026, 6, 10), utc(2026, 6, 11), "run_after")


def test_backfill_runs_get_one_distinct_day_each() -> None:
    days = [utc(2026, 5, d, 2) for d in range(1, 31)]
    windows = [resolve_window(logical_date=d, run_after=utc(2026, 6, 1)) for d in days]
    partitions = [w.partition() for w in windows]
    assert len(set(partitions)) == 30
    assert partitions[0] == "date=2026-04-30" and partitions[-1] == "date=2026-05-29"
    for a, b in zip(windows, windows[1:], strict=False):
        assert a.end == b.start


def test_explicit_params_win_and_dates_are_local_midnights() -> None:
    w = resolve_window(start="2026-06-01", end="2026-06-04", logical_date=utc(2026, 6, 11), tz="Europe/Paris",
                       run_after=utc(2026, 6, 11))
    assert w.start == utc(2026, 5, 31, 22) and w.end == utc(2026, 6, 3, 22)
    assert w.source == "params"
    assert w.partition() == "interval=20260531T220000Z_20260603T220000Z"
    assert [d.partition() for d in w.days()] == ["date=2026-06-01", "date=2026-06-02", "date=2026-06-03"]


def test_explicit_datetimes_with_offsets() -> None:
    w = resolve_window(start="2026-06-01T08:00:00Z", end="2026-06-01T12:00:00+00:00", run_after=utc(2026, 6, 2))
    assert (w.start, w.end) == (utc(2026, 6, 1, 8), utc(2026, 6, 1, 12))
    assert not w.is_single_day()


@pytest.mark.parametrize(
    ("kwargs", "param"),
    [
        ({"start": "2026-06-05", "end": "2026-06-04"}, "end"),
        ({"start": "2026-06-05", "end": "2026-06-05"}, "end"),
        ({"start": "2026-06-05"}, "end"),
        ({"end": "2026-06-05"}, "start"),
        ({"start": "yesterday", "end": "2026-06-05"}, "start"),
        ({"start": "2026-06-01", "end": "2026-06-20"}, "end"),  # after run_after
        ({"start": "2026-06-01", "end": "2026-06-02", "tz": "Mars/Olympus"}, "timezone"),
        ({"start": "2020-01-01", "end": "2026-06-02"}, "end"),  # too long
    ],
)
def test_invalid_windows_name_the_param(kwargs: dict, param: str) -> None:
    with pytest.raises(WindowError) as err:
        resolve_window(run_after=utc(2026, 6, 11), **kwargs)
    assert err.value.param == param
    assert str(err.value).startswith(f"{param}:")


def test_validation_uses_run_after_not_the_wall_clock() -> None:
    # A window in 2026-06 is "in the future" for a run allowed to start on 2026-06-05 whatever today is.
    with pytest.raises(WindowError):
        resolve_window(start="2026-06-05", end="2026-06-06", run_after=utc(2026, 6, 5, 12))
    assert resolve_window(start="2026-06-05", end="2026-06-06", run_after=utc(2026, 6, 6)).end == utc(2026, 6, 6)


def test_dst_spring_forward_day_is_23_hours_and_fall_back_25() -> None:
    spring = resolve_window(logical_date=utc(2026, 3, 30, 6), tz="Europe/Berlin")
    assert spring.partition() == "date=2026-03-29"
    assert spring.end - spring.start == timedelta(hours=23)
    fall = resolve_window(logical_date=utc(2026, 10, 26, 6), tz="Europe/Berlin")
    assert fall.partition() == "date=2026-10-25"
    assert fall.end - fall.start == timedelta(hours=25)
    assert fall.is_single_day()


def test_asset_event_window_is_used_and_round_trips() -> None:
    upstream = resolve_window(logical_date=utc(2026, 6, 11, 3))
    got = window_from_asset_extra({"window": upstream.to_dict()})
    assert got is not None
    w = resolve_window(asset_window=got, logical_date=None, run_after=utc(2026, 6, 11, 4))
    assert (w.start, w.end, w.source) == (upstream.start, upstream.end, "asset_event")
    assert window_from_asset_extra({}) is None and window_from_asset_extra({"other": 1}) is None


def test_shifted_back_gives_trailing_history() -> None:
    w = resolve_window(logical_date=utc(2026, 6, 11, 3))
    hist = w.shifted_back(28)
    assert hist.end == w.start and hist.start == utc(2026, 5, 13)


def test_from_dict_rejects_garbage() -> None:
    with pytest.raises(WindowError):
        Window.from_dict({"start": "nope", "end": "2026-01-01T00:00:00+00:00"})
    with pytest.raises(WindowError):
        Window.from_dict({"start": "2026-01-01T00:00:00+00:00"})


@given(
    day=st.dates(min_value=datetime(2000, 1, 2).date(), max_value=datetime(2099, 12, 30).date()),
    hour=st.integers(0, 23),
    tz=st.sampled_from(["UTC", "Europe/Berlin", "America/New_York", "Australia/Sydney", "Asia/Kolkata"]),
)
def test_property_reporting_day_contains_nothing_after_the_run(day, hour, tz) -> None:
    logical = datetime(day.year, day.month, day.day, hour, tzinfo=UTC)
    w = resolve_window(logical_date=logical, run_after=logical, tz=tz)
    assert w.is_single_day()
    assert w.end <= logical
    assert timedelta(hours=22) <= w.end - w.start <= timedelta(hours=26)
    assert Window.from_dict(w.to_dict()) == Window(w.start, w.end, w.tz, w.source)


def test_every_pipeline_param_error_is_an_invalid_param_naming_its_param() -> None:
    """The DAGs fail fast on InvalidParam (genesys_cloud.context.validated_run): every pipeline's param
    error and the window error must be one, and carry the param's name."""
    from datetime import UTC, datetime

    from genesys_pipelines.campaign_stats.params import parse_params as stats
    from genesys_pipelines.conversation_report.params import validate_params as report
    from genesys_pipelines.errors import InvalidParam
    from genesys_pipelines.pacing_forecast.params import parse_params as pacing
    from genesys_pipelines.reporting_export.params import validate_params as export
    from genesys_pipelines.schedule_provisioning.params import resolve_requests

    now = datetime(2026, 6, 11, tzinfo=UTC)
    calls = [
        lambda: stats({"campaign_ids": ["bad"]}), lambda: report({"mode": "bad"}), lambda: pacing({"apply": "x"}),
        lambda: export({"exports": [{"view_type": "NOPE"}]}), lambda: resolve_requests({"mode": "manual"}, None, now),
        lambda: (_ for _ in ()).throw(WindowError("end", "bad")),
    ]
    cases = []
    for call in calls:
        with pytest.raises(InvalidParam) as info:
            call()
        cases.append(info.value)
    assert [e.param for e in cases] == [
        "campaign_ids", "mode", "apply", "exports[0].view_type", "params.campaign_id", "end",
    ]
    assert str(InvalidParam("campaign_ids", "bad")) == "campaign_ids: bad"
    assert InvalidParam("desired_schedules_path (x.yaml): missing").param == "params"


def test_dag_default_args_back_off_exponentially() -> None:
    from _common import default_args

    args = default_args()
    assert args["retries"] >= 2 and args["owner"] == "data-platform"
    # Airflow 3.3 uses the value as the multiplier: True (== 1) would mean no backoff at all.
    assert args["retry_exponential_backoff"] == 2.0 and args["max_retry_delay"].total_seconds() == 1800


# Issue 16: zones whose DST change is at midnight: the spring-forward day has no 00:00 (it starts at 01:00).
MIDNIGHT_DST_DAYS = [
    ("America/Santiago", "2026-09-06"),  # 00:00 -> 01:00 (first Sunday of September)
    ("Asia/Beirut", "2026-03-29"),       # 00:00 -> 01:00 (last Sunday of March)
    ("America/Havana", "2026-03-08"),    # 00:00 -> 01:00 (second Sunday of March)
    ("Africa/Cairo", "2026-04-24"),      # 00:00 -> 01:00 (last Friday of April)
]


@pytest.mark.parametrize(("tz", "day"), MIDNIGHT_DST_DAYS)
def test_a_day_without_midnight_is_still_a_date_partition(tz: str, day: str) -> None:
    from datetime import date

    from genesys_pipelines.windows import day_start, reporting_day_before

    d = date.fromisoformat(day)
    start = day_start(d, ZoneInfo(tz))
    assert start.hour == 1 and start.minute == 0  # midnight does not exist that day
    # the reporting day of the run at the next day's 06:00 local, and the days either side
    for offset in (-1, 0, 1):
        target = d + timedelta(days=offset)
        run = datetime.combine(target + timedelta(days=1), datetime.min.time(), ZoneInfo(tz)).replace(hour=6)
        window = reporting_day_before(run, tz, "logical_date")
        assert window.is_single_day() and window.partition() == f"date={target.isoformat()}"
        assert window.day() == target
    window = reporting_day_before(datetime.combine(d + timedelta(days=1), datetime.min.time(),
                                                   ZoneInfo(tz)).replace(hour=6), tz, "logical_date")
    assert (window.end - window.start).total_seconds() == 23 * 3600
    assert window.shifted_back(1).partition() == f"date={(d - timedelta(days=1)).isoformat()}"
