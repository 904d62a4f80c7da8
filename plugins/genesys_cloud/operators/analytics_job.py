"""Submit an analytics async job in the worker, wait for it in the triggerer (AWS AthenaOperator shape).

Why this split: a trigger that POSTs can POST twice when the triggerer restarts; polling is idempotent.
Idempotent across task retries: the submitted job id is kept in the task instance's state store
(``context["task_state_store"]``, Airflow 3.3: it survives the task's retries and its deferrals) before
anything else can fail, and a retry whose query has the same fingerprint reuses that job while its state
is QUEUED, PENDING or FULFILLED. The only window left is a POST whose answer is lost: that job cannot be
found again (jobs have no name or list endpoint); it expires on its own.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal

from airflow.sdk import Context

from genesys_cloud.exceptions import GenesysError, GenesysJobError, GenesysNotFoundError
from genesys_cloud.hooks.analytics import FAILURE_STATES, job_collection
from genesys_cloud.operators.base import GenesysWaitingOperator, as_body, fingerprint, genesys_template_fields
from genesys_cloud.triggers.analytics_job import AnalyticsJobTrigger

USABLE_STATES = frozenset({"QUEUED", "PENDING", "FULFILLED"})
#: The task state store key holding the submitted job (id, kind, query fingerprint).
STATE_KEY = "genesys_analytics_job"


class GenesysAnalyticsJobOperator(GenesysWaitingOperator):
    """Run a conversation details (or aggregates) async job; returns ``{"job_id", "state", "polls"}``.

    Downstream tasks read the results with ``GenesysCloudHook.iter_job_rows(job_kind, job_id)``.

    :param query: the ``AsyncConversationQuery`` (details) or aggregation query with ``pageSize``
        (aggregates), as a dict or model (templated).
    :param job_kind: ``"details"`` or ``"aggregates"`` (templated).
    :param genesys_cloud_conn_id: the connection (templated).
    :param deferrable: wait in the triggerer (default) or, when False, poll in the worker.
    :param poll_interval: first wait between polls, seconds; grows ×1.5 up to ``max_poll_interval``.
    :param timeout: seconds before the job counts as failed (it is then cancelled).
    :param max_poll_interval: longest wait between polls, seconds.
    """

    template_fields: Sequence[str] = genesys_template_fields("query", "job_kind")
    template_fields_renderers = {"query": "json"}

    def __init__(self, *, query: dict[str, Any] | Any, job_kind: Literal["details", "aggregates"] = "details",
                 **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.query = query
        self.job_kind = job_kind
        self.job_id: str | None = None

    # -- submit or reuse ---------------------------------------------------------------------------------
    def _reusable_job(self, entry: Any, digest: str) -> str | None:
        if not isinstance(entry, dict) or entry.get("fingerprint") != digest or not entry.get("job_id"):
            return None
        job_id = str(entry["job_id"])
        try:
            state = self.hook.job_status(self.job_kind, job_id).state
        except GenesysNotFoundError:
            state = None
        if state in USABLE_STATES:
            self.log.info("Reusing analytics job %s submitted by an earlier try (state %s)", job_id, state)
            return job_id
        self.log.info("Earlier analytics job %s is %s: submitting a new one", job_id, state or "gone")
        return None

    def submit(self, context: Context, query: Any) -> str:
        """The job for ``query``: reused from an earlier try of this task instance, else submitted now."""
        job_collection(self.job_kind)  # an unknown kind fails before anything is sent
        body = as_body(query)
        digest = fingerprint(self.job_kind, body)
        store = context.get("task_state_store")
        job_id = self._reusable_job(store.get(STATE_KEY) if store is not None else None, digest)
        if job_id is None:
            job_id = self.hook.submit_job(self.job_kind, body)  # sent once, never retried blindly
            if store is not None:
                store.set(STATE_KEY, {"job_id": job_id, "fingerprint": digest, "job_kind": self.job_kind})
            self.log.info("Submitted analytics %s job %s", self.job_kind, job_id)
        self.job_id = job_id
        context["ti"].xcom_push(key="job_id", value=job_id)
        return job_id

    def job_trigger(self, job_id: str) -> AnalyticsJobTrigger:
        return AnalyticsJobTrigger(job_kind=self.job_kind, job_id=job_id, **self.trigger_timing())

    def finished_job(self, event: Any) -> dict[str, Any]:
        """The job's final facts from a trigger event; raises GenesysJobError for a failed or lost job."""
        event = self.checked_event(event, "job_id")
        job_id = self.job_id = str(event["job_id"])
        if event["status"] == "error":
            if event.get("state") not in FAILURE_STATES and not event.get("cancelled"):
                self.cancel(job_id)  # unreadable: do not leave it running (a timeout was cancelled already)
            raise GenesysJobError(event.get("message") or f"analytics job {job_id} failed")
        return {"job_id": job_id, "state": event.get("state"), "polls": int(event.get("polls") or 0)}

    @staticmethod
    def forget_job(context: Context) -> None:
        store = context.get("task_state_store")
        if store is not None:
            store.delete(STATE_KEY)

    def cancel(self, job_id: str) -> None:
        try:
            self.hook.cancel_job(self.job_kind, job_id)
            self.log.info("Cancelled analytics job %s", job_id)
        except GenesysError as exc:
            self.log.warning("Could not cancel analytics job %s: %s", job_id, exc)

    # -- execution ---------------------------------------------------------------------------------------
    def execute(self, context: Context) -> dict[str, Any]:
        return self.wait_for(context, self.job_trigger(self.submit(context, self.query)))

    def execute_complete(self, context: Context, event: dict[str, Any] | None = None) -> dict[str, Any]:
        result = self.finished_job(event)
        self.forget_job(context)
        return result

    def on_kill(self) -> None:
        """Cancel the job (DELETE) when the task is killed while polling in the worker."""
        if self.job_id:
            self.cancel(self.job_id)
