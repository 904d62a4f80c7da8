"""Permission sets of OAuth clients (403 ErrorBodies) and the permission-free live limits endpoints."""

from __future__ import annotations

import pytest
from core_support import NORMAL, auth_headers, make_client
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from httpx import Response
from sdk_check import assert_sdk_compatible

from genesys_sandbox.__main__ import parse_args
from genesys_sandbox.config import ClientSpec, parse_client_spec
from genesys_sandbox.org import FIXTURES
from genesys_sandbox.permissions import Requirement, check, denial, grants, requirement_for

EXPORTS = "/api/v2/analytics/reporting/exports"
EXPORT_REQUEST = {
    "name": "perm-check",
    "locale": "en-US",
    "timeZone": "UTC",
    "exportFormat": "CSV",
    "interval": "2026-05-13T00:00:00.000Z/2026-05-14T00:00:00.000Z",
    "period": "P1D",
    "viewType": "CAMPAIGN_PERFORMANCE_SUMMARY_VIEW",
    "filter": {"outboundCampaignIds": [NORMAL]},
}
LIMITS = "/api/v2/organizations/limits"


def token_for(client: TestClient, client_id: str, secret: str = "pw") -> dict[str, str]:
    response = client.post(
        "/oauth/token", data={"grant_type": "client_credentials"}, auth=(client_id, secret)
    )
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


def sandbox_with(*specs: str) -> TestClient:
    return make_client(extra_clients=[parse_client_spec(spec) for spec in specs])


def assert_forbidden(
    response: Response, code: str, named: list[str], not_named: tuple[str, ...] = ()
) -> None:
    assert response.status_code == 403, response.text
    body = response.json()
    assert body["status"] == 403 and body["code"] == code
    assert all(p in body["message"] for p in named), body["message"]
    assert not any(p in body["message"] for p in not_named), body["message"]
    assert_sdk_compatible(body, "ErrorBody")


def test_client_missing_a_permission_gets_403_error_bodies() -> None:
    client = sandbox_with("reader:pw:outbound:campaign:view")
    reader = token_for(client, "reader")
    assert client.get(f"/api/v2/outbound/campaigns/{NORMAL}", headers=reader).status_code == 200
    assert client.get("/api/v2/outbound/campaigns", headers=reader).status_code == 200
    assert_forbidden(
        client.get("/api/v2/outbound/contactlists", headers=reader),
        "missing.any.permissions",
        ["outbound:contactList:view"],
    )
    # PUT / PATCH need ALL of their permissions: the answer names the missing one.
    campaign = client.get(f"/api/v2/outbound/campaigns/{NORMAL}", headers=reader).json()
    assert_forbidden(
        client.put(f"/api/v2/outbound/campaigns/{NORMAL}", headers=reader, json=campaign),
        "missing.permissions",
        ["outbound:campaign:edit"],
    )
    # A refused write is not applied.
    assert client.get("/_sandbox/writes").json() == []
    # The default client still holds everything; 401 still comes before 403.
    assert client.get("/api/v2/outbound/contactlists", headers=auth_headers(client)).status_code == 200
    assert client.get("/api/v2/outbound/contactlists").status_code == 401


def test_any_of_endpoints_accept_any_listed_permission() -> None:
    client = sandbox_with(
        "sched:pw:outbound:campaign:viewSchedule",
        "agentdetail:pw:analytics:agentConversationDetail:view",
        "wild:pw:outbound:*:view",
    )
    sched = token_for(client, "sched")
    assert client.get("/api/v2/outbound/schedules/campaigns", headers=sched).status_code == 200
    assert_forbidden(
        client.put(f"/api/v2/outbound/schedules/campaigns/{NORMAL}", headers=sched, json={}),
        "missing.any.permissions",
        ["outbound:schedule:edit", "outbound:campaign:editSchedule"],
    )
    agent = token_for(client, "agentdetail")
    details = client.post("/api/v2/analytics/conversations/details/query", headers=agent, json={})
    assert details.status_code != 403, details.text
    # Availability takes only the first of the two details permissions.
    assert_forbidden(
        client.get("/api/v2/analytics/conversations/details/jobs/availability", headers=agent),
        "missing.any.permissions",
        ["analytics:conversationDetail:view"],
        not_named=("agentConversationDetail",),
    )
    wild = token_for(client, "wild")
    assert client.get("/api/v2/outbound/contactlists", headers=wild).status_code == 200
    assert client.get("/api/v2/outbound/wrapupcodemappings", headers=wild).status_code == 200
    assert client.get("/api/v2/routing/wrapupcodes", headers=wild).status_code == 403


def test_exports_post_needs_all_of_its_permissions() -> None:
    client = sandbox_with(
        "viewer:pw:analytics:dataExport:view", "full:pw:analytics:dataExport:view|analytics:dataExport:add"
    )
    viewer = token_for(client, "viewer")
    assert client.get(EXPORTS, headers=viewer).status_code == 200
    assert client.get(f"{EXPORTS}/metadata", headers=viewer).status_code == 200
    assert_forbidden(
        client.post(EXPORTS, headers=viewer, json=EXPORT_REQUEST),
        "missing.permissions",
        ["analytics:dataExport:add"],
        not_named=("analytics:dataExport:view",),
    )
    assert client.get(EXPORTS, headers=viewer).json()["total"] == 0
    full = token_for(client, "full")
    assert client.post(EXPORTS, headers=full, json=EXPORT_REQUEST).status_code == 200
    assert client.get(EXPORTS, headers=viewer).json()["total"] == 1


def test_all_semantics_names_only_the_missing_permissions() -> None:
    requirement = Requirement("all", ("a:b:add", "a:b:view", "a:c:view"))
    assert check(frozenset({"a:b:add", "a:*:view"}), requirement) is None
    refused = check(frozenset({"a:b:add"}), requirement)
    assert refused is not None and refused.status_code == 403
    assert b"[a:b:view, a:c:view]" in refused.body and b"a:b:add" not in refused.body
    assert check(frozenset(), Requirement("none")) is None
    assert grants(frozenset({"*"}), "x:y:z") and not grants(frozenset({"x:y"}), "x:y:z")


def test_endpoints_without_permissions_are_open_and_unknown_paths_stay_404() -> None:
    client = sandbox_with("nobody:pw:")
    nobody = token_for(client, "nobody")
    for path in (
        f"{LIMITS}/namespaces/platform.api",
        f"{LIMITS}/namespaces/platform.api/defaults",
        f"{LIMITS}/docs",
        "/api/v2/workforcemanagement/businessunits",
    ):
        assert client.get(path, headers=nobody).status_code == 200, path
    assert_forbidden(
        client.get(f"/api/v2/workforcemanagement/businessunits/{FIXTURES['business_unit']}", headers=nobody),
        "missing.any.permissions",
        ["wfm:businessUnit:view"],
    )
    assert client.get("/api/v2/outbound/analytics/campaigns/x/execution", headers=nobody).status_code == 404


def test_every_api_route_has_a_permission_entry() -> None:
    app = make_client().app
    api_routes = [r for r in app.router.routes if isinstance(r, APIRoute) and r.path.startswith("/api/v2/")]
    # The core and analytics routers are both mounted, so the walk covers every emulated family.
    families = {r.path.split("/")[3] for r in api_routes}
    assert {
        "outbound",
        "routing",
        "analytics",
        "workforcemanagement",
        "organizations",
        "downloads",
    } <= families
    missing = [f"{m} {r.path}" for r in api_routes for m in r.methods if requirement_for(m, r.path) is None]
    assert missing == []


def test_an_endpoint_missing_from_the_table_only_passes_for_all_permissions() -> None:
    refused = denial(frozenset({"outbound:campaign:view"}), "GET", "/api/v2/not/in/the/table")
    assert refused is not None and refused.status_code == 403 and b"not.authorized" in refused.body
    assert denial(frozenset({"*"}), "GET", "/api/v2/not/in/the/table") is None


def test_admin_api_adds_clients_that_survive_reset() -> None:
    client = make_client()
    added = client.post(
        "/_sandbox/clients",
        json={"client_id": "late", "client_secret": "pw", "permissions": ["outbound:campaign:view"]},
    )
    assert added.status_code == 200 and added.json() == {
        "client_id": "late",
        "permissions": ["outbound:campaign:view"],
    }
    late = token_for(client, "late")
    assert client.get(f"/api/v2/outbound/campaigns/{NORMAL}", headers=late).status_code == 200
    assert client.post("/_sandbox/reset", json={}).status_code == 200
    assert client.get(f"/api/v2/outbound/campaigns/{NORMAL}", headers=late).status_code == 200
    assert client.get("/api/v2/outbound/contactlists", headers=token_for(client, "late")).status_code == 403
    listed = {c["client_id"]: c["permissions"] for c in client.get("/_sandbox/clients").json()}
    assert listed == {"sandbox-client": ["*"], "late": ["outbound:campaign:view"]}
    assert "client_secret" not in str(client.get("/_sandbox/clients").json())
    # The default client keeps every permission; malformed bodies get 400 ErrorBodies.
    for body in (
        {"client_id": "sandbox-client", "client_secret": "x", "permissions": []},
        {"client_id": "", "client_secret": "x"},
        {"client_id": "a", "client_secret": "x", "permissions": "outbound:campaign:view"},
    ):
        refused = client.post("/_sandbox/clients", json=body)
        assert refused.status_code == 400, body
        assert_sdk_compatible(refused.json(), "ErrorBody")
    wrong = client.post("/oauth/token", data={"grant_type": "client_credentials"}, auth=("late", "nope"))
    assert wrong.status_code == 401 and wrong.json()["error"] == "invalid_client"


def test_client_flag_parses_permission_sets() -> None:
    config = parse_args(
        [
            "--client",
            "ro:s3cret:outbound:campaign:view|routing:wrapupCode:view",
            "--client",
            "all:pw:*",
            "--client",
            "none:pw:",
        ]
    )
    assert config.extra_clients == [
        ClientSpec("ro", "s3cret", frozenset({"outbound:campaign:view", "routing:wrapupCode:view"})),
        ClientSpec("all", "pw", frozenset({"*"})),
        ClientSpec("none", "pw", frozenset()),
    ]
    assert [c.client_id for c in config.clients()] == ["sandbox-client", "ro", "all", "none"]
    assert "s3cret" not in str(config.public())


@pytest.mark.parametrize(
    "argv",
    [
        ["--client", "no-secret"],
        ["--client", ":pw:*"],
        ["--client", "a:pw:*", "--client", "a:pw:*"],
        ["--client", "sandbox-client:pw:*"],
    ],
)
def test_client_flag_rejects_bad_specs(argv: list[str]) -> None:
    with pytest.raises(SystemExit):
        parse_args(argv)


def test_limits_defaults_differ_from_configured_values_and_docs_list_them() -> None:
    client = make_client(requests_per_minute=120)
    nobody_free = auth_headers(client)
    configured = client.get(f"{LIMITS}/namespaces/platform.api", headers=nobody_free).json()
    defaults = client.get(f"{LIMITS}/namespaces/platform.api/defaults", headers=nobody_free).json()
    for body in (configured, defaults):
        assert_sdk_compatible(body, "LimitsEntityListing")
    values = {e["key"]: e["value"] for e in configured["entities"]}
    default_values = {e["key"]: e["value"] for e in defaults["entities"]}
    assert values["client.credentials.token.rate.per.minute"] == 120
    assert default_values["client.credentials.token.rate.per.minute"] == 300
    assert default_values["request.bytes.max"] == 512000
    # Only the client-credentials token rate is configured; the rest equal their defaults.
    assert {k: v for k, v in values.items() if k != "client.credentials.token.rate.per.minute"} == {
        k: v for k, v in default_values.items() if k != "client.credentials.token.rate.per.minute"
    }
    assert client.get(f"{LIMITS}/namespaces/made.up/defaults", headers=nobody_free).status_code == 404

    docs = client.get(f"{LIMITS}/docs", headers=nobody_free)
    assert docs.status_code == 200
    assert_sdk_compatible(docs.json(), "LimitDocumentation")
    namespaces = {n["name"]: n for n in docs.json()["namespaces"]}
    assert {"platform.api", "analytics", "outbound", "workforce.management.forecast"} <= set(namespaces)
    documented = {d["key"]: d["defaultValue"] for d in namespaces["platform.api"]["limits"]}
    # The docs quote the platform defaults, the same numbers /defaults reports.
    assert documented == default_values
    assert all(n["friendlyName"] for n in namespaces.values())


def test_routing_listings_need_their_own_view_permission() -> None:
    client = sandbox_with("queues:pw:routing:queue:view", "codes:pw:routing:wrapupCode:view")
    queues, codes = token_for(client, "queues"), token_for(client, "codes")
    assert client.get("/api/v2/routing/queues", headers=queues).status_code == 200
    assert_forbidden(client.get("/api/v2/routing/queues", headers=codes), "missing.any.permissions",
                     ["routing:queue:view"])
    assert client.get("/api/v2/routing/wrapupcodes", headers=codes).status_code == 200
    assert_forbidden(client.get("/api/v2/routing/wrapupcodes", headers=queues), "missing.permissions",
                     ["routing:wrapupCode:view"])
