"""A PUT of an existing versioned entity without ``version`` (issue 18).

genesys-api.md §2.3: "A stale or missing version returns 409". The live answer to a *missing* version is
unverified, so the sandbox answers 409 by default and can answer 400 naming the field
(``--missing-version-status 400``); nothing is written either way. The pipelines never send such a PUT:
the hook refuses it before any call, and the writers PUT with the version they just read.
"""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
import respx
from core_support import NORMAL, auth_headers, make_client
from sdk_check import assert_sdk_compatible

from genesys_cloud.exceptions import GenesysValidationError
from genesys_cloud.hooks.genesys_cloud import GenesysCloudHook

CAMPAIGN = f"/api/v2/outbound/campaigns/{NORMAL}"
SCHEDULE = f"/api/v2/outbound/schedules/campaigns/{NORMAL}"


def _api(**config: Any):
    client = make_client(**config)
    client.headers.update(auth_headers(client))
    return client


@pytest.mark.parametrize(("config", "status", "code"), [
    ({}, 409, "conflict"),                                     # genesys-api.md §2.3 (the default)
    ({"missing_version_status": 400}, 400, "bad.request"),     # the other plausible answer
])
@pytest.mark.parametrize("path", [CAMPAIGN, SCHEDULE])
def test_a_put_without_version_is_refused_and_writes_nothing(config, status, code, path) -> None:
    api = _api(**config)
    before = api.get(path).json()
    body = {k: v for k, v in before.items() if k != "version"}
    refused = api.put(path, json=body)
    assert refused.status_code == status and refused.json()["code"] == code
    assert_sdk_compatible(refused.json(), "ErrorBody")
    assert "version" in refused.json()["message"]
    if status == 400:
        assert [d["fieldName"] for d in refused.json()["details"]] == ["version"]
    assert api.get(path).json() == before  # nothing written, version unchanged
    # A stale version stays a 409 whatever the flag says; the right one is written.
    assert api.put(path, json={**body, "version": before["version"] + 7}).status_code == 409
    assert api.put(path, json=before).status_code == 200


def test_a_schedule_create_needs_no_version() -> None:
    """Nothing exists to be stale against: the first PUT of a campaign's schedule is a create."""
    api = _api(missing_version_status=400)
    schedule = api.get(SCHEDULE).json()
    assert api.delete(SCHEDULE).status_code == 204
    created = api.put(SCHEDULE, json={"intervals": schedule["intervals"], "campaign": {"id": NORMAL}})
    assert created.status_code == 200 and created.json()["version"] == 1


# -- the hook never sends one --------------------------------------------------------------------------------
API = "https://api.versiontest.local"
CONN_ID = "genesys_versiontest"


@pytest.fixture
def hook(monkeypatch: pytest.MonkeyPatch):
    from genesys_cloud.hooks import ratelimit
    from genesys_cloud.hooks.auth import TOKENS

    TOKENS.clear()
    ratelimit.reset_limiters()
    extra = {"api_base_url": API, "requests_per_minute": 600000, "sandbox": True}
    conn = {"conn_type": "genesys_cloud", "login": "client-v", "password": "secret-v", "extra": extra}
    monkeypatch.setenv(f"AIRFLOW_CONN_{CONN_ID.upper()}", json.dumps(conn))
    with respx.mock(assert_all_called=False) as router:
        router.post("https://login.versiontest.local/oauth/token").mock(
            return_value=httpx.Response(200, json={"access_token": "tok", "expires_in": 86400}))
        put = router.put(url__startswith=f"{API}/api/v2/outbound/").mock(
            side_effect=lambda request: httpx.Response(200, json=json.loads(request.content)))
        with GenesysCloudHook(CONN_ID) as h:
            yield h, put
    TOKENS.clear()
    ratelimit.reset_limiters()


@pytest.mark.parametrize("version", [None, 0, "3", True])
def test_the_hook_refuses_a_campaign_put_without_a_version_before_any_call(hook, version) -> None:
    h, put = hook
    body = {"id": "c-1", "name": "x", **({} if version is None else {"version": version})}
    with pytest.raises(GenesysValidationError, match="without a version"):
        h.put_campaign(body)
    with pytest.raises(GenesysValidationError, match="without a version"):
        h.put_campaign_schedule("c-1", {"intervals": [], **({} if version is None else {"version": version})})
    assert put.call_count == 0


def test_the_hook_sends_a_versioned_put_and_a_schedule_create(hook) -> None:
    h, put = hook
    h.put_campaign({"id": "c-1", "name": "x", "version": 4})
    h.put_campaign_schedule("c-1", {"intervals": [], "version": 2})
    h.put_campaign_schedule("c-1", {"intervals": []}, create=True)
    assert [json.loads(c.request.content).get("version") for c in put.calls] == [4, 2, None]


def test_field_updates_put_with_the_version_just_read(sandbox) -> None:
    """``set_fields`` (read → modify → PUT) on the real sandbox: every PUT carries the version it read."""
    campaign = sandbox.fixtures["normal_campaign"]
    with GenesysCloudHook() as h:
        done = [h.set_fields("campaign", campaign, {"abandonRate": 2.5}),
                h.set_fields("campaign_schedule", campaign, {"timeZone": "Europe/Dublin"})]
    assert [o.status for o in done] == ["applied", "applied"]
    puts = [w for w in sandbox.writes() if w["method"] == "PUT"]
    assert len(puts) == 2 and all(w["status"] == 200 for w in puts)
    assert all(isinstance(w["body"].get("version"), int) for w in puts)
