"""The details query body (`ConversationQuery`, §3b) for one report window.

The API has no `eq`/`in` operators: a list of values is an `or` clause of `matches` predicates under an
`and` segment filter, which also carries the single-valued predicates (media type).
"""

from __future__ import annotations

from genesys_pipelines.conversation_report.params import ReportParams
from genesys_pipelines.models.analytics import (
    AsyncConversationQuery,
    ConversationQuery,
    PagingSpec,
    QueryFilter,
    QueryPredicate,
    SegmentDetailQueryClause,
    SegmentDetailQueryFilter,
    SegmentDetailQueryPredicate,
)


def _any_of(dimension: str, values: tuple[str, ...]) -> SegmentDetailQueryClause:
    return SegmentDetailQueryClause(
        type="or", predicates=[SegmentDetailQueryPredicate(dimension=dimension, value=v) for v in values]
    )


def segment_filters(params: ReportParams) -> list[SegmentDetailQueryFilter]:
    """One `and` filter: media type as a predicate, each multi-valued dimension as an `or` clause."""
    predicates: list[SegmentDetailQueryPredicate] = []
    clauses: list[SegmentDetailQueryClause] = []
    if params.media_type:
        predicates.append(SegmentDetailQueryPredicate(dimension="mediaType", value=params.media_type))
    if params.queue_ids:
        clauses.append(_any_of("queueId", params.queue_ids))
    for dimension, values in params.filters.items():
        if len(values) == 1:
            predicates.append(SegmentDetailQueryPredicate(dimension=dimension, value=values[0]))
        else:
            clauses.append(_any_of(dimension, values))
    if not predicates and not clauses:
        return []
    return [SegmentDetailQueryFilter(type="and", predicates=predicates or None, clauses=clauses or None)]


def conversation_filters() -> list[QueryFilter]:
    # Only finished conversations: a report of the previous day must not count calls still in
    # progress, whose durations and wrap-up codes would change on a re-run (Genesys blog guidance).
    return [
        QueryFilter(type="and", predicates=[QueryPredicate(dimension="conversationEnd", operator="exists")])
    ]


def build_query(params: ReportParams, interval: str, page_size: int = 100) -> ConversationQuery:
    """The sync query for ``interval`` ("start/end", from ``Window.interval()``), first page."""
    return ConversationQuery(
        interval=interval,
        segment_filters=segment_filters(params) or None,
        conversation_filters=conversation_filters(),
        order="asc",
        order_by="conversationStart",
        paging=PagingSpec(page_size=page_size, page_number=1),
    )


def build_async_query(params: ReportParams, interval: str) -> AsyncConversationQuery:
    """The async job body: same filters and order, no paging (results come by cursor)."""
    sync = build_query(params, interval)
    return AsyncConversationQuery(
        interval=sync.interval,
        segment_filters=sync.segment_filters,
        conversation_filters=sync.conversation_filters,
        order=sync.order,
        order_by=sync.order_by,
    )


def choose_mode(mode: str, day_hits: dict[str, int], ceiling: int) -> str:
    """``sync`` or ``async``: ``auto`` takes the sync query while every UTC day's ``totalHits`` is under
    the sync ceiling (100,000 results per query) and the async job otherwise."""
    if mode in ("sync", "async"):
        return mode
    return "sync" if all(hits < ceiling for hits in day_hits.values()) else "async"
