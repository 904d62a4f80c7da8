"""Outbound endpoints: paging, filters, PUT/PATCH rules, stats, progress, contact lists, schedules."""

from __future__ import annotations

from collections import Counter

import pytest
from core_support import NORMAL, auth_headers, make_client, sandbox_state
from sdk_check import assert_sdk_compatible

from genesys_sandbox.org import CAMPAIGN_STATUSES, DIALING_MODES, FIXTURES

CAMPAIGN = f"/api/v2/outbound/campaigns/{NORMAL}"
SCHEDULE = f"/api/v2/outbound/schedules/campaigns/{NORMAL}"


@pytest.fixture
def api():
    client = make_client()
    client.headers.update(auth_headers(client))
    return client


def _all_campaigns(api, **params) -> list[dict]:
    entities, number = [], 1
    while True:
        page = api.get("/api/v2/outbound/campaigns", params={"pageSize": 7, "pageNumber": number, **params}).json()
        assert_sdk_compatible(page, "CampaignEntityListing")
        entities += page["entities"]
        if number >= page["pageCount"]:
            assert "nextUri" not in page
            return entities
        assert page["nextUri"].endswith(f"pageNumber={number + 1}") or f"pageNumber={number + 1}" in page["nextUri"]
        number += 1


def test_campaign_list_pages_cover_every_campaign_once(api) -> None:
    campaigns = _all_campaigns(api)
    total = api.get("/api/v2/outbound/campaigns").json()["total"]
    assert len(campaigns) == total == len({c["id"] for c in campaigns})
    assert set(Counter(c["dialingMode"] for c in campaigns)) == set(DIALING_MODES)
    assert set(Counter(c["campaignStatus"] for c in campaigns)) == set(CAMPAIGN_STATUSES)
    assert min(Counter(c["dialingMode"] for c in campaigns).values()) >= 2
    for key in ("normal_campaign", "anomaly_campaign", "idle_campaign", "no_planning_group_campaign"):
        assert FIXTURES[key] in {c["id"] for c in campaigns}
    too_big = api.get("/api/v2/outbound/campaigns", params={"pageSize": 101})
    assert too_big.status_code == 400 and too_big.json()["details"][0]["fieldName"] == "pageSize"


def test_campaign_list_filters(api) -> None:
    normal = api.get(CAMPAIGN).json()
    by_list = _all_campaigns(api, contactListId=normal["contactList"]["id"])
    assert by_list and all(c["contactList"]["id"] == normal["contactList"]["id"] for c in by_list)
    by_queue = _all_campaigns(api, distributionQueueId=FIXTURES["normal_queue"])
    assert {FIXTURES["normal_campaign"], FIXTURES["anomaly_campaign"]} <= {c["id"] for c in by_queue}
    assert all(c["queue"]["id"] == FIXTURES["normal_queue"] for c in by_queue)
    assert [c["id"] for c in _all_campaigns(api, name="fixture n")] == [FIXTURES["no_planning_group_campaign"], FIXTURES["normal_campaign"]]
    wanted = [FIXTURES["idle_campaign"], FIXTURES["anomaly_campaign"]]
    assert {c["id"] for c in _all_campaigns(api, id=wanted)} == set(wanted)


def test_get_missing_campaign_is_404(api) -> None:
    response = api.get("/api/v2/outbound/campaigns/does-not-exist")
    assert response.status_code == 404 and response.json()["entityId"] == "does-not-exist"
    assert_sdk_compatible(response.json(), "ErrorBody")


def test_put_round_trip_increments_version_and_logs_the_write(api) -> None:
    campaign = api.get(CAMPAIGN).json()
    assert_sdk_compatible(campaign, "Campaign")
    campaign["abandonRate"] = 4.5
    updated = api.put(CAMPAIGN, json=campaign)
    assert updated.status_code == 200, updated.text
    assert_sdk_compatible(updated.json(), "Campaign")
    assert updated.json()["version"] == campaign["version"] + 1 and updated.json()["abandonRate"] == 4.5
    assert api.get(CAMPAIGN).json()["version"] == campaign["version"] + 1
    stale = api.put(CAMPAIGN, json=campaign)
    assert stale.status_code == 409 and stale.json()["code"] == "conflict"
    assert_sdk_compatible(stale.json(), "ErrorBody")
    campaign.pop("version")
    assert api.put(CAMPAIGN, json=campaign).status_code == 409
    log = api.get("/_sandbox/writes").json()
    assert [(w["method"], w["status"]) for w in log] == [("PUT", 200), ("PUT", 409), ("PUT", 409)]
    assert log[0]["body"]["abandonRate"] == 4.5 and log[0]["template"].endswith("{campaignId}")


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"name": None}, "name"),
        ({"callerAddress": None}, "callerAddress"),
        ({"queue": None}, "queue"),
        ({"abandonRate": None}, "abandonRate"),
        ({"priority": 9}, "priority"),
        ({"dialingMode": "robocall"}, "dialingMode"),
        ({"outboundLineCount": "many"}, "outboundLineCount"),
        ({"predictive": {"answerRate": 0.3}}, "predictive"),
        ({"contactList": {"id": "nope"}}, "contactList.id"),
    ],
)
def test_put_rejects_bad_bodies_with_400_naming_the_field(api, change, field) -> None:
    campaign = {**api.get(CAMPAIGN).json(), **change}
    response = api.put(CAMPAIGN, json={k: v for k, v in campaign.items() if v is not None})
    assert response.status_code == 400, response.text
    assert field in [d["fieldName"] for d in response.json()["details"]]
    assert_sdk_compatible(response.json(), "ErrorBody")


def test_put_with_malformed_json_is_400_not_500(api) -> None:
    response = api.put(CAMPAIGN, content=b"{not json", headers={"Content-Type": "application/json"})
    assert response.status_code == 400 and response.json()["details"][0]["fieldName"] == "body"


def test_max_calls_per_agent_decimal_counts_only_with_the_flag(api) -> None:
    """Issue 18: the SDK has ``useMaxCallsPerAgentDecimal`` only on the write operations (PUT/POST); a GET
    always answers ``maxCallsPerAgentDecimal``, and the flag decides which field a write takes."""
    campaign = api.get(CAMPAIGN).json()
    assert "maxCallsPerAgentDecimal" in campaign
    ignored = api.put(CAMPAIGN, json={**campaign, "maxCallsPerAgent": 2, "maxCallsPerAgentDecimal": 3.5}).json()
    assert ignored["maxCallsPerAgent"] == 2 and ignored["maxCallsPerAgentDecimal"] == 2
    used = api.put(
        CAMPAIGN,
        params={"useMaxCallsPerAgentDecimal": "true"},
        json={**ignored, "maxCallsPerAgentDecimal": 3.5},
    ).json()
    assert used["maxCallsPerAgentDecimal"] == 3.5 and used["maxCallsPerAgent"] == 3
    assert api.get(CAMPAIGN).json()["maxCallsPerAgentDecimal"] == 3.5


def test_patch_applies_without_body_or_version(api) -> None:
    before = api.get(CAMPAIGN).json()
    queue = FIXTURES["no_planning_group_queue"]
    patch = {"outboundLineCount": 7, "abandonRate": 2.5, "dynamicLineBalancingSettings": {"enabled": True, "relativeWeight": 40}, "queue": {"id": queue}}
    response = api.patch(CAMPAIGN, json=patch)
    assert response.status_code == 204 and response.content == b""
    after = api.get(CAMPAIGN).json()
    assert after["outboundLineCount"] == 7 and after["abandonRate"] == 2.5 and after["queue"]["id"] == queue
    assert after["dynamicLineBalancingSettings"] == {"enabled": True, "relativeWeight": 40}
    assert after["version"] == before["version"] + 1
    bad = api.patch(CAMPAIGN, json={"version": 3})
    assert bad.status_code == 400 and bad.json()["details"][0]["fieldName"] == "version"
    assert [w["status"] for w in api.get("/_sandbox/writes").json()] == [204, 400]


def test_stats_and_progress_fit_the_sdk(api) -> None:
    stats = api.get(f"{CAMPAIGN}/stats").json()
    assert_sdk_compatible(stats, "CampaignStats")
    rate = stats["contactRate"]
    assert rate["attempts"] > 0 and rate["connectRatio"] == pytest.approx(rate["connects"] / rate["attempts"], abs=1e-3)
    idle = api.get(f"/api/v2/outbound/campaigns/{FIXTURES['idle_campaign']}/stats").json()
    assert idle["contactRate"]["attempts"] == 0 and idle["idleAgents"] == 0
    progress = api.get(f"{CAMPAIGN}/progress").json()
    assert_sdk_compatible(progress, "CampaignProgress")
    assert 0 < progress["numberOfContactsCalled"] <= progress["totalNumberOfContacts"]
    many = api.post("/api/v2/outbound/campaigns/progress", json=[NORMAL, FIXTURES["idle_campaign"], "unknown"])
    assert many.status_code == 200
    assert_sdk_compatible(many.json(), "CampaignProgress")
    assert [p["campaign"]["id"] for p in many.json()] == [NORMAL, FIXTURES["idle_campaign"]]
    assert many.json()[0] == progress
    assert api.post("/api/v2/outbound/campaigns/progress", json={"ids": []}).status_code == 400


def test_contact_list_size_only_on_request(api) -> None:
    path = f"/api/v2/outbound/contactlists/{FIXTURES['normal_contact_list']}"
    plain = api.get(path).json()
    sized = api.get(path, params={"includeSize": "true"}).json()
    assert "size" not in plain and sized["size"] > 0
    assert_sdk_compatible(sized, "ContactList")
    listing = api.get("/api/v2/outbound/contactlists", params={"includeSize": "true"}).json()
    assert_sdk_compatible(listing, "ContactListEntityListing")
    assert all("size" in e for e in listing["entities"])
    assert api.get("/api/v2/outbound/contactlists/nope").status_code == 404


def test_wrapup_codes_and_mappings(api) -> None:
    mapping = api.get("/api/v2/outbound/wrapupcodemappings").json()
    assert_sdk_compatible(mapping, "WrapUpCodeMapping")
    success = [code for code, flags in mapping["mapping"].items() if "BUSINESS_SUCCESS" in flags]
    assert 0 < len(success) < len(mapping["mapping"])
    codes, number = [], 1
    while True:
        page = api.get("/api/v2/routing/wrapupcodes", params={"pageSize": 5, "pageNumber": number}).json()
        assert_sdk_compatible(page, "WrapupCodeEntityListing")
        codes += page["entities"]
        if number >= page["pageCount"]:
            break
        number += 1
    assert {c["id"] for c in codes} == set(mapping["mapping"])
    sale = api.get("/api/v2/routing/wrapupcodes", params={"name": "sal*"}).json()["entities"]
    assert [c["name"] for c in sale] == ["Sale"]


def test_schedule_list_is_a_plain_array(api) -> None:
    schedules = api.get("/api/v2/outbound/schedules/campaigns").json()
    assert isinstance(schedules, list) and schedules
    assert_sdk_compatible(schedules, "CampaignSchedule")
    assert NORMAL in {s["campaign"]["id"] for s in schedules}


def test_schedule_put_get_delete_with_versions(api) -> None:
    schedule = api.get(SCHEDULE).json()
    assert_sdk_compatible(schedule, "CampaignSchedule")
    schedule["intervals"].append({"start": "2026-06-01T13:00:00.000Z", "end": "2026-06-01T17:00:00.000Z"})
    updated = api.put(SCHEDULE, json=schedule)
    assert updated.status_code == 200, updated.text
    assert_sdk_compatible(updated.json(), "CampaignSchedule")
    assert updated.json()["version"] == schedule["version"] + 1 and len(updated.json()["intervals"]) == 4
    assert api.put(SCHEDULE, json=schedule).status_code == 409
    assert api.delete(SCHEDULE).status_code == 204
    assert api.get(SCHEDULE).status_code == 404
    assert api.delete(SCHEDULE).status_code == 404
    created = api.put(SCHEDULE, json={"intervals": schedule["intervals"][:1], "campaign": {"id": NORMAL}})
    assert created.status_code == 200 and created.json()["version"] == 1
    assert_sdk_compatible(created.json(), "CampaignSchedule")
    methods = [(w["method"], w["status"]) for w in api.get("/_sandbox/writes").json()]
    assert methods == [("PUT", 200), ("PUT", 409), ("DELETE", 204), ("DELETE", 404), ("PUT", 200)]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"campaign": {"id": NORMAL}}, "intervals"),
        ({"intervals": [{"start": "2026-06-01T13:00:00.000Z", "end": "2026-06-01T17:00:00.000Z"}]}, "campaign"),
        ({"intervals": [{"start": "tomorrow", "end": "2026-06-01T17:00:00.000Z"}], "campaign": {"id": NORMAL}}, "intervals[0].start"),
        ({"intervals": [{"start": "2026-06-01T17:00:00.000Z", "end": "2026-06-01T13:00:00.000Z"}], "campaign": {"id": NORMAL}}, "intervals[0].end"),
        ({"intervals": [{"start": "2026-06-01T13:00:00Z", "end": "2026-06-01T17:00:00Z"}], "campaign": {"id": NORMAL}, "timeZone": "Mars/Base"}, "timeZone"),
    ],
)
def test_schedule_put_validation(api, body, field) -> None:
    idle = FIXTURES["idle_campaign"]
    if "campaign" in body:
        body = {**body, "campaign": {"id": idle}}
    response = api.put(f"/api/v2/outbound/schedules/campaigns/{idle}", json=body)
    assert response.status_code == 400, response.text
    assert field in [d["fieldName"] for d in response.json()["details"]]


def test_org_is_deterministic_per_seed() -> None:
    first, second, other = make_client(seed=7), make_client(seed=7), make_client(seed=8)
    org_a, org_b, org_c = (sandbox_state(c).org for c in (first, second, other))
    assert org_a.campaigns == org_b.campaigns and org_a.schedules == org_b.schedules
    assert set(org_a.campaigns) != set(org_c.campaigns)
    assert FIXTURES["normal_campaign"] in org_c.campaigns


def test_fixture_queue_without_planning_group() -> None:
    org = sandbox_state(make_client()).org
    routed = {p["queue"]["id"] for g in org.planning_groups for p in g["routePaths"]}
    assert FIXTURES["no_planning_group_queue"] not in routed
    assert org.campaigns[FIXTURES["no_planning_group_campaign"]]["queue"]["id"] == FIXTURES["no_planning_group_queue"]
    assert org.campaigns[NORMAL]["queue"]["id"] in routed
    assert org.profiles[FIXTURES["idle_campaign"]].weight == 0
    assert org.anomaly_day == "2026-05-12" and org.business_unit["settings"]["timeZone"]


def test_queue_listing_names_every_queue_a_campaign_does_not(api) -> None:
    """GET /api/v2/routing/queues: every org queue (the inbound-only one too), by name, filters real."""
    queues, number = [], 1
    while True:
        page = api.get("/api/v2/routing/queues", params={"pageSize": 3, "pageNumber": number}).json()
        assert_sdk_compatible(page, "QueueEntityListing")
        queues += page["entities"]
        if number >= page["pageCount"]:
            break
        number += 1
    names = [q["name"] for q in queues]
    assert names == sorted(names, key=str.lower) and len(names) == page["total"] == 9
    campaigns = api.get("/api/v2/outbound/campaigns", params={"pageSize": 100}).json()["entities"]
    used = {c["queue"]["id"] for c in campaigns if c.get("queue")}
    unused = [q for q in queues if q["id"] not in used]
    assert [(q["id"], q["name"]) for q in unused] == [(FIXTURES["inbound_queue"], "Inbound Support")]

    def listed(**params: object) -> list[str]:
        return [q["name"] for q in api.get("/api/v2/routing/queues", params=params).json()["entities"]]

    assert listed(name="inbound support") == ["Inbound Support"]
    assert listed(name="*support") == ["Inbound Support"] and listed(name="inbound*") == ["Inbound Support"]
    assert "Outbound Sales Fixture" in listed(name="*sales*") and listed(name="sales") == []
    assert listed(id=[FIXTURES["inbound_queue"], FIXTURES["normal_queue"]]) == ["Inbound Support", "Outbound Sales Fixture"]
    assert listed(divisionId="no-such-division") == []
    assert listed(sortOrder="desc", pageSize=500) == sorted(names, key=str.lower, reverse=True)
    # Over the (assumed) cap: refused, not silently capped (docs/sandbox-semantics.md, "Limits").
    too_big = api.get("/api/v2/routing/queues", params={"pageSize": 501})
    assert too_big.status_code == 400 and "pageSize" in too_big.text


def test_wrapup_code_listing_filters_like_the_platform(api) -> None:
    def listed(**params: object) -> list[str]:
        return [c["name"] for c in api.get("/api/v2/routing/wrapupcodes", params=params).json()["entities"]]

    assert listed(name="*call*") == ["Call Back Later", "Do Not Call"]  # leading and trailing asterisks
    assert listed(name="*party") == ["Wrong Party"] and listed(name="sale") == ["Sale"]
    assert len(listed(divisionId=FIXTURES["home_division"], pageSize=500)) == 12
    assert listed(divisionId="no-such-division") == []
    assert listed(sortOrder="descending")[0] == "Wrong Party"
    too_big = api.get("/api/v2/routing/wrapupcodes", params={"pageSize": 501})
    assert too_big.status_code == 400 and "pageSize" in too_big.text
