"""Conversation analytics routes: aggregates query and jobs, details query and async details jobs.

A thin HTTP layer: request validation, job bookkeeping and response encoding. The query engine
lives in ``analytics_time`` (intervals, granularity), ``analytics_filters`` (predicates → masks),
``analytics_details`` (matching, ordering, paging), ``analytics_aggregates`` (bucketing) and
``analytics_jobs`` (async lifecycle); everything is computed from :mod:`genesys_sandbox.synth`, so
aggregates equal the sum over details.
"""

from __future__ import annotations

import json
import uuid
from datetime import timedelta
from typing import Any

import msgspec
from fastapi import APIRouter, Request, Response
from pydantic import BaseModel, ValidationError

from genesys_pipelines.models.analytics import (
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
)
from genesys_pipelines.models.common import Limit, StrictValidationError, strict_validate
from genesys_pipelines.models.limits import (
    AGGREGATES_JOB_DAYS,
    AGGREGATES_QUERY_DAYS,
    DETAILS_FILTERED_DAYS,
    DETAILS_JOB_DAYS,
    IntervalLimit,
    details_interval_limit,
)
from genesys_sandbox.analytics_aggregates import check_aggregation_query, compute_aggregates
from genesys_sandbox.analytics_details import cached_match_index, job_results_page, page_of
from genesys_sandbox.analytics_filters import details_filter
from genesys_sandbox.analytics_jobs import (
    AnalyticsState,
    Job,
    decode_cursor,
    encode_cursor,
    job_status_payload,
    new_job,
    require_fulfilled,
)
from genesys_sandbox.analytics_time import iso_utc, parse_interval
from genesys_sandbox.errors import ApiError
from genesys_sandbox.synth import Synth, synth_org_from

router = APIRouter()
_ENCODER = msgspec.json.Encoder()

DETAILS_CEILING = 100_000
DETAILS_MAX_PAGE_SIZE = 200  # the Genesys blog's maximum ([confirm live] in genesys-api.md §7)
JOB_MAX_PAGE_SIZE = 10_000
JOB_DEFAULT_PAGE_SIZE = 1_000
# Data lands in the "datalake" this long after it happens (the availability endpoint).
DATA_AVAILABILITY_LAG = timedelta(hours=1)


# --- request helpers (shared with routes_exports) ----------------------------------------------


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


def note_interval(request: Request, body: Any) -> None:
    """Put the body's ``interval`` into the request journal (``GET /_sandbox/requests``)."""
    if isinstance(body, dict) and isinstance(body.get("interval"), str):
        request.state.journal_note = {"interval": body["interval"]}


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


# --- jobs -------------------------------------------------------------------------------------


def submit_job(request: Request, kind: str, query: Any) -> Response:
    """Register a job that completes ``--job-seconds`` (+ ``slow_jobs``) after now; 202 with its id."""
    state = sandbox(request)
    job_id = str(uuid.uuid4())
    job = new_job(
        job_id, kind, query, now_ms(request), float(state.config.job_seconds),
        float(state.faults.job_delay_seconds()), bool(state.faults.should_fail_job(job_id)),
    )
    analytics_state(request).jobs[job_id] = job
    return respond(request, AsyncQueryResponse, {"jobId": job_id}, status=202)


def get_job(request: Request, job_id: str, kind: str) -> Job:
    job = analytics_state(request).jobs.get(job_id)
    if job is None or job.kind != kind:
        raise ApiError(404, f"Job {job_id} was not found.", entity_id=job_id)
    return job


def data_availability_ms(request: Request) -> int:
    """Data older than this is in the datalake: an hour behind the clock, on the minute."""
    state = sandbox(request)
    # ``POST /_sandbox/data_availability`` may set another lag (a lagging data lake); reset restores it.
    available = state.clock.now() - state.extensions.get("data_availability_lag", DATA_AVAILABILITY_LAG)
    return int(available.replace(second=0, microsecond=0).timestamp() * 1000)


# --- details ----------------------------------------------------------------------------------


def check_interval_limit(limit: IntervalLimit, interval: str, what: str) -> None:
    """Refuse an interval longer than ``limit`` (the value the limits namespace publishes): 400 with
    ``limit{key, namespace, value}``."""
    start, end = parse_interval(interval)
    if end - start > limit.default_days * 86_400_000:
        raise ApiError(
            400,
            f"The interval {interval} is longer than the maximum of {limit.default_days} days for {what}.",
            fields=["interval"],
            limit=Limit(key=limit.key, namespace=limit.namespace, value=limit.default_days),
        )


def check_details_interval(body: dict[str, Any], interval: str) -> None:
    """Refuse an interval longer than the documented limit: 7 days unfiltered, 31 with a filter."""
    limit = details_interval_limit(body)
    filtered = "with filters" if limit is DETAILS_FILTERED_DAYS else "without filters"
    check_interval_limit(limit, interval, f"a conversation details query {filtered}")



@router.post("/api/v2/analytics/conversations/details/query")
async def details_query(request: Request) -> Response:
    body = await json_body(request)
    note_interval(request, body)
    query: ConversationQuery = parse_body(ConversationQuery, body)
    paging = query.paging
    size, number = (paging.page_size, paging.page_number) if paging else (25, 1)
    if not 1 <= size <= DETAILS_MAX_PAGE_SIZE:
        raise ApiError(400, f"paging.pageSize must be between 1 and {DETAILS_MAX_PAGE_SIZE}", fields=["paging.pageSize"])
    if number < 1:
        raise ApiError(400, "paging.pageNumber must be 1 or more", fields=["paging.pageNumber"])
    if size * number > DETAILS_CEILING:
        raise ApiError(400, f"Pagination may not exceed {DETAILS_CEILING} results.", fields=["paging"])
    check_details_interval(body, query.interval)
    state = analytics_state(request)
    now = now_ms(request)
    index = cached_match_index(state, query, now)
    conversations = page_of(state.synth, query, index, (number - 1) * size, size, now)
    payload: dict[str, Any] = {"totalHits": index.total}
    if conversations:
        payload["conversations"] = conversations
    return respond(request, AnalyticsConversationQueryResponse, payload)


@router.get("/api/v2/analytics/conversations/details/jobs/availability")
async def details_availability(request: Request) -> Response:
    return respond(request, DataAvailabilityResponse, {"dataAvailabilityDate": iso_utc(data_availability_ms(request))})


@router.post("/api/v2/analytics/conversations/details/jobs", status_code=202)
async def details_job_submit(request: Request) -> Response:
    body = await json_body(request)
    note_interval(request, body)
    if isinstance(body, dict) and "paging" in body:
        raise ApiError(400, "paging is not supported by async jobs; results are paged with a cursor", fields=["paging"])
    query: AsyncConversationQuery = parse_body(AsyncConversationQuery, body)
    check_interval_limit(DETAILS_JOB_DAYS, query.interval, "a conversation details job")
    details_filter(query)  # reject bad filters at submission, not at the first results page
    return submit_job(request, "details", query)


@router.get("/api/v2/analytics/conversations/details/jobs/{job_id}")
async def details_job_status(request: Request, job_id: str) -> Response:
    job = get_job(request, job_id, "details")
    return respond(request, AsyncQueryStatus, job_status_payload(job, now_ms(request)))


@router.delete("/api/v2/analytics/conversations/details/jobs/{job_id}", status_code=204)
async def details_job_cancel(request: Request, job_id: str) -> Response:
    get_job(request, job_id, "details").cancelled = True
    return Response(status_code=204)


@router.get("/api/v2/analytics/conversations/details/jobs/{job_id}/results")
async def details_job_results(request: Request, job_id: str, cursor: str | None = None, pageSize: int | None = None) -> Response:  # noqa: N803 - the API's query name
    job = get_job(request, job_id, "details")
    now = now_ms(request)
    require_fulfilled(job, now)
    size = JOB_DEFAULT_PAGE_SIZE if pageSize is None else pageSize
    if not 1 <= size <= JOB_MAX_PAGE_SIZE:
        raise ApiError(400, f"pageSize must be between 1 and {JOB_MAX_PAGE_SIZE}", fields=["pageSize"])
    start_at = decode_cursor(cursor) if cursor else (0, 0, 0, 0)
    query: AsyncConversationQuery = job.query
    if query.limit is not None:
        size = max(0, min(size, query.limit - start_at[3]))
    synth = analytics_state(request).synth
    # Results are frozen at completion time: the job sees the data as it was when it finished.
    as_of = min(job.ready_after_ms, now)
    validate = bool(sandbox(request).config.self_validation)
    parts, next_position = job_results_page(synth, query, as_of, start_at, size, encode=not validate)
    payload: dict[str, Any] = {"dataAvailabilityDate": iso_utc(data_availability_ms(request))}
    if next_position is not None:
        payload["cursor"] = encode_cursor(next_position)
    if validate:
        if parts:
            payload["conversations"] = parts
        return respond(request, AnalyticsConversationAsyncQueryResponse, payload)
    # The fast path: splice the pre-encoded conversations into the envelope.
    tail = _ENCODER.encode(payload)
    body = b"".join((b'{"conversations":[', b",".join(parts), b"],", tail[1:])) if parts else tail
    return Response(body, media_type="application/json")


# --- aggregates -------------------------------------------------------------------------------


@router.post("/api/v2/analytics/conversations/aggregates/query")
async def aggregates_query(request: Request) -> Response:
    body = await json_body(request)
    note_interval(request, body)
    query = parse_body(ConversationAggregationQuery, body)
    check_interval_limit(AGGREGATES_QUERY_DAYS, query.interval, "a conversation aggregates query")
    results = compute_aggregates(analytics_state(request).synth, query, now_ms(request))
    return respond(request, ConversationAggregateQueryResponse, {"results": results} if results else {})


@router.post("/api/v2/analytics/conversations/aggregates/jobs", status_code=202)
async def aggregates_job_submit(request: Request) -> Response:
    body = await json_body(request)
    note_interval(request, body)
    query = parse_body(ConversationAsyncAggregationQuery, body)
    check_interval_limit(AGGREGATES_JOB_DAYS, query.interval, "a conversation aggregates job")
    check_aggregation_query(query)
    return submit_job(request, "aggregates", query)


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
    require_fulfilled(job, now)
    if job.results is None:
        job.results = compute_aggregates(analytics_state(request).synth, job.query, min(job.ready_after_ms, now))
    size = job.query.page_size or 100
    offset = decode_cursor(cursor)[3] if cursor else 0
    page = job.results[offset : offset + size]
    payload: dict[str, Any] = {}
    if page:
        payload["results"] = page
    if offset + size < len(job.results):
        payload["cursor"] = encode_cursor((0, 0, 0, offset + size))
    return respond(request, ConversationAsyncAggregateQueryResponse, payload)
