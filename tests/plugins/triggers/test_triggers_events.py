"""AnalyticsJobTrigger and ReportingExportTrigger: serialisation and events against a respx-mocked API.

pytest-asyncio is not installed: coroutines are driven with asyncio.run.
"""

from __future__ import annotations

import asyncio
import json
import logging
from typing import Any

import httpx
import pytest
import respx

from genesys_cloud.hooks import ratelimit
from genesys_cloud.hooks.auth import TOKENS
from genesys_cloud.hooks.paths import EXPORTS as EXPORTS_PATH
from genesys_cloud.triggers import _polling
from genesys_cloud.triggers.analytics_job import AnalyticsJobTrigger
from genesys_cloud.triggers.reporting_export import ReportingExportTrigger

API = "https://api.triggertest.local"
LOGIN = "https://login.triggertest.local"
CONN_ID = "genesys_triggertest"
SECRET = "trigger-client-secret"
TOKEN = "tok-trigger-123"
JOBS = "/api/v2/analytics/conversations/details/jobs"


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []

    def monotonic(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


@pytest.fixture(autouse=True)
def env(monkeypatch: pytest.MonkeyPatch) -> FakeClock:
    extra = {"api_base_url": API, "login_base_url": LOGIN, "requests_per_minute": 60000, "sandbox": True}
    conn = {"conn_type": "genesys_cloud", "login": "client-1", "password": SECRET, "extra": extra}
    monkeypatch.setenv(f"AIRFLOW_CONN_{CONN_ID.upper()}", json.dumps(conn))
    monkeypatch.setenv("GENESYS_RETRY_BACKOFF_BASE", "0.001")
    monkeypatch.setenv("GENESYS_RETRY_MAX_ATTEMPTS", "2")
    TOKENS.clear()
    ratelimit.reset_limiters()
    clock = FakeClock()
    monkeypatch.setattr(_polling, "monotonic", clock.monotonic)
    monkeypatch.setattr(_polling, "sleep", clock.sleep)
    yield clock
    TOKENS.clear()
    ratelimit.reset_limiters()


def _events(trigger) -> list[dict[str, Any]]:
    async def collect() -> list[dict[str, Any]]:
        return [event.payload async for event in trigger.run()]

    return asyncio.run(collect())


def _token(router: respx.MockRouter) -> None:
    router.post(f"{LOGIN}/oauth/token").mock(
        return_value=httpx.Response(
            200, json={"access_token": TOKEN, "token_type": "bearer", "expires_in": 86400}
        )
    )


def _no_secret(payload: dict[str, Any]) -> None:
    text = json.dumps(payload)
    assert SECRET not in text and TOKEN not in text


# -- serialisation --------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "trigger",
    [
        AnalyticsJobTrigger(CONN_ID, job_kind="details", job_id="job-1", poll_interval=2, timeout_seconds=60, max_poll_interval=10
        ),
        ReportingExportTrigger(CONN_ID, export_id="exp-1", poll_interval=3, timeout_seconds=90, max_pages=4),
    ],
)
def test_serialize_round_trips(trigger) -> None:
    path, kwargs = trigger.serialize()
    module, _, name = path.rpartition(".")
    cls = getattr(__import__(module, fromlist=[name]), name)
    assert cls is type(trigger)
    again = cls(**kwargs)
    assert again.serialize() == (path, kwargs)
    json.dumps(kwargs)  # stored in the metadata DB as JSON


# -- analytics job ------------------------------------------------------------------------------
def test_job_polls_with_backoff_until_fulfilled(env: FakeClock) -> None:
    states = ["QUEUED", "PENDING", "PENDING", "FULFILLED"]
    with respx.mock(assert_all_called=True) as router:
        _token(router)
        route = router.get(f"{API}{JOBS}/job-1").mock(
            side_effect=[httpx.Response(200, json={"state": s}) for s in states]
        )
        trigger = AnalyticsJobTrigger(CONN_ID, job_kind="details", job_id="job-1", poll_interval=2, timeout_seconds=600, max_poll_interval=4
        )
        events = _events(trigger)
    assert events == [{"status": "success", "job_id": "job-1", "state": "FULFILLED", "polls": 4}]
    assert route.call_count == 4
    assert env.sleeps == [2, 3, 4]  # x1.5 backoff, capped at max_poll_interval
    assert route.calls.last.request.headers["Authorization"] == f"Bearer {TOKEN}"


@pytest.mark.parametrize("state", ["FAILED", "CANCELLED", "EXPIRED"])
def test_job_failure_names_the_error_message(state: str) -> None:
    with respx.mock() as router:
        _token(router)
        router.get(f"{API}{JOBS}/job-2").mock(
            return_value=httpx.Response(200, json={"state": state, "errorMessage": "Query too large"})
        )
        (event,) = _events(AnalyticsJobTrigger(CONN_ID, job_kind="details", job_id="job-2", poll_interval=1))
    assert event["status"] == "error" and event["state"] == state and event["polls"] == 1
    assert "Query too large" in event["message"]
    _no_secret(event)


def test_job_timeout_is_an_error_event(env: FakeClock) -> None:
    with respx.mock() as router:
        _token(router)
        router.get(f"{API}{JOBS}/job-3").mock(return_value=httpx.Response(200, json={"state": "PENDING"}))
        cancel = router.delete(f"{API}{JOBS}/job-3").mock(return_value=httpx.Response(204))
        (event,) = _events(
            AnalyticsJobTrigger(CONN_ID, job_kind="details", job_id="job-3", poll_interval=10, timeout_seconds=25, max_poll_interval=10
            )
        )
    assert event["status"] == "error" and "after 25s" in event["message"] and event["state"] == "PENDING"
    assert cancel.call_count == 1 and event["cancelled"] is True  # its own timeout cancels the job
    assert (
        sum(env.sleeps) == 25 and event["polls"] == 4
    )  # polls at t=0,10,20,25 (last wait cut to the deadline)


def test_job_api_error_becomes_an_error_event() -> None:
    with respx.mock() as router:
        _token(router)
        router.get(f"{API}{JOBS}/gone").mock(
            return_value=httpx.Response(
                404, json={"status": 404, "code": "not.found", "message": "job not found"}
            )
        )
        (event,) = _events(AnalyticsJobTrigger(CONN_ID, job_kind="details", job_id="gone"))
    assert event["status"] == "error" and "job not found" in event["message"]
    _no_secret(event)


def test_job_trigger_uses_the_async_connection_api(monkeypatch) -> None:
    from airflow.sdk import BaseHook

    def forbidden(*args, **kwargs):
        raise AssertionError("sync get_connection called from the event loop")

    monkeypatch.setattr(BaseHook, "get_connection", classmethod(forbidden))
    with respx.mock() as router:
        _token(router)
        router.get(f"{API}{JOBS}/job-4").mock(return_value=httpx.Response(200, json={"state": "FULFILLED"}))
        (event,) = _events(AnalyticsJobTrigger(CONN_ID, job_kind="details", job_id="job-4"))
    assert event["status"] == "success"


# -- reporting export ---------------------------------------------------------------------------
def _listing(entities: list[dict], page: int, page_count: int) -> httpx.Response:
    return httpx.Response(
        200,
        json={"entities": entities, "pageNumber": page, "pageSize": 2, "pageCount": page_count, "total": 99},
    )


def _export(export_id: str, status: str, **fields: Any) -> dict[str, Any]:
    return {
        "id": export_id,
        "name": f"n-{export_id}",
        "status": status,
        "recipientEmails": ["a@b.c"],
        **fields,
    }


def test_export_pages_only_as_far_as_needed() -> None:
    pages = {
        1: [_export("other-1", "COMPLETED"), _export("other-2", "RUNNING")],
        2: [_export("exp-1", "COMPLETED", downloadUrl="https://dl/1")],
        3: [_export("other-3", "COMPLETED")],
    }

    def listing(request: httpx.Request) -> httpx.Response:
        page = int(request.url.params["pageNumber"])
        return _listing(pages[page], page, 3)

    with respx.mock() as router:
        _token(router)
        route = router.get(f"{API}{EXPORTS_PATH}").mock(side_effect=listing)
        (event,) = _events(ReportingExportTrigger(CONN_ID, export_id="exp-1", max_pages=5))
    assert [int(c.request.url.params["pageNumber"]) for c in route.calls] == [1, 2]
    assert event == {
        "status": "success",
        "export_id": "exp-1",
        "export_status": "COMPLETED",
        "download_url": "https://dl/1",
        "partial": False,
        "error_type": None,
        "polls": 1,
    }
    _no_secret(event)
    assert "a@b.c" not in json.dumps(event)


def test_export_running_then_partial_success(env: FakeClock) -> None:
    answers = [
        _listing([_export("exp-2", "SUBMITTED")], 1, 1),
        _listing([_export("exp-2", "RUNNING")], 1, 1),
        _listing([_export("exp-2", "COMPLETED_WITH_PARTIAL_RESULTS", downloadUrl="https://dl/2")], 1, 1),
    ]
    with respx.mock() as router:
        _token(router)
        router.get(f"{API}{EXPORTS_PATH}").mock(side_effect=answers)
        (event,) = _events(ReportingExportTrigger(CONN_ID, export_id="exp-2", poll_interval=5))
    assert event["status"] == "success" and event["partial"] is True and event["polls"] == 3
    assert event["download_url"] == "https://dl/2" and env.sleeps == [5, 7.5]


@pytest.mark.parametrize("status", ["FAILED", "CANCELLED"])
def test_export_failure_names_the_error_type(status: str) -> None:
    failed = _export(
        "exp-3", status, exportErrorMessagesType="FAILED_AS_EXPORT_FILE_SIZE_IS_GREATER_THAN_10MB"
    )
    with respx.mock() as router:
        _token(router)
        router.get(f"{API}{EXPORTS_PATH}").mock(return_value=_listing([failed], 1, 1))
        (event,) = _events(ReportingExportTrigger(CONN_ID, export_id="exp-3"))
    assert event["status"] == "error" and event["export_status"] == status
    assert event["error_type"] == "FAILED_AS_EXPORT_FILE_SIZE_IS_GREATER_THAN_10MB"
    assert "FAILED_AS_EXPORT_FILE_SIZE_IS_GREATER_THAN_10MB" in event["message"]


def test_export_not_found_within_max_pages_gives_up() -> None:
    def listing(request: httpx.Request) -> httpx.Response:
        page = int(request.url.params["pageNumber"])
        return _listing([_export(f"x-{page}", "COMPLETED")], page, 50)

    with respx.mock() as router:
        _token(router)
        route = router.get(f"{API}{EXPORTS_PATH}").mock(side_effect=listing)
        (event,) = _events(ReportingExportTrigger(CONN_ID, export_id="nowhere", max_pages=2))
    assert event["status"] == "error" and "not found in the export list" in event["message"]
    assert "2-page cap" in event["message"]
    assert route.call_count == 2 * 3  # bounded: max_pages per poll, three polls


def test_export_fail_fast_api_error_is_still_an_error_event() -> None:
    # 403 now also subclasses AirflowFailException: the trigger must still turn it into an event.
    with respx.mock() as router:
        _token(router)
        router.get(f"{API}{EXPORTS_PATH}").mock(
            return_value=httpx.Response(
                403, json={"status": 403, "code": "missing.permissions", "message": "no"}
            )
        )
        (event,) = _events(ReportingExportTrigger(CONN_ID, export_id="exp-1"))
    assert event["status"] == "error" and "403 missing.permissions" in event["message"]


def test_export_on_page_11_is_found_by_walking_to_page_count() -> None:
    # The list only grows (exports cannot be deleted): an export far down must still be seen.
    def listing(request: httpx.Request) -> httpx.Response:
        page = int(request.url.params["pageNumber"])
        if page == 11:
            return _listing([_export("deep", "COMPLETED", downloadUrl="https://dl/deep")], page, 12)
        return _listing([_export(f"x-{page}", "COMPLETED")], page, 12)

    with respx.mock() as router:
        _token(router)
        route = router.get(f"{API}{EXPORTS_PATH}").mock(side_effect=listing)
        (event,) = _events(ReportingExportTrigger(CONN_ID, export_id="deep"))
    assert event["status"] == "success" and event["download_url"] == "https://dl/deep"
    assert [int(c.request.url.params["pageNumber"]) for c in route.calls] == list(range(1, 12))


def test_export_walk_warns_past_50_pages_and_stops_at_the_cap(caplog: pytest.LogCaptureFixture) -> None:
    from genesys_cloud.hooks.exports import MAX_LIST_PAGES, WARN_LIST_PAGES, ExportVerbs

    class Listing(ExportVerbs):
        def __init__(self) -> None:
            self.pages: list[int] = []

        async def aget(self, path: str, params: dict[str, Any]) -> dict[str, Any]:
            page = params["pageNumber"]
            self.pages.append(page)
            return {"entities": [_export(f"x-{page}", "COMPLETED")], "pageNumber": page, "pageCount": 10_000}

    caplog.set_level(logging.WARNING, logger="genesys_cloud.hooks.exports")
    hook = Listing()
    assert asyncio.run(hook.afind_reporting_export(export_id="x-120")) == _export("x-120", "COMPLETED")
    assert hook.pages == list(range(1, 121)) and WARN_LIST_PAGES < 120 < MAX_LIST_PAGES
    assert "past page 50" in caplog.text and "safety cap" not in caplog.text
    hook = Listing()
    assert asyncio.run(hook.afind_reporting_export(export_id="nowhere")) is None
    assert hook.pages == list(range(1, MAX_LIST_PAGES + 1))  # bounded even when pageCount is absurd
    assert "safety cap of 200 pages" in caplog.text
