"""Poll a reporting export until it reaches a final status, in the triggerer.

There is no GET by id for exports (genesys-api.md §3c): each poll walks the export list
(:meth:`~genesys_cloud.hooks.exports.ExportVerbs.afind_reporting_export`). ``COMPLETED`` → success;
``COMPLETED_WITH_PARTIAL_RESULTS`` → success with ``partial: true``; ``FAILED``/``CANCELLED`` → error naming
``exportErrorMessagesType``. Exports cannot be cancelled or deleted through the API (SDK 269.0.0), so a
kill or a timeout leaves the export to finish on its own. The event carries only non-secret fields.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

from genesys_cloud.hooks.exports import LIST_PAGE_SIZE, MAX_LIST_PAGES, export_outcome
from genesys_cloud.triggers.base import GenesysPollingTrigger

if TYPE_CHECKING:
    from genesys_cloud.hooks.genesys_cloud import GenesysCloudHook

#: A just-submitted export may lag in the listing; after this many polls without it, give up.
NOT_FOUND_LIMIT = 3


def export_event(export_id: str, export: dict[str, Any] | None) -> dict[str, Any]:
    """The non-secret summary of an export that the trigger yields and the operators return."""
    export = export or {}
    return {
        "export_id": export_id,
        "export_status": export.get("status"),
        "download_url": export.get("downloadUrl"),
        "partial": export.get("status") == "COMPLETED_WITH_PARTIAL_RESULTS",
        "error_type": export.get("exportErrorMessagesType"),
    }


class ReportingExportTrigger(GenesysPollingTrigger):
    """Yields ``{"status", "export_id", "export_status", "download_url", "partial", "error_type", "polls"}``
    (+ ``message`` on errors)."""

    fields: ClassVar[tuple[str, ...]] = ("export_id", "max_pages", "page_size")

    def __init__(self, conn_id: str, **kwargs: Any) -> None:
        kwargs.setdefault("max_pages", MAX_LIST_PAGES)
        kwargs.setdefault("page_size", LIST_PAGE_SIZE)
        super().__init__(conn_id, **kwargs)
        self.missing = 0

    @property
    def subject(self) -> str:
        return f"reporting export {self.export_id}"

    async def poll(self, hook: GenesysCloudHook) -> dict[str, Any] | None:
        return await hook.afind_reporting_export(export_id=self.export_id, max_pages=int(self.max_pages),
                                                 page_size=int(self.page_size))

    def judge(self, answer: dict[str, Any] | None) -> tuple[str | None, str | None]:
        outcome, message = export_outcome(self.export_id, answer)
        if outcome is not None:
            return outcome, message
        self.missing = self.missing + 1 if answer is None else 0
        if self.missing >= NOT_FOUND_LIMIT:
            return "error", (f"reporting export {self.export_id} not found in the export list (walked to its "
                             f"last page or the {self.max_pages}-page cap, {self.missing} polls)")
        return None, None

    def state_of(self, answer: Any) -> str | None:
        return (answer or {}).get("status")

    def payload(self, answer: Any) -> dict[str, Any]:
        return export_event(self.export_id, answer)
