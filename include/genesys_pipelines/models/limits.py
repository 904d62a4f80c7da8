"""Organization limits (``/api/v2/organizations/limits/...``), readable without permissions.

SDK models: ``LimitsEntityListing`` (namespace values and their platform defaults) and
``LimitDocumentation`` → ``NamespaceDocs`` → ``LimitDocs`` (``/limits/docs``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from genesys_pipelines.models.common import GenesysModel, Limit

__all__ = [
    "AGGREGATES_JOB_DAYS",
    "AGGREGATES_QUERY_DAYS",
    "ANALYTICS_NAMESPACE",
    "DETAILS_JOB_DAYS",
    "INTERVAL_LIMITS",
    "DETAILS_FILTERED_DAYS",
    "DETAILS_UNFILTERED_DAYS",
    "DETAIL_FILTER_KEYS",
    "IntervalLimit",
    "LimitDocs",
    "LimitDocumentation",
    "LimitsEntityListing",
    "NamespaceDocs",
    "TOKEN_RATE_KEY",
    "details_interval_limit",
    "has_detail_filters",
]

# The per-token budget of client-credentials tokens (namespace ``platform.api``), 300/min by default.
TOKEN_RATE_KEY = "client.credentials.token.rate.per.minute"
ANALYTICS_NAMESPACE = "analytics"


@dataclass(frozen=True)
class IntervalLimit:
    """The longest interval (whole days) an endpoint accepts, with where its default comes from.

    ``key`` names the limit in ``GET /api/v2/organizations/limits/namespaces/{namespace}``. The sandbox
    publishes it under this key; the live key names are not documented anywhere we can read, so a
    pipeline that finds no such key falls back to ``default_days`` (the documented value).
    """

    namespace: str
    key: str
    default_days: int
    evidence: str
    #: False when Genesys documents no value: ``default_days`` is this project's choice (see ``evidence``).
    documented: bool = True


# Genesys developer center, "Query for conversation details": without filters the interval may be no
# longer than 7 days, with a filter up to 31 days (genesys-api.md §8).
DETAILS_UNFILTERED_DAYS = IntervalLimit(
    ANALYTICS_NAMESPACE, "conversation.details.query.interval.unfiltered.max.days", 7,
    "developer center, conversation details query: 7 days without filters",
)
DETAILS_FILTERED_DAYS = IntervalLimit(
    ANALYTICS_NAMESPACE, "conversation.details.query.interval.filtered.max.days", 31,
    "developer center, conversation details query: 31 days with a filter",
)
# Genesys documents no maximum interval for the aggregates query or the async jobs (genesys-api.md §7,
# open point 2; the limits page and the SDK name none). The fallback is 367 days: the longest window a
# pipeline accepts is 366 days (a year with a leap day) plus one hour where a DST change falls inside it
# (``windows.DEFAULT_MAX_DAYS``), so the fallback refuses nothing a pipeline would otherwise send, and an
# org that publishes its own value under the key is held to that value instead. The key names are
# assumed: the sandbox publishes them; a real org that does not is held to the fallback.
_UNDOCUMENTED = ("not documented by Genesys (genesys-api.md §7): 367 days chosen, the longest pipeline window "
                 "(366 days and a DST hour)")
AGGREGATES_QUERY_DAYS = IntervalLimit(
    ANALYTICS_NAMESPACE, "conversation.aggregates.query.interval.max.days", 367, _UNDOCUMENTED, documented=False,
)
AGGREGATES_JOB_DAYS = IntervalLimit(
    ANALYTICS_NAMESPACE, "conversation.aggregates.job.interval.max.days", 367, _UNDOCUMENTED, documented=False,
)
DETAILS_JOB_DAYS = IntervalLimit(
    ANALYTICS_NAMESPACE, "conversation.details.job.interval.max.days", 367, _UNDOCUMENTED, documented=False,
)
#: Every interval limit the pipelines hold requests to (the sandbox publishes and enforces the same).
INTERVAL_LIMITS = (DETAILS_UNFILTERED_DAYS, DETAILS_FILTERED_DAYS, AGGREGATES_QUERY_DAYS, AGGREGATES_JOB_DAYS,
                   DETAILS_JOB_DAYS)
#: The body keys that make a details query "filtered" for the interval rule.
DETAIL_FILTER_KEYS = ("conversationFilters", "segmentFilters", "evaluationFilters", "surveyFilters")


def has_detail_filters(body: Mapping[str, Any]) -> bool:
    """True when a details query body (camelCase JSON) carries any non-empty filter list."""
    return any(body.get(key) for key in DETAIL_FILTER_KEYS)


def details_interval_limit(body: Mapping[str, Any]) -> IntervalLimit:
    """The interval rule a details query body falls under: 31 days with a filter, else 7."""
    return DETAILS_FILTERED_DAYS if has_detail_filters(body) else DETAILS_UNFILTERED_DAYS


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
