"""Conversation aggregates: bucketing the per-day aggregate cubes into the query's groups and intervals.

Each metric counts in the 15-minute bucket of its emit time (``emitDate`` in the details): timers when
what they measure completes, counts when their event happens (docs/sandbox-semantics.md), so a day's
cube reaches into the next day and a query reads the cubes of the days before its interval too.
``alternateTimeDimension: eventTime`` (the time of the data event) is that same attribution; ``granularity`` buckets are anchored
at the interval start and stepped in ``timeZone`` (``genesys-api.md`` §3a).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from genesys_pipelines.models.analytics import (
    AGGREGATE_DIMENSIONS,
    AGGREGATE_METRICS,
    ConversationAggregationQuery,
)
from genesys_sandbox.analytics_filters import check_dimension_value, row_codes, row_mask
from genesys_sandbox.analytics_time import boundaries, days_between, iso_utc, parse_interval, parse_time_zone
from genesys_sandbox.errors import ApiError
from genesys_sandbox.synth import AGG_METRICS, BUCKET_MS, MAX_CONVERSATION_MS, Synth, day_start_ms

CUBE_DIMENSIONS = {
    "outboundCampaignId", "outboundContactListId", "queueId", "mediaType", "wrapUpCode", "direction",
    "originatingDirection", "divisionId",
}



def check_aggregation_query(query: ConversationAggregationQuery) -> None:
    """Refuse what the API refuses (400): metric names, groupBy and filter dimensions and enum values
    outside the SDK's lists. A listed metric the generator does not model is simply absent (no data)."""
    unknown = [m for m in query.metrics if m not in AGGREGATE_METRICS]
    if unknown:
        raise ApiError(400, f"Invalid metric(s) {', '.join(map(repr, unknown))}", fields=["metrics"])
    for dimension in query.group_by or []:
        if dimension not in AGGREGATE_DIMENSIONS:
            raise ApiError(400, f"Invalid groupBy dimension {dimension!r}", fields=["groupBy"])
    flt = query.filter
    predicates = list(flt.predicates or []) if flt else []
    for clause in (flt.clauses or []) if flt else []:
        predicates += clause.predicates
    for pred in predicates:
        if (pred.type or "dimension") == "dimension" and not pred.metric:
            if (pred.dimension or "") not in AGGREGATE_DIMENSIONS:
                raise ApiError(400, f"Invalid dimension {pred.dimension!r} in filter", fields=["filter.dimension"])
            check_dimension_value(pred.dimension or "", pred.value, "filter")


def compute_aggregates(synth: Synth, query: ConversationAggregationQuery, now: int) -> list[dict[str, Any]]:
    start, end = parse_interval(query.interval)
    zone = parse_time_zone(query.time_zone)
    edges = boundaries(start, end, query.granularity, zone)
    group_by = query.group_by or []
    check_aggregation_query(query)
    for dimension in group_by:
        if dimension not in CUBE_DIMENSIONS:
            raise ApiError(400, f"groupBy {dimension!r} is not supported by the sandbox", fields=["groupBy"])
    metrics = [m for m in query.metrics if m in AGG_METRICS]
    frames: list[tuple[dict[str, np.ndarray], dict[str, Any], np.ndarray]] = []
    for day in days_between(max(0, start - MAX_CONVERSATION_MS), end):
        if day_start_ms(day) >= now:
            break
        cube = synth.day_cube(day, now)
        keys = cube["keys"]
        times = day_start_ms(day) + keys["bucket"] * BUCKET_MS
        keep = (times >= start) & (times < end) & row_mask(synth, keys, query.filter)
        if keep.any():
            frames.append(({k: v[keep] for k, v in keys.items()}, {m: tuple(a[keep] for a in cube["metrics"][m]) for m in metrics if m in cube["metrics"]}, times[keep]))
    if not frames:
        return []
    keys = {k: np.concatenate([f[0][k] for f in frames]) for k in frames[0][0]}
    times = np.concatenate([f[2] for f in frames])
    slot = np.searchsorted(edges, times, side="right") - 1
    group_codes = [row_codes(synth, keys, d) for d in group_by]
    stacked = np.stack([c[0] for c in group_codes] + [slot], axis=1) if group_codes else slot[:, None]
    uniq, inverse = np.unique(stacked, axis=0, return_inverse=True)
    inverse = inverse.ravel()
    size = len(uniq)
    stats: dict[str, tuple[np.ndarray, ...]] = {}
    for metric in metrics:
        pieces = [f[1].get(metric) for f in frames]
        if all(p is None for p in pieces):
            continue
        cols = [np.concatenate([p[k] if p is not None else np.zeros(len(f[2]), np.int64 if k != 1 else float) for p, f in zip(pieces, frames, strict=True)]) for k in range(4)]
        count, total, vmin, vmax = cols
        present = count > 0
        inv = inverse[present]
        agg_count = np.bincount(inv, weights=count[present], minlength=size).astype(np.int64)
        agg_sum = np.bincount(inv, weights=total[present], minlength=size)
        agg_min = np.full(size, np.iinfo(np.int64).max)
        agg_max = np.full(size, -1, np.int64)
        np.minimum.at(agg_min, inv, vmin[present])
        np.maximum.at(agg_max, inv, vmax[present])
        stats[metric] = (agg_count, agg_sum, agg_min, agg_max)
    results: dict[tuple[int, ...], dict[str, Any]] = {}
    for row, key in enumerate(uniq.tolist()):
        metric_data = []
        for metric in metrics:
            if metric not in stats or stats[metric][0][row] == 0:
                continue
            count, total, vmin, vmax = (s[row] for s in stats[metric])
            if metric.startswith("n"):
                metric_data.append({"metric": metric, "stats": {"count": int(count)}})
            else:
                metric_data.append({"metric": metric, "stats": {"max": float(vmax), "min": float(vmin), "count": int(count), "sum": float(total)}})
        if not metric_data:
            continue
        group_key = tuple(key[:-1])
        entry = results.get(group_key)
        if entry is None:
            group = {d: codes[1][code] for d, codes, code in zip(group_by, group_codes, key[:-1], strict=True) if code >= 0}
            entry = results[group_key] = {"group": group, "data": []} if group else {"data": []}
        slot_index = key[-1]
        entry["data"].append({"interval": f"{iso_utc(int(edges[slot_index]))}/{iso_utc(int(edges[slot_index + 1]))}", "metrics": metric_data})
    return list(results.values())
