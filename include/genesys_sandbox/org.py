"""The synthetic Genesys Cloud org: deterministic from the seed and the sandbox clock.

Objects are plain data in the API's JSON shape (camelCase dicts) so routes serve them as they are and
the analytics half reads them without conversion. Fixture ids are constants, the same for every seed.
"""

from __future__ import annotations

import random
import uuid
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from genesys_sandbox.clock import format_instant

# Stable, documented ids for tests and the demo (README: "Fixture ids").
FIXTURES: dict[str, str] = {
    # on, predictive, steady activity; its queue is in a planning group; has a schedule.
    "normal_campaign": "c0ffee00-0000-4000-8000-000000000001",
    # on, power; the analytics half injects an anomaly on Org.anomaly_day (today - ANOMALY_DAYS_AGO).
    "anomaly_campaign": "c0ffee00-0000-4000-8000-000000000002",
    # off, preview; no conversations at all.
    "idle_campaign": "c0ffee00-0000-4000-8000-000000000003",
    # on, progressive; its queue belongs to no planning group (WFM fallback path).
    "no_planning_group_campaign": "c0ffee00-0000-4000-8000-000000000004",
    "normal_queue": "c0ffee00-0000-4000-8000-0000000000a1",
    "no_planning_group_queue": "c0ffee00-0000-4000-8000-0000000000a4",
    # inbound only: no campaign uses it (its name comes only from the queue listing).
    "inbound_queue": "c0ffee00-0000-4000-8000-0000000000a5",
    "normal_contact_list": "c0ffee00-0000-4000-8000-0000000000b1",
    "business_unit": "c0ffee00-0000-4000-8000-0000000000c1",
    "normal_planning_group": "c0ffee00-0000-4000-8000-0000000000d1",
    "home_division": "c0ffee00-0000-4000-8000-0000000000e1",
}
ANOMALY_DAYS_AGO = 3

DIALING_MODES = ("agentless", "preview", "power", "predictive", "progressive", "external")
CAMPAIGN_STATUSES = ("on", "stopping", "off", "complete", "invalid", "forced_off", "forced_stopping")
GENERATED_CAMPAIGNS = 24  # 24 = 4 per dialing mode; i % 7 covers every status at least 3 times
BUSINESS_UNIT_TIME_ZONE = "America/New_York"

# (name, flags): the outbound wrap-up code mapping of the org.
WRAPUP_CODES: tuple[tuple[str, list[str]], ...] = (
    ("Sale", ["BUSINESS_SUCCESS", "RIGHT_PARTY_CONTACT"]),
    ("Appointment Set", ["BUSINESS_SUCCESS", "RIGHT_PARTY_CONTACT"]),
    ("Donation Pledged", ["BUSINESS_SUCCESS", "RIGHT_PARTY_CONTACT"]),
    ("Not Interested", ["BUSINESS_FAILURE", "RIGHT_PARTY_CONTACT"]),
    ("Already Customer", ["BUSINESS_FAILURE", "RIGHT_PARTY_CONTACT"]),
    ("Call Back Later", ["BUSINESS_NEUTRAL", "RIGHT_PARTY_CONTACT"]),
    ("Voicemail Left", ["BUSINESS_NEUTRAL"]),
    ("Wrong Party", ["BUSINESS_NEUTRAL"]),
    ("Wrong Number", ["NUMBER_UNCALLABLE"]),
    ("Do Not Call", ["CONTACT_UNCALLABLE", "RIGHT_PARTY_CONTACT"]),
    ("Deceased", ["CONTACT_UNCALLABLE"]),
    ("Language Barrier", ["BUSINESS_NEUTRAL"]),
)


@dataclass
class CampaignProfile:
    """How much conversation activity the analytics half generates for a campaign."""

    weight: float  # share of the daily conversations (0 = idle)
    connect_rate: float  # base probability an attempt connects
    success_rate: float  # base share of connected calls wrapped up with a BUSINESS_SUCCESS code


@dataclass
class Org:
    seed: int
    created: datetime
    anomaly_day: str  # ISO date of the anomaly of FIXTURES["anomaly_campaign"]
    divisions: list[dict[str, Any]] = field(default_factory=list)
    queues: list[dict[str, Any]] = field(default_factory=list)
    users: list[dict[str, Any]] = field(default_factory=list)
    wrapup_codes: list[dict[str, Any]] = field(default_factory=list)
    wrapup_mapping: dict[str, Any] = field(default_factory=dict)
    contact_lists: dict[str, dict[str, Any]] = field(default_factory=dict)
    contact_list_sizes: dict[str, int] = field(default_factory=dict)
    campaigns: dict[str, dict[str, Any]] = field(default_factory=dict)
    profiles: dict[str, CampaignProfile] = field(default_factory=dict)
    schedules: dict[str, dict[str, Any]] = field(default_factory=dict)
    business_unit: dict[str, Any] = field(default_factory=dict)
    planning_groups: list[dict[str, Any]] = field(default_factory=list)

    @property
    def fixtures(self) -> dict[str, str]:
        return {**FIXTURES, "anomaly_day": self.anomaly_day}

    def queue(self, queue_id: str) -> dict[str, Any] | None:
        return next((q for q in self.queues if q["id"] == queue_id), None)

    def success_code_ids(self) -> set[str]:
        return {c for c, flags in self.wrapup_mapping["mapping"].items() if "BUSINESS_SUCCESS" in flags}


def _ids(seed: int, kind: str) -> Any:
    """Deterministic UUIDs per (seed, kind): the same seed gives the same org."""
    index = 0
    while True:
        yield str(uuid.uuid5(uuid.NAMESPACE_URL, f"genesys-sandbox:{seed}:{kind}:{index}"))
        index += 1


def _ref(obj: dict[str, Any], collection: str) -> dict[str, Any]:
    return {"id": obj["id"], "name": obj["name"], "selfUri": f"/api/v2/{collection}/{obj['id']}"}


def build_org(seed: int, now: datetime) -> Org:
    rng = random.Random(seed)
    created = (now - timedelta(days=400)).replace(hour=9, minute=0, second=0, microsecond=0)
    stamp = format_instant(created)
    org = Org(seed=seed, created=created, anomaly_day=(now.date() - timedelta(days=ANOMALY_DAYS_AGO)).isoformat())

    home = {"id": FIXTURES["home_division"], "name": "Home"}
    org.divisions = [home, {"id": next(_ids(seed, "division")), "name": "Collections"}]
    division_ref = {**home, "selfUri": f"/api/v2/authorization/divisions/{home['id']}"}

    queue_ids = _ids(seed, "queue")
    names = ["Outbound Sales", "Retention", "Collections", "Surveys", "Appointments", "Renewals"]
    org.queues = [{"id": FIXTURES["normal_queue"], "name": "Outbound Sales Fixture", "divisionId": home["id"]}]
    org.queues += [{"id": next(queue_ids), "name": n, "divisionId": home["id"]} for n in names]
    org.queues.append({"id": FIXTURES["no_planning_group_queue"], "name": "Dialer Only", "divisionId": home["id"]})

    user_ids = _ids(seed, "user")
    first = ["Ana", "Ben", "Chloe", "Dev", "Eva", "Farid", "Gia", "Hugo", "Ines", "Jon"]
    last = ["Silva", "Okafor", "Martin", "Patel", "Kowalski", "Nguyen"]
    for index in range(30):
        queue = org.queues[index % len(org.queues)]
        org.users.append(
            {
                "id": next(user_ids),
                "name": f"{first[index % len(first)]} {last[index % len(last)]}",
                "queueIds": [queue["id"]],
                "divisionId": home["id"],
            }
        )

    code_ids = _ids(seed, "wrapupcode")
    mapping: dict[str, list[str]] = {}
    for name, flags in WRAPUP_CODES:
        code = {
            "id": next(code_ids),
            "name": name,
            "division": division_ref,
            "dateCreated": stamp,
            "createdBy": "sandbox",
            "selfUri": "",
        }
        code["selfUri"] = f"/api/v2/routing/wrapupcodes/{code['id']}"
        org.wrapup_codes.append(code)
        mapping[code["id"]] = flags
    org.wrapup_mapping = {
        "id": next(_ids(seed, "wrapupmapping")),
        "version": 1,
        "dateCreated": stamp,
        "defaultSet": ["RIGHT_PARTY_CONTACT"],
        "mapping": mapping,
        "selfUri": "/api/v2/outbound/wrapupcodemappings",
    }

    list_ids = _ids(seed, "contactlist")
    for index in range(10):
        list_id = FIXTURES["normal_contact_list"] if index == 0 else next(list_ids)
        name = "Fixture Prospects" if index == 0 else f"Prospects {chr(65 + index)}"
        org.contact_lists[list_id] = {
            "id": list_id,
            "name": name,
            "version": 1,
            "dateCreated": stamp,
            "division": division_ref,
            "columnNames": ["FirstName", "LastName", "HomePhone", "CellPhone", "ZipCode", "AccountId"],
            "phoneColumns": [
                {"columnName": "HomePhone", "type": "home"},
                {"columnName": "CellPhone", "type": "cell"},
            ],
            "automaticTimeZoneMapping": True,
            "zipCodeColumnName": "ZipCode",
            "retentionType": "Never",
            "selfUri": f"/api/v2/outbound/contactlists/{list_id}",
        }
        org.contact_list_sizes[list_id] = rng.randrange(2_000, 60_000)

    refs = _Refs(seed)
    lists = list(org.contact_lists.values())
    queues = [q for q in org.queues if q["id"] != FIXTURES["no_planning_group_queue"]]
    campaign_ids = _ids(seed, "campaign")

    fixture_specs = [
        ("normal_campaign", "Fixture Normal", "predictive", "on", FIXTURES["normal_queue"], lists[0], 3.0),
        ("anomaly_campaign", "Fixture Anomaly", "power", "on", FIXTURES["normal_queue"], lists[1], 2.0),
        ("idle_campaign", "Fixture Idle", "preview", "off", queues[1]["id"], lists[2], 0.0),
        (
            "no_planning_group_campaign",
            "Fixture No Planning Group",
            "progressive",
            "on",
            FIXTURES["no_planning_group_queue"],
            lists[3],
            1.5,
        ),
    ]
    specs = [(FIXTURES[key], name, mode, status, q, cl, w) for key, name, mode, status, q, cl, w in fixture_specs]
    for index in range(GENERATED_CAMPAIGNS):
        mode = DIALING_MODES[index % len(DIALING_MODES)]
        status = CAMPAIGN_STATUSES[index % len(CAMPAIGN_STATUSES)]
        weight = rng.uniform(0.3, 1.5) if status in ("on", "stopping") else 0.0
        specs.append(
            (
                next(campaign_ids),
                f"{mode.title()} Campaign {index + 1:02d}",
                mode,
                status,
                queues[index % len(queues)]["id"],
                lists[index % len(lists)],
                weight,
            )
        )
    for campaign_id, name, mode, status, queue_id, contact_list, weight in specs:
        queue = org.queue(queue_id)
        assert queue is not None
        org.campaigns[campaign_id] = _campaign(
            rng, refs, campaign_id, name, mode, status, _ref(queue, "routing/queues"),
            _ref(contact_list, "outbound/contactlists"), division_ref, stamp,
        )
        org.profiles[campaign_id] = CampaignProfile(
            weight=weight,
            connect_rate=round(rng.uniform(0.25, 0.55), 3),
            success_rate=round(rng.uniform(0.08, 0.3), 3),
        )

    # An inbound-only queue, added after every campaign and user took theirs: no campaign uses it, so
    # only GET /api/v2/routing/queues names it (it carries inbound conversations like the others).
    org.queues.append({"id": FIXTURES["inbound_queue"], "name": "Inbound Support", "divisionId": home["id"]})

    # Every third campaign (and the normal fixture) starts with a schedule in the coming days.
    for index, campaign in enumerate(org.campaigns.values()):
        if campaign["id"] == FIXTURES["normal_campaign"] or (index % 3 == 1 and campaign["id"] != FIXTURES["idle_campaign"]):
            org.schedules[campaign["id"]] = _schedule(campaign, now, index, stamp)

    org.business_unit = {
        "id": FIXTURES["business_unit"],
        "name": "Outbound Operations",
        "division": division_ref,
        "settings": {"timeZone": BUSINESS_UNIT_TIME_ZONE, "startDayOfWeek": "Monday"},
        "selfUri": f"/api/v2/workforcemanagement/businessunits/{FIXTURES['business_unit']}",
    }
    group_ids = _ids(seed, "planninggroup")
    # Planning groups route to every queue except the fixture "Dialer Only" queue.
    grouped = [queues[0:2], queues[2:4], queues[4:]]
    for index, members in enumerate(grouped):
        group_id = FIXTURES["normal_planning_group"] if index == 0 else next(group_ids)
        org.planning_groups.append(
            {
                "id": group_id,
                "name": f"Planning Group {index + 1}",
                "routePaths": [{"queue": {"id": q["id"]}, "mediaType": "Voice", "language": {"id": "en-US"}} for q in members],
                "selfUri": f"/api/v2/workforcemanagement/businessunits/{FIXTURES['business_unit']}/planninggroups/{group_id}",
            }
        )
    return org


class _Refs:
    """Shared outbound configuration objects campaigns point at (scripts, sites, ...)."""

    def __init__(self, seed: int) -> None:
        def ref(kind: str, name: str, collection: str) -> dict[str, Any]:
            ref_id = next(_ids(seed, kind))
            return {"id": ref_id, "name": name, "selfUri": f"/api/v2/{collection}/{ref_id}"}

        self.script = ref("script", "Default Outbound Script", "scripts")
        self.edge_group = ref("edgegroup", "Cloud Edge Group", "telephony/providers/edges/edgegroups")
        self.site = ref("site", "Main Site", "telephony/providers/edges/sites")
        self.response_set = ref("responseset", "Default Call Analysis", "outbound/callanalysisresponsesets")
        self.time_set = ref("callabletimeset", "Weekday Business Hours", "outbound/callabletimesets")
        self.dnc = ref("dnclist", "Internal DNC", "outbound/dnclists")


def _campaign(
    rng: random.Random,
    refs: _Refs,
    campaign_id: str,
    name: str,
    mode: str,
    status: str,
    queue: dict[str, Any],
    contact_list: dict[str, Any],
    division: dict[str, Any],
    stamp: str,
) -> dict[str, Any]:
    """A Campaign that satisfies the PUT rules of its dialing mode (so GET → PUT round-trips)."""
    campaign: dict[str, Any] = {
        "id": campaign_id,
        "name": name,
        "dateCreated": stamp,
        "dateModified": stamp,
        "version": rng.randrange(1, 6),
        "contactList": contact_list,
        "dialingMode": mode,
        "campaignStatus": status,
        "phoneColumns": [{"columnName": "HomePhone", "type": "home"}, {"columnName": "CellPhone", "type": "cell"}],
        "dncLists": [refs.dnc],
        "callableTimeSet": refs.time_set,
        "callerName": "Sandbox Outbound",
        "callerAddress": "+13175550100",
        "noAnswerTimeout": 30,
        "callAnalysisLanguage": "en-US",
        "priority": rng.randrange(1, 6),
        "division": division,
        "contactSorts": [{"fieldName": "ZipCode", "direction": "ASC", "numeric": False}],
        "alwaysRunning": False,
        "skillColumns": [],
        "callbackAutoAnswer": False,
        "preciseDialingEnabled": False,
        "dynamicContactQueueingSettings": {"sort": False, "filter": False},
        "dynamicLineBalancingSettings": {"enabled": False, "relativeWeight": 1},
        "diagnosticsSettings": {"reportLowMaxCallsPerAgentAlert": True},
        "selfUri": f"/api/v2/outbound/campaigns/{campaign_id}",
    }
    if mode != "agentless":
        campaign["queue"] = queue
        campaign["script"] = refs.script
    if mode != "preview":
        campaign["edgeGroup"] = refs.edge_group
        campaign["callAnalysisResponseSet"] = refs.response_set
        campaign["outboundLineCount"] = rng.choice([10, 20, 30, 50])
    else:
        campaign.update(skipPreviewDisabled=False, previewTimeOutSeconds=30, previewAutoEnd=False)
    if mode in ("power", "predictive"):
        campaign["abandonRate"] = rng.choice([2.0, 3.0, 5.0])
        campaign["maxCallsPerAgent"] = rng.choice([2, 3, 4])
    return campaign


def _schedule(campaign: dict[str, Any], now: datetime, index: int, stamp: str) -> dict[str, Any]:
    """Three 4-hour windows over the next days, in UTC strings as the API sends them."""
    first = (now + timedelta(days=1 + index % 3)).replace(hour=13, minute=0, second=0, microsecond=0)
    intervals = [
        {"start": format_instant(first + timedelta(days=d)), "end": format_instant(first + timedelta(days=d, hours=4))}
        for d in range(3)
    ]
    return {
        "id": campaign["id"],
        "name": campaign["name"],
        "dateCreated": stamp,
        "dateModified": stamp,
        "version": 1,
        "intervals": intervals,
        "timeZone": "UTC",
        "campaign": {
            "id": campaign["id"],
            "name": campaign["name"],
            "selfUri": campaign["selfUri"],
            "division": {"id": campaign["division"]["id"], "selfUri": campaign["division"]["selfUri"]},
        },
        "selfUri": f"/api/v2/outbound/schedules/campaigns/{campaign['id']}",
    }


def anomaly_day(today: date) -> date:
    """The anomaly day for a sandbox whose clock reads ``today``."""
    return today - timedelta(days=ANOMALY_DAYS_AGO)
