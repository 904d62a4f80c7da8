"""What the provider's triggers share: a poll schedule with backoff and a deadline.

Kept free of Airflow imports so the schedule can be tested on its own. The clock and the sleep are
module attributes so tests can replace them (a trigger's constructor arguments must stay serialisable).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable

monotonic: Callable[[], float] = time.monotonic
sleep: Callable[[float], Awaitable[None]] = asyncio.sleep
#: Used by the operators' non-deferrable mode, which polls in the worker.
sync_sleep: Callable[[float], None] = time.sleep

#: Each wait is the previous one times this factor, up to the trigger's max_poll_interval.
BACKOFF_FACTOR = 1.5


class PollSchedule:
    """Waits ``poll_interval``, then longer and longer (×1.5, capped), never past the deadline."""

    def __init__(self, poll_interval: float, max_poll_interval: float, timeout_seconds: float) -> None:
        self.interval = max(0.0, float(poll_interval))
        self.max_interval = max(self.interval, float(max_poll_interval))
        self.deadline = monotonic() + float(timeout_seconds)
        self.polls = 0

    def expired(self) -> bool:
        return monotonic() >= self.deadline

    def next_wait(self) -> float:
        """Seconds until the next poll (cut short at the deadline); grows the interval for the one after."""
        wait = max(0.0, min(self.interval, self.deadline - monotonic()))
        self.interval = min(self.interval * BACKOFF_FACTOR, self.max_interval)
        return wait

    async def wait(self) -> None:
        await sleep(self.next_wait())

    def wait_sync(self) -> None:
        sync_sleep(self.next_wait())
