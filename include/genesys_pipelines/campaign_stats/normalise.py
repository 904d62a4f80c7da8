"""Turn per-campaign metric sums into one normalised row per campaign and window.

Units: timers arrive in milliseconds and leave in seconds; ratios are fractions in [0, 1]:

* connect rate    = connected ÷ attempted
* abandon rate    = abandoned ÷ connected (the dialer's compliance definition: abandoned calls are
  connected calls that found no agent, so the denominator is connected, not attempted)
* conversion rate = conversions ÷ connected

Null-safe: a ratio or average whose denominator is 0 is 0.0 (never NaN, never an error); a campaign with
no outbound activity at all gets all zeros and ``no_activity = True`` (the validator flags it).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from genesys_pipelines.campaign_stats.aggregates import MetricSums, is_success
from genesys_pipelines.windows import Window

SECONDS_DECIMALS = 3  # millisecond precision, as the API measures
RATE_DECIMALS = 6


def ratio(numerator: float, denominator: float) -> float:
    """``numerator / denominator`` rounded, 0.0 when the denominator is 0."""
    return round(numerator / denominator, RATE_DECIMALS) if denominator else 0.0


def seconds(ms: float) -> float:
    return round(ms / 1000.0, SECONDS_DECIMALS)


def average_seconds(sums: Mapping[str, float], timer: str) -> float:
    """Mean of a timer metric in seconds (Σ sum ÷ Σ count ÷ 1000), 0.0 without observations."""
    count = sums.get(f"{timer}.count", 0.0)
    return round(sums.get(f"{timer}.sum", 0.0) / count / 1000.0, SECONDS_DECIMALS) if count else 0.0


def day_figures(sums: Mapping[str, float]) -> dict[str, float | None]:
    """The three z-scored figures of one day (None where the day has no denominator)."""
    attempted = sums.get("nOutboundAttempted", 0.0)
    connected = sums.get("nOutboundConnected", 0.0)
    handled = sums.get("tHandle.count", 0.0)
    return {
        "avg_handle_time_s": average_seconds(sums, "tHandle") if handled else None,
        "connect_rate": ratio(sums.get("nOutboundConnected", 0.0), attempted) if attempted else None,
        "abandon_rate": ratio(sums.get("nOutboundAbandoned", 0.0), connected) if connected else None,
    }


def normalise_row(
    campaign: Mapping[str, Any],
    sums: MetricSums | None,
    conversions: int,
    window: Window,
) -> dict[str, Any]:
    """One campaign's row for the window (before validation adds z-scores and flags).

    ``campaign`` is ``{"id", "name", "division_id", "status"}`` from the selection step.
    """
    sums = sums or {}
    attempted = int(sums.get("nOutboundAttempted", 0))
    connected = int(sums.get("nOutboundConnected", 0))
    abandoned = int(sums.get("nOutboundAbandoned", 0))
    handled = int(sums.get("tHandle.count", 0))
    return {
        "campaign_id": str(campaign["id"]),
        "campaign_name": campaign.get("name"),
        "division_id": campaign.get("division_id"),
        "window_start": window.start.isoformat(),
        "window_end": window.end.isoformat(),
        "timezone": window.tz,
        "attempted": attempted,
        "connected": connected,
        "abandoned": abandoned,
        "handled": handled,
        "conversions": int(conversions),
        "handle_time_s": seconds(sums.get("tHandle.sum", 0.0)),
        "talk_time_s": seconds(sums.get("tTalk.sum", 0.0)),
        "hold_time_s": seconds(sums.get("tHeld.sum", 0.0)),
        "acw_time_s": seconds(sums.get("tAcw.sum", 0.0)),
        "avg_handle_time_s": average_seconds(sums, "tHandle"),
        "avg_talk_time_s": average_seconds(sums, "tTalk"),
        "avg_hold_time_s": average_seconds(sums, "tHeld"),
        "avg_acw_time_s": average_seconds(sums, "tAcw"),
        "connect_rate": ratio(connected, attempted),
        "abandon_rate": ratio(abandoned, connected),
        "conversion_rate": ratio(conversions, connected),
        "no_activity": attempted == 0 and connected == 0 and handled == 0,
    }


def conversions_for(codes: Mapping[str, int] | None, rule: Mapping[str, Any]) -> int:
    """Handled conversations whose wrap-up code is a success code under ``rule`` (aggregates.success_rule)."""
    return sum(count for code, count in (codes or {}).items() if is_success(rule, code))
