"""Ids from API answers go into URL paths only through the one path builder (quoted, never re-targeted)."""

from __future__ import annotations

import json

import httpx
import pytest
import respx

from genesys_cloud.exceptions import GenesysValidationError
from genesys_cloud.hooks import paths
from genesys_cloud.hooks.genesys_cloud import GenesysCloudHook
from genesys_cloud.hooks.paths import api_path, path_id

API = "https://api.paths.local"


@pytest.mark.parametrize("bad", ["", " ", ".", "..", "../contactlists/x", "a/b", "a\\b", "x\x00y", "x\ny", None])
def test_unusable_ids_are_refused_by_name(bad: object) -> None:
    with pytest.raises(GenesysValidationError, match="campaign_id"):
        api_path(paths.CAMPAIGN, campaign_id=bad)


def test_ids_are_percent_quoted_into_one_segment() -> None:
    assert api_path(paths.CAMPAIGN_STATS, campaign_id="c0ffee00-0000-4000-8000-000000000001") == (
        "/api/v2/outbound/campaigns/c0ffee00-0000-4000-8000-000000000001/stats")
    assert path_id("a b?c#d%") == "a%20b%3Fc%23d%25"
    assert api_path(paths.JOB, jobs=paths.DETAILS_JOBS, job_id="j 1") == f"{paths.DETAILS_JOBS}/j%201"


def test_a_template_gets_exactly_its_ids() -> None:
    with pytest.raises(GenesysValidationError, match="needs"):
        api_path(paths.CAMPAIGN, id="c1")


def _hook() -> GenesysCloudHook:
    return GenesysCloudHook.from_connection_dict(
        "paths", "client", "secret", {"api_base_url": API, "login_base_url": API, "requests_per_minute": 6000, "sandbox": True})


def test_a_crafted_id_from_an_answer_never_reaches_the_api() -> None:
    """A campaign whose id (from a GET) would re-target the PUT to a contact list is refused unsent;
    a crafted job id can never turn the job-cancel DELETE into another DELETE."""
    with respx.mock(assert_all_called=False) as router:
        token = router.post(f"{API}/oauth/token").mock(
            return_value=httpx.Response(200, json={"access_token": "t", "expires_in": 3600}))
        anything = router.route().mock(return_value=httpx.Response(200, json={}))
        hook = _hook()
        with pytest.raises(GenesysValidationError, match="campaign_id"):
            hook.put_campaign({"id": "../contactlists/cl-1", "version": 3, "name": "x"})
        with pytest.raises(GenesysValidationError, match="job_id"):
            hook.cancel_job("details", "../../outbound/campaigns/c1")
        assert anything.call_count == 0 and token.call_count == 0


def test_verbs_build_their_paths_through_the_builder() -> None:
    with respx.mock() as router:
        router.post(f"{API}/oauth/token").mock(return_value=httpx.Response(200, json={"access_token": "t"}))
        route = router.get(f"{API}/api/v2/outbound/schedules/campaigns/c%201").mock(
            return_value=httpx.Response(200, json={"intervals": [], "version": 1}))
        assert _hook().get_campaign_schedule("c 1").version == 1
        assert route.call_count == 1 and json.loads(route.calls.last.response.content)["version"] == 1
