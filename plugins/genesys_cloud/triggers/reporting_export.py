"""Poll a reporting export until it reaches a final status, in the triggerer.

There is no GET by id for exports (genesys-api.md §3c): the trigger pages
``GET /api/v2/analytics/reporting/exports`` only until it meets the export's id, at most ``max_pages`` pages
per poll. ``COMPLETED`` → success; ``COMPLETED_WITH_PARTIAL_RESULTS`` → success with ``partial: true``;
``FAILED``/``CANCELLED`` → error naming ``exportErrorMessagesType``. The event carries only non-secret
fields (no e-mail recipients, no token).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

from airflow.triggers.base import BaseTrigger, TriggerEvent

from genesys_cloud.exceptions import GenesysError
from genesys_cloud.triggers import _polling

EXPORTS_PATH = "/api/v2/analytics/reporting/exports"
SUCCESS_STATUSES = frozenset({"COMPLETED", "COMPLETED_WITH_PARTIAL_RESULTS"})
FAILURE_STATUSES = frozenset({"FAILED", "CANCELLED"})
#: A just-submitted export may lag in the listing; after this many polls without it, give up.
NOT_FOUND_LIMIT = 3


async def find_export(
    hook: Any,
    export_id: str | None = None,
    name: str | None = None,
    max_pages: int = 10,
    page_size: int = 100,
) -> dict[str, Any] | None:
    """The first listed export with this id (or name), reading at most ``max_pages`` pages, lazily."""
    from genesys_cloud.hooks import pagination

    for page in range(1, max_pages + 1):
        response = await hook.aget(EXPORTS_PATH, {"pageSize": page_size, "pageNumber": page})
        for export in pagination.listing_items(response):
            if (export_id and export.get("id") == export_id) or (name and export.get("name") == name):
                return export
        if not pagination.listing_has_next(response, page):
            return None
    return None


def export_outcome(export_id: str, export: dict[str, Any] | None) -> tuple[str | None, str | None]:
    """``(outcome, message)`` for one listed export: outcome "success", "error" or None (not final)."""
    status = (export or {}).get("status")
    if status in SUCCESS_STATUSES:
        return "success", None
    if status in FAILURE_STATUSES:
        reason = export.get("exportErrorMessagesType") or "no exportErrorMessagesType given"
        return "error", f"reporting export {export_id} {status}: {reason}"
    return None, None


def export_event(
    status: str, export_id: str, export: dict[str, Any] | None, polls: int, message: str | None = None
) -> dict[str, Any]:
    """The non-secret summary of an export that triggers yield and operators return."""
    export = export or {}
    payload: dict[str, Any] = {
        "status": status,
        "export_id": export_id,
        "export_status": export.get("status"),
        "download_url": export.get("downloadUrl"),
        "partial": export.get("status") == "COMPLETED_WITH_PARTIAL_RESULTS",
        "error_type": export.get("exportErrorMessagesType"),
        "polls": polls,
    }
    if message is not None:
        payload["message"] = message
    return payload


class ReportingExportTrigger(BaseTrigger):
    """Yields ``{"status": "success"|"error", "export_id", "export_status", "download_url", "partial",
    "error_type", "polls"}`` (+ ``message`` on errors)."""

    def __init__(
        self,
        conn_id: str,
        export_id: str,
        poll_interval: float = 15.0,
        timeout_seconds: float = 3600.0,
        max_pages: int = 10,
        max_poll_interval: float = 120.0,
        page_size: int = 100,
    ) -> None:
        super().__init__()
        self.conn_id = conn_id
        self.export_id = export_id
        self.poll_interval = float(poll_interval)
        self.timeout_seconds = float(timeout_seconds)
        self.max_pages = int(max_pages)
        self.max_poll_interval = float(max_poll_interval)
        self.page_size = int(page_size)

    def serialize(self) -> tuple[str, dict[str, Any]]:
        return (
            f"{type(self).__module__}.{type(self).__qualname__}",
            {
                "conn_id": self.conn_id,
                "export_id": self.export_id,
                "poll_interval": self.poll_interval,
                "timeout_seconds": self.timeout_seconds,
                "max_pages": self.max_pages,
                "max_poll_interval": self.max_poll_interval,
                "page_size": self.page_size,
            },
        )

    def _event(
        self, status: str, export: dict[str, Any] | None, polls: int, message: str | None = None
    ) -> TriggerEvent:
        return TriggerEvent(export_event(status, self.export_id, export, polls, message))

    async def run(self) -> AsyncIterator[TriggerEvent]:
        from genesys_cloud.hooks.genesys_cloud import GenesysCloudHook

        schedule = _polling.PollSchedule(self.poll_interval, self.max_poll_interval, self.timeout_seconds)
        export: dict[str, Any] | None = None
        missing = 0
        hook: GenesysCloudHook | None = None
        try:
            hook = await GenesysCloudHook.for_conn_id_async(self.conn_id)
            while True:
                export = await find_export(
                    hook, self.export_id, max_pages=self.max_pages, page_size=self.page_size
                )
                schedule.polls += 1
                status = (export or {}).get("status")
                outcome, message = export_outcome(self.export_id, export)
                if outcome is not None:
                    yield self._event(outcome, export, schedule.polls, message)
                    return
                missing = missing + 1 if export is None else 0
                if missing >= NOT_FOUND_LIMIT:
                    yield self._event(
                        "error",
                        None,
                        schedule.polls,
                        f"reporting export {self.export_id} not found in the first {self.max_pages} pages "
                        f"of the export list ({missing} polls)",
                    )
                    return
                if schedule.expired():
                    yield self._event(
                        "error",
                        export,
                        schedule.polls,
                        f"reporting export {self.export_id} still {status} after {self.timeout_seconds:.0f}s",
                    )
                    return
                self.log.info("Reporting export %s is %s (poll %d)", self.export_id, status, schedule.polls)
                await schedule.wait()
        except GenesysError as exc:
            yield self._event(
                "error", export, schedule.polls, f"polling reporting export {self.export_id} failed: {exc}"
            )
        finally:
            if hook is not None:
                await hook.aclose()
