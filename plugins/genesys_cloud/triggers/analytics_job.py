"""Poll an analytics async job (details or aggregates) until it ends, in the triggerer.

``GET {jobs}/{jobId}`` answers ``AsyncQueryStatus{state: QUEUED|PENDING|FULFILLED|FAILED|CANCELLED|EXPIRED,
errorMessage, ...}`` (genesys-api.md §3b). FULFILLED → success; FAILED/CANCELLED/EXPIRED → error with the
API's ``errorMessage``. A user killing the task, or the trigger's own timeout, cancels the job (DELETE).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

from genesys_cloud.hooks.analytics import RUNNING_STATES, job_outcome
from genesys_cloud.triggers.base import GenesysPollingTrigger

if TYPE_CHECKING:
    from genesys_cloud.hooks.genesys_cloud import GenesysCloudHook
    from genesys_pipelines.models.analytics import AsyncQueryStatus


class AnalyticsJobTrigger(GenesysPollingTrigger):
    """Yields ``{"status": "success"|"error", "job_id", "state", "polls"}`` (+ ``message``)."""

    fields: ClassVar[tuple[str, ...]] = ("job_kind", "job_id")

    @property
    def subject(self) -> str:
        return f"analytics job {self.job_id}"

    async def poll(self, hook: GenesysCloudHook) -> AsyncQueryStatus:
        return await hook.ajob_status(self.job_kind, self.job_id)

    def judge(self, answer: AsyncQueryStatus) -> tuple[str | None, str | None]:
        outcome, state, message = job_outcome(self.job_id, answer)
        if outcome is None and state not in RUNNING_STATES:
            self.log.warning("Analytics job %s reported unknown state %r", self.job_id, state)
        return outcome, message

    def state_of(self, answer: Any) -> str | None:
        return getattr(answer, "state", None)

    def payload(self, answer: Any) -> dict[str, Any]:
        return {"job_id": self.job_id, "state": self.state_of(answer)}

    async def cancel(self, hook: GenesysCloudHook) -> None:
        await hook.acancel_job(self.job_kind, self.job_id)
        self.log.info("Cancelled analytics job %s", self.job_id)
