"""Conversation details: which conversations a query matches, in which order, and their pages.

Semantics (``genesys-api.md`` §3b):
- sync details: conversations that *started on a UTC day touched by* the interval (whole days);
- async details: conversations with *activity during* the interval; ``startOfDayIntervalMatching``
  keeps only those started on/after the interval's start date (UTC).

Filters are evaluated per block of 1,024 conversations; JSON is built only for what a page returns.
"""

from __future__ import annotations

import gc
import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

import numpy as np

from genesys_pipelines.models.analytics import AsyncConversationQuery, ConversationQuery
from genesys_sandbox.analytics_filters import Mask, details_filter
from genesys_sandbox.analytics_jobs import AnalyticsState
from genesys_sandbox.analytics_time import days_between, parse_interval
from genesys_sandbox.synth import (
    BLOCK,
    DAY_MS,
    MAX_CONVERSATION_MS,
    Block,
    Synth,
    conversation_dict,
    day_start_ms,
)
from genesys_sandbox.synth_json import conversation_json

MAX_CACHED_QUERIES = 32  # sync query match indexes kept (a pipeline pages one query at a time)


@dataclass
class MatchIndex:
    """Matching conversations of a sync query: per (day, block) counts, or an explicit end-time order."""

    spans: list[tuple[date, int, int]]  # (day, block number, matches in block), in start order
    total: int
    by_end: np.ndarray | None = None  # rows (end ms, day ordinal, block, position) when ordered by end


def block_matches(synth: Synth, block: Block, mask: Mask, now: int, lo: int, hi: int) -> np.ndarray:
    """Positions in ``block`` that pass the filter and start in [lo, hi) before ``now``."""
    keep = (block.start >= lo) & (block.start < hi) & (block.start < now)
    if keep.any():
        keep &= mask(synth, block, now)
    return np.nonzero(keep)[0]


def build_match_index(synth: Synth, query: ConversationQuery, now: int) -> MatchIndex:
    start, end = parse_interval(query.interval)
    mask = details_filter(query)
    spans: list[tuple[date, int, int]] = []
    end_rows: list[np.ndarray] = []
    by_end = query.order_by in ("conversationEnd", "segmentEnd")
    total = 0
    for day in days_between(start, end):
        lo, hi = day_start_ms(day), day_start_ms(day) + DAY_MS
        if lo >= now:
            break
        for number in range(synth.blocks_for_day(day)):
            block = synth.block(day, number)
            if block.start[0] >= now:
                break
            hits = block_matches(synth, block, mask, now, lo, hi)
            if len(hits):
                spans.append((day, number, len(hits)))
                total += len(hits)
                if by_end:
                    rows = np.empty((len(hits), 4), np.int64)
                    rows[:, 0] = np.where(block.end[hits] <= now, block.end[hits], np.iinfo(np.int64).max)
                    rows[:, 1], rows[:, 2], rows[:, 3] = day.toordinal(), number, hits
                    end_rows.append(rows)
    index = MatchIndex(spans=spans, total=total)
    if by_end:
        rows = np.concatenate(end_rows) if end_rows else np.zeros((0, 4), np.int64)
        index.by_end = rows[np.lexsort((rows[:, 3], rows[:, 2], rows[:, 1], rows[:, 0]))]
    return index


def page_of(synth: Synth, query: ConversationQuery, index: MatchIndex, offset: int, size: int, now: int) -> list[dict[str, Any]]:
    """Conversations [offset, offset+size) of the query's order."""
    descending = query.order == "desc"
    picks: list[tuple[date, int, int]] = []
    if index.by_end is not None:
        rows = index.by_end[::-1] if descending else index.by_end
        picks = [(date.fromordinal(int(r[1])), int(r[2]), int(r[3])) for r in rows[offset : offset + size]]
    else:
        spans = list(reversed(index.spans)) if descending else index.spans
        mask = details_filter(query)
        start, end = parse_interval(query.interval)
        skipped = 0
        for day, number, count in spans:
            if skipped + count <= offset:
                skipped += count
                continue
            block = synth.block(day, number)
            lo, hi = day_start_ms(day), day_start_ms(day) + DAY_MS
            hits = block_matches(synth, block, mask, now, lo, hi)
            if descending:
                hits = hits[::-1]
            for position in hits[max(0, offset - skipped) :]:
                picks.append((day, number, int(position)))
                if len(picks) == size:
                    break
            skipped += count
            if len(picks) == size:
                break
    return [
        conversation_dict(synth, synth.block(day, number), position, now, with_attributes=False)
        for day, number, position in picks
    ]


def interval_closed(interval: str, now: int) -> bool:
    _, end = parse_interval(interval)
    last_day_end = day_start_ms(days_between(*parse_interval(interval))[-1]) + DAY_MS
    return max(end, last_day_end) + MAX_CONVERSATION_MS <= now


def iter_async_matches(
    synth: Synth, query: AsyncConversationQuery, now: int, start_at: tuple[int, int, int]
) -> Iterator[tuple[Block, int]]:
    """(block, position) of the job's conversations from a cursor position, in conversationStart order."""
    start, end = parse_interval(query.interval)
    mask = details_filter(query)
    first_day = datetime.fromtimestamp(start / 1000, UTC).date()
    lo = day_start_ms(first_day) if query.start_of_day_interval_matching else start - MAX_CONVERSATION_MS
    for day in days_between(lo, end):
        if day.toordinal() < start_at[0]:
            continue
        for number in range(synth.blocks_for_day(day)):
            if (day.toordinal(), number) < start_at[:2]:
                continue
            block = synth.block(day, number)
            if block.start[0] >= min(end, now):
                return
            active = (block.end > start) | (block.end > now)  # ongoing conversations are active
            keep = (block.start >= lo) & (block.start < end) & (block.start < now) & active
            if keep.any():
                keep &= mask(synth, block, now)
            skip = start_at[2] if (day.toordinal(), number) == start_at[:2] else 0
            for position in np.nonzero(keep)[0]:
                if position >= skip:
                    yield block, int(position)


@contextmanager
def gc_paused() -> Iterator[None]:
    """Pause the cyclic GC while a results page is built.

    Thousands of freshly built nested dicts trigger generation-0 collections over and over, each
    rescanning everything still alive (measured: 4x slower per conversation). The dicts form no
    cycles, so reference counting frees them all anyway.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()



def job_results_page(
    synth: Synth, query: AsyncConversationQuery, as_of: int, start_at: tuple[int, int, int, int], size: int, *, encode: bool
) -> tuple[list[Any], tuple[int, int, int, int] | None]:
    """Up to ``size`` conversations of a details job from cursor position ``start_at`` (day ordinal,
    block, position, served so far), and where the next page starts (None: the results end here).

    ``encode`` returns each conversation already JSON-encoded (the fast path without
    self-validation); otherwise the dicts, for the caller to validate.
    """
    day, number, position, served = start_at
    parts: list[Any] = []
    next_position: tuple[int, int, int, int] | None = None
    if not size:
        return parts, None
    with gc_paused():
        for block, index in iter_async_matches(synth, query, as_of, (day, number, position)):
            if len(parts) == size:
                if query.limit is not None and served + size >= query.limit:
                    break  # the job's `limit` is reached: no cursor, the results end here
                next_position = (block.day.toordinal(), block.first // BLOCK, index, served + size)
                break
            if encode:  # the fast path: JSON written from the columns (same bytes as the dicts')
                parts.append(conversation_json(synth, block, index, as_of))
            else:
                parts.append(conversation_dict(synth, block, index, as_of, with_attributes=True))
    return parts, next_position


def cached_match_index(state: AnalyticsState, query: ConversationQuery, now: int) -> MatchIndex:
    """The match index of a sync query, from the last 32 queries when still valid.

    The index of a query whose days are all closed never changes; open days are re-read.
    """
    key = json.dumps(query.model_dump(mode="json", exclude={"paging"}, exclude_none=True), sort_keys=True)
    with state.lock:
        cached = state.queries.get(key)
    if cached is not None and (cached[0] == now or interval_closed(query.interval, now)):
        return cached[1]
    index = build_match_index(state.synth, query, now)
    with state.lock:
        state.queries[key] = (now, index)
        while len(state.queries) > MAX_CACHED_QUERIES:
            state.queries.popitem(last=False)
    return index
