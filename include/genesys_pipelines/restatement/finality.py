"""When a window is final: its data lake horizon is past its end by the settle period.

``dataAvailabilityDate`` (``GET …/details/jobs/availability``) is the source's own clock: data before it
is guaranteed to be in the analytics data lake. A window is **final** when that date is at least
``settle_hours`` after the window's end: the window closed longer ago than the settle period, and before
the availability date. Using the source's clock (not the wall clock, not ``run_after``) keeps the rule
the same for scheduled runs, backfills and the sweep, and needs no ``now()`` in pipeline logic.
"""

from __future__ import annotations

import os
from datetime import datetime, timedelta

DEFAULT_SETTLE_HOURS = 48.0
DEFAULT_RESTATE_DAYS = 7


def _setting(name: str, default: float, cast: type, minimum: float, rule: str) -> float:
    raw = os.environ.get(name, "").strip()
    value = cast(raw) if raw else default
    if value < minimum:
        raise ValueError(f"{name} must {rule}, got {raw!r}")
    return value


def settle_hours() -> float:
    """``GENESYS_SETTLE_HOURS`` (default 48): how long after a window's end late data may still land."""
    return _setting("GENESYS_SETTLE_HOURS", DEFAULT_SETTLE_HOURS, float, 0, "not be negative")


def restate_days() -> int:
    """``GENESYS_RESTATE_DAYS`` (default 7): how many reporting days the sweep looks back."""
    return int(_setting("GENESYS_RESTATE_DAYS", DEFAULT_RESTATE_DAYS, int, 1, "be at least 1"))


def is_final(window_end: datetime, data_availability: datetime | None, settle: float) -> bool:
    """True when ``data_availability`` is at least ``settle`` hours past ``window_end`` (unknown: False)."""
    if data_availability is None:
        return False
    return window_end + timedelta(hours=settle) <= data_availability
