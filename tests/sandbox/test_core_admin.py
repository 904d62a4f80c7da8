"""Admin API: health, reset, counters, config, and the signed, idempotent webhook receiver."""

from __future__ import annotations

import json
import time

from core_support import CLOCK, NORMAL, auth_headers, make_client

from genesys_sandbox.routes_admin import signature

SECRET = "sandbox-webhook-secret"


def test_health_and_config_hide_secrets() -> None:
    client = make_client(seed=5)
    health = client.get("/_sandbox/health").json()
    assert health["status"] == "ok" and health["seed"] == 5 and health["now"].startswith("2026-05-15T12:00")
    config = client.get("/_sandbox/config").json()
    assert "client_secret" not in config and "webhook_secret" not in config
    assert config["fixtures"]["normal_campaign"] == NORMAL and config["fixtures"]["anomaly_day"] == "2026-05-12"


def test_reset_restores_the_seeded_state_and_moves_the_clock() -> None:
    client = make_client()
    client.headers.update(auth_headers(client))
    original = client.get(f"/api/v2/outbound/campaigns/{NORMAL}").json()
    client.patch(f"/api/v2/outbound/campaigns/{NORMAL}", json={"outboundLineCount": 3})
    assert client.get("/_sandbox/writes").json()
    reset = client.post("/_sandbox/reset", json={})
    assert reset.status_code == 200
    assert client.get(f"/api/v2/outbound/campaigns/{NORMAL}").json() == original
    assert client.get("/_sandbox/writes").json() == []
    moved = client.post("/_sandbox/reset", json={"clock": "2025-01-10T00:00:00Z"}).json()
    assert moved["now"].startswith("2025-01-10")
    assert client.get("/_sandbox/config").json()["fixtures"]["anomaly_day"] == "2025-01-07"
    assert client.post("/_sandbox/reset", json={"clock": "yesterday"}).status_code == 400
    assert client.post("/_sandbox/reset", json={"seed": "x"}).status_code == 400
    client.post("/_sandbox/reset", json={"clock": CLOCK})


def test_counters_are_per_endpoint_template() -> None:
    client = make_client()
    client.headers.update(auth_headers(client))
    for campaign_id in (NORMAL, "other", "third"):
        client.get(f"/api/v2/outbound/campaigns/{campaign_id}")
    counters = client.get("/_sandbox/counters").json()
    assert counters["GET /api/v2/outbound/campaigns/{campaignId}"] == 3
    assert counters["POST /oauth/token"] == 1


def _post(client, body: bytes, *, key: str | None = "k1", ts: int | None = None, sig: str | None = None):
    timestamp = int(time.time()) if ts is None else ts
    signed = signature(SECRET, timestamp, body, path="/_sandbox/webhooks/bi", key=key or "")
    headers = {"Content-Type": "application/json", "X-Signature": sig or signed}
    if key:
        headers["Idempotency-Key"] = key
    return client.post("/_sandbox/webhooks/bi", content=body, headers=headers)


def test_webhook_receiver_verifies_signatures() -> None:
    client = make_client()
    body = json.dumps({"dag": "campaign_stats", "rows": 3}).encode()
    ok = _post(client, body)
    assert ok.status_code == 200 and ok.json()["duplicate"] is False
    tampered_sig = signature(SECRET, int(time.time()), body, path="/_sandbox/webhooks/bi", key="k2")
    assert _post(client, body.replace(b"3", b"4"), key="k2", sig=tampered_sig).status_code == 401
    wrong = signature("wrong-secret", int(time.time()), body, path="/_sandbox/webhooks/bi", key="k3")
    assert _post(client, body, key="k3", sig=wrong).status_code == 401
    assert _post(client, body, key="k4", ts=int(time.time()) - 301).status_code == 401
    no_sig = client.post("/_sandbox/webhooks/bi", content=body, headers={"Idempotency-Key": "k5"})
    assert no_sig.status_code == 401 and no_sig.json()["status"] == 401
    assert _post(client, body, key="k6", sig="v1=abc").status_code == 401
    received = client.get("/_sandbox/webhooks/bi").json()
    assert [d["idempotencyKey"] for d in received] == ["k1"]
    assert received[0]["body"] == {"dag": "campaign_stats", "rows": 3}


def test_webhook_receiver_dedupes_on_idempotency_key() -> None:
    client = make_client()
    body = b'{"n": 1}'
    assert _post(client, body, key="same").json()["duplicate"] is False
    duplicate = _post(client, b'{"n": 1, "retry": true}', key="same")
    assert duplicate.status_code == 200 and duplicate.json() == {"duplicate": True, "idempotencyKey": "same"}
    assert _post(client, body, key="other").json()["duplicate"] is False
    assert [d["body"] for d in client.get("/_sandbox/webhooks/bi").json()] == [{"n": 1}, {"n": 1}]
    assert client.get("/_sandbox/webhooks/none").json() == []


def test_webhook_signature_v2_covers_key_method_and_path(monkeypatch) -> None:
    """Issue 16: a replay inside the tolerance with a new idempotency key (or to another path, or with
    another method) is refused; a v1-only signature passes only with the migration opt-in."""
    import hashlib
    import hmac

    client = make_client()
    body = b'{"n": 1}'
    now = int(time.time())
    first = signature(SECRET, now, body, path="/_sandbox/webhooks/bi", key="orig")
    assert _post(client, body, key="orig", sig=first).status_code == 200
    assert _post(client, body, key="replayed-with-new-key", sig=first).status_code == 401
    other_path = signature(SECRET, now, body, path="/_sandbox/webhooks/other", key="p1")
    assert _post(client, body, key="p1", sig=other_path).status_code == 401
    put = signature(SECRET, now, body, method="PUT", path="/_sandbox/webhooks/bi", key="m1")
    assert _post(client, body, key="m1", sig=put).status_code == 401
    v1 = f"t={now},v1=" + hmac.new(SECRET.encode(), f"{now}.".encode() + body, hashlib.sha256).hexdigest()
    refused = _post(client, body, key="legacy", sig=v1)
    assert refused.status_code == 401 and "v2 required" in refused.text
    monkeypatch.setenv("GENESYS_WEBHOOK_LEGACY_V1", "true")
    assert _post(client, body, key="legacy", sig=v1).status_code == 200
