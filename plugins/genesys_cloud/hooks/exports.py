"""Reporting export verbs (genesys-api.md §3c): submit once, find again by name or id, metadata, download.

There is no GET by id for exports: lookups page ``GET /api/v2/analytics/reporting/exports`` until they
meet the export or reach ``pageCount``. Exports cannot be deleted, so the list only grows and its sort
order is undocumented: a walk is bounded only by a generous safety cap (``max_pages``, default
:data:`MAX_LIST_PAGES`), with a warning once it passes :data:`WARN_LIST_PAGES` pages.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from genesys_cloud.exceptions import GenesysForbiddenError, GenesysJobError, GenesysNotFoundError
from genesys_cloud.hooks import pagination, paths
from genesys_cloud.hooks.policy import as_model
from genesys_pipelines.models.exports import ReportingExportJobResponse, ReportingExportMetadataJobResponse

SUCCESS_STATUSES = frozenset({"COMPLETED", "COMPLETED_WITH_PARTIAL_RESULTS"})
FAILURE_STATUSES = frozenset({"FAILED", "CANCELLED"})
#: Partial results are final for polling but never reused by name: a re-run must get the whole window.
NOT_REUSABLE_STATUSES = FAILURE_STATUSES | {"COMPLETED_WITH_PARTIAL_RESULTS"}
#: Safety cap of one walk of the export list (200 x 100 = 20,000 exports): only a runaway list reaches it.
MAX_LIST_PAGES = 200
#: A walk this deep is worth a warning: every lookup (and every poll) pays one request per page.
WARN_LIST_PAGES = 50
LIST_PAGE_SIZE = 100

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
    """One page of the walk, free of IO (shared by the sync and async lookups): ``(match, read_next)``."""
    found = next((e for e in pagination.listing_items(response) if isinstance(e, dict) and matches(e)), None)
    if found is not None or not pagination.listing_has_next(response, page):
        return found, False
    if page >= max_pages:
        log.warning("Stopped reading %s at the safety cap of %d pages (pageCount %s): an export further down "
                    "is not seen", paths.EXPORTS, max_pages, pagination.listing_page_count(response))
        return None, False
    if page == WARN_LIST_PAGES:
        log.warning("Reading past page %d of %s (pageCount %s): each lookup costs one request per page",
                    WARN_LIST_PAGES, paths.EXPORTS, pagination.listing_page_count(response))
    return None, True


def export_outcome(export_id: str, export: Mapping[str, Any] | None) -> tuple[str | None, str | None]:
    """``(outcome, message)`` for one listed export: outcome "success", "error" or None (not final)."""
    status = (export or {}).get("status")
    if status in SUCCESS_STATUSES:
        return "success", None
    if status in FAILURE_STATUSES:
        reason = (export or {}).get("exportErrorMessagesType") or "no exportErrorMessagesType given"
        return "error", f"reporting export {export_id} {status}: {reason}"
    return None, None


def _page_params(page: int, page_size: int) -> dict[str, int]:
    return {"pageSize": page_size, "pageNumber": page}


class ExportVerbs:
    """Mixed into the hook (``self`` has ``get``/``aget``/``create_idempotent``/``paginate``/``download``)."""

    def find_reporting_export(
        self, *, export_id: str | None = None, name: str | None = None,
        max_pages: int = MAX_LIST_PAGES, page_size: int = LIST_PAGE_SIZE,
    ) -> dict[str, Any] | None:
        """The first listed export with this id, or a reusable one with this name (see
        :func:`export_matcher`); walks pages lazily up to ``pageCount``, capped at ``max_pages``."""
        matches, page = export_matcher(export_id, name), 1
        while True:
            found, read_next = scan_page(self.get(paths.EXPORTS, _page_params(page, page_size)), page, matches,
                                         max_pages)
            if not read_next:
                return self._checked_export(found)
            page += 1

    async def afind_reporting_export(
        self, *, export_id: str | None = None, name: str | None = None,
        max_pages: int = MAX_LIST_PAGES, page_size: int = LIST_PAGE_SIZE,
    ) -> dict[str, Any] | None:
        matches, page = export_matcher(export_id, name), 1
        while True:
            response = await self.aget(paths.EXPORTS, _page_params(page, page_size))
            found, read_next = scan_page(response, page, matches, max_pages)
            if not read_next:
                return self._checked_export(found)
            page += 1

    @staticmethod
    def _checked_export(found: dict[str, Any] | None) -> dict[str, Any] | None:
        if found is not None:
            as_model(ReportingExportJobResponse, found, f"reporting export {found.get('id')}")
        return found

    def submit_reporting_export(
        self, request: Mapping[str, Any], *, max_pages: int = MAX_LIST_PAGES, page_size: int = LIST_PAGE_SIZE,
    ) -> dict[str, Any]:
        """Create the export, or reuse one with the same deterministic ``name`` (looked up before every
        POST, so a lost answer, a 429 or a 5xx is followed by another look, never a blind second POST)."""
        export = self.create_idempotent(
            paths.EXPORTS, dict(request),
            lambda: self.find_reporting_export(name=request["name"], max_pages=max_pages, page_size=page_size),
        ) or {}
        if not export.get("id"):
            raise GenesysJobError(f"POST {paths.EXPORTS} answered without an id")
        return export

    def reporting_export_metadata(self) -> list[ReportingExportMetadataJobResponse] | None:
        """Every view's metadata entry, or None when this client may not read it (403/404).

        One GET: the SDK's operation takes no ``pageSize``/``pageNumber`` (the answer holds every view)."""
        try:
            return [as_model(ReportingExportMetadataJobResponse, e, "exports metadata entry")
                    for e in pagination.listing_items(self.get(paths.EXPORTS_METADATA))]
        except (GenesysForbiddenError, GenesysNotFoundError) as exc:
            log.warning("Exports metadata unavailable (%s): requests are checked without it", exc)
            return None

    def download_export(self, export: Mapping[str, Any], dest: Path) -> dict[str, Any]:
        """Stream a finished export's ``downloadUrl`` into ``dest``; ``{"bytes", "sha256"}``."""
        url = export.get("downloadUrl") or export.get("download_url")
        if not url:
            raise GenesysJobError(f"reporting export {export.get('id') or export.get('export_id')} has no downloadUrl")
        return self.download(str(url), dest)
