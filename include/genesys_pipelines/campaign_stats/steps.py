"""The campaign statistics pipeline's steps, over an injected Genesys API client (the provider's hook).

Pure of Airflow: ``api`` is anything with the hook's resource verbs (``list_campaigns``,
``aggregates_query``, ``wrapup_code_mappings``, ``campaign_stats``, ``campaign_progress``), so these run
the same against the sandbox, a real org or a test double.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from typing import Any

from genesys_pipelines.campaign_stats import aggregates, queries
from genesys_pipelines.campaign_stats.normalise import conversions_for, normalise_row
from genesys_pipelines.campaign_stats.output import snapshot_entry
from genesys_pipelines.campaign_stats.params import CampaignStatsParams
from genesys_pipelines.campaign_stats.validate import validate_row
from genesys_pipelines.errors import InvalidParam
from genesys_pipelines.models.outbound import Campaign
from genesys_pipelines.windows import Window


def _campaign_ref(campaign: Campaign) -> dict[str, Any]:
    return {
        "id": campaign.id,
        "name": campaign.name,
        "division_id": campaign.division.id if campaign.division else None,
        "status": campaign.campaign_status,
    }


def choose_campaigns(listed: Sequence[Campaign], params: CampaignStatsParams) -> list[dict[str, Any]]:
    """The campaigns to report on, sorted by id: ``{"id", "name", "division_id", "status"}`` each.

    One listing walk serves both cases: all campaigns (optionally filtered by status / division), or the
    ``campaign_ids`` param, whose unknown ids fail the run by name (cheaper than one GET per id, and a
    typo'd id must not pass silently as an idle campaign).
    """
    by_id = {c.id: _campaign_ref(c) for c in listed}
    if params.campaign_ids:
        missing = [cid for cid in params.campaign_ids if cid not in by_id]
        if missing:
            raise InvalidParam("campaign_ids", f"no such outbound campaign(s): {', '.join(missing)}")
        chosen = [by_id[cid] for cid in params.campaign_ids]
    else:
        chosen = list(by_id.values())
    if params.status_filter:
        chosen = [ref for ref in chosen if ref["status"] in params.status_filter]
    if params.division_ids:
        chosen = [ref for ref in chosen if ref["division_id"] in params.division_ids]
    return sorted(chosen, key=lambda ref: ref["id"])


def batch_label(campaigns: Sequence[Mapping[str, Any]]) -> str:
    """A mapped task's name in the UI (``map_index_template``): its campaigns by name, short."""
    names = [str(c.get("name") or c.get("campaign_name") or c.get("id") or c.get("campaign_id")) for c in campaigns]
    if len(names) <= 2:
        return ", ".join(names)
    return f"{names[0]}, {names[1]} +{len(names) - 2} more"


def campaign_batches(api: Any, params: CampaignStatsParams) -> list[list[dict[str, Any]]]:
    """The chosen campaigns in batches of ``batch_size`` (one mapped query task per batch)."""
    return queries.batches(choose_campaigns(list(api.list_campaigns()), params), params.batch_size)


def conversion_rule(api: Any, params: CampaignStatsParams) -> dict[str, Any]:
    """The success rule: the ``success_wrapup_codes`` param, else the org's wrap-up code mappings."""
    if params.success_wrapup_codes:
        return aggregates.success_rule(override=params.success_wrapup_codes)
    return aggregates.success_rule(api.wrapup_code_mappings().to_api())


def query_batch(api: Any, campaigns: Sequence[Mapping[str, Any]], window: Window,
                history_days: int = queries.HISTORY_DAYS) -> dict[str, Any]:
    """The three aggregates queries for one batch of campaigns, read into per-campaign sums.

    Returns ``{"campaigns", "window_sums", "wrapup_counts", "history", "latency_ms"}`` (small: a few
    numbers per campaign and history day).
    """
    ids = [str(c["id"]) for c in campaigns]
    started = time.monotonic()
    totals = api.aggregates_query(queries.window_totals_query(ids, window))
    wrapups = api.aggregates_query(queries.wrapup_query(ids, window))
    history = api.aggregates_query(queries.history_query(ids, window, history_days))
    return {
        "campaigns": [dict(c) for c in campaigns],
        "window_sums": aggregates.window_sums(totals),
        "wrapup_counts": aggregates.wrapup_counts(wrapups),
        "history": aggregates.daily_sums(history),
        "latency_ms": round((time.monotonic() - started) * 1000),
    }


def normalise_batch(result: Mapping[str, Any], rule: Mapping[str, Any], window: Window) -> dict[str, Any]:
    """One normalised row per campaign of a queried batch (units, ratios, conversions)."""
    rows = [
        normalise_row(campaign, result["window_sums"].get(campaign["id"]),
                      conversions_for(result["wrapup_counts"].get(campaign["id"]), rule), window)
        for campaign in result["campaigns"]
    ]
    return {"rows": rows, "history": result["history"], "latency_ms": result["latency_ms"]}


def validate_batch(normalised: Mapping[str, Any], threshold: float) -> dict[str, Any]:
    """Consistency and z-score outlier flags on each row of a batch."""
    rows = [validate_row(row, normalised["history"].get(row["campaign_id"]), threshold) for row in normalised["rows"]]
    return {"rows": rows, "latency_ms": normalised["latency_ms"]}


def live_snapshot(api: Any, campaign_batches: Sequence[Sequence[Mapping[str, Any]]]) -> dict[str, Any]:
    """Cumulative live ``/stats`` and ``/progress`` per campaign (state when the run ran, not window data)."""
    ids = sorted(str(c["id"]) for batch in campaign_batches for c in batch)
    return {cid: snapshot_entry(api.campaign_stats(cid).to_api(), api.campaign_progress(cid).to_api()) for cid in ids}


# -- runs that publish day partitions (``publish_days``; see ``campaign_stats.ranges``) -----------------
def label(item: Mapping[str, Any]) -> str:
    """:func:`batch_label` of a mapped task's input, a day run's or a range run's (``{"days": [...]}``)."""
    first = item["days"][0] if item.get("days") else item
    return batch_label(first.get("campaigns") or first.get("rows") or [])


def query_for(api: Any, campaigns: Sequence[Mapping[str, Any]], window: Window, days: Sequence[Window]) -> dict[str, Any]:
    """:func:`query_batch` for the window, or for a range run ``{"days": [its result per day]}`` from three
    range queries (``ranges.query_batch_days``)."""
    from genesys_pipelines.campaign_stats.ranges import query_batch_days

    return {"days": query_batch_days(api, campaigns, days)} if days else query_batch(api, campaigns, window)


def normalise_for(result: Mapping[str, Any], rule: Mapping[str, Any], window: Window, days: Sequence[Window]) -> dict[str, Any]:
    if days:
        return {"days": [normalise_batch(r, rule, d) for r, d in zip(result["days"], days, strict=True)]}
    return normalise_batch(result, rule, window)


def validate_for(normalised: Mapping[str, Any], threshold: float) -> dict[str, Any]:
    if "days" in normalised:
        return {"days": [validate_batch(n, threshold) for n in normalised["days"]]}
    return validate_batch(normalised, threshold)
