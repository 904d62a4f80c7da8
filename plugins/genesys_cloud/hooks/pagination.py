"""Paging logic as small state machines, free of IO, so the sync and async hook walk pages identically.

Each pager says which request comes next and digests the answer; the hook only sends.
"""

from __future__ import annotations

import copy
import queue
import threading
from collections import deque
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from typing import Any, TypeVar

from genesys_cloud.config import settings
from genesys_cloud.exceptions import (
    GenesysBadRequestError,
    GenesysCeilingError,
    GenesysPageLimitError,
    GenesysPayloadError,
    GenesysValidationError,
)
from genesys_cloud.hooks.limits import split_at_midnights
from genesys_pipelines.windows import format_instant, format_interval, parse_instant, utc_days

DETAILS_CEILING = 100_000  # "Pagination may not exceed 100000 results" (sync details query)
DEDUPE_PAGES = 2  # ids remembered from this many previous pages: repeats come from the page boundary

Interval = tuple[datetime, datetime]
__all__ = ["format_instant", "format_interval", "parse_instant", "utc_days"]  # re-exported: pure, in windows


def check_page(page: int, what: str) -> None:
    """Refuse page number ``page`` of ``what`` once it passes GENESYS_MAX_PAGES (endless ``nextUri``,
    a huge ``pageCount``, ever-new cursors: a broken or hostile server must not page forever)."""
    cap = settings().max_pages
    if page > cap:
        raise GenesysPageLimitError(f"{what}: page {page} is over the page cap GENESYS_MAX_PAGES={cap}")


def parse_interval(interval: str | Interval) -> Interval:
    """``"start/end"`` (end exclusive) or a (start, end) pair -> aware UTC datetimes."""
    if isinstance(interval, str):
        try:
            start_s, end_s = interval.split("/")
            start, end = parse_instant(start_s), parse_instant(end_s)
        except ValueError as exc:
            raise GenesysValidationError(f"interval {interval!r} is not 'start/end' in ISO-8601") from exc
    else:
        start, end = (parse_instant(v) if isinstance(v, str) else v.astimezone(UTC) for v in interval)
    if end <= start:
        raise GenesysValidationError(f"interval end {end.isoformat()} is not after start {start.isoformat()}")
    return start, end


def post_filter_interval(
    rows: Iterable[dict[str, Any]], interval: str | Interval
) -> Iterator[dict[str, Any]]:
    """Keep conversations whose ``conversationStart`` lies in [start, end).

    The sync query matches conversations started on any *day* the interval touches and the async job
    those with activity in it; filtering both to the exact interval makes them return the same rows.
    """
    start, end = parse_interval(interval)
    for row in rows:
        raw = row.get("conversationStart")
        if not isinstance(raw, str):
            raise GenesysPayloadError(f"conversation {row.get('conversationId')!r} has no conversationStart")
        if start <= parse_instant(raw) < end:
            yield row


class BoundedDedupe:
    """Drops ids seen in the last ``pages`` pages; memory stays bounded by pages x page size."""

    def __init__(self, pages: int = DEDUPE_PAGES) -> None:
        self._recent: deque[set[str]] = deque(maxlen=pages)

    def page(self, rows: list[dict[str, Any]], key: str = "conversationId") -> list[dict[str, Any]]:
        fresh: list[dict[str, Any]] = []
        ids: set[str] = set()
        for row in rows:
            row_id = row.get(key)
            if row_id is not None and (row_id in ids or any(row_id in seen for seen in self._recent)):
                continue
            if row_id is not None:
                ids.add(row_id)
            fresh.append(row)
        self._recent.append(ids)
        return fresh


class DetailsPager:
    """Body paging of ``POST /api/v2/analytics/conversations/details/query``.

    Pages ``paging.pageNumber`` until ``conversations`` is empty or ``pageNumber * pageSize >= totalHits``,
    sorted ascending by ``conversationStart``. An interval longer than ``max_days`` (the API's interval
    limit) is queried in pieces cut at UTC midnights. Over the 100,000 ceiling, a piece is split at UTC
    midnights only (a piece inside a day would match the same whole day again); a day still over the
    ceiling raises :class:`GenesysCeilingError` for the caller to use the async job.
    """

    def __init__(
        self, query: dict[str, Any], page_size: int = 100, ceiling: int | None = None, max_days: int | None = None
    ) -> None:
        if page_size < 1:
            raise GenesysValidationError("page_size must be >= 1")
        if "interval" not in query:
            raise GenesysValidationError("the details query needs an interval")
        self._query = copy.deepcopy(query)
        self.interval = parse_interval(self._query["interval"])
        self.page_size = page_size
        self.ceiling = DETAILS_CEILING if ceiling is None else ceiling
        self._chunks: deque[Interval] = deque(split_at_midnights(self.interval, max_days))
        self._page = 1
        self._dedupe = BoundedDedupe()
        self.last_total = 0
        self._pages = 0

    def current_day(self) -> str:
        """The UTC day (or the interval, before any split) being paged, for error messages."""
        start, end = self._chunks[0] if self._chunks else self.interval
        days = utc_days((start, end))
        return start.date().isoformat() if len(days) == 1 else format_interval((start, end))

    def next_body(self) -> dict[str, Any] | None:
        """The body of the next query, or None when done."""
        if not self._chunks:
            return None
        self._pages += 1
        check_page(self._pages, "details query")
        body = copy.deepcopy(self._query)
        body.update(
            interval=format_interval(self._chunks[0]),
            order="asc",
            orderBy="conversationStart",
            paging={"pageSize": self.page_size, "pageNumber": self._page},
        )
        return body

    def accept(self, response: Any) -> list[dict[str, Any]]:
        """Digest one answer; return its new rows (deduplicated, inside the exact interval)."""
        if not isinstance(response, dict):
            raise GenesysPayloadError("details query answer is not a JSON object")
        conversations = response.get("conversations") or []
        total = int(response.get("totalHits") or 0)
        self.last_total = total
        chunk = self._chunks[0]
        if self._page == 1 and total > self.ceiling:
            days = utc_days(chunk)
            if len(days) > 1:
                self._chunks.popleft()
                self._chunks.extendleft(reversed(days))
                return []
            raise GenesysCeilingError(day=chunk[0].date().isoformat(), total_hits=total, ceiling=self.ceiling)
        rows = list(post_filter_interval(self._dedupe.page(conversations), self.interval))
        if not conversations or self._page * self.page_size >= total:
            self._chunks.popleft()
            self._page = 1
        else:
            self._page += 1
        return rows


CEILING_MESSAGE = "Pagination may not exceed"


def ceiling_error_from(pager: DetailsPager, exc: GenesysBadRequestError) -> GenesysCeilingError | None:
    """The API's own ceiling 400 (``totalHits`` is approximate and can grow past the ceiling mid-way)."""
    if CEILING_MESSAGE.lower() not in (exc.message or "").lower():
        return None
    return GenesysCeilingError(day=pager.current_day(), total_hits=pager.last_total, ceiling=pager.ceiling)


class CursorPager:
    """Cursor paging of async job results (``…/jobs/{jobId}/results?cursor=``) until no cursor comes back."""

    def __init__(self, page_size: int | None = None) -> None:
        self.page_size = page_size
        self._cursor: str | None = None
        self._done = False
        self._seen: set[str] = set()
        self._pages = 0

    def next_params(self) -> dict[str, Any] | None:
        if self._done:
            return None
        self._pages += 1
        check_page(self._pages, "job results")
        params: dict[str, Any] = {}
        if self.page_size:
            params["pageSize"] = self.page_size
        if self._cursor:
            params["cursor"] = self._cursor
        return params

    def accept(self, response: Any) -> list[dict[str, Any]]:
        if not isinstance(response, dict):
            raise GenesysPayloadError("job results answer is not a JSON object")
        items = response.get("conversations")
        if items is None:
            items = response.get("results") or []
        cursor = response.get("cursor")
        if not cursor:
            self._done = True
        elif cursor in self._seen:  # a server bug must not turn into an endless loop
            raise GenesysPayloadError(f"job results repeated cursor {cursor[:16]}…")
        else:
            self._seen.add(cursor)
            self._cursor = cursor
        return list(items)


def listing_items(response: Any) -> list[Any]:
    """Items of a page-number listing, an unpaged ``{entities}`` or a bare array."""
    if isinstance(response, list):
        return response
    if not isinstance(response, dict):
        raise GenesysPayloadError("listing answer is neither an object nor an array")
    return list(response.get("entities") or [])


def listing_page_count(response: Any) -> int | None:
    if isinstance(response, dict) and isinstance(response.get("pageCount"), int):
        return int(response["pageCount"])
    return None


def listing_has_next(response: Any, page_number: int) -> bool:
    """Page-number listing: more pages while ``pageNumber < pageCount``, else while a ``nextUri`` is given."""
    if not isinstance(response, dict) or not listing_items(response):
        return False
    page_count = listing_page_count(response)
    if page_count is not None:
        return page_number < page_count
    return bool(response.get("nextUri"))


# -- reading ahead ------------------------------------------------------------------------------------
T = TypeVar("T")
_DONE = object()


def read_ahead(items: Iterable[T], ahead: int, batch: int = 256) -> Iterator[T]:
    """``items``, pulled by a background thread up to ``ahead`` items in front of the consumer.

    The pages come from another machine: while this process flattens and writes one page, the server can
    already be producing the next, instead of each side idling in turn. Items cross in batches (a queue
    operation per item would cost more than it saves); exceptions of ``items`` (API errors, retries
    exhausted) re-raise here unchanged; closing this generator stops the thread.
    """
    lane: queue.Queue[Any] = queue.Queue(maxsize=max(1, -(-ahead // batch)))
    stop = threading.Event()

    def offer(message: Any) -> bool:
        while not stop.is_set():
            try:
                lane.put(message, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def produce() -> None:
        try:
            chunk: list[T] = []
            for item in items:
                chunk.append(item)
                if len(chunk) >= batch:
                    if not offer(chunk):
                        return
                    chunk = []
            if chunk and not offer(chunk):
                return
            offer(_DONE)
        except BaseException as exc:  # handed to the consumer, which re-raises it
            offer(exc)

    thread = threading.Thread(target=produce, name="genesys-read-ahead", daemon=True)
    thread.start()
    try:
        while True:
            message = lane.get()
            if message is _DONE:
                return
            if isinstance(message, BaseException):
                raise message
            yield from message
    finally:
        stop.set()
        thread.join(timeout=10)  # a request in flight finishes or fails on its own (daemon thread)
