"""The org's documented limits, read live where the org publishes them, the documented values otherwise.

``GET /api/v2/organizations/limits/namespaces/{namespace}`` needs no permission and answers
``{entities[{key, namespace, value}]}`` (genesys-api.md §2.6). A namespace is read once per hook; any
failure to read it (403, 404, a network error, an unknown key) falls back to the documented default, so
a pipeline never fails because the limits API is closed to its client.

Also here: the pure helper that cuts a window into query intervals that fit a limit.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any

from genesys_cloud.exceptions import GenesysError
from genesys_cloud.hooks import paths
from genesys_cloud.hooks.paths import api_path
from genesys_pipelines.models.limits import IntervalLimit, LimitsEntityListing
from genesys_pipelines.windows import utc_days

log = logging.getLogger(__name__)
_CACHE_ATTR = "_genesys_limit_namespaces"

Interval = tuple[datetime, datetime]


def _cache(hook: Any) -> dict[str, LimitsEntityListing | None]:
    cache = getattr(hook, _CACHE_ATTR, None)
    if cache is None:
        cache = {}
        setattr(hook, _CACHE_ATTR, cache)
    return cache


def _listing(body: Any) -> LimitsEntityListing | None:
    try:
        return LimitsEntityListing.model_validate(body) if isinstance(body, dict) else None
    except ValueError:
        return None


def _resolve(limit: IntervalLimit, listing: LimitsEntityListing | None) -> int:
    value = listing.value_of(limit.key) if listing is not None else None
    if value is None or value < 1:
        return limit.default_days
    return value


def interval_limit_days(hook: Any, limit: IntervalLimit) -> int:
    """The org's value of ``limit`` in days (one GET per namespace and hook), else its documented default."""
    cache = _cache(hook)
    if limit.namespace not in cache:
        try:
            cache[limit.namespace] = _listing(hook.get(api_path(paths.LIMITS_NAMESPACE, namespace=limit.namespace)))
        except GenesysError as exc:
            log.info("Limits of namespace %s unavailable (%s): using documented defaults", limit.namespace, exc)
            cache[limit.namespace] = None
    return _resolve(limit, cache[limit.namespace])


async def ainterval_limit_days(hook: Any, limit: IntervalLimit) -> int:
    cache = _cache(hook)
    if limit.namespace not in cache:
        try:
            body = await hook.aget(api_path(paths.LIMITS_NAMESPACE, namespace=limit.namespace))
            cache[limit.namespace] = _listing(body)
        except GenesysError as exc:
            log.info("Limits of namespace %s unavailable (%s): using documented defaults", limit.namespace, exc)
            cache[limit.namespace] = None
    return _resolve(limit, cache[limit.namespace])


def split_at_midnights(interval: Interval, max_days: int | None) -> list[Interval]:
    """Cut ``interval`` at UTC midnights into consecutive pieces no longer than ``max_days`` days.

    Pieces end on UTC midnights (except the last) so that no two pieces touch the same UTC day: the sync
    details query matches conversations started on any *day* its interval touches.
    """
    start, end = interval
    if max_days is None or end - start <= timedelta(days=max_days):
        return [interval]
    pieces: list[Interval] = []
    days = utc_days(interval)
    for first in range(0, len(days), max_days):
        group = days[first : first + max_days]
        pieces.append((group[0][0], group[-1][1]))
    return pieces
