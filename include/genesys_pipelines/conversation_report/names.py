"""Names next to ids in the report: a queue or campaign group carries its name from the org's listing.

Resolved once per run, from the campaign listing the run reads anyway (``GET /api/v2/outbound/campaigns``:
each campaign's ``name`` and its ``queue`` reference, which carries the queue's ``name``). An id the listing
does not name (a queue no campaign uses) keeps an empty name: the id stays the key.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

#: The name column that follows each id dimension of ``group_by``.
NAME_COLUMNS = {"queueId": "queueName", "outboundCampaignId": "outboundCampaignName"}


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


def report_columns(group_by: Sequence[str]) -> list[str]:
    """The group columns of the report: each id dimension followed by its name column."""
    return [c for d in group_by for c in ((d, NAME_COLUMNS[d]) if d in NAME_COLUMNS else (d,))]


def with_names(rows: Sequence[Mapping[str, Any]], group_by: Sequence[str],
               names: Mapping[str, Mapping[str, str]] | None) -> list[dict[str, Any]]:
    """``rows`` with the name column of each id dimension (None where the listing has no name)."""
    names = names or {}
    out = []
    for row in rows:
        named = {}
        for column in report_columns(group_by):
            if column in row:
                named[column] = row[column]
            else:  # a name column: look up the id of the dimension before it
                dim = next(d for d, n in NAME_COLUMNS.items() if n == column)
                named[column] = (names.get(dim) or {}).get(row.get(dim) or "")
        named.update({k: v for k, v in row.items() if k not in named})
        out.append(named)
    return out
