"""Every query parameter the provider sends, held against the official SDK's API operation for that method
and path (PureCloudPlatformClientV2 269.0.0): a name the SDK's operation does not take fails.

Every hook verb runs once against the sandbox (real HTTP); the sandbox journals each request's method,
path template and query parameter names (``GET /_sandbox/requests``), and each one is checked with
:func:`sdk_check.query_problems`. The pipelines reach the API only through these verbs (paths and query
parameters live in ``plugins/genesys_cloud/hooks``), so a new verb that is not exercised here fails the
completeness test below.
"""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from sdk_check import query_problems, sdk_operations

from genesys_cloud.hooks.analytics import AnalyticsVerbs
from genesys_cloud.hooks.exports import ExportVerbs
from genesys_cloud.hooks.genesys_cloud import GenesysCloudHook
from genesys_cloud.hooks.outbound import OutboundVerbs
from genesys_cloud.hooks.routing import RoutingVerbs
from genesys_cloud.hooks.wfm import WfmVerbs
from genesys_cloud.hooks.writes import WriteVerbs
from genesys_pipelines.campaign_stats import queries as stats_queries
from genesys_pipelines.conversation_report.params import validate_params as report_params
from genesys_pipelines.conversation_report.query import build_async_query, build_query
from genesys_pipelines.windows import Window

VERB_CLASSES = (OutboundVerbs, RoutingVerbs, AnalyticsVerbs, ExportVerbs, WfmVerbs, WriteVerbs)
#: Verbs not called directly here, and why.
NOT_EXERCISED = {
    "download_export": "fetches the export's downloadUrl (a signed file URL, not an API operation)",
    "put_versioned": "called by set_fields (campaign and schedule) above",
}
HOOK_VERBS = ("authenticate", "aauthenticate", "test_connection")


class Recording:
    """The hook, recording which verbs were called."""

    def __init__(self, hook: GenesysCloudHook, called: set[str]) -> None:
        self._hook, self._called = hook, called

    def __getattr__(self, name: str) -> Any:
        self._called.add(name)
        return getattr(self._hook, name)


def _public_verbs() -> set[str]:
    return {name for cls in VERB_CLASSES for name in vars(cls) if not name.startswith("_")} | set(HOOK_VERBS)


def _day(sandbox) -> Window:
    day = date.fromisoformat(str(sandbox.demo_date))
    start = datetime(day.year, day.month, day.day, tzinfo=UTC)
    return Window(start, start + timedelta(days=1))


def _fulfilled(hook: Recording, job_id: str) -> None:
    for _ in range(600):
        if hook.job_status("details", job_id).state == "FULFILLED":
            return
        time.sleep(0.1)
    raise AssertionError(f"details job {job_id} never FULFILLED")


def _exercise_sync(hook: Recording, sandbox, window: Window) -> None:
    fx = sandbox.fixtures
    campaign, queue, contact_list = fx["normal_campaign"], fx["normal_queue"], fx["normal_contact_list"]
    business_unit, planning_group = fx["business_unit"], fx["normal_planning_group"]
    hook.authenticate()
    hook.test_connection()
    list(hook.list_campaigns())
    list(hook.list_campaigns(contact_list_id=contact_list, queue_id=queue))
    current = hook.get_campaign(campaign)
    hook.find_campaign(campaign)
    hook.put_campaign(current, decimal_calls=True)
    hook.set_fields("campaign", campaign, {"maxCallsPerAgentDecimal": 2.5})
    hook.campaign_stats(campaign)
    hook.campaign_progress(campaign)
    hook.list_campaign_schedules()
    hook.get_campaign_schedule(campaign)
    hook.set_fields("campaign_schedule", campaign, {"timeZone": "Europe/Dublin"})
    schedule = hook.get_campaign_schedule(campaign)
    if schedule is not None:
        hook.put_campaign_schedule(campaign, schedule)
    hook.delete_campaign_schedule(campaign)
    hook.contact_list_size(contact_list)
    hook.wrapup_code_mappings()
    list(hook.list_queues())
    list(hook.list_queues(name="*sales*", division_ids=[fx["home_division"]]))
    list(hook.list_wrapup_codes())
    list(hook.list_wrapup_codes(name="sal*", division_ids=[fx["home_division"]]))

    hook.aggregates_query(stats_queries.window_totals_query([campaign], window))
    query = build_query(report_params({}), window.interval()).to_api()
    hook.details_total_hits(query, window.interval())
    hook.details_probe({**query, "paging": {"pageSize": 1, "pageNumber": 1}})
    rows = hook.iter_conversation_details(query)
    for _ in zip(range(150), rows, strict=False):  # two pages
        pass
    hook.details_job_availability()
    job_id = hook.submit_job("details", build_async_query(report_params({}), window.interval()).to_api())
    _fulfilled(hook, job_id)
    next(iter(hook.iter_job_rows("details", job_id, page_size=50)), None)
    next(iter(hook.iter_job_results(
        f"/api/v2/analytics/conversations/details/jobs/{job_id}/results", page_size=50)), None)
    hook.cancel_job("details", hook.submit_job("details", build_async_query(report_params({}),
                                                                               window.interval()).to_api()))

    request = {"name": "query-contract", "timeZone": "UTC", "exportFormat": "CSV", "interval": window.interval(),
               "period": "P1D", "viewType": "CAMPAIGN_PERFORMANCE_SUMMARY_VIEW",
               "filter": {"mediaTypes": ["voice"]}, "locale": "en-US"}
    hook.reporting_export_metadata()
    hook.find_reporting_export(name="query-contract")
    hook.submit_reporting_export(request)

    hook.business_units()
    hook.business_unit(business_unit)
    hook.planning_groups(business_unit)
    hook.intraday(business_unit, window.start.date(), planning_group)


async def _exercise_async(called: set[str], window: Window) -> None:
    async with GenesysCloudHook() as raw:
        hook = Recording(raw, called)
        await hook.aauthenticate()
        query = build_query(report_params({}), window.interval()).to_api()
        count = 0
        async for _row in hook.aiter_conversation_details(query):
            count += 1
            if count >= 150:
                break
        job_id = await asyncio.to_thread(raw.submit_job, "details",
                                         build_async_query(report_params({}), window.interval()).to_api())
        for _ in range(600):
            if (await hook.ajob_status("details", job_id)).state == "FULFILLED":
                break
            await asyncio.sleep(0.1)
        async for _row in hook.aiter_job_results(
                f"/api/v2/analytics/conversations/details/jobs/{job_id}/results", page_size=50):
            break
        await hook.acancel_job("details", job_id)
        await hook.afind_reporting_export(name="query-contract")


@pytest.fixture
def journal(sandbox) -> tuple[list[dict[str, Any]], set[str]]:
    """Run every verb once; the journal entries of those requests and the verbs called."""
    seq = max([r["seq"] for r in sandbox.admin.get("/_sandbox/requests").json()] or [0])
    called: set[str] = set()
    window = _day(sandbox)
    with GenesysCloudHook() as raw:
        _exercise_sync(Recording(raw, called), sandbox, window)
    asyncio.run(_exercise_async(called, window))
    entries = [r for r in sandbox.admin.get("/_sandbox/requests").json() if r["seq"] > seq]
    return entries, called


def test_every_query_parameter_sent_is_one_the_sdk_operation_takes(journal) -> None:
    entries, _ = journal
    problems = sorted({p for r in entries for p in query_problems(r["method"], r["path"], r["query"])})
    assert problems == []
    # Not vacuous: page-number listings, cursors and flags were sent and checked.
    sent = {(r["method"], r["path"], name) for r in entries for name in r["query"]}
    assert ("GET", "/api/v2/outbound/campaigns", "pageSize") in sent
    assert ("GET", "/api/v2/analytics/reporting/exports", "pageNumber") in sent
    for listing in ("/api/v2/routing/queues", "/api/v2/routing/wrapupcodes"):
        assert {("GET", listing, name) for name in ("pageSize", "pageNumber", "name", "divisionId")} <= sent
    assert ("PUT", "/api/v2/outbound/campaigns/{campaignId}", "useMaxCallsPerAgentDecimal") in sent
    assert any(name == "cursor" or name == "pageSize" for (_, path, name) in sent if path.endswith("/results"))
    assert {(r["method"], r["path"]) for r in entries} >= {
        ("GET", "/api/v2/outbound/campaigns/{campaignId}"),
        ("GET", "/api/v2/analytics/reporting/exports/metadata"),
    }


def test_every_hook_verb_is_exercised(journal) -> None:
    """A verb added to the hook must be exercised above (or listed in NOT_EXERCISED with the reason)."""
    _, called = journal
    assert _public_verbs() - called - set(NOT_EXERCISED) == set()


@pytest.mark.parametrize(("method", "path", "names"), [
    # What the provider used to send (issue 18): the SDK has no such parameters on these operations.
    ("GET", "/api/v2/analytics/reporting/exports/metadata", ["pageSize", "pageNumber"]),
    ("GET", "/api/v2/outbound/campaigns/{campaignId}", ["useMaxCallsPerAgentDecimal"]),
    ("GET", "/api/v2/outbound/campaigns", ["pageSize", "contactListIds"]),
])
def test_the_check_refuses_what_the_sdk_does_not_take(method: str, path: str, names: list[str]) -> None:
    problems = query_problems(method, path, names)
    assert problems and all("is not one the SDK's operation takes" in p for p in problems)


def test_the_check_accepts_what_the_sdk_takes() -> None:
    assert query_problems("PUT", "/api/v2/outbound/campaigns/{id}", ["useMaxCallsPerAgentDecimal"]) == []
    assert query_problems("GET", "/api/v2/analytics/reporting/exports", ["pageSize", "pageNumber"]) == []
    assert query_problems("GET", "/api/v2/outbound/campaigns",
                          ["pageSize", "pageNumber", "contactListId", "distributionQueueId"]) == []
    assert query_problems("GET", "/api/v2/routing/queues",
                          ["pageSize", "pageNumber", "sortOrder", "name", "id", "divisionId"]) == []
    assert query_problems("GET", "/api/v2/routing/wrapupcodes",
                          ["pageSize", "pageNumber", "sortBy", "sortOrder", "name", "id", "divisionId"]) == []
    assert query_problems("DELETE", "/api/v2/outbound/campaigns/{campaignId}/nothing", []) != []
    assert len(sdk_operations()) > 1000
