"""Submit a reporting export in the worker (reusing one with the same name), poll it in the triggerer.

Exports carry a caller-chosen ``name``, and the list endpoint shows them: before POSTing, the operator
walks ``GET /api/v2/analytics/reporting/exports`` to its ``pageCount`` (exports are never deleted and the
order is undocumented; ``max_pages`` is only a generous safety cap) for an export with that name that is
not FAILED, CANCELLED or COMPLETED_WITH_PARTIAL_RESULTS and reuses it. Partial results are not reused: a
re-run of a window that came back partial submits a new export under the same name (names need not be
unique), which later lookups find instead of the partial one. A retry after a lost POST answer therefore finds the export
the lost call created instead of creating a second one. Make the name deterministic (pipeline + window),
e.g. ``"campaign_stats 2024-05-01"``. Exports cannot be deleted or cancelled through the API: ``on_kill``
only logs.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta
from typing import Any

from airflow.sdk import BaseOperator, Context

from genesys_cloud.config import settings
from genesys_cloud.exceptions import GenesysValidationError
from genesys_cloud.operators.analytics_job import DEFER_GRACE_SECONDS, GenesysJobError
from genesys_cloud.triggers import _polling
from genesys_cloud.triggers.reporting_export import (
    EXPORTS_PATH,
    MAX_LIST_PAGES,
    NOT_FOUND_LIMIT,
    ReportingExportTrigger,
    export_event,
    export_matcher,
    export_outcome,
    scan_page,
)


def find_export(
    hook: Any,
    *,
    export_id: str | None = None,
    name: str | None = None,
    max_pages: int = MAX_LIST_PAGES,
    page_size: int = 100,
) -> dict[str, Any] | None:
    """The first listed export with this id, or a reusable one with this name (not FAILED, CANCELLED or
    COMPLETED_WITH_PARTIAL_RESULTS); walks pages lazily up to ``pageCount``, capped at ``max_pages``
    (sync twin of the trigger's lookup)."""
    matches = export_matcher(export_id, name)
    page = 1
    while True:
        response = hook.get(EXPORTS_PATH, {"pageSize": page_size, "pageNumber": page})
        found, read_next = scan_page(response, page, matches, max_pages)
        if not read_next:
            return found
        page += 1


class GenesysReportingExportOperator(BaseOperator):
    """Create (or reuse) a reporting export and wait for it.

    Returns ``{"export_id", "status", "download_url", "partial", "polls"}``; ``partial`` is True for
    ``COMPLETED_WITH_PARTIAL_RESULTS``. FAILED/CANCELLED fail the task naming ``exportErrorMessagesType``.

    :param request: a ``ReportingExportJobRequest`` (dict or model) with a deterministic ``name``; templated.
    :param max_pages: safety cap of one walk of the export list (lookups otherwise read to ``pageCount``).
    """

    template_fields: Sequence[str] = ("request", "genesys_cloud_conn_id")
    template_fields_renderers = {"request": "json"}
    ui_color = "#ff4f1f"

    def __init__(
        self,
        *,
        request: dict[str, Any] | Any,
        genesys_cloud_conn_id: str = "genesys_cloud_default",
        deferrable: bool = True,
        poll_interval: float | None = None,
        timeout: float = 3600.0,
        max_poll_interval: float = 120.0,
        max_pages: int = MAX_LIST_PAGES,
        page_size: int = 100,
        **kwargs: Any,
    ) -> None:
        kwargs.setdefault("pool", settings().api_pool)
        super().__init__(**kwargs)
        self.request = request
        self.genesys_cloud_conn_id = genesys_cloud_conn_id
        self.deferrable = deferrable
        self.poll_interval = poll_interval
        self.timeout = timeout
        self.max_poll_interval = max_poll_interval
        self.max_pages = max_pages
        self.page_size = page_size

    def _hook(self):
        from genesys_cloud.hooks.genesys_cloud import GenesysCloudHook

        return GenesysCloudHook(genesys_cloud_conn_id=self.genesys_cloud_conn_id)

    def _body(self) -> dict[str, Any]:
        request = self.request
        if hasattr(request, "model_dump"):
            request = request.model_dump(by_alias=True, exclude_none=True, mode="json")
        if not isinstance(request, dict) or not str(request.get("name") or "").strip():
            raise GenesysValidationError("the export request needs a deterministic, non-empty name")
        return request

    def _interval(self) -> float:
        return self.poll_interval if self.poll_interval is not None else settings().poll_interval

    def execute(self, context: Context) -> dict[str, Any]:
        body = self._body()
        with self._hook() as hook:
            return self._execute(context, hook, body)

    def _execute(self, context: Context, hook: Any, body: dict[str, Any]) -> dict[str, Any]:
        # Look for an export with this deterministic name before every POST (a lost answer, a 429 or a 5xx
        # is followed by another look, never by a blind second POST).
        export = hook.create_idempotent(
            EXPORTS_PATH,
            body,
            lambda: find_export(hook, name=body["name"], max_pages=self.max_pages, page_size=self.page_size),
        ) or {}
        self.log.info("Export %s named %r (status %s)", export.get("id"), body["name"], export.get("status"))
        export_id = export.get("id")
        if not export_id:
            raise GenesysJobError(f"POST {EXPORTS_PATH} answered without an id")
        context["ti"].xcom_push(key="export_id", value=export_id)

        outcome, message = export_outcome(export_id, export)
        if outcome is not None:  # a reused export may already be final: nothing to wait for
            return self.execute_complete(context, export_event(outcome, export_id, export, 0, message))
        if self.deferrable:
            self.defer(
                trigger=ReportingExportTrigger(
                    conn_id=self.genesys_cloud_conn_id,
                    export_id=export_id,
                    poll_interval=self._interval(),
                    timeout_seconds=self.timeout,
                    max_pages=self.max_pages,
                    max_poll_interval=self.max_poll_interval,
                    page_size=self.page_size,
                ),
                method_name="execute_complete",
                timeout=timedelta(seconds=self.timeout + DEFER_GRACE_SECONDS),
            )
        return self.execute_complete(context, self._poll_in_worker(hook, export_id))

    def _poll_in_worker(self, hook: Any, export_id: str) -> dict[str, Any]:
        """Non-deferrable mode: the trigger's schedule and outcomes, with the hook's sync API."""
        schedule = _polling.PollSchedule(self._interval(), self.max_poll_interval, self.timeout)
        missing = 0
        while True:
            schedule.polls += 1
            export = find_export(
                hook, export_id=export_id, max_pages=self.max_pages, page_size=self.page_size
            )
            outcome, message = export_outcome(export_id, export)
            if outcome is not None:
                return export_event(outcome, export_id, export, schedule.polls, message)
            missing = missing + 1 if export is None else 0
            if missing >= NOT_FOUND_LIMIT:
                return export_event(
                    "error",
                    export_id,
                    None,
                    schedule.polls,
                    f"reporting export {export_id} not found in the export list "
                    f"(walked to its last page or the {self.max_pages}-page cap)",
                )
            if schedule.expired():
                status = (export or {}).get("status")
                return export_event(
                    "error",
                    export_id,
                    export,
                    schedule.polls,
                    f"reporting export {export_id} still {status} after {self.timeout:.0f}s",
                )
            schedule.wait_sync()

    def execute_complete(self, context: Context, event: dict[str, Any] | None = None) -> dict[str, Any]:
        if (
            not isinstance(event, dict)
            or event.get("status") not in ("success", "error")
            or not event.get("export_id")
        ):
            raise GenesysJobError(f"unusable trigger event: {event!r}")
        if event["status"] == "error":
            raise GenesysJobError(event.get("message") or f"reporting export {event['export_id']} failed")
        if event.get("partial"):
            self.log.warning("Export %s completed with partial results", event["export_id"])
        return {
            "export_id": event["export_id"],
            "status": event.get("export_status"),
            "download_url": event.get("download_url"),
            "partial": bool(event.get("partial")),
            "polls": int(event.get("polls") or 0),
        }

    def on_kill(self) -> None:
        # SDK 269.0.0 has no DELETE or cancel for reporting exports (genesys-api.md §3c).
        self.log.info("Reporting exports cannot be cancelled through the API; the export keeps running")
