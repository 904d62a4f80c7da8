"""Conversation details → object storage: the sync details query or the async details job, streamed.

Both ways give the same rows: ascending by ``conversationStart``, cut to the exact interval, a
conversation repeated across pages kept once. They stream page by page (fetched one page ahead of the
writer by a background thread) into chunk files on local disk (bounded memory), which are uploaded under
``s3_prefix``; XCom carries the keys and counts only.
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Iterable, Sequence
from contextlib import closing
from dataclasses import asdict
from pathlib import Path
from typing import Any, Literal

from airflow.sdk import Context

from genesys_cloud.exceptions import GenesysValidationError
from genesys_cloud.hooks.pagination import post_filter_interval, read_ahead
from genesys_cloud.operators.analytics_job import GenesysAnalyticsJobOperator
from genesys_cloud.operators.base import S3Destination, as_body, genesys_template_fields, logged_progress
from genesys_cloud.sinks.chunks import WriterFactory, resolve_writer

SYNC_PAGE_SIZE = 100
JOB_PAGE_SIZE = 1000  # cursor pages of job results: fewer round trips for large days


class GenesysConversationDetailsToS3Operator(S3Destination, GenesysAnalyticsJobOperator):
    """Extract a window's conversations into chunk files in S3; returns ``{"chunk_keys", "method", counts,
    "seconds", "job_id"}``.

    :param query: the sync ``ConversationQuery`` (dict or model; templated); its ``interval`` is the window.
    :param job_query: the ``AsyncConversationQuery`` for ``method="job"`` (templated).
    :param method: ``"sync"`` (details query, body paging) or ``"job"`` (async details job, submitted here,
        awaited in the triggerer, results read by cursor) (templated: a planning task may choose it).
    :param s3_bucket: destination bucket (templated; default ``GENESYS_BUCKET``).
    :param s3_prefix: destination prefix of the chunk files (templated).
    :param writer: chunk writer factory, a callable ``(directory) -> writer`` or ``"module:Class"``
        (default: gzip JSON lines, :class:`~genesys_cloud.sinks.chunks.JsonLinesChunkWriter`).
    :param aws_conn_id: the object storage connection (default ``GENESYS_AWS_CONN_ID``).
    Plus the wait arguments of :class:`GenesysAnalyticsJobOperator` (``deferrable``, ``timeout`` ...).
    """

    template_fields: Sequence[str] = genesys_template_fields("query", "job_query", "method", "s3_bucket",
                                                             "s3_prefix")
    template_fields_renderers = {"query": "json", "job_query": "json"}

    def __init__(
        self,
        *,
        query: dict[str, Any] | Any,
        s3_prefix: str,
        job_query: dict[str, Any] | Any | None = None,
        method: Literal["sync", "job"] | str = "sync",
        s3_bucket: str | None = None,
        writer: str | WriterFactory | None = None,
        aws_conn_id: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(query=query, job_kind="details", **kwargs)
        self.job_query, self.method, self.writer = job_query, method, writer
        self.s3_bucket, self.s3_prefix, self.aws_conn_id = s3_bucket, s3_prefix, aws_conn_id

    def execute(self, context: Context) -> dict[str, Any]:
        if self.method == "sync":
            return self._store(self.hook.iter_conversation_details(as_body(self.query), page_size=SYNC_PAGE_SIZE),
                               "sync", None, time.monotonic())
        if self.method != "job":
            raise GenesysValidationError(f"method must be 'sync' or 'job', got {self.method!r}")
        if not self.job_query:
            raise GenesysValidationError("method 'job' needs job_query")
        return self.wait_for(context, self.job_trigger(self.submit(context, self.job_query)))

    def execute_complete(self, context: Context, event: dict[str, Any] | None = None) -> dict[str, Any]:
        job = self.finished_job(event)
        # The job matches conversations with *activity* in the interval: cut to the exact window like the
        # sync path, so both give the same rows.
        rows = post_filter_interval(self.hook.iter_job_rows("details", job["job_id"], page_size=JOB_PAGE_SIZE),
                                    as_body(self.job_query)["interval"])
        result = self._store(rows, "job", job["job_id"], time.monotonic())
        self.forget_job(context)
        return result

    def _store(self, rows: Iterable[dict[str, Any]], method: str, job_id: str | None, started: float) -> dict[str, Any]:
        prefix = self.s3_prefix.rstrip("/") + "/"
        with tempfile.TemporaryDirectory(prefix="genesys-details-") as tmp:
            with closing(read_ahead(rows, JOB_PAGE_SIZE)) as ahead:
                items = logged_progress(ahead, self.log, f"conversations ({method})")
                stats = resolve_writer(self.writer)(Path(tmp)).add_all(items)
            keys = [self.store_file(f"{prefix}{Path(p).name}", p)["key"] for p in stats.paths]
        counts = {k: v for k, v in asdict(stats).items() if k != "paths"}
        self.log.info("Extracted %s with the %s method into %d chunk(s) under %s", counts, method, len(keys), prefix)
        return {"chunk_keys": keys, **counts, "method": method, "job_id": job_id,
                "seconds": round(time.monotonic() - started, 3)}
