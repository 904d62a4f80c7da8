"""The reporting days a multi-day run publishes one partition each for (``publish_days``, issue 20).

Shared by every pipeline with range runs (the conversation report, campaign statistics): a manual run or
a backfill over several whole reporting days reads the range once and publishes the partitions the
day-by-day runs publish. How each pipeline reads a range is its own (``conversation_report.ranges``,
``campaign_stats.ranges``); which days it publishes is decided here, once.

Pure of Airflow.
"""

from __future__ import annotations

from genesys_pipelines.errors import InvalidParam
from genesys_pipelines.windows import Window


def range_days(window: Window) -> list[Window]:
    """The reporting days of a range run (whole local days only: a partial first or last day would
    publish a partition no day run publishes)."""
    days = list(window.days())
    partial = [d for d in days if not d.is_single_day()]
    if partial:
        raise InvalidParam("publish_days", f"the window must be whole reporting days in {window.tz}; "
                                           f"{partial[0].interval()} is not")
    return days


def is_range_run(publish_days: bool, window: Window) -> bool:
    """A run that publishes day partitions: ``publish_days`` on and a window longer than one day."""
    return bool(publish_days) and not window.is_single_day()


def run_days(publish_days: bool, window: Window) -> list[Window]:
    """The reporting days a run publishes one partition each for (whole local days only, else
    InvalidParam naming ``publish_days``); [] for a run that publishes one partition for its window."""
    return range_days(window) if is_range_run(publish_days, window) else []
