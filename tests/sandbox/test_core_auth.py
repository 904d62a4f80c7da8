"""OAuth client credentials, bearer checks, 401/404 ErrorBodies."""

from __future__ import annotations

from core_support import NORMAL, auth_headers, get_token, make_client, sandbox_state
from sdk_check import assert_sdk_compatible


def test_token_exchange_returns_an_expiring_bearer_token() -> None:
    client = make_client(token_ttl=900)
    response = client.post(
        "/oauth/token", data={"grant_type": "client_credentials"}, auth=("sandbox-client", "sandbox-secret")
    )
    assert response.status_code == 200
    body = response.json()
    assert body["token_type"] == "bearer" and body["expires_in"] == 900 and len(body["access_token"]) > 20
    listed = client.get("/_sandbox/tokens").json()
    assert [t["token"] for t in listed] == [body["access_token"]]


def test_wrong_credentials_and_grants_get_oauth_errors() -> None:
    client = make_client()
    wrong = client.post("/oauth/token", data={"grant_type": "client_credentials"}, auth=("sandbox-client", "nope"))
    assert wrong.status_code == 401 and wrong.json()["error"] == "invalid_client"
    no_basic = client.post("/oauth/token", data={"grant_type": "client_credentials"})
    assert no_basic.status_code == 401 and no_basic.json()["error"] == "invalid_client"
    grant = client.post("/oauth/token", data={"grant_type": "password"}, auth=("sandbox-client", "sandbox-secret"))
    assert grant.status_code == 400 and grant.json()["error"] == "unsupported_grant_type"
    missing = client.post("/oauth/token", data={}, auth=("sandbox-client", "sandbox-secret"))
    assert missing.status_code == 400 and missing.json()["error"] == "invalid_request"
    assert client.get("/_sandbox/tokens").json() == []


def test_api_calls_need_a_live_bearer_token() -> None:
    client = make_client()
    for headers in ({}, {"Authorization": "Bearer not-a-token"}, {"Authorization": "Basic abc"}):
        response = client.get(f"/api/v2/outbound/campaigns/{NORMAL}", headers=headers)
        assert response.status_code == 401
        assert response.json()["status"] == 401 and response.json()["code"] == "bad.credentials"
        assert_sdk_compatible(response.json(), "ErrorBody")


def test_expired_token_is_refused(monkeypatch) -> None:
    client = make_client(token_ttl=300)
    token = get_token(client)
    store = sandbox_state(client).tokens
    issued = store.all()[0].issued_at
    headers = {"Authorization": f"Bearer {token}"}
    monkeypatch.setattr(store, "clock", lambda: issued + 299)
    assert client.get(f"/api/v2/outbound/campaigns/{NORMAL}", headers=headers).status_code == 200
    monkeypatch.setattr(store, "clock", lambda: issued + 301)
    expired = client.get(f"/api/v2/outbound/campaigns/{NORMAL}", headers=headers)
    assert expired.status_code == 401 and "expired" in expired.json()["message"]
    assert_sdk_compatible(expired.json(), "ErrorBody")


def test_unknown_paths_and_methods_answer_404_error_bodies() -> None:
    client = make_client()
    headers = auth_headers(client)
    for method, path in [
        ("GET", "/api/v2/outbound/analytics/campaigns/x/execution"),
        ("POST", "/api/v2/analytics/export"),
        ("DELETE", f"/api/v2/outbound/campaigns/{NORMAL}"),
        ("GET", "/api/v2/schedule/agents/forecast"),
    ]:
        response = client.request(method, path, headers=headers)
        assert response.status_code == 404, (method, path)
        assert response.json()["code"] == "not.found"
        assert_sdk_compatible(response.json(), "ErrorBody")
    for path in ("/docs", "/openapi.json", "/nothing"):
        assert client.get(path).status_code == 404


def test_bad_query_parameters_are_400_naming_the_parameter() -> None:
    client = make_client()
    response = client.get("/api/v2/outbound/campaigns", params={"pageSize": "lots"}, headers=auth_headers(client))
    assert response.status_code == 400
    assert [d["fieldName"] for d in response.json()["details"]] == ["pageSize"]
    assert_sdk_compatible(response.json(), "ErrorBody")


def test_self_validation_catches_an_undeclared_key_unless_disabled() -> None:
    for enabled, expected in ((True, 500), (False, 200)):
        client = make_client(self_validation=enabled)
        sandbox_state(client).org.campaigns[NORMAL]["predictive"] = {"answerRate": 0.3}
        response = client.get(f"/api/v2/outbound/campaigns/{NORMAL}", headers=auth_headers(client))
        assert response.status_code == expected
        if enabled:
            assert "predictive" in response.json()["message"]
