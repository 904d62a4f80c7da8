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

from genesys_cloud.exceptions import GenesysError, GenesysValidationError
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


def check_interval(hook: Any, limit: IntervalLimit, body: Any, what: str) -> None:
    """Refuse, before any call, a request whose ``interval`` is longer than ``limit`` (GenesysValidationError
    naming the limit, its key and where the value came from).

    The org's value is read (one GET per namespace and hook, as for the details pager) only when it can
    change the answer without a GET of its own: when the namespace was read already, or when the interval is
    over the fallback (the org may allow more). An interval within the fallback goes out unread; an org
    that publishes a smaller value refuses it with a 400 of its own.
    """
    from genesys_cloud.hooks.pagination import parse_interval  # pagination imports this module

    interval = body.get("interval") if isinstance(body, dict) else None
    if not isinstance(interval, str):
        return
    try:
        start, end = parse_interval(interval)
    except ValueError:
        return  # the API names a malformed interval itself
    days = (end - start) / timedelta(days=1)
    if limit.namespace in _cache(hook):
        allowed, source = _resolve(limit, _cache(hook)[limit.namespace]), "the org's value or the fallback"
    elif days <= limit.default_days:
        return
    else:
        allowed, source = interval_limit_days(hook, limit), "the org's value or the fallback"
    if days > allowed:
        basis = "documented" if limit.documented else "assumed: Genesys documents no value"
        raise GenesysValidationError(
            f"{what}: the interval {interval} spans {days:g} days, over the limit of {allowed} days "
            f"({limit.namespace}/{limit.key}; {source}; fallback {limit.default_days}, {basis}). "
            "Send a shorter window."
        )


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
