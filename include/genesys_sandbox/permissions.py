"""Permission sets of OAuth clients and the permissions each emulated endpoint requires (403).

Client-credentials tokens carry no scopes: access comes from the permissions the client's roles grant
(genesys-api.md §5). The sandbox binds each client to a permission set; the default client holds
``*`` (everything) so the pipelines keep working. A request whose client lacks an endpoint's
permissions gets the platform's 403 ErrorBody:

* "any of" endpoints → ``missing.any.permissions`` naming every permission that would do;
* "ALL" endpoints → ``missing.permissions`` naming the ones the client lacks.

The table is keyed by method and path template (parameter names ignored, so ``{jobId}`` and
``{job_id}`` match) and follows the SDK docs' "Requires ANY/ALL/no permissions" lines
(platform-client-sdk-python ``build/docs``), which agree with §5 for every endpoint §5 lists.
"""

from __future__ import annotations

import re
import secrets
import threading
from dataclasses import dataclass
from typing import Any, Literal

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from genesys_sandbox.config import ALL_PERMISSIONS, ClientSpec
from genesys_sandbox.errors import ApiError, error_response

router = APIRouter(prefix="/_sandbox")

Mode = Literal["none", "any", "all"]


@dataclass(frozen=True)
class Requirement:
    mode: Mode
    permissions: tuple[str, ...] = ()


OPEN = Requirement("none")


def _any(*permissions: str) -> Requirement:
    return Requirement("any", permissions)


def _all(*permissions: str) -> Requirement:
    return Requirement("all", permissions)


_CAMPAIGN_VIEW = _any("outbound:campaign:view")
_DETAILS = _any("analytics:conversationDetail:view", "analytics:agentConversationDetail:view")
_AGGREGATES = _any("analytics:conversationAggregate:view")
# GET one business unit: the SDK docs accept any WFM/coaching/learning permission below.
_BUSINESS_UNIT_VIEW = _any(
    *(
        f"wfm:{entity}:{action}"
        for entity, actions in (
            ("activityCode", "add delete edit view"),
            ("agent", "edit view"),
            ("agentSchedule", "view"),
            ("agentTimeOffRequest", "submit"),
            ("businessUnit", "add delete edit view"),
            ("historicalAdherence", "view"),
            ("shrinkage", "view"),
            ("intraday", "view"),
            ("managementUnit", "add delete edit view"),
            ("publishedSchedule", "view"),
            ("realtimeAdherence", "view"),
            ("schedule", "add delete edit generate view"),
            ("serviceGoalTemplate", "add delete edit view"),
            ("planningGroup", "add delete edit view"),
            ("shiftTradeRequest", "edit view"),
            ("agentShiftTradeRequest", "participate"),
            ("shortTermForecast", "add delete edit view"),
            ("staffingGroup", "add delete edit view"),
            ("timeOffRequest", "add edit view"),
            ("timeOffLimit", "add delete edit view"),
            ("timeOffPlan", "add delete edit view"),
            ("workPlan", "add delete edit view"),
            ("workPlanRotation", "add delete edit view"),
        )
        for action in actions.split()
    ),
    "coaching:appointment:add",
    "coaching:appointment:edit",
    "learning:assignment:add",
    "learning:assignment:reschedule",
)

_V2 = "/api/v2"
# (method, path template) → what the caller's permission set must hold.
ENDPOINT_PERMISSIONS: dict[tuple[str, str], Requirement] = {
    # Live limits and the signed download redirect need no permission.
    ("GET", f"{_V2}/organizations/limits/namespaces/{{namespaceName}}"): OPEN,
    ("GET", f"{_V2}/organizations/limits/namespaces/{{namespaceName}}/defaults"): OPEN,
    ("GET", f"{_V2}/organizations/limits/docs"): OPEN,
    ("GET", f"{_V2}/downloads/{{downloadId}}"): OPEN,
    # Outbound (3a, 3d, 3e).
    ("GET", f"{_V2}/outbound/campaigns"): _CAMPAIGN_VIEW,
    ("GET", f"{_V2}/outbound/campaigns/{{campaignId}}"): _CAMPAIGN_VIEW,
    ("PUT", f"{_V2}/outbound/campaigns/{{campaignId}}"): _all("outbound:campaign:edit"),
    ("PATCH", f"{_V2}/outbound/campaigns/{{campaignId}}"): _all("outbound:campaign:edit"),
    ("GET", f"{_V2}/outbound/campaigns/{{campaignId}}/stats"): _CAMPAIGN_VIEW,
    ("GET", f"{_V2}/outbound/campaigns/{{campaignId}}/progress"): _CAMPAIGN_VIEW,
    ("POST", f"{_V2}/outbound/campaigns/progress"): _CAMPAIGN_VIEW,
    ("GET", f"{_V2}/outbound/contactlists"): _any("outbound:contactList:view"),
    ("GET", f"{_V2}/outbound/contactlists/{{contactListId}}"): _any("outbound:contactList:view"),
    ("GET", f"{_V2}/outbound/wrapupcodemappings"): _any("outbound:wrapUpCodeMapping:view"),
    ("GET", f"{_V2}/routing/wrapupcodes"): _all("routing:wrapupCode:view"),
    ("GET", f"{_V2}/routing/queues"): _any("routing:queue:view"),
    ("GET", f"{_V2}/outbound/schedules/campaigns"): _any(
        "outbound:schedule:view", "outbound:campaign:viewSchedule"
    ),
    ("GET", f"{_V2}/outbound/schedules/campaigns/{{campaignId}}"): _any(
        "outbound:schedule:view", "outbound:campaign:viewSchedule"
    ),
    ("PUT", f"{_V2}/outbound/schedules/campaigns/{{campaignId}}"): _any(
        "outbound:schedule:edit", "outbound:campaign:editSchedule"
    ),
    ("DELETE", f"{_V2}/outbound/schedules/campaigns/{{campaignId}}"): _any(
        "outbound:schedule:delete", "outbound:campaign:deleteSchedule"
    ),
    # Analytics (3a, 3b, 3e); details availability takes the first permission only.
    ("POST", f"{_V2}/analytics/conversations/details/query"): _DETAILS,
    ("GET", f"{_V2}/analytics/conversations/details/jobs/availability"): _any(
        "analytics:conversationDetail:view"
    ),
    ("POST", f"{_V2}/analytics/conversations/details/jobs"): _DETAILS,
    ("GET", f"{_V2}/analytics/conversations/details/jobs/{{jobId}}"): _DETAILS,
    ("DELETE", f"{_V2}/analytics/conversations/details/jobs/{{jobId}}"): _DETAILS,
    ("GET", f"{_V2}/analytics/conversations/details/jobs/{{jobId}}/results"): _DETAILS,
    ("POST", f"{_V2}/analytics/conversations/aggregates/query"): _AGGREGATES,
    ("POST", f"{_V2}/analytics/conversations/aggregates/jobs"): _AGGREGATES,
    ("GET", f"{_V2}/analytics/conversations/aggregates/jobs/{{jobId}}"): _AGGREGATES,
    ("DELETE", f"{_V2}/analytics/conversations/aggregates/jobs/{{jobId}}"): _AGGREGATES,
    ("GET", f"{_V2}/analytics/conversations/aggregates/jobs/{{jobId}}/results"): _AGGREGATES,
    # Reporting exports (3c): ALL semantics.
    ("POST", f"{_V2}/analytics/reporting/exports"): _all("analytics:dataExport:add"),
    ("GET", f"{_V2}/analytics/reporting/exports"): _all("analytics:dataExport:view"),
    ("GET", f"{_V2}/analytics/reporting/exports/metadata"): _all("analytics:dataExport:view"),
    # Workforce management (3e); the business-unit list is open.
    ("GET", f"{_V2}/workforcemanagement/businessunits"): OPEN,
    ("GET", f"{_V2}/workforcemanagement/businessunits/{{businessUnitId}}"): _BUSINESS_UNIT_VIEW,
    ("GET", f"{_V2}/workforcemanagement/businessunits/{{businessUnitId}}/planninggroups"): _any(
        "wfm:planningGroup:view",
        "wfm:shortTermForecast:view",
        "wfm:intraday:view",
        "wfm:agent:view",
        "wfm:schedule:view",
        "wfm:publishedSchedule:view",
    ),
    ("POST", f"{_V2}/workforcemanagement/businessunits/{{businessUnitId}}/intraday"): _any(
        "wfm:intraday:view"
    ),
}

_PARAM = re.compile(r"\{[^}]*\}")


def _shape(template: str) -> str:
    """The template with parameter names erased: ``/a/{jobId}`` and ``/a/{job_id}`` compare equal."""
    return _PARAM.sub("{}", template)


_BY_SHAPE = {(method, _shape(path)): req for (method, path), req in ENDPOINT_PERMISSIONS.items()}


def requirement_for(method: str, template: str) -> Requirement | None:
    """What ``method`` on route ``template`` requires, or None when the table has no entry."""
    return _BY_SHAPE.get((method.upper(), _shape(template)))


def grants(granted: frozenset[str], permission: str) -> bool:
    """Whether a permission set holds ``permission``; ``*`` grants all, ``*`` segments match any."""
    if ALL_PERMISSIONS in granted or permission in granted:
        return True
    wanted = permission.split(":")
    for held in granted:
        parts = held.split(":")
        if len(parts) == len(wanted) and all(
            h in (ALL_PERMISSIONS, w) for h, w in zip(parts, wanted, strict=True)
        ):
            return True
    return False


def _listed(permissions: tuple[str, ...] | list[str]) -> str:
    return "[" + ", ".join(permissions) + "]"


def check(granted: frozenset[str], requirement: Requirement) -> JSONResponse | None:
    """None when ``granted`` satisfies ``requirement``, else the platform's 403 ErrorBody answer."""
    if requirement.mode == "none":
        return None
    if requirement.mode == "any":
        if any(grants(granted, p) for p in requirement.permissions):
            return None
        return error_response(
            403,
            "Unable to perform the requested action. You must have at least one of the following "
            f"permissions assigned: {_listed(requirement.permissions)}",
            code="missing.any.permissions",
        )
    missing = [p for p in requirement.permissions if not grants(granted, p)]
    if not missing:
        return None
    return error_response(
        403,
        f"Unable to perform the requested action. You are missing the following permission(s): {_listed(missing)}",
        code="missing.permissions",
    )


def denial(granted: frozenset[str], method: str, template: str) -> JSONResponse | None:
    """None when ``granted`` may call ``method`` on route ``template``, else the 403 answer."""
    requirement = requirement_for(method, template)
    if requirement is None:
        # An endpoint missing from the table never passes silently: only an all-permission client
        # gets through (so the pipelines keep working while the table catches up).
        if ALL_PERMISSIONS in granted:
            return None
        return error_response(
            403, "You are not authorized to perform the requested action.", code="not.authorized"
        )
    return check(granted, requirement)


class ClientRegistry:
    """OAuth clients by id; kept across ``/_sandbox/reset`` like the tokens they issue."""

    def __init__(self, clients: list[ClientSpec]) -> None:
        self._clients = {c.client_id: c for c in clients}
        self.default_id = clients[0].client_id
        self._lock = threading.Lock()

    def authenticate(self, client_id: str, secret: str) -> ClientSpec | None:
        client = self._clients.get(client_id)
        if client is None or not secrets.compare_digest(secret.encode(), client.client_secret.encode()):
            return None
        return client

    def permissions_of(self, client_id: str) -> frozenset[str]:
        client = self._clients.get(client_id)
        return client.permissions if client else frozenset()

    def put(self, client: ClientSpec) -> None:
        if client.client_id == self.default_id:
            raise ApiError(400, "The default client keeps every permission.", fields=["client_id"])
        with self._lock:
            self._clients[client.client_id] = client

    def public(self) -> list[dict[str, Any]]:
        with self._lock:
            return [c.public() for c in self._clients.values()]


class ClientRequest(BaseModel):
    """Body of ``POST /_sandbox/clients``."""

    client_id: str = Field(min_length=1, pattern=r"^[^:]+$")
    client_secret: str = Field(min_length=1)
    permissions: list[str] = Field(default_factory=list)


@router.post("/clients")
def add_client(body: ClientRequest, request: Request) -> dict[str, Any]:
    client = ClientSpec(body.client_id, body.client_secret, frozenset(p for p in body.permissions if p))
    request.app.state.sandbox.clients.put(client)
    return client.public()


@router.get("/clients")
def list_clients(request: Request) -> list[dict[str, Any]]:
    return request.app.state.sandbox.clients.public()
