"""Poll a reporting export until it reaches a final status, in the triggerer.

There is no GET by id for exports (genesys-api.md §3c): the trigger pages
``GET /api/v2/analytics/reporting/exports`` until it meets the export's id or reaches ``pageCount``. Exports
cannot be deleted, so the list only grows, and its sort order is not documented: the walk is bounded only
by a generous safety cap (``max_pages``, default :data:`MAX_LIST_PAGES`), with a warning once it passes
:data:`WARN_LIST_PAGES` pages. ``COMPLETED`` → success; ``COMPLETED_WITH_PARTIAL_RESULTS`` → success with ``partial: true``;
``FAILED``/``CANCELLED`` → error naming ``exportErrorMessagesType``. The event carries only non-secret
fields (no e-mail recipients, no token).
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable
from typing import Any

from airflow.triggers.base import BaseTrigger, TriggerEvent

from genesys_cloud.exceptions import GenesysError
from genesys_cloud.triggers import _polling

EXPORTS_PATH = "/api/v2/analytics/reporting/exports"
SUCCESS_STATUSES = frozenset({"COMPLETED", "COMPLETED_WITH_PARTIAL_RESULTS"})
FAILURE_STATUSES = frozenset({"FAILED", "CANCELLED"})
#: Partial results are final for polling but never reused by name: a re-run must get the whole window.
NOT_REUSABLE_STATUSES = FAILURE_STATUSES | {"COMPLETED_WITH_PARTIAL_RESULTS"}
#: A just-submitted export may lag in the listing; after this many polls without it, give up.
NOT_FOUND_LIMIT = 3
#: Safety cap of one walk of the export list (200 x 100 = 20,000 exports): only a runaway list reaches it.
MAX_LIST_PAGES = 200
#: A walk this deep is worth a warning: every lookup (and every poll) pays one request per page.
WARN_LIST_PAGES = 50

log = logging.getLogger(__name__)


def export_matcher(export_id: str | None = None, name: str | None = None) -> Callable[[dict[str, Any]], bool]:
    """By id: that export, whatever its status. By name: one that may be reused (not FAILED, CANCELLED
    or COMPLETED_WITH_PARTIAL_RESULTS)."""
    if export_id is not None:
        return lambda export: export.get("id") == export_id
    if not name:
        raise ValueError("find an export by export_id or by name")
    return lambda export: export.get("name") == name and export.get("status") not in NOT_REUSABLE_STATUSES


def scan_page(
    response: Any, page: int, matches: Callable[[dict[str, Any]], bool], max_pages: int
) -> tuple[dict[str, Any] | None, bool]:
    """One page of the walk, free of IO (shared by the sync and async lookups): ``(match, read_next)``.

    The walk goes on while the listing has a next page (``pageNumber < pageCount``, else ``nextUri``) and
    stops, with a warning, at the ``max_pages`` safety cap."""
    from genesys_cloud.hooks import pagination

    found = next((e for e in pagination.listing_items(response) if matches(e)), None)
    if found is not None or not pagination.listing_has_next(response, page):
        return found, False
    if page >= max_pages:
        log.warning(
            "Stopped reading %s at the safety cap of %d pages (pageCount %s): an export further down is "
            "not seen",
            EXPORTS_PATH,
            max_pages,
            pagination.listing_page_count(response),
        )
        return None, False
    if page == WARN_LIST_PAGES:
        log.warning(
            "Reading past page %d of %s (pageCount %s): each lookup costs one request per page",
            WARN_LIST_PAGES,
            EXPORTS_PATH,
            pagination.listing_page_count(response),
        )
    return None, True


async def find_export(
    hook: Any,
    export_id: str | None = None,
    name: str | None = None,
    max_pages: int = MAX_LIST_PAGES,
    page_size: int = 100,
) -> dict[str, Any] | None:
    """The first listed export with this id (or a reusable one with this name, see
    :func:`export_matcher`), walking pages lazily up to ``pageCount`` (capped at ``max_pages``)."""
    matches = export_matcher(export_id, name)
    page = 1
    while True:
        response = await hook.aget(EXPORTS_PATH, {"pageSize": page_size, "pageNumber": page})
        found, read_next = scan_page(response, page, matches, max_pages)
        if not read_next:
            return found
        page += 1


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
        max_pages: int = MAX_LIST_PAGES,
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
                        f"reporting export {self.export_id} not found in the export list "
                        f"(walked to its last page or the {self.max_pages}-page cap, {missing} polls)",
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
