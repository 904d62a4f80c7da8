"""A process-wide request budget per token, shared by threads and event loops (sync and async calls).

Genesys Cloud counts requests per token per minute (300 by default) and answers 429 past it. The limiter
is a token bucket in its GCRA form (a "theoretical arrival time"), so a caller *reserves* a slot under a
short lock and then sleeps outside it, with ``time.sleep`` or ``asyncio.sleep``: one limiter serves both.

Burst choice: a bucket of ``burst`` slots refilled at ``rpm - burst`` per minute can never send more
than ``burst + (rpm - burst) = rpm`` requests in any 60-second window, sliding or fixed, even from a
fresh process whose bucket starts full. The burst is one second's worth of budget (5 at 300/min), so the
steady rate stays within 2 % of the ceiling while a new process cannot overrun the server's window.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable


class RateLimiter:
    """Reservation-based token bucket: ``reserve()`` returns how long the caller must wait."""

    def __init__(self, requests_per_minute: int, clock: Callable[[], float] = time.monotonic) -> None:
        self._lock = threading.Lock()
        self._clock = clock
        self._tat = clock()  # theoretical arrival time of the next request with an empty bucket
        self._paused_until = 0.0
        self.configured_rpm = requests_per_minute  # what the connection asked for (before live limits)
        self.configure(requests_per_minute)

    def configure(self, requests_per_minute: int) -> None:
        """Set the budget (e.g. lowered to the live limit read by ``authenticate``)."""
        rpm = max(1, int(requests_per_minute))
        with self._lock:
            self.requests_per_minute = rpm
            self.burst = max(1, min(rpm // 60, rpm - 1)) if rpm > 1 else 1
            # Refill at rpm - burst per minute so that burst + refill never exceeds rpm in a minute.
            self.interval = 60.0 / max(1, rpm - self.burst) if rpm > 1 else 60.0

    @property
    def steady_rate(self) -> float:
        """Sustained requests per second this limiter allows."""
        return 1.0 / self.interval

    def reserve(self) -> float:
        """Take the next free slot; return the seconds to wait before sending (0 = send now)."""
        with self._lock:
            now = self._clock()
            tat = max(self._tat, now)
            allowed_at = max(tat - (self.burst - 1) * self.interval, self._paused_until)
            self._tat = max(tat, allowed_at) + self.interval
            return max(0.0, allowed_at - now)

    def pause(self, seconds: float) -> None:
        """Honour a 429's Retry-After: nobody sends for ``seconds``, then no burst, one slot per interval."""
        with self._lock:
            until = self._clock() + max(0.0, seconds)
            if until > self._paused_until:
                self._paused_until = until
                self._tat = max(self._tat, until + (self.burst - 1) * self.interval)

    def pause_remaining(self) -> float:
        """Seconds left of a Retry-After pause (a slot reserved before the pause must wait it out)."""
        with self._lock:
            return max(0.0, self._paused_until - self._clock())

    def acquire(self, sleep: Callable[[float], None] = time.sleep) -> None:
        """Block the calling thread until a slot is free."""
        wait = self.reserve()
        while True:
            if wait > 0:
                sleep(wait)
            remaining = self.pause_remaining()
            if remaining <= 0:
                return
            sleep(remaining)
            wait = self.reserve()

    async def aacquire(self, sleep: Callable[[float], object] | None = None) -> None:
        """Wait in the event loop (never blocking it) until a slot is free."""
        import asyncio

        asleep = sleep or asyncio.sleep
        wait = self.reserve()
        while True:
            if wait > 0:
                await asleep(wait)  # type: ignore[misc]
            remaining = self.pause_remaining()
            if remaining <= 0:
                return
            await asleep(remaining)  # type: ignore[misc]
            wait = self.reserve()


_registry: dict[tuple[str, ...], RateLimiter] = {}
_registry_lock = threading.Lock()


def limiter_for(key: tuple[str, ...], requests_per_minute: int) -> RateLimiter:
    """The one limiter of a token key in this process (created on first use)."""
    with _registry_lock:
        limiter = _registry.get(key)
        if limiter is None:
            limiter = _registry[key] = RateLimiter(requests_per_minute)
        elif limiter.configured_rpm != requests_per_minute:
            # The connection's budget was edited: follow it (a live limit read later may lower it again).
            limiter.configure(requests_per_minute)
        limiter.configured_rpm = requests_per_minute
        return limiter


def existing_limiter(key: tuple[str, ...]) -> RateLimiter | None:
    """The limiter of a key if one exists (no side effects)."""
    with _registry_lock:
        return _registry.get(key)


def register_limiter(key: tuple[str, ...], limiter: RateLimiter) -> None:
    """Install a limiter for a key (tests use one driven by a fake clock)."""
    with _registry_lock:
        _registry[key] = limiter


def reset_limiters() -> None:
    """Forget every limiter (tests)."""
    with _registry_lock:
        _registry.clear()
