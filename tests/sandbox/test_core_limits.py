"""The per-token / per-client budget (429 + Retry-After + ErrorBody.limit) and the limits endpoint."""

from __future__ import annotations

from core_support import NORMAL, auth_headers, make_client
from sdk_check import assert_sdk_compatible

from genesys_sandbox.limits import RateBudget


def test_budget_answers_429_with_retry_after_and_the_limit() -> None:
    client = make_client(requests_per_minute=3)
    headers = auth_headers(client)
    statuses = [client.get(f"/api/v2/outbound/campaigns/{NORMAL}", headers=headers).status_code for _ in range(3)]
    assert statuses == [200, 200, 200]
    limited = client.get(f"/api/v2/outbound/campaigns/{NORMAL}", headers=headers)
    assert limited.status_code == 429
    assert 1 <= int(limited.headers["Retry-After"]) <= 60
    body = limited.json()
    assert body["limit"] == {"key": "client.credentials.token.rate.per.minute", "namespace": "platform.api", "value": 3}
    assert f"[{limited.headers['Retry-After']}]" in body["message"]
    assert_sdk_compatible(body, "ErrorBody")
    # A new token has its own budget; the admin API has none.
    assert client.get(f"/api/v2/outbound/campaigns/{NORMAL}", headers=auth_headers(client)).status_code == 200
    assert client.get("/_sandbox/health").status_code == 200


def test_error_answers_are_counted_by_status_and_budget_429s_apart() -> None:
    client = make_client(requests_per_minute=2)
    headers = auth_headers(client)
    for _ in range(4):
        client.get(f"/api/v2/outbound/campaigns/{NORMAL}", headers=headers)
    client.get("/api/v2/outbound/campaigns/not-a-campaign", headers=auth_headers(client))
    counters = client.get("/_sandbox/counters").json()
    assert counters["status:429"] == counters["status:429 budget"] == 2
    assert counters["status:404"] == 1
    assert counters["GET /api/v2/outbound/campaigns/{campaignId}"] == 5  # per-endpoint counts unchanged


def test_budget_per_client_is_shared_by_all_tokens() -> None:
    client = make_client(requests_per_minute=2, budget_per="client")
    assert client.get(f"/api/v2/outbound/campaigns/{NORMAL}", headers=auth_headers(client)).status_code == 200
    assert client.get(f"/api/v2/outbound/campaigns/{NORMAL}", headers=auth_headers(client)).status_code == 200
    assert client.get(f"/api/v2/outbound/campaigns/{NORMAL}", headers=auth_headers(client)).status_code == 429


def test_sliding_window_frees_budget_after_a_minute() -> None:
    now = [1000.0]
    budget = RateBudget(2, clock=lambda: now[0])
    assert budget.take("t") is None and budget.take("t") is None
    assert budget.take("t") == 60.0
    now[0] += 30
    assert budget.take("t") == 30.0
    now[0] += 30.5
    assert budget.take("t") is None and budget.remaining("t") == 1


def test_limits_namespace_reports_the_configured_budget() -> None:
    client = make_client(requests_per_minute=120)
    headers = auth_headers(client)
    body = client.get("/api/v2/organizations/limits/namespaces/platform.api", headers=headers).json()
    assert_sdk_compatible(body, "LimitsEntityListing")
    values = {e["key"]: e["value"] for e in body["entities"]}
    assert values["client.credentials.token.rate.per.minute"] == 120
    assert client.get("/api/v2/organizations/limits/namespaces/outbound", headers=headers).json() == {"entities": []}
    missing = client.get("/api/v2/organizations/limits/namespaces/made.up", headers=headers)
    assert missing.status_code == 404
    assert_sdk_compatible(missing.json(), "ErrorBody")
