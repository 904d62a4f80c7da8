"""Which reporting days a multi-day run publishes (``publish_days``): one shared rule for every pipeline."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from genesys_pipelines.day_ranges import is_range_run, range_days, run_days
from genesys_pipelines.errors import InvalidParam
from genesys_pipelines.windows import Window

RANGE = Window(datetime(2026, 6, 7, tzinfo=UTC), datetime(2026, 6, 10, tzinfo=UTC), "UTC")
BERLIN = Window(datetime(2026, 3, 27, 23, tzinfo=UTC), datetime(2026, 3, 30, 22, tzinfo=UTC), "Europe/Berlin")


def test_a_range_run_publishes_each_whole_reporting_day() -> None:
    assert [d.day() for d in run_days(True, RANGE)] == [date(2026, 6, 7), date(2026, 6, 8), date(2026, 6, 9)]
    # Local days, DST included: 2026-03-29 is a 23-hour day in Berlin.
    days = run_days(True, BERLIN)
    assert [d.day() for d in days] == [date(2026, 3, 28), date(2026, 3, 29), date(2026, 3, 30)]
    assert [(d.end - d.start).total_seconds() / 3600 for d in days] == [24, 23, 24]


def test_other_runs_publish_one_partition_for_their_window() -> None:
    one_day = Window(datetime(2026, 6, 7, tzinfo=UTC), datetime(2026, 6, 8, tzinfo=UTC), "UTC")
    assert run_days(False, RANGE) == [] and run_days(True, one_day) == []
    assert is_range_run(True, RANGE) and not is_range_run(False, RANGE) and not is_range_run(True, one_day)


def test_a_partial_first_or_last_day_is_refused_by_the_params_name() -> None:
    partial = Window(datetime(2026, 6, 7, 12, tzinfo=UTC), datetime(2026, 6, 9, tzinfo=UTC), "UTC")
    with pytest.raises(InvalidParam, match="publish_days"):
        range_days(partial)
    with pytest.raises(InvalidParam, match="publish_days"):
        run_days(True, partial)
    assert run_days(False, partial) == []  # one partition for the window: no day cut, nothing to refuse
