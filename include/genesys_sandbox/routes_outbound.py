"""Outbound and routing endpoints: campaigns, stats, progress, contact lists, wrap-up codes, schedules.

Writes follow the platform: PUT takes the full body and a matching ``version`` (stale or missing → 409),
required fields missing → 400 naming the field, every write increments ``version``.
"""

from __future__ import annotations

import copy
import json
import math
import random
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import JSONResponse
from pydantic import ValidationError

from genesys_pipelines.models.common import StrictValidationError, strict_validate
from genesys_pipelines.models.outbound import (
    Campaign,
    CampaignEntityListing,
    CampaignPatchRequest,
    CampaignProgress,
    CampaignSchedule,
    CampaignStats,
    ContactList,
    ContactListEntityListing,
    WrapupCodeEntityListing,
    WrapUpCodeMapping,
)
from genesys_pipelines.models.routing import QueueEntityListing
from genesys_sandbox.clock import format_instant
from genesys_sandbox.errors import ApiError, not_found
from genesys_sandbox.responses import api_json, page_listing, paging_params

router = APIRouter()

CAMPAIGN_PATH = "/api/v2/outbound/campaigns/{campaignId}"
SCHEDULE_PATH = "/api/v2/outbound/schedules/campaigns/{campaignId}"
ALWAYS_REQUIRED = ("name", "contactList", "dialingMode", "phoneColumns", "callerName", "callerAddress", "campaignStatus")
READ_ONLY = ("id", "dateCreated", "dateModified", "selfUri", "errors")


def _state(request: Request) -> Any:
    return request.app.state.sandbox


async def _json_body(request: Request) -> Any:
    raw = await request.body()
    if not raw:
        raise ApiError(400, "A request body is required.", fields=["body"])
    try:
        return json.loads(raw)
    except ValueError as exc:
        raise ApiError(400, f"The request body is not valid JSON: {exc}", fields=["body"]) from None


def _validated(model_cls: type, body: Any) -> Any:
    """Parse a request body strictly: wrong types, bad enums and unknown keys → 400 naming the field."""
    try:
        return strict_validate(model_cls, body)
    except StrictValidationError as exc:
        raise ApiError(400, f"Unrecognized field(s): {', '.join(exc.paths)}", fields=exc.paths) from None
    except ValidationError as exc:
        errors = exc.errors()
        fields = [".".join(str(p) for p in err["loc"]) or "body" for err in errors]
        raise ApiError(400, f"{fields[0]}: {errors[0]['msg']}", fields=fields) from None


def _record(request: Request, template: str, body: Any, status: int) -> None:
    fault = getattr(request.state, "fault", None)
    _state(request).record_write(request.method, request.url.path, template, body, status, fault)


def _campaign_or_404(request: Request, campaign_id: str) -> dict[str, Any]:
    campaign = _state(request).org.campaigns.get(campaign_id)
    if campaign is None:
        raise not_found(f"Campaign {campaign_id} not found.", entity_id=campaign_id)
    return campaign


def _present(campaign: dict[str, Any]) -> dict[str, Any]:
    """The campaign as answered, ``maxCallsPerAgentDecimal`` included: the SDK has the
    ``useMaxCallsPerAgentDecimal`` flag only on the write operations (PUT/POST), where it decides which
    of the two fields the write takes; reads always carry both."""
    out = copy.deepcopy(campaign)
    if out.get("maxCallsPerAgentDecimal") is None and out.get("maxCallsPerAgent") is not None:
        out["maxCallsPerAgentDecimal"] = float(out["maxCallsPerAgent"])
    return out


# Campaigns -------------------------------------------------------------------------------------


@router.get("/api/v2/outbound/campaigns")
def list_campaigns(
    request: Request,
    pageSize: int | None = None,
    pageNumber: int | None = None,
    filterType: str = "Prefix",
    name: str | None = None,
    id: list[str] | None = Query(default=None),
    contactListId: str | None = None,
    distributionQueueId: str | None = None,
    divisionId: list[str] | None = Query(default=None),
    sortBy: str = "name",
    sortOrder: str = "ascending",
) -> JSONResponse:
    size, number = paging_params(pageSize, pageNumber, maximum=100)
    campaigns = list(_state(request).org.campaigns.values())
    if id:
        wanted = {i for value in id for i in value.split(",")}
        campaigns = [c for c in campaigns if c["id"] in wanted]
    if contactListId:
        campaigns = [c for c in campaigns if c["contactList"]["id"] == contactListId]
    if distributionQueueId:
        campaigns = [c for c in campaigns if c.get("queue", {}).get("id") == distributionQueueId]
    if divisionId:
        campaigns = [c for c in campaigns if c["division"]["id"] in divisionId]
    if name:
        needle = name.lower()
        match = {
            "Equals": lambda n: n == needle,
            "Contains": lambda n: needle in n,
            "Prefix": lambda n: n.startswith(needle),
        }.get(filterType)
        if match is None:
            raise ApiError(400, f"Unsupported filterType {filterType}", fields=["filterType"])
        campaigns = [c for c in campaigns if match(c["name"].lower())]
    if sortBy not in ("name", "id", "dateCreated", "dateModified"):
        raise ApiError(400, f"Unsupported sortBy {sortBy}", fields=["sortBy"])
    campaigns.sort(key=lambda c: (str(c.get(sortBy, "")), c["id"]), reverse=sortOrder.lower().startswith("desc"))
    entities = [_present(c) for c in campaigns]
    return api_json(request, CampaignEntityListing, page_listing(request, entities, size, number))


@router.get(CAMPAIGN_PATH)
def get_campaign(campaignId: str, request: Request) -> JSONResponse:
    campaign = _campaign_or_404(request, campaignId)
    _state(request).faults.note_read("campaign", campaignId)
    return api_json(request, Campaign, _present(campaign))


def _check_campaign_rules(body: dict[str, Any]) -> None:
    missing = [f for f in ALWAYS_REQUIRED if body.get(f) in (None, "", [])]
    mode = body.get("dialingMode")
    if mode != "agentless":
        missing += [f for f in ("queue", "script") if not body.get(f)]
    if mode != "preview":
        if not body.get("edgeGroup") and not body.get("site"):
            missing.append("edgeGroup")
        if not body.get("callAnalysisResponseSet"):
            missing.append("callAnalysisResponseSet")
    if mode in ("power", "predictive") and body.get("abandonRate") is None:
        missing.append("abandonRate")
    if mode == "agentless" and body.get("outboundLineCount") is None:
        missing.append("outboundLineCount")
    if missing:
        raise ApiError(400, f"Missing required field(s): {', '.join(missing)}", fields=missing)
    if body.get("priority") is not None and not 1 <= body["priority"] <= 5:
        raise ApiError(400, "priority must be between 1 and 5", fields=["priority"])
    if body.get("abandonRate") is not None and not 0 <= body["abandonRate"] <= 100:
        raise ApiError(400, "abandonRate must be a percentage between 0 and 100", fields=["abandonRate"])
    if body.get("outboundLineCount") is not None and body["outboundLineCount"] < 1:
        raise ApiError(400, "outboundLineCount must be at least 1", fields=["outboundLineCount"])


def _check_refs(request: Request, body: dict[str, Any]) -> None:
    org = _state(request).org
    list_id = (body.get("contactList") or {}).get("id")
    if list_id not in org.contact_lists:
        raise ApiError(400, f"Contact list {list_id} does not exist.", fields=["contactList.id"])
    queue_id = (body.get("queue") or {}).get("id")
    if queue_id is not None and org.queue(queue_id) is None:
        raise ApiError(400, f"Queue {queue_id} does not exist.", fields=["queue.id"])


def _bump_if_raced(request: Request, kind: str, entity: dict[str, Any]) -> None:
    """version_bump fault: another writer changed the entity since the caller's GET."""
    if _state(request).faults.take_version_bump(kind, entity["id"]):
        entity["version"] += 1
        entity["dateModified"] = format_instant(_state(request).clock.now())


def _check_version(request: Request, sent: Any, entity: dict[str, Any], what: str) -> None:
    """A stale or missing ``version`` → 409 (genesys-api.md §2.3); a missing one → 400 naming the field
    instead with ``--missing-version-status 400`` (the live answer to a missing version is unverified)."""
    if sent is None:
        status = _state(request).config.missing_version_status
        raise ApiError(status, f"A version is required to update {what}.", entity_id=entity["id"],
                       fields=["version"] if status == 400 else ())
    if sent != entity["version"]:
        raise ApiError(
            409,
            f"Unexpected version was provided: {sent}; the current version of {what} is {entity['version']}.",
            entity_id=entity["id"],
        )


@router.put(CAMPAIGN_PATH)
async def put_campaign(campaignId: str, request: Request, useMaxCallsPerAgentDecimal: bool = False) -> JSONResponse:
    body: Any = None
    status = 500
    try:
        body = await _json_body(request)
        stored = _campaign_or_404(request, campaignId)
        _validated(Campaign, body)
        if body.get("id") not in (None, campaignId):
            raise ApiError(400, "The campaign id in the body does not match the path.", fields=["id"])
        _check_campaign_rules(body)
        _check_refs(request, body)
        with _state(request).lock:
            _bump_if_raced(request, "campaign", stored)
            _check_version(request, body.get("version"), stored, f"campaign {campaignId}")
            updated = {k: v for k, v in body.items() if k not in READ_ONLY and v is not None}
            _apply_max_calls(updated, useMaxCallsPerAgentDecimal)
            new = {
                "id": campaignId,
                "dateCreated": stored["dateCreated"],
                **updated,
                "version": stored["version"] + 1,
                "dateModified": format_instant(_state(request).clock.now()),
                "selfUri": stored["selfUri"],
            }
            _state(request).org.campaigns[campaignId] = new
        status = 200
        return api_json(request, Campaign, _present(new))
    except ApiError as exc:
        status = exc.status
        raise
    finally:
        _record(request, CAMPAIGN_PATH, body, status)


def _apply_max_calls(campaign: dict[str, Any], use_decimal: bool) -> None:
    """``maxCallsPerAgentDecimal`` counts only with ``?useMaxCallsPerAgentDecimal=true``."""
    if use_decimal and campaign.get("maxCallsPerAgentDecimal") is not None:
        decimal = float(campaign["maxCallsPerAgentDecimal"])
        if decimal <= 0:
            raise ApiError(400, "maxCallsPerAgentDecimal must be positive", fields=["maxCallsPerAgentDecimal"])
        campaign["maxCallsPerAgent"] = max(1, math.floor(decimal))
        campaign["maxCallsPerAgentDecimal"] = decimal
    elif campaign.get("maxCallsPerAgent") is not None:
        campaign["maxCallsPerAgentDecimal"] = float(campaign["maxCallsPerAgent"])
    else:
        campaign.pop("maxCallsPerAgentDecimal", None)


@router.patch(CAMPAIGN_PATH)
async def patch_campaign(campaignId: str, request: Request) -> Response:
    body: Any = None
    status = 500
    try:
        body = await _json_body(request)
        stored = _campaign_or_404(request, campaignId)
        patch = _validated(CampaignPatchRequest, body)
        org = _state(request).org
        with _state(request).lock:
            if patch.outbound_line_count is not None:
                if patch.outbound_line_count < 1:
                    raise ApiError(400, "outboundLineCount must be at least 1", fields=["outboundLineCount"])
                stored["outboundLineCount"] = patch.outbound_line_count
            if patch.abandon_rate is not None:
                if not 0 <= patch.abandon_rate <= 100:
                    raise ApiError(400, "abandonRate must be between 0 and 100", fields=["abandonRate"])
                stored["abandonRate"] = patch.abandon_rate
            if patch.max_calls_per_agent is not None:
                stored["maxCallsPerAgentDecimal"] = float(patch.max_calls_per_agent)
                stored["maxCallsPerAgent"] = max(1, math.floor(patch.max_calls_per_agent))
            if patch.dynamic_line_balancing_settings is not None:
                stored["dynamicLineBalancingSettings"] = {
                    **stored.get("dynamicLineBalancingSettings", {}),
                    **patch.dynamic_line_balancing_settings.to_api(),
                }
            if patch.queue is not None:
                queue = org.queue(patch.queue.id or "")
                if queue is None:
                    raise ApiError(400, f"Queue {patch.queue.id} does not exist.", fields=["queue.id"])
                stored["queue"] = {"id": queue["id"], "name": queue["name"], "selfUri": f"/api/v2/routing/queues/{queue['id']}"}
            stored["version"] += 1
            stored["dateModified"] = format_instant(_state(request).clock.now())
        status = 204
        return Response(status_code=204)
    except ApiError as exc:
        status = exc.status
        raise
    finally:
        _record(request, CAMPAIGN_PATH, body, status)


def _rng(request: Request, kind: str, campaign_id: str) -> random.Random:
    return random.Random(f"{_state(request).config.seed}:{kind}:{campaign_id}")


def _progress(request: Request, campaign: dict[str, Any]) -> dict[str, Any]:
    org = _state(request).org
    total = org.contact_list_sizes.get(campaign["contactList"]["id"], 0)
    rng = _rng(request, "progress", campaign["id"])
    share = {"complete": 1.0, "on": rng.uniform(0.2, 0.8), "stopping": rng.uniform(0.3, 0.9)}.get(
        campaign["campaignStatus"], rng.uniform(0.0, 0.5)
    )
    if org.profiles[campaign["id"]].weight == 0 and campaign["campaignStatus"] != "complete":
        share = 0.0
    called = int(total * share)
    return {
        "campaign": {"id": campaign["id"], "name": campaign["name"], "selfUri": campaign["selfUri"]},
        "contactList": campaign["contactList"],
        "numberOfContactsCalled": called,
        "numberOfContactsMessaged": 0,
        "totalNumberOfContacts": total,
        "percentage": int(100 * called / total) if total else 0,
        "numberOfContactsSkipped": {"skippedByFilter": int(total * 0.01), "skippedByDnc": int(total * 0.005)},
    }


@router.get(CAMPAIGN_PATH + "/stats")
def campaign_stats(campaignId: str, request: Request) -> JSONResponse:
    campaign = _campaign_or_404(request, campaignId)
    profile = _state(request).org.profiles[campaignId]
    rng = _rng(request, "stats", campaignId)
    called = _progress(request, campaign)["numberOfContactsCalled"]
    attempts = int(called * rng.uniform(1.1, 1.6))
    connects = int(attempts * profile.connect_rate)
    success = int(connects * profile.success_rate)
    running = campaign["campaignStatus"] in ("on", "stopping") and profile.weight > 0
    lines = campaign.get("outboundLineCount", 0)
    idle = rng.randrange(0, 6) if running else 0
    stats = {
        "contactRate": {
            "attempts": attempts,
            "connects": connects,
            "connectRatio": round(connects / attempts, 4) if attempts else 0.0,
        },
        "idleAgents": idle,
        "effectiveIdleAgents": round(idle * rng.uniform(0.6, 1.0), 2),
        "adjustedCallsPerAgent": round(rng.uniform(1.0, 3.0), 2) if running else 0.0,
        "outstandingCalls": rng.randrange(0, max(1, lines)) if running else 0,
        "scheduledCalls": rng.randrange(0, 40) if running else 0,
        "timeZoneRescheduledCalls": rng.randrange(0, 20) if running else 0,
        "filteredOutContactsCount": rng.randrange(0, 200),
        "rightPartyContactsCount": int(connects * 0.8),
        "validAttempts": attempts,
        "linesUtilization": {
            "assignedOutboundLines": rng.randrange(0, lines + 1) if running else 0,
            "totalAvailableOutboundLines": lines,
        },
        "businessCategoryMetrics": {
            "successCount": success,
            "neutralCount": int((connects - success) * 0.4),
            "failureCount": connects - success - int((connects - success) * 0.4),
        },
    }
    return api_json(request, CampaignStats, stats)


@router.get(CAMPAIGN_PATH + "/progress")
def campaign_progress(campaignId: str, request: Request) -> JSONResponse:
    return api_json(request, CampaignProgress, _progress(request, _campaign_or_404(request, campaignId)))


@router.post("/api/v2/outbound/campaigns/progress")
async def campaigns_progress(request: Request) -> JSONResponse:
    body = await _json_body(request)
    if not isinstance(body, list) or not all(isinstance(i, str) for i in body):
        raise ApiError(400, "The body must be an array of campaign ids.", fields=["body"])
    campaigns = _state(request).org.campaigns
    return api_json(request, CampaignProgress, [_progress(request, campaigns[i]) for i in body if i in campaigns])


# Contact lists, wrap-up codes ------------------------------------------------------------------


def _contact_list(request: Request, list_id: str, include_size: bool) -> dict[str, Any]:
    org = _state(request).org
    contact_list = org.contact_lists.get(list_id)
    if contact_list is None:
        raise not_found(f"Contact list {list_id} not found.", entity_id=list_id)
    out = dict(contact_list)
    if include_size:
        out["size"] = org.contact_list_sizes[list_id]
    return out


@router.get("/api/v2/outbound/contactlists")
def list_contact_lists(
    request: Request, pageSize: int | None = None, pageNumber: int | None = None, includeSize: bool = False
) -> JSONResponse:
    size, number = paging_params(pageSize, pageNumber, maximum=100)
    lists = sorted(_state(request).org.contact_lists, key=lambda i: _state(request).org.contact_lists[i]["name"])
    entities = [_contact_list(request, i, includeSize) for i in lists]
    return api_json(request, ContactListEntityListing, page_listing(request, entities, size, number))


@router.get("/api/v2/outbound/contactlists/{contactListId}")
def get_contact_list(
    contactListId: str, request: Request, includeSize: bool = False, includeImportStatus: bool = False
) -> JSONResponse:
    # No import is ever running in the sandbox, so includeImportStatus adds nothing.
    return api_json(request, ContactList, _contact_list(request, contactListId, includeSize))


@router.get("/api/v2/outbound/wrapupcodemappings")
def wrapup_code_mappings(request: Request) -> JSONResponse:
    return api_json(request, WrapUpCodeMapping, _state(request).org.wrapup_mapping)


def _name_matches(value: str, pattern: str) -> bool:
    """The routing listings' ``name`` filter: case-insensitive, leading and trailing asterisks allowed
    (``sal*`` a prefix, ``*sale`` a suffix, ``*sal*`` a substring), else the whole name."""
    value, needle = value.lower(), pattern.lower().strip("*")
    lead, trail = pattern.startswith("*"), pattern.endswith("*") and len(pattern) > 1
    if lead and trail:
        return needle in value
    if lead:
        return value.endswith(needle)
    if trail:
        return value.startswith(needle)
    return value == needle


def _filtered(items: list[dict[str, Any]], name: str | None, ids: list[str] | None,
              division_ids: list[str] | None, division_of: Any) -> list[dict[str, Any]]:
    """``id`` and ``divisionId`` are repeatable (``?id=a&id=b``; comma-separated values accepted too)."""
    if ids:
        wanted = {i for value in ids for i in value.split(",")}
        items = [i for i in items if i["id"] in wanted]
    if division_ids:
        divisions = {d for value in division_ids for d in value.split(",")}
        items = [i for i in items if division_of(i) in divisions]
    if name:
        items = [i for i in items if _name_matches(i["name"], name)]
    return items


#: Largest page of the routing listings, over which they answer 400 naming ``pageSize``. ASSUMED, both the
#: value and the refusal: neither genesys-api.md nor the SDK (RoutingApi ``getRoutingQueues`` /
#: ``getRoutingWrapupcodes``: "Page size", default 25) documents a cap for these two operations. 500 is the
#: documented cap of their sibling ``GET /api/v2/routing/queues/divisionviews/all`` ("[max value is 500]").
#: The one public statement of silent capping (Genesys developer forum, topic 4967, 2019) is about another
#: operation, ``GET /routing/queues/{queueId}/users``. Refusing is the safe side: whatever is green here
#: asks for sizes a real org serves whether it caps or refuses. See docs/sandbox-semantics.md ("Limits").
ROUTING_PAGE_MAX = 500


@router.get("/api/v2/routing/wrapupcodes")
def list_wrapup_codes(
    request: Request,
    pageSize: int | None = None,
    pageNumber: int | None = None,
    sortBy: str = "name",
    sortOrder: str = "ascending",
    name: str | None = None,
    id: list[str] | None = Query(default=None),
    divisionId: list[str] | None = Query(default=None),
) -> JSONResponse:
    size, number = paging_params(pageSize, pageNumber, maximum=ROUTING_PAGE_MAX)
    codes = _filtered(list(_state(request).org.wrapup_codes), name, id, divisionId, lambda c: c["division"]["id"])
    # "'Sort by' param is ignored unless [name] is provided": the listing is by name otherwise.
    key = "id" if (sortBy == "id" and name) else "name"
    codes.sort(key=lambda c: c[key].lower(), reverse=sortOrder.lower().startswith("desc"))
    return api_json(request, WrapupCodeEntityListing, page_listing(request, codes, size, number))


def _queue_entity(org: Any, queue: dict[str, Any]) -> dict[str, Any]:
    """The ``Queue`` the listing answers for one org queue (members: the agents holding it)."""
    division = next(d for d in org.divisions if d["id"] == queue["divisionId"])
    members = sum(queue["id"] in user["queueIds"] for user in org.users)
    stamp = format_instant(org.created)
    return {
        "id": queue["id"],
        "name": queue["name"],
        "division": {**division, "selfUri": f"/api/v2/authorization/divisions/{division['id']}"},
        "dateCreated": stamp,
        "dateModified": stamp,
        "createdBy": "sandbox",
        "modifiedBy": "sandbox",
        "memberCount": members,
        "userMemberCount": members,
        "joinedMemberCount": members,
        "acwSettings": {"wrapupPrompt": "MANDATORY_TIMEOUT", "timeoutMs": 30_000},
        "skillEvaluationMethod": "ALL",
        "autoAnswerOnly": False,
        "enableTranscription": False,
        "enableManualAssignment": False,
        "selfUri": f"/api/v2/routing/queues/{queue['id']}",
    }


@router.get("/api/v2/routing/queues")
def list_queues(
    request: Request,
    pageNumber: int | None = None,
    pageSize: int | None = None,
    sortOrder: str = "asc",
    name: str | None = None,
    id: list[str] | None = Query(default=None),
    divisionId: list[str] | None = Query(default=None),
) -> JSONResponse:
    """Every queue of the org, by name (``sortOrder`` asc|desc: "results are sorted by name")."""
    size, number = paging_params(pageSize, pageNumber, maximum=ROUTING_PAGE_MAX)
    org = _state(request).org
    queues = _filtered(list(org.queues), name, id, divisionId, lambda q: q["divisionId"])
    queues.sort(key=lambda q: q["name"].lower(), reverse=sortOrder.lower().startswith("desc"))
    entities = [_queue_entity(org, q) for q in queues]
    return api_json(request, QueueEntityListing, page_listing(request, entities, size, number))


# Campaign schedules ----------------------------------------------------------------------------


@router.get("/api/v2/outbound/schedules/campaigns")
def list_schedules(request: Request) -> JSONResponse:
    schedules = sorted(_state(request).org.schedules.values(), key=lambda s: s["id"])
    return api_json(request, CampaignSchedule, copy.deepcopy(schedules))


@router.get(SCHEDULE_PATH)
def get_schedule(campaignId: str, request: Request) -> JSONResponse:
    schedule = _state(request).org.schedules.get(campaignId)
    if schedule is None:
        raise not_found(f"No schedule found for campaign {campaignId}.", entity_id=campaignId)
    _state(request).faults.note_read("schedule", campaignId)
    return api_json(request, CampaignSchedule, copy.deepcopy(schedule))


def _wall_clock(value: Any, field_name: str, tz: ZoneInfo) -> datetime:
    """An interval time as Genesys reads it: the digits are wall-clock time in the schedule's
    ``timeZone``, whatever suffix the string carries (docs/genesys-api.md §8, settled point 4). A time
    the clocks skip (DST gap) is refused; a repeated one is its first occurrence."""
    if not isinstance(value, str):
        raise ApiError(400, f"{field_name} is required", fields=[field_name])
    try:
        naive = datetime.fromisoformat(value.replace("Z", "+00:00")).replace(tzinfo=None, fold=0)
    except ValueError:
        raise ApiError(400, f"{field_name} must be yyyy-MM-ddTHH:mm:ss.SSSZ", fields=[field_name]) from None
    instant = naive.replace(tzinfo=tz).astimezone(UTC)
    if instant.astimezone(tz).replace(tzinfo=None) != naive:
        raise ApiError(400, f"{field_name} {value} does not exist in {tz.key}.", fields=[field_name])
    return naive


def _api_wall_clock(naive: datetime) -> str:
    """The API's string form of a wall-clock time (``yyyy-MM-ddTHH:mm:ss.SSSZ``; the digits are local)."""
    return naive.strftime("%Y-%m-%dT%H:%M:%S.") + f"{naive.microsecond // 1000:03d}Z"


def _check_schedule(campaign_id: str, body: dict[str, Any]) -> list[dict[str, str]]:
    """Validate a schedule PUT body; returns its intervals in the API's stored form."""
    missing = [f for f in ("intervals", "campaign") if not body.get(f)]
    if missing:
        raise ApiError(400, f"Missing required field(s): {', '.join(missing)}", fields=missing)
    if body["campaign"].get("id") != campaign_id:
        raise ApiError(400, "campaign.id must match the campaign in the path.", fields=["campaign.id"])
    zones = [("timeZone", body.get("timeZone"))]
    zones += [(f"recurrences[{i}].timeZone", r.get("timeZone")) for i, r in enumerate(body.get("recurrences") or [])]
    for field_name, zone in zones:
        if zone:
            try:
                ZoneInfo(zone)
            except (ZoneInfoNotFoundError, ValueError):
                raise ApiError(400, f"{zone} is not a valid time zone.", fields=[field_name]) from None
    tz = ZoneInfo(body.get("timeZone") or "UTC")
    stored = []
    for index, interval in enumerate(body["intervals"]):
        start = _wall_clock(interval.get("start"), f"intervals[{index}].start", tz)
        end = _wall_clock(interval.get("end"), f"intervals[{index}].end", tz)
        if end.replace(tzinfo=tz).astimezone(UTC) <= start.replace(tzinfo=tz).astimezone(UTC):
            raise ApiError(400, "An interval must end after it starts.", fields=[f"intervals[{index}].end"])
        stored.append({"start": _api_wall_clock(start), "end": _api_wall_clock(end)})
    return stored


@router.put(SCHEDULE_PATH)
async def put_schedule(campaignId: str, request: Request) -> JSONResponse:
    body: Any = None
    status = 500
    try:
        body = await _json_body(request)
        campaign = _campaign_or_404(request, campaignId)
        _validated(CampaignSchedule, body)
        intervals = _check_schedule(campaignId, body)
        state = _state(request)
        with state.lock:
            stored = state.org.schedules.get(campaignId)
            now = format_instant(state.clock.now())
            if stored is not None:
                _bump_if_raced(request, "schedule", stored)
                _check_version(request, body.get("version"), stored, f"the schedule of campaign {campaignId}")
            new = {
                **{k: v for k, v in body.items() if k not in READ_ONLY and v is not None},
                "id": campaignId,
                "name": body.get("name") or campaign["name"],
                "dateCreated": stored["dateCreated"] if stored else now,
                "dateModified": now,
                "version": stored["version"] + 1 if stored else 1,
                "intervals": intervals,
                "campaign": {
                    "id": campaignId,
                    "name": campaign["name"],
                    "selfUri": campaign["selfUri"],
                    "division": {"id": campaign["division"]["id"], "selfUri": campaign["division"]["selfUri"]},
                },
                "selfUri": f"/api/v2/outbound/schedules/campaigns/{campaignId}",
            }
            new.setdefault("timeZone", "UTC")
            state.org.schedules[campaignId] = new
        status = 200
        return api_json(request, CampaignSchedule, copy.deepcopy(new))
    except ApiError as exc:
        status = exc.status
        raise
    finally:
        _record(request, SCHEDULE_PATH, body, status)


@router.delete(SCHEDULE_PATH)
def delete_schedule(campaignId: str, request: Request) -> Response:
    state = _state(request)
    with state.lock:
        removed = state.org.schedules.pop(campaignId, None)
    _record(request, SCHEDULE_PATH, None, 204 if removed else 404)
    if removed is None:
        raise not_found(f"No schedule found for campaign {campaignId}.", entity_id=campaignId)
    return Response(status_code=204)
