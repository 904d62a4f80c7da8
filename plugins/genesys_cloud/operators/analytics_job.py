"""Submit an analytics async job in the worker, poll it in the triggerer (AWS AthenaOperator shape).

Why this split: a trigger that POSTs can POST twice when the triggerer restarts; polling is idempotent.
Idempotent across task retries: the submitted job id is written to a ledger (an Airflow Variable, see
``_ledger``) before anything else can fail, and a retry whose query has the same fingerprint reuses that
job while its state is QUEUED, PENDING or FULFILLED. The only window left is a POST whose answer is lost:
that job cannot be found again (jobs have no name or list endpoint); it expires on its own.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta
from typing import Any, Literal

from airflow.sdk import BaseOperator, Context

from genesys_cloud.config import settings
from genesys_cloud.context import run_identity
from genesys_cloud.exceptions import GenesysError, GenesysNotFoundError, GenesysValidationError
from genesys_cloud.operators import _ledger
from genesys_cloud.triggers import _polling
from genesys_cloud.triggers.analytics_job import AnalyticsJobTrigger, job_outcome

JOB_PATHS: dict[str, str] = {
    "details": "/api/v2/analytics/conversations/details/jobs",
    "aggregates": "/api/v2/analytics/conversations/aggregates/jobs",
}
USABLE_STATES = frozenset({"QUEUED", "PENDING", "FULFILLED"})
#: The trigger times out by itself; Airflow's deferral timeout is only a backstop after it.
DEFER_GRACE_SECONDS = 300


class GenesysJobError(GenesysError):
    """An async job or export ended in failure, timed out, or sent an unusable event."""


def _body(query: Any) -> Any:
    if hasattr(query, "model_dump"):
        return query.model_dump(by_alias=True, exclude_none=True, mode="json")
    return query


class GenesysAnalyticsJobOperator(BaseOperator):
    """Run a conversation details (or aggregates) async job; returns ``{"job_id", "state", "polls"}``.

    Downstream tasks read the results with ``GenesysCloudHook.iter_job_results(f"{path}/{job_id}/results")``.

    :param query: the ``AsyncConversationQuery`` (details) or aggregation query with ``pageSize``
        (aggregates), as a dict or model; templated.
    :param job_kind: ``"details"`` or ``"aggregates"``.
    :param deferrable: poll in the triggerer (default) or, when False, in the worker.
    :param poll_interval: first wait between polls (seconds; grows ×1.5 up to ``max_poll_interval``).
    :param timeout: seconds before the job counts as failed (it is then cancelled).
    """

    template_fields: Sequence[str] = ("query", "genesys_cloud_conn_id", "job_kind")
    template_fields_renderers = {"query": "json"}
    ui_color = "#ff4f1f"

    def __init__(
        self,
        *,
        query: dict[str, Any] | Any,
        job_kind: Literal["details", "aggregates"] = "details",
        genesys_cloud_conn_id: str = "genesys_cloud_default",
        deferrable: bool = True,
        poll_interval: float | None = None,
        timeout: float = 3600.0,
        max_poll_interval: float = 120.0,
        **kwargs: Any,
    ) -> None:
        kwargs.setdefault("pool", settings().api_pool)
        super().__init__(**kwargs)
        self.query = query
        self.job_kind = job_kind
        self.genesys_cloud_conn_id = genesys_cloud_conn_id
        self.deferrable = deferrable
        self.poll_interval = poll_interval
        self.timeout = timeout
        self.max_poll_interval = max_poll_interval
        self.job_id: str | None = None

    # -- helpers --------------------------------------------------------------------------------
    @property
    def job_path(self) -> str:
        if self.job_kind not in JOB_PATHS:
            raise GenesysValidationError(
                f"job_kind must be one of {sorted(JOB_PATHS)}, got {self.job_kind!r}"
            )
        return JOB_PATHS[self.job_kind]

    def _hook(self):
        from genesys_cloud.hooks.genesys_cloud import GenesysCloudHook

        return GenesysCloudHook(genesys_cloud_conn_id=self.genesys_cloud_conn_id)

    def ledger(self) -> _ledger.JobLedger:
        return _ledger.VariableJobLedger()

    def _interval(self) -> float:
        return self.poll_interval if self.poll_interval is not None else settings().poll_interval

    def _reusable_job(self, hook: Any, ledger: _ledger.JobLedger, key: str, fingerprint: str) -> str | None:
        entry = ledger.get(key)
        if not entry or entry.get("fingerprint") != fingerprint or not entry.get("job_id"):
            return None
        job_id = str(entry["job_id"])
        try:
            state = (hook.get(f"{self.job_path}/{job_id}") or {}).get("state")
        except GenesysNotFoundError:
            state = None
        if state in USABLE_STATES:
            self.log.info("Reusing analytics job %s submitted by an earlier try (state %s)", job_id, state)
            return job_id
        self.log.info("Earlier analytics job %s is %s: submitting a new one", job_id, state or "gone")
        return None

    # -- execution ------------------------------------------------------------------------------
    def execute(self, context: Context) -> dict[str, Any]:
        with self._hook() as hook:
            return self._execute(context, hook)

    def _execute(self, context: Context, hook: Any) -> dict[str, Any]:
        body = _body(self.query)
        fingerprint = _ledger.fingerprint(self.job_kind, body)
        ledger = self.ledger()
        key = _ledger.ledger_key(run_identity(context))

        job_id = self._reusable_job(hook, ledger, key, fingerprint)
        if job_id is None:
            response = hook.create(self.job_path, body)  # never retried blindly by the hook
            job_id = (response or {}).get("jobId")
            if not job_id:
                raise GenesysJobError(f"POST {self.job_path} answered without a jobId")
            ledger.put(key, {"job_id": job_id, "fingerprint": fingerprint, "job_kind": self.job_kind})
            self.log.info("Submitted analytics %s job %s", self.job_kind, job_id)
        self.job_id = job_id
        context["ti"].xcom_push(key="job_id", value=job_id)

        if self.deferrable:
            self.defer(
                trigger=AnalyticsJobTrigger(
                    conn_id=self.genesys_cloud_conn_id,
                    job_path=self.job_path,
                    job_id=job_id,
                    poll_interval=self._interval(),
                    timeout_seconds=self.timeout,
                    max_poll_interval=self.max_poll_interval,
                ),
                method_name="execute_complete",
                timeout=timedelta(seconds=self.timeout + DEFER_GRACE_SECONDS),
            )
        return self.execute_complete(context, self._poll_in_worker(hook, job_id))

    def _poll_in_worker(self, hook: Any, job_id: str) -> dict[str, Any]:
        """Non-deferrable mode: the trigger's schedule and outcomes, with the hook's sync API."""
        schedule = _polling.PollSchedule(self._interval(), self.max_poll_interval, self.timeout)
        while True:
            schedule.polls += 1
            outcome, state, message = job_outcome(job_id, hook.get(f"{self.job_path}/{job_id}"))
            if outcome is not None:
                event = {"status": outcome, "job_id": job_id, "state": state, "polls": schedule.polls}
                return {**event, "message": message} if message else event
            if schedule.expired():
                return {
                    "status": "error",
                    "job_id": job_id,
                    "state": state,
                    "polls": schedule.polls,
                    "message": f"analytics job {job_id} still {state} after {self.timeout:.0f}s",
                }
            schedule.wait_sync()

    def execute_complete(self, context: Context, event: dict[str, Any] | None = None) -> dict[str, Any]:
        if (
            not isinstance(event, dict)
            or event.get("status") not in ("success", "error")
            or not event.get("job_id")
        ):
            raise GenesysJobError(f"unusable trigger event: {event!r}")
        job_id = str(event["job_id"])
        self.job_id = job_id
        if event["status"] == "error":
            if event.get("state") not in ("FAILED", "CANCELLED", "EXPIRED"):
                self._cancel(job_id)  # timed out or unreadable: do not leave it running
            raise GenesysJobError(event.get("message") or f"analytics job {job_id} failed")
        try:
            self.ledger().delete(_ledger.ledger_key(run_identity(context)))
        except Exception as exc:  # the outcome is known; a stale ledger entry only costs one GET later
            self.log.warning("Could not clear the job ledger entry: %s", exc)
        return {"job_id": job_id, "state": event.get("state"), "polls": int(event.get("polls") or 0)}

    def _cancel(self, job_id: str) -> None:
        try:
            self._hook().delete(f"{self.job_path}/{job_id}")
            self.log.info("Cancelled analytics job %s", job_id)
        except GenesysError as exc:
            self.log.warning("Could not cancel analytics job %s: %s", job_id, exc)

    def on_kill(self) -> None:
        """Cancel the job (DELETE) when the task is killed while polling in the worker."""
        if self.job_id:
            self._cancel(self.job_id)
