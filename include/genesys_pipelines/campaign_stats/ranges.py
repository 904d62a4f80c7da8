"""Multi-day runs of campaign statistics that publish day partitions (``publish_days``, issue 20).

A manual run (or a backfill) over several whole reporting days reads each batch of campaigns ONCE per
range instead of once per day: the window totals and the wrap-up counts with ``granularity: P1D`` (one
bucket per reporting day, stepped in the run's time zone, the very buckets a day query answers for its one
day), and the trailing history of every day in one ``P1D`` query. Each day's answer is then cut out of the
range's (:func:`restrict`: the buckets that start in the day, exactly what a day query returns) and goes
through the day run's code (normalise, validate, output, manifest), so each day partition is the day run's,
byte for byte. Three queries per batch for the range instead of three per batch and day.

A range longer than :data:`CHUNK_DAYS` reporting days is read in several sets of queries, so no interval
(history included) passes the aggregates query's interval limit (``models.limits.AGGREGATES_QUERY_DAYS``).
Which days a range run publishes is shared with the report: ``genesys_pipelines.day_ranges``.

Pure of Airflow.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from typing import Any

from genesys_pipelines.campaign_stats import aggregates, queries
from genesys_pipelines.models.analytics import ConversationAggregateQueryResponse
from genesys_pipelines.models.limits import AGGREGATES_QUERY_DAYS
from genesys_pipelines.windows import Window, parse_instant

#: Reporting days read by one set of range queries: with the trailing history (and a DST hour) the
#: history query's interval stays within the aggregates query's interval limit.
CHUNK_DAYS = AGGREGATES_QUERY_DAYS.default_days - queries.HISTORY_DAYS - 2


def chunks(days: Sequence[Window], size: int = CHUNK_DAYS) -> list[list[Window]]:
    return [list(days[i:i + size]) for i in range(0, len(days), size)]


def restrict(payload: Mapping[str, Any] | ConversationAggregateQueryResponse, start: Any,
             end: Any) -> ConversationAggregateQueryResponse:
    """The response a query over ``[start, end)`` gives, cut out of a ``P1D`` response over a longer span:
    only the buckets that start in it, and only the groups that keep a bucket (the API omits groups and
    buckets without data)."""
    response = aggregates._response(payload)
    results = []
    for result in response.results or []:
        data = [b for b in result.data or [] if start <= parse_instant(b.interval.split("/")[0]) < end]
        if data:
            results.append(result.model_copy(update={"data": data}))
    return ConversationAggregateQueryResponse(results=results)


def query_batch_days(api: Any, campaigns: Sequence[Mapping[str, Any]], days: Sequence[Window],
                     history_days: int = queries.HISTORY_DAYS) -> list[dict[str, Any]]:
    """Per reporting day of a range run, what ``steps.query_batch`` returns for that day alone, from three
    aggregates queries per :data:`CHUNK_DAYS` days (not three per day)."""
    ids = [str(c["id"]) for c in campaigns]
    out: list[dict[str, Any]] = []
    for chunk in chunks(days):
        started = time.monotonic()
        span = Window(chunk[0].start, chunk[-1].end, chunk[0].tz)
        history_span = Window(queries.history_window(chunk[0], history_days).start, chunk[-1].start, chunk[0].tz)
        totals = api.aggregates_query(queries.window_totals_query(ids, span, granularity="P1D"))
        wrapups = api.aggregates_query(queries.wrapup_query(ids, span, granularity="P1D"))
        history = api.aggregates_query(queries.history_query(ids, span, history_days, over=history_span))
        latency = round((time.monotonic() - started) * 1000)
        for day in chunk:
            trailing = queries.history_window(day, history_days)
            out.append({
                "campaigns": [dict(c) for c in campaigns],
                "window_sums": aggregates.window_sums(restrict(totals, day.start, day.end)),
                "wrapup_counts": aggregates.wrapup_counts(restrict(wrapups, day.start, day.end)),
                "history": aggregates.daily_sums(restrict(history, trailing.start, trailing.end)),
                "latency_ms": latency,
            })
    return out
