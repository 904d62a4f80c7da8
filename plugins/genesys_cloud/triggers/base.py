"""A base for the provider's polling triggers (the shape of amazon's ``AwsBaseWaiterTrigger``).

A concrete trigger declares what it polls and how to read one answer; the base owns everything else,
once: ``serialize`` of the shared fields, the poll loop with backoff and a deadline, the mapping of
answers and errors to a :class:`TriggerEvent`, cancelling the remote work on ``on_kill`` (a user failed
or cleared the task) and on the trigger's own timeout (where ``on_kill`` does not fire), and the same
loop for operators that wait in the worker (:func:`first_event`, used when ``deferrable=False``).

Triggers only read (poll): they never submit, so a triggerer restart that re-runs one cannot duplicate
work. The connection is read with the async API and the token masked with the async masker, so nothing
synchronous blocks the triggerer's event loop (apache/airflow#68377). ``cleanup`` is not used to cancel:
it also runs on triggerer restarts, where the remote job must keep running.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Any, ClassVar

from airflow.triggers.base import BaseTrigger, TriggerEvent

from genesys_cloud.exceptions import GenesysError
from genesys_cloud.triggers import _polling

if TYPE_CHECKING:
    from genesys_cloud.hooks.genesys_cloud import GenesysCloudHook


class GenesysPollingTrigger(BaseTrigger):
    """Polls until :meth:`judge` calls the answer final, the deadline passes or the API refuses.

    Subclasses set :attr:`fields` (their own constructor arguments, serialised with the shared ones),
    :attr:`subject` (for messages) and implement :meth:`poll` and :meth:`judge`; :meth:`cancel` is
    optional. Events are dicts with ``status`` ("success" | "error"), ``polls``, :meth:`payload` and, on
    errors, ``message``.
    """

    #: Constructor arguments of the subclass, serialised beside the shared ones.
    fields: ClassVar[tuple[str, ...]] = ()

    def __init__(
        self,
        conn_id: str,
        poll_interval: float = 15.0,
        timeout_seconds: float = 3600.0,
        max_poll_interval: float = 120.0,
        **fields: Any,
    ) -> None:
        super().__init__()
        self.conn_id = conn_id
        self.poll_interval = float(poll_interval)
        self.timeout_seconds = float(timeout_seconds)
        self.max_poll_interval = float(max_poll_interval)
        unknown = set(fields) - set(self.fields)
        if unknown:
            raise TypeError(f"{type(self).__name__} got unexpected arguments {sorted(unknown)}")
        for name in self.fields:
            setattr(self, name, fields.get(name))
        self._hook: GenesysCloudHook | None = None

    # -- to implement ---------------------------------------------------------------------------------
    @property
    def subject(self) -> str:
        """What is polled, for messages (e.g. ``analytics job 1234``)."""
        raise NotImplementedError

    async def poll(self, hook: GenesysCloudHook) -> Any:
        """One status read (idempotent)."""
        raise NotImplementedError

    def judge(self, answer: Any) -> tuple[str | None, str | None]:
        """``(outcome, message)``: outcome "success", "error" or None (not final yet)."""
        raise NotImplementedError

    def payload(self, answer: Any) -> dict[str, Any]:
        """The non-secret fields of the event for the last answer (None after an error)."""
        return {}

    def state_of(self, answer: Any) -> str | None:
        """The remote state named in progress logs and timeout messages."""
        return None

    async def cancel(self, hook: GenesysCloudHook) -> bool | None:
        """Stop the remote work; return False when it cannot be cancelled (the default)."""
        return False

    # -- the shared machinery -----------------------------------------------------------------------------
    def serialize(self) -> tuple[str, dict[str, Any]]:
        shared = {
            "conn_id": self.conn_id,
            "poll_interval": self.poll_interval,
            "timeout_seconds": self.timeout_seconds,
            "max_poll_interval": self.max_poll_interval,
        }
        return f"{type(self).__module__}.{type(self).__qualname__}", {
            **shared, **{name: getattr(self, name) for name in self.fields}
        }

    def _event(self, status: str, answer: Any, polls: int, message: str | None = None) -> dict[str, Any]:
        event = {"status": status, **self.payload(answer), "polls": polls}
        if message is not None:
            event["message"] = message
        return event

    async def _connect(self) -> GenesysCloudHook:
        if self._hook is None:
            from genesys_cloud.hooks.genesys_cloud import GenesysCloudHook

            self._hook = await GenesysCloudHook.for_conn_id_async(self.conn_id)
        return self._hook

    async def events(self) -> AsyncIterator[dict[str, Any]]:
        """The poll loop; yields exactly one event dict."""
        schedule = _polling.PollSchedule(self.poll_interval, self.max_poll_interval, self.timeout_seconds)
        answer: Any = None
        try:
            hook = await self._connect()
            while True:
                answer = await self.poll(hook)
                schedule.polls += 1
                outcome, message = self.judge(answer)
                if outcome is not None:
                    yield self._event(outcome, answer, schedule.polls, message)
                    return
                if schedule.expired():
                    cancelled = await self._cancel_quietly(hook, "its timeout")
                    event = self._event("error", answer, schedule.polls,
                                        f"{self.subject} still {self.state_of(answer)} after {self.timeout_seconds:.0f}s")
                    yield {**event, "cancelled": cancelled}
                    return
                self.log.info("%s is %s (poll %d)", self.subject, self.state_of(answer), schedule.polls)
                await schedule.wait()
        except GenesysError as exc:
            # Retries already happened inside the hook: hand the API's reason to execute_complete.
            yield self._event("error", answer, schedule.polls, f"polling {self.subject} failed: {exc}")

    async def run(self) -> AsyncIterator[TriggerEvent]:
        try:
            async for event in self.events():
                yield TriggerEvent(event)
        finally:
            await self._close()

    async def on_kill(self) -> None:
        """A user failed or cleared the deferred task: stop the remote work too."""
        try:
            await self._cancel_quietly(await self._connect(), "the task was killed")
        finally:
            await self._close()

    async def _cancel_quietly(self, hook: GenesysCloudHook, why: str) -> bool:
        """Cancel the remote work; whether that was done (False when it cannot be or the API refused)."""
        try:
            return await self.cancel(hook) is not False
        except GenesysError as exc:
            self.log.warning("Could not cancel %s after %s: %s", self.subject, why, exc)
            return False

    async def _close(self) -> None:
        if self._hook is not None:
            await self._hook.aclose()
            self._hook = None


def first_event(trigger: GenesysPollingTrigger, hook: GenesysCloudHook | None = None) -> dict[str, Any]:
    """Run ``trigger``'s poll loop to its event in the calling thread (operators with ``deferrable=False``).

    ``hook``: a hook whose connection was already read synchronously (a worker must not need the async
    connection API); its async methods are used for the polls.
    """
    async def drain() -> dict[str, Any]:
        trigger._hook = hook
        try:
            async for event in trigger.events():
                return event
            raise GenesysError(f"{trigger.subject}: the poll loop ended without an event")
        finally:
            await trigger._close()

    return asyncio.run(drain())
