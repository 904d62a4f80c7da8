"""Submitting operators: idempotent submission across tries, deferral, worker polling, events, on_kill."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
import respx
from airflow.sdk.exceptions import TaskDeferred

from genesys_cloud.exceptions import GenesysJobError, GenesysValidationError
from genesys_cloud.hooks import ratelimit
from genesys_cloud.hooks.auth import TOKENS
from genesys_cloud.hooks.paths import EXPORTS as EXPORTS_PATH
from genesys_cloud.operators.analytics_job import GenesysAnalyticsJobOperator
from genesys_cloud.operators.authenticate import GenesysAuthenticateOperator
from genesys_cloud.operators.base import fingerprint
from genesys_cloud.operators.reporting_export import GenesysReportingExportOperator
from genesys_cloud.triggers import _polling
from genesys_cloud.triggers.analytics_job import AnalyticsJobTrigger
from genesys_cloud.triggers.reporting_export import ReportingExportTrigger

API = "https://api.optest.local"
LOGIN = "https://login.optest.local"
CONN_ID = "genesys_optest"
SECRET = "operator-client-secret"
TOKEN = "tok-operator-4711"
JOBS = "/api/v2/analytics/conversations/details/jobs"
QUERY = {"interval": "2024-05-01T00:00:00.000Z/2024-05-02T00:00:00.000Z", "order": "asc"}


@dataclass
class FakeTI:
    dag_id: str = "conversation_details"
    run_id: str = "manual__2024-05-02"
    task_id: str = "submit"
    map_index: int = -1
    try_number: int = 1
    xcoms: dict[str, Any] = field(default_factory=dict)

    def xcom_push(self, key: str, value: Any) -> None:
        self.xcoms[key] = value

    def xcom_pull(self, task_ids: str, key: str, map_indexes: int = -1) -> Any:
        return self.xcoms.get(key)


class MemoryStore:
    """``context["task_state_store"]``: one per task instance, kept across its tries and deferrals."""

    entries: dict[str, Any] = {}

    def get(self, key: str, default: Any = None) -> Any:
        return self.entries.get(key, default)

    def set(self, key: str, value: Any, **kwargs: Any) -> None:
        self.entries[key] = value

    def delete(self, key: str) -> None:
        self.entries.pop(key, None)


def ctx(ti: FakeTI | None = None) -> dict[str, Any]:
    return {"ti": ti or FakeTI(), "task_state_store": MemoryStore()}


@pytest.fixture(autouse=True)
def env(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    extra = {"api_base_url": API, "login_base_url": LOGIN, "requests_per_minute": 60000, "sandbox": True}
    conn = {"conn_type": "genesys_cloud", "login": "client-1", "password": SECRET, "extra": extra}
    monkeypatch.setenv(f"AIRFLOW_CONN_{CONN_ID.upper()}", json.dumps(conn))
    monkeypatch.setenv("GENESYS_RETRY_BACKOFF_BASE", "0.001")
    monkeypatch.setenv("GENESYS_RETRY_MAX_ATTEMPTS", "2")
    TOKENS.clear()
    ratelimit.reset_limiters()
    MemoryStore.entries = {}
    sleeps: list[float] = []

    async def sleep(seconds: float) -> None:
        sleeps.append(seconds)

    monkeypatch.setattr(_polling, "sleep", sleep)
    yield sleeps
    TOKENS.clear()
    ratelimit.reset_limiters()


@pytest.fixture
def router():
    with respx.mock(assert_all_mocked=True, assert_all_called=False) as mock:
        mock.post(f"{LOGIN}/oauth/token").mock(
            return_value=httpx.Response(
                200, json={"access_token": TOKEN, "token_type": "bearer", "expires_in": 86400}
            )
        )
        yield mock


def _job_op(**kwargs: Any) -> GenesysAnalyticsJobOperator:
    return GenesysAnalyticsJobOperator(
        task_id="submit", query=kwargs.pop("query", QUERY), genesys_cloud_conn_id=CONN_ID, **kwargs
    )


def _defer(op, context) -> TaskDeferred:
    with pytest.raises(TaskDeferred) as info:
        op.execute(context)
    return info.value


# -- analytics job ------------------------------------------------------------------------------
def test_job_submits_once_and_defers(router) -> None:
    post = router.post(f"{API}{JOBS}").mock(return_value=httpx.Response(202, json={"jobId": "job-1"}))
    ti = FakeTI()
    deferred = _defer(_job_op(poll_interval=5, timeout=600), ctx(ti))

    assert post.call_count == 1 and json.loads(post.calls.last.request.content) == QUERY
    assert isinstance(deferred.trigger, AnalyticsJobTrigger) and deferred.method_name == "execute_complete"
    assert deferred.trigger.serialize()[1] == {
        "conn_id": CONN_ID,
        "job_kind": "details",
        "job_id": "job-1",
        "poll_interval": 5.0,
        "timeout_seconds": 600.0,
        "max_poll_interval": 120.0,
    }
    assert ti.xcoms == {"job_id": "job-1"}
    (entry,) = MemoryStore.entries.values()
    assert entry["job_id"] == "job-1" and entry["fingerprint"] == fingerprint("details", QUERY)


def test_retry_reuses_the_job_of_an_earlier_try(router) -> None:
    post = router.post(f"{API}{JOBS}").mock(return_value=httpx.Response(202, json={"jobId": "job-1"}))
    router.get(f"{API}{JOBS}/job-1").mock(return_value=httpx.Response(200, json={"state": "PENDING"}))
    _defer(_job_op(), ctx(FakeTI(try_number=1)))
    # Try 2 (the worker died after the POST; XComs of try 1 are gone, the task state store is not).
    ti2 = FakeTI(try_number=2)
    deferred = _defer(_job_op(), ctx(ti2))
    assert post.call_count == 1
    assert deferred.trigger.job_id == "job-1" and ti2.xcoms == {"job_id": "job-1"}


@pytest.mark.parametrize("previous", [{"state": "FAILED"}, None])
def test_retry_resubmits_when_the_earlier_job_is_unusable(router, previous) -> None:
    post = router.post(f"{API}{JOBS}").mock(
        side_effect=[
            httpx.Response(202, json={"jobId": "job-1"}),
            httpx.Response(202, json={"jobId": "job-2"}),
        ]
    )
    status = httpx.Response(200, json=previous) if previous else httpx.Response(404, json={"message": "gone"})
    router.get(f"{API}{JOBS}/job-1").mock(return_value=status)
    _defer(_job_op(), ctx())
    assert _defer(_job_op(), ctx(FakeTI(try_number=2))).trigger.job_id == "job-2"
    assert post.call_count == 2


def test_changed_query_is_not_served_by_the_old_job(router) -> None:
    post = router.post(f"{API}{JOBS}").mock(
        side_effect=[
            httpx.Response(202, json={"jobId": "job-1"}),
            httpx.Response(202, json={"jobId": "job-2"}),
        ]
    )
    _defer(_job_op(), ctx())
    deferred = _defer(_job_op(query={**QUERY, "order": "desc"}), ctx(FakeTI(try_number=2)))
    assert deferred.trigger.job_id == "job-2" and post.call_count == 2


def test_non_deferrable_polls_in_the_worker(router, env) -> None:
    router.post(f"{API}/api/v2/analytics/conversations/aggregates/jobs").mock(
        return_value=httpx.Response(202, json={"jobId": "agg-1"})
    )
    router.get(f"{API}/api/v2/analytics/conversations/aggregates/jobs/agg-1").mock(
        side_effect=[httpx.Response(200, json={"state": s}) for s in ("QUEUED", "PENDING", "FULFILLED")]
    )
    op = _job_op(job_kind="aggregates", deferrable=False, poll_interval=2)
    assert op.execute(ctx()) == {"job_id": "agg-1", "state": "FULFILLED", "polls": 3}
    assert env == [2, 3.0]
    assert MemoryStore.entries == {}  # outcome handed on: the stored job is forgotten


def test_execute_complete_validates_events(router) -> None:
    op = _job_op()
    context = ctx()
    assert op.execute_complete(
        context, {"status": "success", "job_id": "j", "state": "FULFILLED", "polls": 4}
    ) == {
        "job_id": "j",
        "state": "FULFILLED",
        "polls": 4,
    }
    for bad in (None, {"status": "weird", "job_id": "j"}, {"status": "success"}):
        with pytest.raises(GenesysJobError, match="unusable trigger event"):
            op.execute_complete(context, bad)
    cancel = router.delete(f"{API}{JOBS}/j").mock(return_value=httpx.Response(204))
    with pytest.raises(GenesysJobError, match="Query too large"):
        op.execute_complete(
            context, {"status": "error", "job_id": "j", "state": "FAILED", "message": "FAILED: Query too large"}
        )
    assert cancel.call_count == 0  # already over on the server
    with pytest.raises(GenesysJobError, match="after 600s"):
        op.execute_complete(
            context, {"status": "error", "job_id": "j", "state": "PENDING", "message": "still PENDING after 600s"}
        )
    assert cancel.call_count == 1  # a timed-out job is cancelled


def test_on_kill_cancels_the_job(router) -> None:
    cancel = router.delete(f"{API}{JOBS}/job-9").mock(return_value=httpx.Response(204))
    op = _job_op()
    op.on_kill()  # nothing submitted yet: nothing to cancel
    op.job_id = "job-9"
    op.on_kill()
    assert cancel.call_count == 1


def test_templated_fields_and_no_forced_pool(router) -> None:
    op = _job_op()
    assert set(op.template_fields) >= {"query", "genesys_cloud_conn_id"}
    # The provider forces no pool: the DAG decides (ours pass genesys_api; the integrity test checks).
    assert op.pool == "default_pool" and _job_op(pool="genesys_api").pool == "genesys_api"
    with pytest.raises(GenesysValidationError, match="job_kind"):
        _job_op(job_kind="nope").execute(ctx())


# -- reporting export ---------------------------------------------------------------------------
REQUEST = {
    "name": "campaign_stats 2024-05-01",
    "timeZone": "UTC",
    "exportFormat": "CSV",
    "interval": "2024-05-01T00:00:00.000Z/2024-05-02T00:00:00.000Z",
    "period": "P1D",
    "viewType": "CAMPAIGN_PERFORMANCE_SUMMARY_VIEW",
    "filter": {},
    "locale": "en-US",
}


class ExportServer:
    """The export list as the API shows it (newest first, 2 per page) and a POST that adds to it."""

    def __init__(self, exports: list[dict[str, Any]] | None = None, lose_answer: bool = False) -> None:
        self.exports = list(exports or [])
        self.lose_answer = lose_answer
        self.posts = 0

    def listing(self, request: httpx.Request) -> httpx.Response:
        size, page = int(request.url.params["pageSize"]), int(request.url.params["pageNumber"])
        count = max(1, -(-len(self.exports) // size))
        items = self.exports[(page - 1) * size : page * size]
        return httpx.Response(
            200, json={"entities": items, "pageNumber": page, "pageSize": size, "pageCount": count}
        )

    def create(self, request: httpx.Request) -> httpx.Response:
        self.posts += 1
        body = json.loads(request.content)
        export = {**body, "id": f"exp-{self.posts}", "status": "SUBMITTED"}
        self.exports.insert(0, export)
        if self.lose_answer:
            self.lose_answer = False
            raise httpx.ReadError("connection reset after the server created the export")
        return httpx.Response(200, json=export)


def _export_op(**kwargs: Any) -> GenesysReportingExportOperator:
    return GenesysReportingExportOperator(
        task_id="export",
        request=kwargs.pop("request", REQUEST),
        genesys_cloud_conn_id=CONN_ID,
        page_size=2,
        **kwargs,
    )


def _mount(router, server: ExportServer) -> None:
    router.get(f"{API}{EXPORTS_PATH}").mock(side_effect=server.listing)
    router.post(f"{API}{EXPORTS_PATH}").mock(side_effect=server.create)


def test_export_is_submitted_then_deferred(router) -> None:
    server = ExportServer([{"id": "old", "name": "other", "status": "COMPLETED"}])
    _mount(router, server)
    ti = FakeTI()
    deferred = _defer(_export_op(), ctx(ti))
    assert server.posts == 1 and ti.xcoms["export_id"] == "exp-1"
    assert isinstance(deferred.trigger, ReportingExportTrigger) and deferred.trigger.export_id == "exp-1"


def test_retry_after_a_lost_answer_reuses_the_export_by_name(router) -> None:
    server = ExportServer(lose_answer=True)
    _mount(router, server)
    # Created on the server, the answer lost: the same try looks the name up again instead of re-POSTing.
    deferred = _defer(_export_op(), ctx())
    assert server.posts == 1 and deferred.trigger.export_id == "exp-1"
    deferred = _defer(_export_op(), ctx(FakeTI(try_number=2)))  # and so does a retried task
    assert server.posts == 1 and deferred.trigger.export_id == "exp-1"


def test_existing_export_deep_in_the_list_is_reused(router) -> None:
    others = [{"id": f"o{i}", "name": f"other {i}", "status": "COMPLETED"} for i in range(3)]
    mine = {**REQUEST, "id": "mine", "status": "COMPLETED", "downloadUrl": "https://dl/mine"}
    server = ExportServer([*others, mine])
    _mount(router, server)
    result = _export_op().execute(ctx())  # already final: no deferral at all
    assert server.posts == 0 and result.pop("latency_s") >= 0
    assert result == {
        "export_id": "mine",
        "status": "COMPLETED",
        "download_url": "https://dl/mine",
        "partial": False,
        "polls": 0,
    }


def test_failed_export_with_the_same_name_is_not_reused(router) -> None:
    server = ExportServer(
        [
            {
                **REQUEST,
                "id": "bad",
                "status": "FAILED",
                "exportErrorMessagesType": "REACHED_MAXIMUM_ATTEMPT_OF_RETRY",
            }
        ]
    )
    _mount(router, server)
    assert _defer(_export_op(), ctx()).trigger.export_id == "exp-1"
    assert server.posts == 1


def test_same_name_export_on_page_11_is_reused_not_resubmitted(router) -> None:
    # 2 per page: 20 newer exports fill pages 1-10, the lost try's export sits on page 11.
    others = [{"id": f"o{i}", "name": f"other {i}", "status": "COMPLETED"} for i in range(20)]
    mine = {**REQUEST, "id": "mine", "status": "RUNNING"}
    server = ExportServer([*others, mine, {"id": "last", "name": "x", "status": "COMPLETED"}])
    _mount(router, server)
    deferred = _defer(_export_op(), ctx(FakeTI(try_number=2)))
    assert server.posts == 0 and deferred.trigger.export_id == "mine"
    assert deferred.trigger.max_pages == 200  # the trigger's polling walks as far


def test_partial_export_with_the_same_name_is_not_reused(router) -> None:
    partial = {**REQUEST, "id": "partial", "status": "COMPLETED_WITH_PARTIAL_RESULTS", "downloadUrl": "u"}
    server = ExportServer([partial])
    _mount(router, server)
    deferred = _defer(_export_op(), ctx())  # a re-run of the window gets a whole export
    assert server.posts == 1 and deferred.trigger.export_id == "exp-1"
    # The next try finds the new export under the same name, not the partial one further down.
    again = _defer(_export_op(), ctx(FakeTI(try_number=2)))
    assert server.posts == 1 and again.trigger.export_id == "exp-1"


def test_export_non_deferrable_partial_result(router, env) -> None:
    server = ExportServer()
    _mount(router, server)
    original = server.listing
    calls = {"n": 0}

    def progressing(request: httpx.Request) -> httpx.Response:
        calls["n"] += 1
        if server.exports and calls["n"] == 4:  # lookup, SUBMITTED poll, RUNNING poll, then done
            server.exports[0].update(status="COMPLETED_WITH_PARTIAL_RESULTS", downloadUrl="https://dl/p")
        elif server.exports and calls["n"] == 3:
            server.exports[0]["status"] = "RUNNING"
        return original(request)

    router.get(f"{API}{EXPORTS_PATH}").mock(side_effect=progressing)
    result = _export_op(deferrable=False, poll_interval=1).execute(ctx())
    assert result.pop("latency_s") >= 0
    assert result == {
        "export_id": "exp-1",
        "status": "COMPLETED_WITH_PARTIAL_RESULTS",
        "download_url": "https://dl/p",
        "partial": True,
        "polls": 3,
    }
    assert env == [1, 1.5]


def test_export_failure_event_names_the_error_type() -> None:
    op = _export_op()
    event = {
        "status": "error",
        "export_id": "e",
        "export_status": "FAILED",
        "message": "reporting export e FAILED: FAILED_LONG_RUNNING_EXPORT",
    }
    with pytest.raises(GenesysJobError, match="FAILED_LONG_RUNNING_EXPORT"):
        op.execute_complete(ctx(), event)
    with pytest.raises(GenesysJobError, match="unusable"):
        op.execute_complete(ctx(), {"status": "success"})


def test_export_needs_a_name(router) -> None:
    with pytest.raises(GenesysValidationError, match="name"):
        _export_op(request={**REQUEST, "name": " "}).execute(ctx())


def test_export_on_kill_only_logs(router) -> None:
    _export_op().on_kill()  # assert_all_mocked: any HTTP call here would fail the test


# -- authenticate -------------------------------------------------------------------------------
def test_authenticate_returns_non_secret_facts(router) -> None:
    router.get(f"{API}/api/v2/organizations/limits/namespaces/platform.api").mock(
        return_value=httpx.Response(
            200,
            json={
                "entities": [
                    {
                        "key": "client.credentials.token.rate.per.minute",
                        "value": 300,
                        "namespace": "platform.api",
                    }
                ]
            },
        )
    )
    op = GenesysAuthenticateOperator(task_id="authenticate", genesys_cloud_conn_id=CONN_ID)
    facts = op.execute(ctx())
    assert facts["requests_per_minute"] == 300 and facts["api_base_url"] == API
    assert facts["live_limit_below_configured"] is True  # the connection says 60000
    assert SECRET not in json.dumps(facts) and TOKEN not in json.dumps(facts)
    assert op.template_fields == ("genesys_cloud_conn_id",)


def test_a_presigned_download_link_never_reaches_the_return_value(router) -> None:
    """Issue 16: the operator's return value goes to XCom (and logs); a presigned link there grants access."""
    url = "https://dl.s3.amazonaws.com/e.csv?X-Amz-Credential=AKIAIOSFODNN7EXAMPLE&X-Amz-Signature=" + "f" * 64
    server = ExportServer([{**REQUEST, "id": "mine", "status": "COMPLETED", "downloadUrl": url}])
    _mount(router, server)
    result = _export_op().execute(ctx())
    assert result["export_id"] == "mine" and url not in str(result) and "X-Amz-Signature" not in str(result)
