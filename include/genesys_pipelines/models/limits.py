"""Organization limits (``/api/v2/organizations/limits/...``), readable without permissions."""

from __future__ import annotations

from genesys_pipelines.models.common import GenesysModel, Limit

__all__ = ["LimitsEntityListing", "TOKEN_RATE_KEY"]

# The per-token budget of client-credentials tokens (namespace ``platform.api``), 300/min by default.
TOKEN_RATE_KEY = "client.credentials.token.rate.per.minute"


class LimitsEntityListing(GenesysModel):
    """``{entities[{key, namespace, value}]}``: no paging fields."""

    entities: list[Limit] | None = None

    def value_of(self, key: str) -> int | None:
        """The value of limit ``key``, or None when the namespace does not report it."""
        for limit in self.entities or []:
            if limit.key == key:
                return limit.value
        return None
