"""Hourly answer-rate history: aggregates query bodies, and responses → a full hourly grid.

The history is the §3a aggregates query with ``granularity: PT1H``, an explicit ``timeZone`` and the
two counts ``nOutboundAttempted`` / ``nOutboundConnected``, over the ``history_days`` before the window
end, cut into chunks of at most ``chunk_days`` (the maximum interval per query is not documented:
genesys-api.md §7, so stay well inside it). Hours without data are ABSENT from the response: the grid
puts them back with 0 attempts and an undefined (NaN) rate, never a division by zero.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from genesys_pipelines.models.analytics import (
    ConversationAggregateQueryResponse,
    ConversationAggregationQuery,
)
from genesys_pipelines.outbound_queries import CAMPAIGN_DIM, campaign_filter
from genesys_pipelines.windows import Window

if TYPE_CHECKING:
    import pandas as pd

METRICS: tuple[str, str] = ("nOutboundAttempted", "nOutboundConnected")
HOUR = timedelta(hours=1)

#: Hourly counts of one campaign: UTC hour start → (attempted, connected).
HourlyCounts = dict[datetime, tuple[int, int]]


def history_window(window: Window, history_days: int) -> Window:
    """The ``history_days`` (of 24 h) that end where ``window`` ends: the span the forecast learns from."""
    return Window(window.end - timedelta(days=history_days), window.end, window.tz, window.source)


def chunks(span: Window, chunk_days: int) -> list[Window]:
    """``span`` cut into consecutive pieces of at most ``chunk_days`` (each query stays small)."""
    if chunk_days < 1:
        raise ValueError("chunk_days must be >= 1")
    out, cursor, step = [], span.start, timedelta(days=chunk_days)
    while cursor < span.end:
        nxt = min(cursor + step, span.end)
        out.append(Window(cursor, nxt, span.tz, span.source))
        cursor = nxt
    return out


def hourly_query(campaign_ids: Sequence[str], chunk: Window) -> dict[str, Any]:
    """One chunk's hourly attempted/connected counts per campaign, each counted in the hour its event
    happened (``alternateTimeDimension: eventTime``: attempts at dial, connects at connect)."""
    return ConversationAggregationQuery(
        interval=chunk.interval(),
        granularity="PT1H",
        time_zone=chunk.tz,
        group_by=[CAMPAIGN_DIM],
        filter=campaign_filter(campaign_ids),
        metrics=list(METRICS),
        alternate_time_dimension="eventTime",
    ).to_api()


def history_queries(
    campaign_ids: Sequence[str], window: Window, history_days: int, chunk_days: int = 7
) -> list[dict[str, Any]]:
    """Every query body of the history, oldest chunk first."""
    return [hourly_query(campaign_ids, c) for c in chunks(history_window(window, history_days), chunk_days)]


def _parse_instant(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def hourly_counts(responses: Iterable[Mapping[str, Any]]) -> dict[str, HourlyCounts]:
    """Per campaign id: (attempted, connected) per UTC hour start, summed over every response."""
    out: dict[str, HourlyCounts] = {}
    for payload in responses:
        response = ConversationAggregateQueryResponse.model_validate(payload)
        for result in response.results or []:
            campaign_id = (result.group or {}).get(CAMPAIGN_DIM)
            if not campaign_id:
                continue
            counts = out.setdefault(campaign_id, {})
            for bucket in result.data or []:
                hour = _parse_instant(bucket.interval.split("/")[0])
                values = {m.metric: int(m.stats.count or 0) for m in bucket.metrics or []}
                attempted, connected = counts.get(hour, (0, 0))
                counts[hour] = (
                    attempted + values.get("nOutboundAttempted", 0),
                    connected + values.get("nOutboundConnected", 0),
                )
    return out


def counts_to_records(counts: HourlyCounts) -> list[list[Any]]:
    """JSON-safe form of one campaign's counts (XCom): ``[[iso_hour, attempted, connected], ...]``."""
    return [[hour.isoformat(), a, c] for hour, (a, c) in sorted(counts.items())]


def records_to_counts(records: Iterable[Sequence[Any]]) -> HourlyCounts:
    return {datetime.fromisoformat(str(h)): (int(a), int(c)) for h, a, c in records}


def counts_to_dense(counts: HourlyCounts, span: Window) -> dict[str, Any]:
    """Compact JSON of one campaign's counts over ``span`` (XCom between the API and CPU steps).

    Two int arrays, one slot per hour of the span: a 56-day history is ~1,300 small ints each, not a
    list of ISO strings. Hours outside the span (or off its hour grid) are dropped, exactly as
    :func:`hourly_grid` drops them, so the grid built from either form is the same.
    """
    size = int((span.end - span.start) / HOUR)
    attempted, connected = [0] * size, [0] * size
    for hour, (a, c) in counts.items():
        offset = (hour - span.start) / HOUR
        if offset == int(offset) and 0 <= offset < size:
            attempted[int(offset)] += a
            connected[int(offset)] += c
    return {"start": span.start.isoformat(), "attempted": attempted, "connected": connected}


def dense_to_counts(dense: Mapping[str, Any]) -> HourlyCounts:
    start = datetime.fromisoformat(dense["start"])
    return {
        start + i * HOUR: (int(a), int(c))
        for i, (a, c) in enumerate(zip(dense["attempted"], dense["connected"], strict=True))
        if a or c
    }


def hourly_grid(counts: HourlyCounts, span: Window) -> pd.DataFrame:
    """A full hourly grid over ``span`` (UTC index, end exclusive).

    Columns: ``attempted``, ``connected`` (0 where the API sent nothing), ``rate`` = connected ÷
    attempted (NaN where there were no attempts: undefined, not 0), ``filled`` (True where the rate is
    undefined) and ``rate_filled``: the rate with undefined hours filled from the pooled rate of the
    same hour of day (Σconnected ÷ Σattempted over the history), else the pooled overall rate, so STL
    sees a complete series while the flag keeps the filling visible.
    """
    import numpy as np
    import pandas as pd

    index = pd.date_range(span.start, span.end, freq="h", inclusive="left", tz="UTC", name="hour")
    frame = pd.DataFrame(0, index=index, columns=["attempted", "connected"], dtype="int64")
    for hour, (attempted, connected) in counts.items():
        stamp = pd.Timestamp(hour).tz_convert("UTC")
        if stamp in frame.index:
            frame.loc[stamp, "attempted"] += attempted
            frame.loc[stamp, "connected"] += connected
    attempted = frame["attempted"].to_numpy(dtype=float)
    connected = frame["connected"].to_numpy(dtype=float)
    has = attempted > 0
    rate = np.full(len(frame), np.nan)
    rate[has] = np.clip(connected[has] / attempted[has], 0.0, 1.0)
    frame["rate"] = rate
    frame["filled"] = ~has

    hour_of_day = frame.index.hour.to_numpy()
    by_hour_att = np.bincount(hour_of_day, weights=attempted, minlength=24)
    by_hour_con = np.bincount(hour_of_day, weights=connected, minlength=24)
    total_att = attempted.sum()
    overall = float(connected.sum() / total_att) if total_att else np.nan
    profile = np.where(by_hour_att > 0, by_hour_con / np.where(by_hour_att > 0, by_hour_att, 1), overall)
    frame["rate_filled"] = np.where(has, rate, np.clip(profile[hour_of_day], 0.0, 1.0))
    return frame


def usable_hours(grid: pd.DataFrame) -> int:
    """Hours with at least one attempt (the ones that carry information)."""
    return int((grid["attempted"] > 0).sum())
