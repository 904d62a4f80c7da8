"""Organization limits (``/api/v2/organizations/limits/...``), readable without permissions.

SDK models: ``LimitsEntityListing`` (namespace values and their platform defaults) and
``LimitDocumentation`` → ``NamespaceDocs`` → ``LimitDocs`` (``/limits/docs``).
"""

from __future__ import annotations

from genesys_pipelines.models.common import GenesysModel, Limit

__all__ = ["LimitDocs", "LimitDocumentation", "LimitsEntityListing", "NamespaceDocs", "TOKEN_RATE_KEY"]

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


class LimitDocs(GenesysModel):
    """One documented limit: its key, platform default and whether an org may have it changed."""

    key: str | None = None
    default_value: int | None = None
    description: str | None = None
    resource: str | None = None
    configurable: bool | None = None
    trackable: bool | None = None


class NamespaceDocs(GenesysModel):
    name: str | None = None
    friendly_name: str | None = None
    limits: list[LimitDocs] | None = None


class LimitDocumentation(GenesysModel):
    """``{url, namespaces[{name, friendlyName, limits[...]}]}``."""

    url: str | None = None
    namespaces: list[NamespaceDocs] | None = None

    def default_of(self, namespace: str, key: str) -> int | None:
        """The documented default of ``key`` in ``namespace``, or None when it is not documented."""
        for docs in self.namespaces or []:
            if docs.name == namespace:
                for limit in docs.limits or []:
                    if limit.key == key:
                        return limit.default_value
        return None
