"""Query pieces the outbound pipelines share (pure): filters of the conversation aggregates query."""

from __future__ import annotations

from collections.abc import Sequence

from genesys_pipelines.models.analytics import QueryClause, QueryFilter, QueryPredicate

CAMPAIGN_DIM = "outboundCampaignId"


def campaign_filter(campaign_ids: Sequence[str]) -> QueryFilter:
    """Voice conversations of any of ``campaign_ids`` (an ``or`` clause of ``matches``: the API has no ``in``)."""
    if not campaign_ids:
        raise ValueError("campaign_filter needs at least one campaign id")
    return QueryFilter(
        type="and",
        predicates=[QueryPredicate(type="dimension", dimension="mediaType", operator="matches", value="voice")],
        clauses=[
            QueryClause(
                type="or",
                predicates=[
                    QueryPredicate(type="dimension", dimension=CAMPAIGN_DIM, operator="matches", value=cid)
                    for cid in sorted(campaign_ids)
                ],
            )
        ],
    )
