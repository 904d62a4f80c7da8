"""Cheap source fingerprints of a window, per day, and the probe requests that read them again.

* Conversation details: one sync details query per UTC day the window touches, over the WHOLE UTC day
  (also for a reporting day in another zone: the run and the sweep probe the same piece,
  ``source.probe_interval``), with ``pageSize 1`` ordered by ``conversationEnd`` descending. Its
  ``totalHits`` counts the day's conversations and its one row is the latest to end (a conversation still
  in progress sorts first and has no end: ``latest_end`` None). A conversation that lands late raises
  ``totalHits``; one that ends late moves ``latest_end``.
* Campaign statistics: the per-campaign counts (attempted, connected, abandoned, handled) the rows were
  built from; the probe is the run's own window-totals aggregates query, one per day.

Both probes cost one request per day (details: per UTC day touched, two for a non-UTC reporting day),
whatever the day's volume.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable, Mapping
from typing import Any

DETAILS = "details"
AGGREGATES = "aggregates"
#: The counts of a campaign-stats row that make its fingerprint (columns of the output table).
STATS_COUNTS: tuple[str, ...] = ("attempted", "connected", "abandoned", "handled")
#: The same counts as read from the aggregates response (see ``campaign_stats.normalise``).
STATS_METRICS: dict[str, str] = {"attempted": "nOutboundAttempted", "connected": "nOutboundConnected",
                                 "abandoned": "nOutboundAbandoned", "handled": "tHandle.count"}


def details_probe_body(query: Mapping[str, Any], interval: str) -> dict[str, Any]:
    """The report's details query restricted to ``interval``: one row, latest ``conversationEnd`` first."""
    body = copy.deepcopy(dict(query))
    body.update(interval=interval, order="desc", orderBy="conversationEnd",
                paging={"pageSize": 1, "pageNumber": 1})
    return body


def details_fingerprint(answer: Mapping[str, Any] | None) -> dict[str, Any]:
    """``{"total_hits", "latest_end"}`` of a probe answer (``latest_end`` None: in progress or no rows)."""
    answer = answer or {}
    rows = answer.get("conversations") or []
    return {"total_hits": int(answer.get("totalHits") or 0),
            "latest_end": (rows[0].get("conversationEnd") if rows else None)}


def stats_fingerprint_from_rows(rows: Iterable[Mapping[str, Any]]) -> dict[str, dict[str, int]]:
    """Per campaign id: the counts the campaign-stats rows were built from."""
    return {str(row["campaign_id"]): {name: int(row.get(name) or 0) for name in STATS_COUNTS}
            for row in sorted(rows, key=lambda r: str(r["campaign_id"]))}


def stats_fingerprint_from_sums(sums: Mapping[str, Mapping[str, float]],
                                campaign_ids: Iterable[str]) -> dict[str, dict[str, int]]:
    """The same fingerprint from the window-totals query's per-campaign sums (``aggregates.window_sums``)."""
    return {cid: {name: int((sums.get(cid) or {}).get(metric, 0)) for name, metric in STATS_METRICS.items()}
            for cid in sorted(campaign_ids)}


def stats_probe_body(window_interval: str, time_zone: str) -> dict[str, Any]:
    """One aggregates query for every campaign's counts in the window: voice conversations grouped by
    campaign (no campaign filter, so its size does not grow with the number of campaigns)."""
    from genesys_pipelines.models.analytics import ConversationAggregationQuery, QueryFilter, QueryPredicate

    return ConversationAggregationQuery(
        interval=window_interval, time_zone=time_zone, group_by=["outboundCampaignId"],
        filter=QueryFilter(type="and", predicates=[
            QueryPredicate(type="dimension", dimension="mediaType", operator="matches", value="voice")]),
        metrics=["nOutboundAttempted", "nOutboundConnected", "nOutboundAbandoned", "tHandle"],
    ).to_api()
