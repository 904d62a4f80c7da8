"""Poll an analytics async job (details or aggregates) until it ends, in the triggerer.

``GET {job_path}/{job_id}`` answers ``AsyncQueryStatus{state: QUEUED|PENDING|FULFILLED|FAILED|CANCELLED|
EXPIRED, errorMessage, ...}`` (genesys-api.md §3b). The trigger only reads: it never submits or cancels,
so a triggerer restart that re-runs it cannot duplicate work. The connection is read with the async API
(``BaseHook.aget_connection`` through ``GenesysCloudHook.for_conn_id_async``) and the token is masked with
the async masker, so nothing synchronous blocks the triggerer's event loop.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

from airflow.triggers.base import BaseTrigger, TriggerEvent

from genesys_cloud.exceptions import GenesysError
from genesys_cloud.triggers import _polling

SUCCESS_STATES = frozenset({"FULFILLED"})
FAILURE_STATES = frozenset({"FAILED", "CANCELLED", "EXPIRED"})
RUNNING_STATES = frozenset({"QUEUED", "PENDING"})


def job_outcome(job_id: str, status: Any) -> tuple[str | None, str | None, str | None]:
    """``(outcome, state, message)`` of one status answer: outcome is "success", "error" or None (running)."""
    state = status.get("state") if isinstance(status, dict) else None
    if state in SUCCESS_STATES:
        return "success", state, None
    if state in FAILURE_STATES:
        reason = status.get("errorMessage") or "no errorMessage given"
        return "error", state, f"analytics job {job_id} ended {state}: {reason}"
    return None, state, None


class AnalyticsJobTrigger(BaseTrigger):
    """Yields ``{"status": "success", "job_id", "state", "polls"}`` once the job is FULFILLED, else
    ``{"status": "error", "job_id", "state", "polls", "message"}`` (FAILED/CANCELLED/EXPIRED with the
    API's ``errorMessage``, an API error, or the timeout)."""

    def __init__(
        self,
        conn_id: str,
        job_path: str,
        job_id: str,
        poll_interval: float = 15.0,
        timeout_seconds: float = 3600.0,
        max_poll_interval: float = 120.0,
    ) -> None:
        super().__init__()
        self.conn_id = conn_id
        self.job_path = job_path.rstrip("/")
        self.job_id = job_id
        self.poll_interval = float(poll_interval)
        self.timeout_seconds = float(timeout_seconds)
        self.max_poll_interval = float(max_poll_interval)

    def serialize(self) -> tuple[str, dict[str, Any]]:
        return (
            f"{type(self).__module__}.{type(self).__qualname__}",
            {
                "conn_id": self.conn_id,
                "job_path": self.job_path,
                "job_id": self.job_id,
                "poll_interval": self.poll_interval,
                "timeout_seconds": self.timeout_seconds,
                "max_poll_interval": self.max_poll_interval,
            },
        )

    def _event(self, status: str, state: str | None, polls: int, message: str | None = None) -> TriggerEvent:
        payload: dict[str, Any] = {"status": status, "job_id": self.job_id, "state": state, "polls": polls}
        if message is not None:
            payload["message"] = message
        return TriggerEvent(payload)

    async def run(self) -> AsyncIterator[TriggerEvent]:
        from genesys_cloud.hooks.genesys_cloud import GenesysCloudHook

        schedule = _polling.PollSchedule(self.poll_interval, self.max_poll_interval, self.timeout_seconds)
        state: str | None = None
        hook: GenesysCloudHook | None = None
        try:
            hook = await GenesysCloudHook.for_conn_id_async(self.conn_id)
            while True:
                status = await hook.aget(f"{self.job_path}/{self.job_id}")
                schedule.polls += 1
                outcome, state, message = job_outcome(self.job_id, status)
                if outcome is not None:
                    yield self._event(outcome, state, schedule.polls, message)
                    return
                if state not in RUNNING_STATES:
                    self.log.warning("Analytics job %s reported unknown state %r", self.job_id, state)
                if schedule.expired():
                    yield self._event(
                        "error",
                        state,
                        schedule.polls,
                        f"analytics job {self.job_id} still {state} after {self.timeout_seconds:.0f}s",
                    )
                    return
                self.log.info("Analytics job %s is %s (poll %d)", self.job_id, state, schedule.polls)
                await schedule.wait()
        except GenesysError as exc:
            # Retries already happened inside the hook: hand the API's reason to execute_complete.
            yield self._event(
                "error", state, schedule.polls, f"polling analytics job {self.job_id} failed: {exc}"
            )
        finally:
            if hook is not None:
                await hook.aclose()
