"""Routing resource verbs (genesys-api.md §3a names): the queue and wrap-up code listings.

A mixin of :class:`~genesys_cloud.hooks.genesys_cloud.GenesysCloudHook`. Analytics answers carry queue and
wrap-up code ids only; these listings name them (``GET /api/v2/routing/queues``, permission
``routing:queue:view``; ``GET /api/v2/routing/wrapupcodes``, permission ``routing:wrapupCode:view``).
Both are page-number listings walked by the hook's pager; every entity is checked on the way in.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from genesys_cloud.hooks import paths
from genesys_cloud.hooks.policy import as_model
from genesys_pipelines.models.routing import Queue, WrapupCode

#: Page size asked of the routing listings. Their own cap is not documented (the division-view listings
#: cap at 100 and 500); 100 stays under either and names a 5,000-queue org in 50 requests.
ROUTING_PAGE_SIZE = 100


def _filters(name: str | None, division_ids: Iterable[str] | None) -> dict[str, Any] | None:
    params: dict[str, Any] = {}
    if name:
        params["name"] = name  # leading and trailing asterisks allowed
    if division_ids:
        params["divisionId"] = list(division_ids)  # repeatable: ?divisionId=a&divisionId=b
    return params or None


class RoutingVerbs:
    """Queues and wrap-up codes. Mixed into the hook (``self`` has ``paginate``)."""

    def list_queues(self, *, name: str | None = None, division_ids: Iterable[str] | None = None) -> Iterator[Queue]:
        """Every queue of the org (or those matching ``name`` / in ``division_ids``), by name; each has an id."""
        for entity in self.paginate(paths.QUEUES, _filters(name, division_ids), page_size=ROUTING_PAGE_SIZE):
            yield as_model(Queue, entity, "queue in the listing", require=("id",))

    def list_wrapup_codes(
        self, *, name: str | None = None, division_ids: Iterable[str] | None = None
    ) -> Iterator[WrapupCode]:
        """Every wrap-up code of the org (or those matching ``name`` / in ``division_ids``); each has an id."""
        for entity in self.paginate(paths.WRAPUP_CODES, _filters(name, division_ids), page_size=ROUTING_PAGE_SIZE):
            yield as_model(WrapupCode, entity, "wrap-up code in the listing", require=("id",))
