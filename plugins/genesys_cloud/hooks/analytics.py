"""Analytics resource verbs: aggregates, conversation details (sync query and async jobs; genesys-api.md §3a/b).

Entity-like answers (query responses, job status, availability) come back as the shared API models,
checked on the way in. Conversations themselves stay plain dicts decoded by msgspec: a job result page
holds up to 10,000 of them, and they are the pipelines' hottest path (validating each with pydantic
would cost more than the rest of the extraction).
"""

from __future__ import annotations

import copy
from collections.abc import AsyncIterator, Iterator, Mapping
from datetime import datetime
from typing import Any, Literal

from genesys_cloud.exceptions import GenesysBadRequestError, GenesysJobError, GenesysPayloadError
from genesys_cloud.hooks import limits, pagination, paths
from genesys_cloud.hooks.paths import api_path
from genesys_cloud.hooks.policy import as_model
from genesys_pipelines.models.analytics import (
    AsyncQueryResponse,
    AsyncQueryStatus,
    ConversationAggregateQueryResponse,
    DataAvailabilityResponse,
)
from genesys_pipelines.models.limits import (
    AGGREGATES_JOB_DAYS,
    AGGREGATES_QUERY_DAYS,
    DETAILS_JOB_DAYS,
    details_interval_limit,
)

JobKind = Literal["details", "aggregates"]
#: The two async job collections; a job's path is built from one of these constants and its id.
JOB_COLLECTIONS: dict[str, str] = {"details": paths.DETAILS_JOBS, "aggregates": paths.AGGREGATES_JOBS}
#: The interval limit of each job kind (genesys_pipelines.models.limits).
JOB_LIMITS = {"details": DETAILS_JOB_DAYS, "aggregates": AGGREGATES_JOB_DAYS}
SUCCESS_STATES = frozenset({"FULFILLED"})
FAILURE_STATES = frozenset({"FAILED", "CANCELLED", "EXPIRED"})
RUNNING_STATES = frozenset({"QUEUED", "PENDING"})


def _body(query: Any) -> Any:
    return query.to_api() if hasattr(query, "to_api") else query


def job_collection(kind: str) -> str:
    if kind not in JOB_COLLECTIONS:
        from genesys_cloud.exceptions import GenesysValidationError

        raise GenesysValidationError(f"job_kind must be one of {sorted(JOB_COLLECTIONS)}, got {kind!r}")
    return JOB_COLLECTIONS[kind]


class AnalyticsVerbs:
    """Mixed into the hook (``self`` has ``query``/``get``/``create``/``delete`` and their async twins)."""

    # -- aggregates ------------------------------------------------------------------------------------
    def aggregates_query(self, query: Any) -> ConversationAggregateQueryResponse:
        """``POST …/aggregates/query`` (a read: retried), checked against the response model."""
        body = _body(query)
        limits.check_interval(self, AGGREGATES_QUERY_DAYS, body, f"POST {paths.AGGREGATES_QUERY}")
        answer = self.query(paths.AGGREGATES_QUERY, body)
        return as_model(ConversationAggregateQueryResponse, answer or {}, "aggregates query response")

    # -- details: sync query ------------------------------------------------------------------------------
    def details_total_hits(self, query: Mapping[str, Any], interval: str) -> int:
        """``totalHits`` of the details query over ``interval`` (a 1-row probe page)."""
        body = copy.deepcopy(dict(_body(query)))
        body.update(interval=interval, paging={"pageSize": 1, "pageNumber": 1})
        answer = self.query(paths.DETAILS_QUERY, body) or {}
        return int(answer.get("totalHits") or 0)

    def details_probe(self, body: Mapping[str, Any]) -> dict[str, Any]:
        """One page of the sync details query as sent (a read: retried); the raw answer. The restatement
        fingerprint sends ``pageSize 1`` ordered by ``conversationEnd`` (see ``restatement.fingerprint``)."""
        answer = self.query(paths.DETAILS_QUERY, dict(_body(body)))
        return answer if isinstance(answer, dict) else {}

    def iter_conversation_details(self, query: Any, page_size: int = 100) -> Iterator[dict[str, Any]]:
        """Lazily yield the conversations of a sync details query (see :class:`pagination.DetailsPager`):
        ascending by ``conversationStart``, duplicates across page boundaries dropped, split by UTC day
        over the 100,000 ceiling (GenesysCeilingError for a day still over it), exact-interval rows only.
        A window longer than the interval limit (31 days with a filter, 7 without, or the org's published
        values) goes out as several queries cut at UTC midnights."""
        body = _body(query)
        max_days = limits.interval_limit_days(self, details_interval_limit(body))
        pager = pagination.DetailsPager(body, page_size, max_days=max_days)
        while (body := pager.next_body()) is not None:
            try:
                response = self.query(paths.DETAILS_QUERY, body)
            except GenesysBadRequestError as exc:
                ceiling = pagination.ceiling_error_from(pager, exc)
                if ceiling is None:
                    raise
                raise ceiling from exc
            yield from pager.accept(response)

    async def aiter_conversation_details(self, query: Any, page_size: int = 100) -> AsyncIterator[dict[str, Any]]:
        body = _body(query)
        max_days = await limits.ainterval_limit_days(self, details_interval_limit(body))
        pager = pagination.DetailsPager(body, page_size, max_days=max_days)
        while (body := pager.next_body()) is not None:
            try:
                response = await self.aquery(paths.DETAILS_QUERY, body)
            except GenesysBadRequestError as exc:
                ceiling = pagination.ceiling_error_from(pager, exc)
                if ceiling is None:
                    raise
                raise ceiling from exc
            for row in pager.accept(response):
                yield row

    # -- async jobs ----------------------------------------------------------------------------------------
    def details_job_availability(self) -> datetime:
        """``dataAvailabilityDate``: data before it is guaranteed to be in the datalake."""
        body = self.get(paths.DETAILS_JOBS_AVAILABILITY)
        if not isinstance(body, dict) or not body.get("dataAvailabilityDate"):
            raise GenesysPayloadError("details job availability: the answer has no dataAvailabilityDate",
                                      endpoint=f"GET {paths.DETAILS_JOBS_AVAILABILITY}")
        return as_model(DataAvailabilityResponse, body, "details job availability").data_availability_date

    def submit_job(self, kind: JobKind, query: Any) -> str:
        """POST the job once (never retried blindly: a lost answer may have created it); its ``jobId``."""
        collection, body = job_collection(kind), _body(query)  # an unknown kind is refused first
        limits.check_interval(self, JOB_LIMITS[kind], body, f"POST {collection}")
        answer = self.create(collection, body)
        if not isinstance(answer, dict) or not answer.get("jobId"):
            raise GenesysJobError(f"POST {job_collection(kind)} answered without a jobId")
        return as_model(AsyncQueryResponse, answer, "job submission").job_id

    def job_status(self, kind: JobKind, job_id: str) -> AsyncQueryStatus:
        body = self.get(api_path(paths.JOB, jobs=job_collection(kind), job_id=job_id))
        return as_model(AsyncQueryStatus, body, f"status of {kind} job {job_id}")

    async def ajob_status(self, kind: JobKind, job_id: str) -> AsyncQueryStatus:
        body = await self.aget(api_path(paths.JOB, jobs=job_collection(kind), job_id=job_id))
        return as_model(AsyncQueryStatus, body, f"status of {kind} job {job_id}")

    def cancel_job(self, kind: JobKind, job_id: str) -> None:
        self.delete(api_path(paths.JOB, jobs=job_collection(kind), job_id=job_id))

    async def acancel_job(self, kind: JobKind, job_id: str) -> None:
        await self.adelete(api_path(paths.JOB, jobs=job_collection(kind), job_id=job_id))

    def iter_job_rows(self, kind: JobKind, job_id: str, page_size: int | None = None) -> Iterator[dict[str, Any]]:
        """A finished job's rows (``conversations`` or ``results``), page by page along ``cursor``."""
        return self.iter_job_results(api_path(paths.JOB_RESULTS, jobs=job_collection(kind), job_id=job_id),
                                     page_size)

    def iter_job_results(self, results_path: str, page_size: int | None = None) -> Iterator[dict[str, Any]]:
        """Lazily yield the rows of a job results path, following ``cursor``."""
        pager = pagination.CursorPager(page_size)
        while (params := pager.next_params()) is not None:
            yield from pager.accept(self.get(results_path, params or None))

    async def aiter_job_results(self, results_path: str, page_size: int | None = None) -> AsyncIterator[dict[str, Any]]:
        pager = pagination.CursorPager(page_size)
        while (params := pager.next_params()) is not None:
            for row in pager.accept(await self.aget(results_path, params or None)):
                yield row


def job_outcome(job_id: str, status: AsyncQueryStatus | None) -> tuple[str | None, str | None, str | None]:
    """``(outcome, state, message)`` of one status answer: outcome is "success", "error" or None (running)."""
    state = status.state if status is not None else None
    if state in SUCCESS_STATES:
        return "success", state, None
    if state in FAILURE_STATES:
        reason = (status.error_message if status else None) or "no errorMessage given"
        return "error", state, f"analytics job {job_id} ended {state}: {reason}"
    return None, state, None
