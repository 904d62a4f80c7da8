"""Range runs of campaign statistics, pure parts: a day's answer cut out of a P1D range answer is the day
query's, and the day run's query bodies are unchanged."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from genesys_pipelines.campaign_stats import aggregates, queries, ranges
from genesys_pipelines.windows import Window

DAY1, DAY2 = "2026-06-08T00:00:00.000Z/2026-06-09T00:00:00.000Z", "2026-06-09T00:00:00.000Z/2026-06-10T00:00:00.000Z"


def bucket(interval: str, attempted: int) -> dict[str, Any]:
    return {"interval": interval, "metrics": [{"metric": "nOutboundAttempted", "stats": {"count": attempted}}]}


def test_a_day_is_cut_out_of_the_range_answer_as_its_own_query_answers_it() -> None:
    answer = {"results": [{"group": {"outboundCampaignId": "a"}, "data": [bucket(DAY1, 3), bucket(DAY2, 5)]},
                          {"group": {"outboundCampaignId": "b"}, "data": [bucket(DAY2, 7)]}]}
    start, end = datetime(2026, 6, 8, tzinfo=UTC), datetime(2026, 6, 9, tzinfo=UTC)
    day = ranges.restrict(answer, start, end)
    assert aggregates.window_sums(day) == {"a": {"nOutboundAttempted": 3.0}}  # "b": no bucket, no group
    assert aggregates.daily_sums(ranges.restrict(answer, end, datetime(2026, 6, 10, tzinfo=UTC))) == {
        "a": {DAY2: {"nOutboundAttempted": 5.0}}, "b": {DAY2: {"nOutboundAttempted": 7.0}}}


def test_the_day_run_bodies_have_no_granularity_and_the_range_bodies_ask_per_day_buckets() -> None:
    window = Window(datetime(2026, 6, 8, tzinfo=UTC), datetime(2026, 6, 9, tzinfo=UTC))
    assert "granularity" not in queries.window_totals_query(["a"], window)
    assert "granularity" not in queries.wrapup_query(["a"], window)
    assert queries.window_totals_query(["a"], window, granularity="P1D")["granularity"] == "P1D"
    span = Window(datetime(2026, 5, 1, tzinfo=UTC), datetime(2026, 6, 8, tzinfo=UTC))
    assert queries.history_query(["a"], window, over=span)["interval"] == span.interval()
    assert queries.history_query(["a"], window) == queries.history_query(["a"], window, over=None)
