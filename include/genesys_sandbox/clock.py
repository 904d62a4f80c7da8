"""The sandbox's "now": a fixed start (``--clock``) that advances with real time from the last reset.

Data availability, open intervals and "today" all derive from it, so a run with the same ``--clock``
sees the same org and data whatever the wall-clock date.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta


def parse_instant(text: str) -> datetime:
    """An ISO 8601 instant (``Z`` or an offset; naive means UTC) as an aware UTC datetime."""
    value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


class SandboxClock:
    def __init__(self, start: str | datetime | None = None, monotonic: Callable[[], float] = time.monotonic):
        if start is None:
            origin = datetime.now(UTC)
        elif isinstance(start, datetime):
            origin = start.astimezone(UTC) if start.tzinfo else start.replace(tzinfo=UTC)
        else:
            origin = parse_instant(start)
        self.origin = origin
        self._monotonic = monotonic
        self._t0 = monotonic()

    def now(self) -> datetime:
        return self.origin + timedelta(seconds=self._monotonic() - self._t0)

    def today(self) -> date:
        """The sandbox's current UTC date."""
        return self.now().date()

    def iso_now(self) -> str:
        return format_instant(self.now())


def format_instant(value: datetime) -> str:
    """The API's datetime format: ``yyyy-MM-ddTHH:mm:ss.SSSZ``."""
    value = value.astimezone(UTC)
    return value.strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}Z"
