"""Request bodies of the conversation aggregates queries this pipeline sends (genesys-api.md §3a).

Three queries per batch of campaigns, each filtered on voice and on the batch's ``outboundCampaignId``s
(an ``or`` clause of ``matches`` predicates: the API has no ``in`` operator):

* the window's totals, grouped by campaign, no granularity (one bucket for the whole window);
* the window's handled conversations per wrap-up code (``tHandle`` count), for conversions;
* the trailing history: the ``HISTORY_DAYS`` reporting days before the window, ``granularity: P1D``.
  Closed past days never change, so a backfill and its re-run see the same history.

Every query says ``alternateTimeDimension: eventTime``: a metric counts in the day (or hour) its data
event happened (an attempt at dial, a connect at connect, a timer when what it measures ends). That is
the documented attribution of conversation aggregates today; sending it pins day totals to it should a
default change (as it did for evaluation aggregates, whose default became the creation date).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from genesys_pipelines.models.analytics import (
    ConversationAggregationQuery,
)
from genesys_pipelines.outbound_queries import campaign_filter
from genesys_pipelines.windows import Window

COUNT_METRICS: tuple[str, ...] = ("nOutboundAttempted", "nOutboundConnected", "nOutboundAbandoned")
TIMER_METRICS: tuple[str, ...] = ("tHandle", "tTalk", "tHeld", "tAcw")
WINDOW_METRICS: tuple[str, ...] = COUNT_METRICS + TIMER_METRICS
HISTORY_METRICS: tuple[str, ...] = COUNT_METRICS + ("tHandle",)
#: Trailing history for the z-scores, in reporting days before the window.
HISTORY_DAYS = 28
EVENT_TIME = "eventTime"


def window_totals_query(campaign_ids: Sequence[str], window: Window, granularity: str | None = None) -> dict[str, Any]:
    """The window's outbound counts and timers per campaign (one bucket: no granularity; a range run that
    publishes day partitions asks ``P1D``: one bucket per reporting day)."""
    return ConversationAggregationQuery(
        interval=window.interval(),
        granularity=granularity,
        time_zone=window.tz,
        group_by=["outboundCampaignId"],
        filter=campaign_filter(campaign_ids),
        metrics=list(WINDOW_METRICS),
        alternate_time_dimension=EVENT_TIME,
    ).to_api()


def wrapup_query(campaign_ids: Sequence[str], window: Window, granularity: str | None = None) -> dict[str, Any]:
    """Handled conversations per campaign and wrap-up code (``tHandle.count``) in the window (per day with
    ``P1D``, as :func:`window_totals_query`)."""
    return ConversationAggregationQuery(
        interval=window.interval(),
        granularity=granularity,
        time_zone=window.tz,
        group_by=["outboundCampaignId", "wrapUpCode"],
        filter=campaign_filter(campaign_ids),
        metrics=["tHandle"],
        alternate_time_dimension=EVENT_TIME,
    ).to_api()


def history_window(window: Window, days: int = HISTORY_DAYS) -> Window:
    """The ``days`` reporting days that end where ``window`` starts."""
    return window.shifted_back(days)


def history_query(campaign_ids: Sequence[str], window: Window, days: int = HISTORY_DAYS,
                  over: Window | None = None) -> dict[str, Any]:
    """Daily (``P1D``) counts and handle time per campaign over the trailing history (``over``: an explicit
    span instead, e.g. every day's history of a range run at once)."""
    return ConversationAggregationQuery(
        interval=(over or history_window(window, days)).interval(),
        granularity="P1D",
        time_zone=window.tz,
        group_by=["outboundCampaignId"],
        filter=campaign_filter(campaign_ids),
        metrics=list(HISTORY_METRICS),
        alternate_time_dimension=EVENT_TIME,
    ).to_api()


def batches(items: Sequence[Any], size: int) -> list[list[Any]]:
    """``items`` cut into consecutive lists of at most ``size``."""
    if size < 1:
        raise ValueError("batch size must be >= 1")
    return [list(items[i : i + size]) for i in range(0, len(items), size)]
