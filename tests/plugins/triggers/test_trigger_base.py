"""The base polling trigger: cancel on a user's kill and on its own timeout, never on cleanup; the same
loop serves operators that wait in the worker."""

from __future__ import annotations

import asyncio
import json

import httpx
import pytest
import respx

from genesys_cloud.hooks import ratelimit
from genesys_cloud.hooks.auth import TOKENS
from genesys_cloud.hooks.genesys_cloud import GenesysCloudHook
from genesys_cloud.triggers import _polling
from genesys_cloud.triggers.analytics_job import AnalyticsJobTrigger
from genesys_cloud.triggers.base import first_event
from genesys_cloud.triggers.reporting_export import ReportingExportTrigger

API = "https://api.triggerbase.local"
CONN_ID = "genesys_triggerbase"
JOB = "/api/v2/analytics/conversations/details/jobs/job-1"


@pytest.fixture(autouse=True)
def env(monkeypatch: pytest.MonkeyPatch) -> None:
    extra = {"api_base_url": API, "login_base_url": API, "requests_per_minute": 60000, "sandbox": True}
    conn = {"conn_type": "genesys_cloud", "login": "client", "password": "secret", "extra": extra}
    monkeypatch.setenv(f"AIRFLOW_CONN_{CONN_ID.upper()}", json.dumps(conn))

    async def no_wait(seconds: float) -> None:
        return None

    monkeypatch.setattr(_polling, "sleep", no_wait)
    TOKENS.clear()
    ratelimit.reset_limiters()
    yield
    TOKENS.clear()
    ratelimit.reset_limiters()


def _router() -> respx.MockRouter:
    router = respx.mock(assert_all_called=False)
    router.post(f"{API}/oauth/token").mock(return_value=httpx.Response(200, json={"access_token": "tok"}))
    return router


def test_on_kill_cancels_the_job() -> None:
    with _router() as router:
        cancel = router.delete(f"{API}{JOB}").mock(return_value=httpx.Response(204))
        trigger = AnalyticsJobTrigger(CONN_ID, job_kind="details", job_id="job-1")
        asyncio.run(trigger.on_kill())
    assert cancel.call_count == 1


def test_cleanup_never_cancels() -> None:
    """cleanup() also runs when a triggerer restarts: the job must keep running then."""
    with _router() as router:
        cancel = router.delete(f"{API}{JOB}").mock(return_value=httpx.Response(204))
        asyncio.run(AnalyticsJobTrigger(CONN_ID, job_kind="details", job_id="job-1").cleanup())
    assert cancel.call_count == 0


def test_an_export_cannot_be_cancelled_and_a_kill_sends_nothing() -> None:
    with respx.mock(assert_all_mocked=True):  # any request (even a token) would fail the test
        asyncio.run(ReportingExportTrigger(CONN_ID, export_id="e1").on_kill())


def test_a_refused_cancel_is_logged_not_raised() -> None:
    with _router() as router:
        router.delete(f"{API}{JOB}").mock(return_value=httpx.Response(403, json={"message": "no"}))
        asyncio.run(AnalyticsJobTrigger(CONN_ID, job_kind="details", job_id="job-1").on_kill())


def test_the_worker_runs_the_same_loop_with_a_synchronously_read_connection() -> None:
    with _router() as router:
        router.get(f"{API}{JOB}").mock(side_effect=[httpx.Response(200, json={"state": s})
                                                    for s in ("QUEUED", "FULFILLED")])
        hook = GenesysCloudHook(genesys_cloud_conn_id=CONN_ID)
        hook._cfg()
        event = first_event(AnalyticsJobTrigger(CONN_ID, job_kind="details", job_id="job-1"), hook)
    assert event == {"status": "success", "job_id": "job-1", "state": "FULFILLED", "polls": 2}
