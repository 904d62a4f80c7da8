"""Validation of normalised rows: consistency checks and z-score outliers against trailing history.

Flags are data (strings in the row's ``flags`` list, sorted); whether they fail the run is the
``fail_on_flags`` param's business, not this module's.

Outliers: for average handle time, connect rate and abandon rate, ``z = (value - mean) / stdev`` over
the campaign's history days that have the figure's denominator (days without activity are not zeros,
they are missing). Sample standard deviation (n - 1). No z-score (None) when fewer than
``MIN_HISTORY_DAYS`` days qualify, when the history is constant (stdev 0), or when the window itself
has no activity (its zeros are not a measurement).
"""

from __future__ import annotations

import statistics
from collections.abc import Iterable, Mapping
from typing import Any

from genesys_pipelines.campaign_stats.aggregates import MetricSums
from genesys_pipelines.campaign_stats.normalise import day_figures

MIN_HISTORY_DAYS = 7
ZSCORE_DECIMALS = 4

NO_ACTIVITY = "NO_ACTIVITY"
CONNECTED_GT_ATTEMPTED = "CONNECTED_GT_ATTEMPTED"
ABANDONED_GT_CONNECTED = "ABANDONED_GT_CONNECTED"
CONVERSIONS_GT_CONNECTED = "CONVERSIONS_GT_CONNECTED"
NEGATIVE_TIMER = "NEGATIVE_TIMER"
#: z-scored figure → (row column of its z-score, flag when |z| > threshold)
ZSCORED: dict[str, tuple[str, str]] = {
    "avg_handle_time_s": ("avg_handle_time_zscore", "OUTLIER_AVG_HANDLE_TIME"),
    "connect_rate": ("connect_rate_zscore", "OUTLIER_CONNECT_RATE"),
    "abandon_rate": ("abandon_rate_zscore", "OUTLIER_ABANDON_RATE"),
}
TIMER_COLUMNS = ("handle_time_s", "talk_time_s", "hold_time_s", "acw_time_s")


def consistency_flags(row: Mapping[str, Any]) -> list[str]:
    """Flags for counts and timers that cannot all be true at once."""
    flags: list[str] = []
    if row["no_activity"]:
        flags.append(NO_ACTIVITY)
    if row["connected"] > row["attempted"]:
        flags.append(CONNECTED_GT_ATTEMPTED)
    if row["abandoned"] > row["connected"]:
        flags.append(ABANDONED_GT_CONNECTED)
    if row["conversions"] > row["connected"]:
        flags.append(CONVERSIONS_GT_CONNECTED)
    if any(row[col] < 0 for col in TIMER_COLUMNS):
        flags.append(NEGATIVE_TIMER)
    return flags


def zscore(value: float | None, history: Iterable[float]) -> float | None:
    """``(value - mean) / stdev`` of ``history``; None when undefined (see module doc)."""
    points = list(history)
    if value is None or len(points) < MIN_HISTORY_DAYS:
        return None
    stdev = statistics.stdev(points)
    if stdev == 0:
        return None
    return round((value - statistics.fmean(points)) / stdev, ZSCORE_DECIMALS)


def history_series(days: Mapping[str, MetricSums] | None) -> dict[str, list[float]]:
    """Per z-scored figure, its values over the history days that define it (in interval order)."""
    series: dict[str, list[float]] = {name: [] for name in ZSCORED}
    for interval in sorted(days or {}):
        for name, value in day_figures((days or {})[interval]).items():
            if value is not None:
                series[name].append(value)
    return series


def validate_row(
    row: Mapping[str, Any],
    history: Mapping[str, MetricSums] | None,
    threshold: float,
) -> dict[str, Any]:
    """``row`` plus ``history_days``, the three z-scores, ``flags`` (sorted) and ``status``."""
    out = dict(row)
    flags = consistency_flags(row)
    series = history_series(history)
    out["history_days"] = len(history or {})
    for name, (column, flag) in ZSCORED.items():
        value = None if row["no_activity"] else _defined(row, name)
        z = zscore(value, series[name])
        out[column] = z
        if z is not None and abs(z) > threshold:
            flags.append(flag)
    out["flags"] = sorted(flags)
    out["status"] = "flagged" if flags else "ok"
    return out


def _defined(row: Mapping[str, Any], name: str) -> float | None:
    """The window's figure, or None when its denominator is 0 (a 0.0 there is a default, not a value)."""
    denominators = {"avg_handle_time_s": "handled", "connect_rate": "attempted", "abandon_rate": "connected"}
    return float(row[name]) if row[denominators[name]] else None
