"""Create (or reuse) a reporting export in the worker, wait for it in the triggerer, optionally store its file.

Exports carry a caller-chosen ``name`` and the list endpoint shows them: before POSTing, the hook walks
the export list for an export with that name that is not FAILED, CANCELLED or
COMPLETED_WITH_PARTIAL_RESULTS and reuses it (:meth:`~genesys_cloud.hooks.exports.ExportVerbs.submit_reporting_export`).
A retry after a lost POST answer therefore finds the export the lost call created instead of creating a
second one. Make the name deterministic (pipeline + window + request digest). Partial results are never
reused: a re-run of a window that came back partial submits a new export under the same name, which later
lookups find instead. Exports cannot be deleted or cancelled through the API: ``on_kill`` only logs.
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from airflow.sdk import Context

from genesys_cloud.exceptions import GenesysJobError, GenesysValidationError
from genesys_cloud.hooks.exports import LIST_PAGE_SIZE, MAX_LIST_PAGES, export_outcome
from genesys_cloud.operators.base import (
    GenesysWaitingOperator,
    S3Destination,
    as_body,
    genesys_template_fields,
)
from genesys_cloud.triggers.reporting_export import ReportingExportTrigger, export_event


class GenesysReportingExportOperator(S3Destination, GenesysWaitingOperator):
    """Run a reporting export to its end; with ``s3_key``, store its file there (streamed, never in memory).

    Returns ``{"export_id", "status", "partial", "polls", "latency_s"}`` plus ``{"s3_key", "bytes",
    "sha256"}`` when stored, else ``download_url`` (the API's link, which needs the bearer token).
    ``partial`` is True for ``COMPLETED_WITH_PARTIAL_RESULTS``; FAILED/CANCELLED fail the task naming
    ``exportErrorMessagesType``. ``latency_s`` runs from this try's start to the final status.

    :param request: a ``ReportingExportJobRequest`` (dict or model) with a deterministic ``name`` (templated).
    :param s3_key: where to store the exported file (templated; None: do not download).
    :param s3_bucket: its bucket (templated; default ``GENESYS_BUCKET``).
    :param aws_conn_id: the object storage connection (default ``GENESYS_AWS_CONN_ID``).
    :param max_pages: safety cap of one walk of the export list (lookups otherwise read to ``pageCount``).
    :param page_size: export list page size.
    Plus the wait arguments (``deferrable``, ``poll_interval``, ``timeout``, ``max_poll_interval``).
    """

    template_fields: Sequence[str] = genesys_template_fields("request", "s3_key", "s3_bucket")
    template_fields_renderers = {"request": "json"}

    def __init__(
        self,
        *,
        request: dict[str, Any] | Any,
        s3_key: str | None = None,
        s3_bucket: str | None = None,
        aws_conn_id: str | None = None,
        max_pages: int = MAX_LIST_PAGES,
        page_size: int = LIST_PAGE_SIZE,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.request, self.max_pages, self.page_size = request, max_pages, page_size
        self.s3_key, self.s3_bucket, self.aws_conn_id = s3_key, s3_bucket, aws_conn_id

    def _body(self) -> dict[str, Any]:
        request = as_body(self.request)
        if not isinstance(request, dict) or not str(request.get("name") or "").strip():
            raise GenesysValidationError("the export request needs a deterministic, non-empty name")
        return request

    def execute(self, context: Context) -> dict[str, Any]:
        body = self._body()
        context["ti"].xcom_push(key="started_at", value=time.time())
        export = self.hook.submit_reporting_export(body, max_pages=self.max_pages, page_size=self.page_size)
        export_id = str(export["id"])
        self.log.info("Export %s named %r (status %s)", export_id, body["name"], export.get("status"))
        context["ti"].xcom_push(key="export_id", value=export_id)
        outcome, message = export_outcome(export_id, export)
        if outcome is not None:  # a reused export may already be final: nothing to wait for
            event = {"status": outcome, **export_event(export_id, export), "polls": 0}
            return self.execute_complete(context, {**event, "message": message} if message else event)
        trigger = ReportingExportTrigger(export_id=export_id, max_pages=self.max_pages, page_size=self.page_size,
                                         **self.trigger_timing())
        return self.wait_for(context, trigger)

    def execute_complete(self, context: Context, event: dict[str, Any] | None = None) -> dict[str, Any]:
        event = self.checked_event(event, "export_id")
        if event["status"] == "error":
            raise GenesysJobError(event.get("message") or f"reporting export {event['export_id']} failed")
        if event.get("partial"):
            self.log.warning("Export %s completed with partial results", event["export_id"])
        ti = context["ti"]
        started = ti.xcom_pull(task_ids=ti.task_id, key="started_at", map_indexes=ti.map_index)
        result: dict[str, Any] = {
            "export_id": event["export_id"],
            "status": event.get("export_status"),
            "partial": bool(event.get("partial")),
            "polls": int(event.get("polls") or 0),
            "latency_s": None if started is None else round(time.time() - float(started), 3),
        }
        if self.s3_key is None:
            from genesys_cloud.sinks.links import withhold_links

            # The return value goes to XCom: a presigned download link is withheld (pass s3_key to keep the file).
            return {**result, "download_url": withhold_links(event.get("download_url"))}
        return {**result, **self._store(event)}

    def _store(self, event: dict[str, Any]) -> dict[str, Any]:
        with tempfile.TemporaryDirectory(prefix="genesys-export-") as tmp:
            path = Path(tmp) / "export.csv"
            facts = self.hook.download_export({"id": event["export_id"], "downloadUrl": event.get("download_url")},
                                              path)
            self.store_file(str(self.s3_key), path, content_type="text/csv", sha256=facts["sha256"])
        return {"s3_key": str(self.s3_key), "bytes": facts["bytes"], "sha256": facts["sha256"]}

    def on_kill(self) -> None:
        # SDK 269.0.0 has no DELETE or cancel for reporting exports (genesys-api.md §3c).
        self.log.info("Reporting exports cannot be cancelled through the API; the export keeps running")
