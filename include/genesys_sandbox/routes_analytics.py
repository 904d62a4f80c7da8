"""Conversation analytics: aggregates query and jobs, details query and async details jobs.

Everything is computed from :mod:`genesys_sandbox.synth`, so aggregates equal the sum over details.
Filters are evaluated on the generator's columns (vectorised per block of 1,024 conversations), and
JSON is built only for the conversations a page returns.

Semantics (``genesys-api.md`` §3a/§3b):
- sync details: conversations that *started on a UTC day touched by* the interval (whole days);
- async details: conversations with *activity during* the interval; ``startOfDayIntervalMatching``
  keeps only those started on/after the interval's start date (UTC);
- aggregates: each conversation counts in the 15-minute bucket of its start; ``granularity`` buckets
  are anchored at the interval start and stepped in ``timeZone``.
"""

from __future__ import annotations

import base64
import gc
import json
import re
import threading
import uuid
from collections import OrderedDict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import msgspec
import numpy as np
from fastapi import APIRouter, Request, Response
from pydantic import BaseModel, ValidationError

from genesys_pipelines.models.analytics import (
    CONVERSATION_DIMENSIONS,
    SEGMENT_DIMENSIONS,
    AnalyticsConversationAsyncQueryResponse,
    AnalyticsConversationQueryResponse,
    AsyncConversationQuery,
    AsyncQueryResponse,
    AsyncQueryStatus,
    ConversationAggregateQueryResponse,
    ConversationAggregationQuery,
    ConversationAsyncAggregateQueryResponse,
    ConversationAsyncAggregationQuery,
    ConversationQuery,
    DataAvailabilityResponse,
    QueryFilter,
    QueryPredicate,
)
from genesys_pipelines.models.common import StrictValidationError, strict_validate
from genesys_sandbox.errors import ApiError
from genesys_sandbox.synth import (
    AGG_METRICS,
    BLOCK,
    BUCKET_MS,
    DAY_MS,
    MAX_CONVERSATION_MS,
    MEDIA_TYPES,
    Block,
    Synth,
    block_view,
    conversation_dict,
    day_start_ms,
    synth_org_from,
)

router = APIRouter()
_ENCODER = msgspec.json.Encoder()

DETAILS_CEILING = 100_000
DETAILS_MAX_PAGE_SIZE = 200  # the Genesys blog's maximum ([confirm live] in genesys-api.md §7)
JOB_MAX_PAGE_SIZE = 10_000
JOB_DEFAULT_PAGE_SIZE = 1_000
# How long an async job stays QUEUED, then PENDING (sandbox-clock seconds); `slow_jobs` faults add more.
JOB_QUEUED_SECONDS = 0.2
JOB_PENDING_SECONDS = 0.5
JOB_RESULTS_DAYS = 1  # results expire a day after completion
# Data lands in the "datalake" this long after it happens (the availability endpoint).
DATA_AVAILABILITY_LAG = timedelta(hours=1)


# --- per-sandbox analytics state ---------------------------------------------------------------


@dataclass
class Job:
    id: str
    kind: str  # "details" | "aggregates"
    query: Any
    submitted_ms: int
    ready_after_ms: int
    fails: bool
    cancelled: bool = False
    results: list[dict[str, Any]] | None = None  # aggregates jobs: computed on first read


@dataclass
class AnalyticsState:
    synth: Synth
    jobs: dict[str, Job] = field(default_factory=dict)
    queries: OrderedDict[str, Any] = field(default_factory=OrderedDict)
    lock: threading.Lock = field(default_factory=threading.Lock)


def sandbox(request: Request) -> Any:
    return request.app.state.sandbox


def analytics_state(request: Request) -> AnalyticsState:
    """The analytics state of the current org; a reset (new org in ``extensions``) starts afresh."""
    state = sandbox(request)
    current = state.extensions.get("analytics")
    if current is None:
        with state.lock:
            current = state.extensions.get("analytics")
            if current is None:
                synth = Synth(synth_org_from(state.org), state.config.seed, state.config.scale)
                current = state.extensions["analytics"] = AnalyticsState(synth=synth)
    return current


def now_ms(request: Request) -> int:
    return int(sandbox(request).clock.now().timestamp() * 1000)


def respond(request: Request, model: type[BaseModel], payload: Any, status: int = 200) -> Response:
    """Self-validate (unless ``--no-self-validation``) and encode with msgspec (the hot path)."""
    if sandbox(request).config.self_validation:
        try:
            strict_validate(model, payload)
        except (ValidationError, StrictValidationError) as exc:
            raise ApiError(500, f"sandbox self-validation failed for {model.__name__}: {exc}") from exc
    return Response(msgspec.json.encode(payload), status_code=status, media_type="application/json")


def parse_body(model: type[BaseModel], body: Any) -> Any:
    """Validate a request body; a bad field answers 400 naming it, like the platform."""
    if not isinstance(body, dict):
        raise ApiError(400, "The request body must be a JSON object.", fields=["body"])
    try:
        return model.model_validate(body)
    except ValidationError as exc:
        first = exc.errors()[0]
        name = ".".join(str(p) for p in first["loc"])
        # An enum error would list every allowed value (137 view types); name the bad value instead.
        message = f"invalid value {first.get('input')!r}" if first["type"] == "literal_error" else first["msg"]
        raise ApiError(400, f"{name}: {message}", fields=[name]) from exc


async def json_body(request: Request) -> Any:
    try:
        return await request.json()
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ApiError(400, "The request body is not valid JSON.", fields=["body"]) from exc


# --- time helpers ------------------------------------------------------------------------------


def _instant(text: str, field_name: str) -> datetime:
    try:
        value = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError as exc:
        raise ApiError(400, f"Invalid {field_name}: {text!r}", fields=[field_name]) from exc
    return (value if value.tzinfo else value.replace(tzinfo=UTC)).astimezone(UTC)


def parse_interval(text: str, field_name: str = "interval") -> tuple[int, int]:
    """``"start/end"`` → (start ms, end ms), end exclusive and after start."""
    parts = text.split("/")
    if len(parts) != 2:
        raise ApiError(400, f"Invalid {field_name}: expected 'start/end'", fields=[field_name])
    start, end = (int(_instant(p, field_name).timestamp() * 1000) for p in parts)
    if end <= start:
        raise ApiError(400, f"Invalid {field_name}: end must be after start", fields=[field_name])
    return start, end


_DURATION = re.compile(r"^P(?:(\d+)W)?(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?)?$")


def parse_granularity(text: str) -> tuple[int, int]:
    """ISO duration → (days, milliseconds); must be a positive multiple of 15 minutes."""
    match = _DURATION.match(text or "")
    if not match or not any(match.groups()) or text.endswith("T"):
        raise ApiError(400, f"Invalid granularity: {text!r}", fields=["granularity"])
    weeks, days, hours, minutes = (int(g or 0) for g in match.groups())
    ms = (hours * 60 + minutes) * 60_000
    if ms % BUCKET_MS or (ms == 0 and weeks == 0 and days == 0):
        raise ApiError(400, "granularity must be a multiple of PT15M", fields=["granularity"])
    return weeks * 7 + days, ms


def _zone(name: str | None) -> ZoneInfo:
    try:
        return ZoneInfo(name or "UTC")
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ApiError(400, f"Invalid timeZone: {name!r}", fields=["timeZone"]) from exc


def iso_utc(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{ms % 1000:03d}Z"


def days_between(start_ms: int, end_ms: int) -> list[date]:
    """The UTC days touched by [start, end)."""
    first = datetime.fromtimestamp(start_ms / 1000, UTC).date()
    last = datetime.fromtimestamp((end_ms - 1) / 1000, UTC).date()
    return [first + timedelta(days=n) for n in range((last - first).days + 1)]


# --- filters on conversation columns -----------------------------------------------------------

Mask = Callable[[Synth, Block, int], np.ndarray]


def _value_mask(synth: Synth, block: Block, dimension: str, now: int) -> tuple[np.ndarray, list[str]] | None:
    """Per-conversation codes (-1 = absent) and their values for a dimension the generator models."""
    coded = synth.dimension_codes(block, dimension)
    if coded is not None:
        return coded[0], list(coded[1])
    return None


def _set_mask(block: Block, dimension: str, value: str | None, now: int) -> np.ndarray | None:
    """Dimensions whose values form a set per conversation (purpose, segmentType)."""
    if dimension == "purpose":
        present = {
            "customer": np.ones(block.n, bool), "outbound": block.outbound,
            "acd": block.connected, "agent": block.handled,
        }
    elif dimension == "segmentType":
        present = {
            "interact": np.ones(block.n, bool), "dialing": block.outbound,
            "contacting": block.outbound & block.connected, "alert": block.handled,
            "wrapup": block.handled, "hold": block.held,
        }
    else:
        return None
    if value is None:
        return np.ones(block.n, bool)
    return present.get(value, np.zeros(block.n, bool))


def _predicate(pred: QueryPredicate, allowed: frozenset[str], field_name: str) -> Mask:
    operator = pred.operator or "matches"
    kind = pred.type or ("metric" if pred.metric else "dimension")
    if kind == "metric" or pred.metric:
        name = pred.metric or ""
        rng = pred.range

        def metric_mask(synth: Synth, block: Block, now: int) -> np.ndarray:
            if name not in AGG_METRICS:  # a metric the generator does not emit: absent everywhere
                present, values = np.zeros(block.n, bool), np.zeros(block.n, np.int64)
            else:
                present, values = block.metric(name, now)
            if operator == "exists":
                return present
            if operator == "notExists":
                return ~present
            mask = present.copy()
            if rng is not None:
                for bound, op in ((rng.gt, np.greater), (rng.gte, np.greater_equal), (rng.lt, np.less), (rng.lte, np.less_equal)):
                    if bound is not None:
                        mask &= op(values, bound)
            elif pred.value is not None:
                mask &= values == float(pred.value)
            return mask

        return metric_mask
    if kind == "property":
        # Custom properties are not generated: a property is never present.
        return lambda synth, block, now: np.full(block.n, operator == "notExists")
    dimension = pred.dimension or ""
    if dimension not in allowed:
        raise ApiError(400, f"Invalid dimension {dimension!r} in {field_name}", fields=[f"{field_name}.dimension"])
    if operator == "matches" and pred.value is None:
        raise ApiError(400, f"A 'matches' predicate needs a value ({dimension})", fields=[f"{field_name}.value"])
    value = pred.value

    def dimension_mask(synth: Synth, block: Block, now: int) -> np.ndarray:
        if dimension == "conversationEnd":
            present = block.end <= now
            return present if operator != "notExists" else ~present
        if dimension == "conversationStart":
            return np.full(block.n, operator != "notExists")
        if dimension == "conversationId":
            ids = block_view(block).ids["conversation"]
            present = np.ones(block.n, bool)
            if operator == "matches":
                return np.array([cid == value for cid in ids], bool)
            return present if operator == "exists" else ~present
        sets = _set_mask(block, dimension, value if operator == "matches" else None, now)
        if sets is not None:
            return sets if operator != "notExists" else ~sets
        coded = _value_mask(synth, block, dimension, now)
        if coded is None:  # a dimension the generator never fills: absent on every conversation
            return np.full(block.n, operator == "notExists")
        codes, values = coded
        if operator == "exists":
            return codes >= 0
        if operator == "notExists":
            return codes < 0
        return codes == (values.index(value) if value in values else -2)

    return dimension_mask


def compile_filter(flt: QueryFilter | Any, allowed: frozenset[str], field_name: str) -> Mask:
    """An and/or filter with predicates and clauses as one mask function."""
    parts: list[Mask] = [_predicate(p, allowed, field_name) for p in flt.predicates or []]
    for clause in flt.clauses or []:
        inner = [_predicate(p, allowed, field_name) for p in clause.predicates]
        parts.append(_combine(clause.type, inner))
    return _combine(flt.type, parts)


def _combine(kind: str, parts: list[Mask]) -> Mask:
    if not parts:
        return lambda synth, block, now: np.ones(block.n, bool)

    def mask(synth: Synth, block: Block, now: int) -> np.ndarray:
        result = parts[0](synth, block, now)
        for part in parts[1:]:
            result = (result & part(synth, block, now)) if kind == "and" else (result | part(synth, block, now))
        return result

    return mask


def details_filter(query: ConversationQuery | AsyncConversationQuery) -> Mask:
    """All conversation and segment filters, ANDed (the platform ANDs separate filter entries)."""
    masks = [compile_filter(f, CONVERSATION_DIMENSIONS, "conversationFilters") for f in query.conversation_filters or []]
    masks += [compile_filter(f, SEGMENT_DIMENSIONS, "segmentFilters") for f in query.segment_filters or []]
    return _combine("and", masks)


# --- details: sync query -----------------------------------------------------------------------


@dataclass
class MatchIndex:
    """Matching conversations of a sync query: per (day, block) counts, or an explicit end-time order."""

    spans: list[tuple[date, int, int]]  # (day, block number, matches in block), in start order
    total: int
    by_end: np.ndarray | None = None  # rows (end ms, day ordinal, block, position) when ordered by end


def _block_matches(synth: Synth, block: Block, mask: Mask, now: int, lo: int, hi: int) -> np.ndarray:
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
            hits = _block_matches(synth, block, mask, now, lo, hi)
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
            hits = _block_matches(synth, block, mask, now, lo, hi)
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


@router.post("/api/v2/analytics/conversations/details/query")
async def details_query(request: Request) -> Response:
    query: ConversationQuery = parse_body(ConversationQuery, await json_body(request))
    paging = query.paging
    size, number = (paging.page_size, paging.page_number) if paging else (25, 1)
    if not 1 <= size <= DETAILS_MAX_PAGE_SIZE:
        raise ApiError(400, f"paging.pageSize must be between 1 and {DETAILS_MAX_PAGE_SIZE}", fields=["paging.pageSize"])
    if number < 1:
        raise ApiError(400, "paging.pageNumber must be 1 or more", fields=["paging.pageNumber"])
    if size * number > DETAILS_CEILING:
        raise ApiError(400, f"Pagination may not exceed {DETAILS_CEILING} results.", fields=["paging"])
    parse_interval(query.interval)
    state = analytics_state(request)
    now = now_ms(request)
    key = json.dumps(query.model_dump(mode="json", exclude={"paging"}, exclude_none=True), sort_keys=True)
    with state.lock:
        cached = state.queries.get(key)
    # The index of a query whose days are all closed never changes; open days are re-read.
    if cached is None or (cached[0] != now and not _closed(query.interval, now)):
        index = build_match_index(state.synth, query, now)
        with state.lock:
            state.queries[key] = (now, index)
            while len(state.queries) > 32:
                state.queries.popitem(last=False)
    else:
        index = cached[1]
    conversations = page_of(state.synth, query, index, (number - 1) * size, size, now)
    payload: dict[str, Any] = {"totalHits": index.total}
    if conversations:
        payload["conversations"] = conversations
    return respond(request, AnalyticsConversationQueryResponse, payload)


def _closed(interval: str, now: int) -> bool:
    _, end = parse_interval(interval)
    last_day_end = day_start_ms(days_between(*parse_interval(interval))[-1]) + DAY_MS
    return max(end, last_day_end) + MAX_CONVERSATION_MS <= now


# --- details: async jobs -----------------------------------------------------------------------


def _job_timing(request: Request, job_id: str) -> tuple[int, int, bool]:
    state = sandbox(request)
    now = now_ms(request)
    delay = JOB_PENDING_SECONDS + float(state.faults.job_delay_seconds())
    return now, now + int(delay * 1000), bool(state.faults.should_fail_job(job_id))


def job_state(job: Job, now: int) -> str:
    if job.cancelled:
        return "CANCELLED"
    if now < job.submitted_ms + int(JOB_QUEUED_SECONDS * 1000):
        return "QUEUED"
    if now < job.ready_after_ms:
        return "PENDING"
    if job.fails:
        return "FAILED"
    if now > job.ready_after_ms + JOB_RESULTS_DAYS * DAY_MS:
        return "EXPIRED"
    return "FULFILLED"


def job_status_payload(job: Job, now: int) -> dict[str, Any]:
    state = job_state(job, now)
    payload: dict[str, Any] = {"state": state, "submissionDate": iso_utc(job.submitted_ms)}
    if state in ("FULFILLED", "FAILED", "EXPIRED"):
        payload["completionDate"] = iso_utc(job.ready_after_ms)
        payload["expirationDate"] = iso_utc(job.ready_after_ms + JOB_RESULTS_DAYS * DAY_MS)
    if state == "FAILED":
        payload["errorMessage"] = "The analytics job failed; submit it again."
    return payload


def get_job(request: Request, job_id: str, kind: str) -> Job:
    job = analytics_state(request).jobs.get(job_id)
    if job is None or job.kind != kind:
        raise ApiError(404, f"Job {job_id} was not found.", entity_id=job_id)
    return job


def _fulfilled(job: Job, now: int) -> None:
    state = job_state(job, now)
    if state != "FULFILLED":
        raise ApiError(400, f"Job {job.id} is {state}; results are available once it is FULFILLED.", fields=["jobId"])


def data_availability_ms(request: Request) -> int:
    """Data older than this is in the datalake: an hour behind the clock, on the minute."""
    available = sandbox(request).clock.now() - DATA_AVAILABILITY_LAG
    return int(available.replace(second=0, microsecond=0).timestamp() * 1000)


@router.get("/api/v2/analytics/conversations/details/jobs/availability")
async def details_availability(request: Request) -> Response:
    return respond(request, DataAvailabilityResponse, {"dataAvailabilityDate": iso_utc(data_availability_ms(request))})


@router.post("/api/v2/analytics/conversations/details/jobs", status_code=202)
async def details_job_submit(request: Request) -> Response:
    body = await json_body(request)
    if isinstance(body, dict) and "paging" in body:
        raise ApiError(400, "paging is not supported by async jobs; results are paged with a cursor", fields=["paging"])
    query: AsyncConversationQuery = parse_body(AsyncConversationQuery, body)
    parse_interval(query.interval)
    details_filter(query)  # reject bad filters at submission, not at the first results page
    job_id = str(uuid.uuid4())
    submitted, ready, fails = _job_timing(request, job_id)
    analytics_state(request).jobs[job_id] = Job(job_id, "details", query, submitted, ready, fails)
    return respond(request, AsyncQueryResponse, {"jobId": job_id}, status=202)


@router.get("/api/v2/analytics/conversations/details/jobs/{job_id}")
async def details_job_status(request: Request, job_id: str) -> Response:
    job = get_job(request, job_id, "details")
    return respond(request, AsyncQueryStatus, job_status_payload(job, now_ms(request)))


@router.delete("/api/v2/analytics/conversations/details/jobs/{job_id}", status_code=204)
async def details_job_cancel(request: Request, job_id: str) -> Response:
    get_job(request, job_id, "details").cancelled = True
    return Response(status_code=204)


def _encode_cursor(position: tuple[int, ...]) -> str:
    """An opaque cursor: where the next page starts (day, block, position) and how many were served."""
    return base64.urlsafe_b64encode(":".join(str(p) for p in position).encode()).decode().rstrip("=")


def _decode_cursor(cursor: str) -> tuple[int, int, int, int]:
    try:
        text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        day, block, position, served = (int(x) for x in text.split(":"))
    except (ValueError, UnicodeDecodeError) as exc:
        raise ApiError(400, "Invalid cursor", fields=["cursor"]) from exc
    return day, block, position, served


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


@router.get("/api/v2/analytics/conversations/details/jobs/{job_id}/results")
async def details_job_results(request: Request, job_id: str, cursor: str | None = None, pageSize: int | None = None) -> Response:  # noqa: N803 - the API's query name
    job = get_job(request, job_id, "details")
    now = now_ms(request)
    _fulfilled(job, now)
    size = JOB_DEFAULT_PAGE_SIZE if pageSize is None else pageSize
    if not 1 <= size <= JOB_MAX_PAGE_SIZE:
        raise ApiError(400, f"pageSize must be between 1 and {JOB_MAX_PAGE_SIZE}", fields=["pageSize"])
    day, number, position, served = _decode_cursor(cursor) if cursor else (0, 0, 0, 0)
    query: AsyncConversationQuery = job.query
    if query.limit is not None:
        size = max(0, min(size, query.limit - served))
    synth = analytics_state(request).synth
    # Results are frozen at completion time: the job sees the data as it was when it finished.
    as_of = min(job.ready_after_ms, now)
    validate = bool(sandbox(request).config.self_validation)
    parts: list[Any] = []  # dicts to validate, or each conversation already encoded (the fast path)
    next_position: tuple[int, ...] | None = None
    if size:
        with _gc_paused():
            for block, index in iter_async_matches(synth, query, as_of, (day, number, position)):
                if len(parts) == size:
                    if query.limit is not None and served + size >= query.limit:
                        break  # the job's `limit` is reached: no cursor, the results end here
                    next_position = (block.day.toordinal(), block.first // BLOCK, index, served + size)
                    break
                conversation = conversation_dict(synth, block, index, as_of, with_attributes=True)
                parts.append(conversation if validate else _ENCODER.encode(conversation))
    payload: dict[str, Any] = {"dataAvailabilityDate": iso_utc(data_availability_ms(request))}
    if next_position is not None:
        payload["cursor"] = _encode_cursor(next_position)
    if validate:
        if parts:
            payload["conversations"] = parts
        return respond(request, AnalyticsConversationAsyncQueryResponse, payload)
    tail = _ENCODER.encode(payload)
    body = b'{"conversations":[' + b",".join(parts) + b"]," + tail[1:] if parts else tail
    return Response(body, media_type="application/json")


@contextmanager
def _gc_paused() -> Iterator[None]:
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


# --- aggregates --------------------------------------------------------------------------------

_CUBE_DIMENSIONS = {
    "outboundCampaignId", "outboundContactListId", "queueId", "mediaType", "wrapUpCode", "direction",
    "originatingDirection", "divisionId",
}


def _row_codes(synth: Synth, keys: dict[str, np.ndarray], dimension: str) -> tuple[np.ndarray, list[str]] | None:
    org = synth.org
    if dimension == "outboundCampaignId":
        return keys["campaign"], [c.id for c in org.campaigns]
    if dimension == "outboundContactListId":
        lists = sorted({c.contact_list_id for c in org.campaigns})
        mapping = np.array([lists.index(c.contact_list_id) for c in org.campaigns] or [0])
        return np.where(keys["campaign"] >= 0, mapping[np.maximum(keys["campaign"], 0)], -1), lists
    if dimension == "queueId":
        return keys["queue"], list(org.queue_ids)
    if dimension == "mediaType":
        return keys["media"], list(MEDIA_TYPES)
    if dimension == "wrapUpCode":
        return keys["wrapup"], list(org.wrapup_code_ids)
    if dimension in ("direction", "originatingDirection"):
        return keys["outbound"], ["inbound", "outbound"]
    if dimension == "divisionId":
        return np.zeros(len(keys["queue"]), np.int64), [org.division_id]
    return None


def _row_mask(synth: Synth, keys: dict[str, np.ndarray], flt: QueryFilter | None) -> np.ndarray:
    rows = len(keys["queue"])
    if flt is None:
        return np.ones(rows, bool)

    def predicate(pred: QueryPredicate) -> np.ndarray:
        operator = pred.operator or "matches"
        if (pred.type or "dimension") != "dimension" or pred.metric:
            raise ApiError(400, "Only dimension predicates are supported in aggregate filters", fields=["filter.predicates"])
        coded = _row_codes(synth, keys, pred.dimension or "")
        if coded is None:
            return np.full(rows, operator == "notExists")
        codes, values = coded
        if operator == "exists":
            return codes >= 0
        if operator == "notExists":
            return codes < 0
        return codes == (values.index(pred.value) if pred.value in values else -2)

    def combine(kind: str, masks: list[np.ndarray]) -> np.ndarray:
        if not masks:
            return np.ones(rows, bool)
        out = masks[0]
        for m in masks[1:]:
            out = out & m if kind == "and" else out | m
        return out

    parts = [predicate(p) for p in flt.predicates or []]
    parts += [combine(c.type, [predicate(p) for p in c.predicates]) for c in flt.clauses or []]
    return combine(flt.type, parts)


def _boundaries(start: int, end: int, granularity: str | None, zone: ZoneInfo) -> np.ndarray:
    """Granularity bucket edges (ms) from the interval start, stepped in local time, ending at ``end``."""
    if not granularity:
        return np.array([start, end], np.int64)
    days, ms = parse_granularity(granularity)
    edges = [start]
    local = datetime.fromtimestamp(start / 1000, UTC).astimezone(zone)
    step = 1
    while edges[-1] < end:
        if days:  # calendar steps in the query's time zone (a P1D across DST is 23 or 25 hours)
            nxt = (local.replace(tzinfo=None) + timedelta(days=days * step, milliseconds=ms * step)).replace(tzinfo=zone)
            edge = int(nxt.astimezone(UTC).timestamp() * 1000)
        else:
            edge = start + ms * step
        edges.append(min(edge, end))
        step += 1
        if len(edges) > 20_000:
            raise ApiError(400, "Too many intervals for the granularity", fields=["granularity"])
    return np.array(edges, np.int64)


def compute_aggregates(synth: Synth, query: ConversationAggregationQuery, now: int) -> list[dict[str, Any]]:
    start, end = parse_interval(query.interval)
    zone = _zone(query.time_zone)
    edges = _boundaries(start, end, query.granularity, zone)
    group_by = query.group_by or []
    for dimension in group_by:
        if dimension not in _CUBE_DIMENSIONS:
            raise ApiError(400, f"groupBy {dimension!r} is not supported by the sandbox", fields=["groupBy"])
    metrics = [m for m in query.metrics if m in AGG_METRICS]
    frames: list[tuple[dict[str, np.ndarray], dict[str, Any], np.ndarray]] = []
    for day in days_between(start, end):
        if day_start_ms(day) >= now:
            break
        cube = synth.day_cube(day, now)
        keys = cube["keys"]
        times = day_start_ms(day) + keys["bucket"] * BUCKET_MS
        keep = (times >= start) & (times < end) & _row_mask(synth, keys, query.filter)
        if keep.any():
            frames.append(({k: v[keep] for k, v in keys.items()}, {m: tuple(a[keep] for a in cube["metrics"][m]) for m in metrics if m in cube["metrics"]}, times[keep]))
    if not frames:
        return []
    keys = {k: np.concatenate([f[0][k] for f in frames]) for k in frames[0][0]}
    times = np.concatenate([f[2] for f in frames])
    slot = np.searchsorted(edges, times, side="right") - 1
    group_codes = [_row_codes(synth, keys, d) for d in group_by]
    stacked = np.stack([c[0] for c in group_codes] + [slot], axis=1) if group_codes else slot[:, None]
    uniq, inverse = np.unique(stacked, axis=0, return_inverse=True)
    inverse = inverse.ravel()
    size = len(uniq)
    stats: dict[str, tuple[np.ndarray, ...]] = {}
    for metric in metrics:
        pieces = [f[1].get(metric) for f in frames]
        if all(p is None for p in pieces):
            continue
        cols = [np.concatenate([p[k] if p is not None else np.zeros(len(f[2]), np.int64 if k != 1 else float) for p, f in zip(pieces, frames, strict=True)]) for k in range(4)]
        count, total, vmin, vmax = cols
        present = count > 0
        inv = inverse[present]
        agg_count = np.bincount(inv, weights=count[present], minlength=size).astype(np.int64)
        agg_sum = np.bincount(inv, weights=total[present], minlength=size)
        agg_min = np.full(size, np.iinfo(np.int64).max)
        agg_max = np.full(size, -1, np.int64)
        np.minimum.at(agg_min, inv, vmin[present])
        np.maximum.at(agg_max, inv, vmax[present])
        stats[metric] = (agg_count, agg_sum, agg_min, agg_max)
    results: dict[tuple[int, ...], dict[str, Any]] = {}
    for row, key in enumerate(uniq.tolist()):
        metric_data = []
        for metric in metrics:
            if metric not in stats or stats[metric][0][row] == 0:
                continue
            count, total, vmin, vmax = (s[row] for s in stats[metric])
            if metric.startswith("n"):
                metric_data.append({"metric": metric, "stats": {"count": int(count)}})
            else:
                metric_data.append({"metric": metric, "stats": {"max": float(vmax), "min": float(vmin), "count": int(count), "sum": float(total)}})
        if not metric_data:
            continue
        group_key = tuple(key[:-1])
        entry = results.get(group_key)
        if entry is None:
            group = {d: codes[1][code] for d, codes, code in zip(group_by, group_codes, key[:-1], strict=True) if code >= 0}
            entry = results[group_key] = {"group": group, "data": []} if group else {"data": []}
        slot_index = key[-1]
        entry["data"].append({"interval": f"{iso_utc(int(edges[slot_index]))}/{iso_utc(int(edges[slot_index + 1]))}", "metrics": metric_data})
    return list(results.values())


@router.post("/api/v2/analytics/conversations/aggregates/query")
async def aggregates_query(request: Request) -> Response:
    query = parse_body(ConversationAggregationQuery, await json_body(request))
    results = compute_aggregates(analytics_state(request).synth, query, now_ms(request))
    return respond(request, ConversationAggregateQueryResponse, {"results": results} if results else {})


@router.post("/api/v2/analytics/conversations/aggregates/jobs", status_code=202)
async def aggregates_job_submit(request: Request) -> Response:
    query = parse_body(ConversationAsyncAggregationQuery, await json_body(request))
    parse_interval(query.interval)
    job_id = str(uuid.uuid4())
    submitted, ready, fails = _job_timing(request, job_id)
    analytics_state(request).jobs[job_id] = Job(job_id, "aggregates", query, submitted, ready, fails)
    return respond(request, AsyncQueryResponse, {"jobId": job_id}, status=202)


@router.get("/api/v2/analytics/conversations/aggregates/jobs/{job_id}")
async def aggregates_job_status(request: Request, job_id: str) -> Response:
    job = get_job(request, job_id, "aggregates")
    return respond(request, AsyncQueryStatus, job_status_payload(job, now_ms(request)))


@router.delete("/api/v2/analytics/conversations/aggregates/jobs/{job_id}", status_code=204)
async def aggregates_job_cancel(request: Request, job_id: str) -> Response:
    get_job(request, job_id, "aggregates").cancelled = True
    return Response(status_code=204)


@router.get("/api/v2/analytics/conversations/aggregates/jobs/{job_id}/results")
async def aggregates_job_results(request: Request, job_id: str, cursor: str | None = None) -> Response:
    job = get_job(request, job_id, "aggregates")
    now = now_ms(request)
    _fulfilled(job, now)
    if job.results is None:
        job.results = compute_aggregates(analytics_state(request).synth, job.query, min(job.ready_after_ms, now))
    size = job.query.page_size or 100
    offset = _decode_cursor(cursor)[3] if cursor else 0
    page = job.results[offset : offset + size]
    payload: dict[str, Any] = {}
    if page:
        payload["results"] = page
    if offset + size < len(job.results):
        payload["cursor"] = _encode_cursor((0, 0, 0, offset + size))
    return respond(request, ConversationAsyncAggregateQueryResponse, payload)
