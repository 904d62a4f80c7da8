"""Names next to ids in the report: queue, campaign and wrap-up code ids carry their names.

Resolved once per run (the plan step), from the org's real listings:

* queue names from ``GET /api/v2/routing/queues`` (every queue, also those no campaign uses);
* campaign names from ``GET /api/v2/outbound/campaigns``;
* wrap-up code names from ``GET /api/v2/routing/wrapupcodes`` (every report lists wrap-up code ids in
  ``wrapup_codes``, so this listing is read on every run).

Names are decoration, the ids stay the keys: a listing that fails (a missing permission, an error after the
hook's retries) leaves its names empty, logs a WARNING naming the listing and the cause, and is recorded
under ``missing`` so the webhook and the audit row say so. When the queue listing fails, queue names fall
back to the campaigns' queue references (the queues campaigns use).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from genesys_pipelines.conversation_report.aggregate import METRIC_COLUMNS

log = logging.getLogger(__name__)

#: The name column that follows each id dimension of ``group_by``.
NAME_COLUMNS = {"queueId": "queueName", "outboundCampaignId": "outboundCampaignName", "wrapUpCode": "wrapUpCodeName"}
#: The list column that follows a list-of-ids metric column, and the dimension naming its ids.
LIST_NAME_COLUMNS = {"wrapup_codes": ("wrapup_code_names", "wrapUpCode")}
#: The listing (and the permission it needs) behind each dimension's names.
LISTINGS = {
    "queueId": "GET /api/v2/routing/queues (routing:queue:view)",
    "outboundCampaignId": "GET /api/v2/outbound/campaigns (outbound:campaign:view)",
    "wrapUpCode": "GET /api/v2/routing/wrapupcodes (routing:wrapupCode:view)",
}


def needs_names(group_by: Sequence[str]) -> bool:
    return any(d in NAME_COLUMNS for d in group_by)


def names_from_campaigns(campaigns: Iterable[Any]) -> dict[str, dict[str, str]]:
    """``{"outboundCampaignId": {id: name}, "queueId": {id: name}}`` from ``Campaign`` models."""
    out: dict[str, dict[str, str]] = {"outboundCampaignId": {}, "queueId": {}}
    for campaign in campaigns:
        if campaign.id and campaign.name:
            out["outboundCampaignId"][campaign.id] = campaign.name
        queue = getattr(campaign, "queue", None)
        if queue is not None and queue.id and queue.name:
            out["queueId"][queue.id] = queue.name
    return {dim: dict(sorted(ids.items())) for dim, ids in out.items()}


def names_from_listing(entities: Iterable[Any]) -> dict[str, str]:
    """``{id: name}`` from listed entities (``Queue``, ``WrapupCode``): those with both."""
    return dict(sorted((e.id, e.name) for e in entities if e.id and e.name))


def _listed(what: str, read: Callable[[], Any], missing: dict[str, str], listing: str | None = None) -> Any:
    """``read()``, or None after a WARNING when the listing fails (recorded in ``missing[what]``)."""
    try:
        return read()
    except Exception as exc:  # noqa: BLE001 - names are decoration: any failure leaves them empty, said aloud
        listing = listing or LISTINGS[what]
        reason = f"{listing} failed: {type(exc).__name__}: {str(exc)[:300]}"
        missing[what] = f"{missing[what]}; {reason}" if what in missing else reason
        log.warning("Names of %s left empty in the report: %s; the ids are unaffected", what, reason)
        return None


def resolve_names(api: Any, group_by: Sequence[str]) -> dict[str, Any]:
    """The run's names, once: ``{"names": {dimension: {id: name}}, "missing": {dimension: reason}}``.

    ``api`` has the hook's ``list_queues``, ``list_campaigns`` and ``list_wrapup_codes`` verbs. Only the
    listings the report needs are read: queues for ``queueId``, campaigns for ``outboundCampaignId`` (or
    as the fallback for queue names), wrap-up codes always.
    """
    names: dict[str, dict[str, str]] = {}
    missing: dict[str, str] = {}
    if "queueId" in group_by:
        queues = _listed("queueId", lambda: names_from_listing(api.list_queues()), missing)
        if queues is not None:
            names["queueId"] = queues
    if "outboundCampaignId" in group_by or ("queueId" in group_by and "queueId" not in names):
        # the campaigns' listing: campaign names, and queue names for the queues campaigns use (the fallback)
        what = "outboundCampaignId" if "outboundCampaignId" in group_by else "queueId"
        campaigns = _listed(what, lambda: names_from_campaigns(api.list_campaigns()), missing,
                            LISTINGS["outboundCampaignId"])
        if campaigns is not None:
            if "outboundCampaignId" in group_by:
                names["outboundCampaignId"] = campaigns["outboundCampaignId"]
            if "queueId" in group_by and "queueId" not in names:
                names["queueId"] = campaigns["queueId"]  # the queues campaigns use; others stay unnamed
    codes = _listed("wrapUpCode", lambda: names_from_listing(api.list_wrapup_codes()), missing)
    if codes is not None:
        names["wrapUpCode"] = codes
    return {"names": names, "missing": missing}


def report_columns(group_by: Sequence[str]) -> list[str]:
    """The group columns of the report: each id dimension followed by its name column."""
    return [c for d in group_by for c in ((d, NAME_COLUMNS[d]) if d in NAME_COLUMNS else (d,))]


def metric_columns() -> list[str]:
    """The metric columns of the report: each list of ids followed by the list of their names."""
    return [c for m in METRIC_COLUMNS for c in ((m, LIST_NAME_COLUMNS[m][0]) if m in LIST_NAME_COLUMNS else (m,))]


def with_names(rows: Sequence[Mapping[str, Any]], group_by: Sequence[str],
               names: Mapping[str, Mapping[str, str]] | None) -> list[dict[str, Any]]:
    """``rows`` with the name column of each id dimension (None where the listing has no name) and the
    names of each list of ids (same order; None for an id the listing does not name)."""
    names = names or {}
    by_name_column = {n: d for d, n in NAME_COLUMNS.items()}
    out = []
    for row in rows:
        named: dict[str, Any] = {}
        for column in report_columns(group_by):
            if column in row:
                named[column] = row[column]
            else:  # a name column: look up the id of the dimension before it
                dim = by_name_column[column]
                named[column] = (names.get(dim) or {}).get(row.get(dim) or "")
        for column in metric_columns():
            if column in row:
                named[column] = row[column]
            else:
                source, dim = next((m, d) for m, (n, d) in LIST_NAME_COLUMNS.items() if n == column)
                known = names.get(dim) or {}
                named[column] = [known.get(i) for i in row.get(source) or []]
        named.update({k: v for k, v in row.items() if k not in named})
        out.append(named)
    return out
