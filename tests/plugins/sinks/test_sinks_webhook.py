"""WebhookSink against a tiny local receiver that verifies signatures and honours idempotency keys."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import pytest

from genesys_cloud.sinks.webhook import (
    WebhookError,
    WebhookSignatureError,
    WebhookSink,
    canonical_json,
    idempotency_key,
    redact_url,
    sign,
    verify_signature,
)

SECRET = "receiver-secret-value"


@dataclass
class Receiver:
    url: str
    script: list[tuple[int, dict[str, str], float]] = field(default_factory=list)  # status, headers, delay
    accepted: dict[str, bytes] = field(default_factory=dict)
    requests: int = 0


@pytest.fixture()
def receiver() -> Iterator[Receiver]:
    state = Receiver(url="")

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args) -> None:  # keep test output quiet
            pass

        def _reply(self, status: int, body: dict, headers: dict[str, str] | None = None) -> None:
            data = json.dumps(body).encode()
            self.send_response(status)
            for name, value in (headers or {}).items():
                self.send_header(name, value)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            state.requests += 1
            if state.script:
                status, headers, delay = state.script.pop(0)
                time.sleep(delay)
                if status:
                    return self._reply(status, {"error": "scripted"}, headers)
            try:
                verify_signature(SECRET, self.headers.get("X-Signature", ""), body, method=self.command,
                                 path=self.path, idempotency_key=self.headers.get("Idempotency-Key", ""))
            except WebhookSignatureError as exc:
                return self._reply(401, {"error": str(exc)})
            key = self.headers["Idempotency-Key"]
            if key in state.accepted:
                return self._reply(200, {"duplicate": True})
            state.accepted[key] = body
            return self._reply(202, {"duplicate": False})

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    state.url = f"http://127.0.0.1:{server.server_address[1]}/_sandbox/webhooks/test"
    yield state
    server.shutdown()
    server.server_close()


@pytest.fixture()
def connection(receiver: Receiver, monkeypatch: pytest.MonkeyPatch) -> None:
    url = httpx.URL(receiver.url)
    conn = {
        "conn_type": "http",
        "host": url.host,
        "port": url.port,
        "schema": "http",
        "password": SECRET,
        "extra": {"endpoint": url.path},
    }
    monkeypatch.setenv("AIRFLOW_CONN_GENESYS_WEBHOOK_DEFAULT", json.dumps(conn))


def _sink(**kwargs) -> tuple[WebhookSink, list[float]]:
    sink = WebhookSink(base_delay_seconds=0.01, **kwargs)
    sleeps: list[float] = []
    sink._sleep = sleeps.append  # record waits instead of sleeping
    return sink, sleeps


KEY = idempotency_key(
    "campaign_stats", "2024-05-01T00:00:00+00:00", "2024-05-02T00:00:00+00:00", "notify", -1, "published"
)


def test_signature_format_and_verification() -> None:
    body = canonical_json({"b": 1, "a": [1, 2]})
    assert body == b'{"a":[1,2],"b":1}'
    where = {"method": "POST", "path": "/hooks/bi?team=7", "idempotency_key": "key-1"}
    header = sign("k", 1700000000, body, **where)
    assert header.startswith("t=1700000000,v2=") and len(header.split("v2=")[1]) == 64
    assert verify_signature("k", header, body, now=1700000010, **where) == 1700000000
    with pytest.raises(WebhookSignatureError, match="does not match"):
        verify_signature("k", header, body.replace(b"1", b"2"), now=1700000010, **where)
    with pytest.raises(WebhookSignatureError, match="does not match"):
        verify_signature("other", header, body, now=1700000010, **where)
    with pytest.raises(WebhookSignatureError, match="tolerance"):
        verify_signature("k", header, body, now=1700000000 + 3600, **where)


@pytest.mark.parametrize("changed", [{"idempotency_key": "key-2"}, {"method": "PUT"}, {"path": "/hooks/other"},
                                     {"path": "/hooks/bi?team=8"}])
def test_signature_v2_covers_the_key_method_and_path(changed) -> None:
    """Issue 16: a replay inside the tolerance with a new idempotency key (or another method or path)
    fails verification (v1 signed only timestamp and body)."""
    body = canonical_json({"event": "published"})
    where = {"method": "POST", "path": "/hooks/bi?team=7", "idempotency_key": "key-1"}
    header = sign("k", 1700000000, body, **where)
    with pytest.raises(WebhookSignatureError, match="does not match"):
        verify_signature("k", header, body, now=1700000000, **{**where, **changed})


def test_legacy_v1_is_sent_only_on_opt_in_and_accepted_only_on_request(monkeypatch) -> None:
    import hashlib
    import hmac

    from genesys_cloud.sinks.webhook import legacy_v1_enabled

    body = canonical_json({"event": "published"})
    where = {"method": "POST", "path": "/hooks/bi", "idempotency_key": "key-1"}
    assert "v1=" not in sign("k", 1700000000, body, **where) and not legacy_v1_enabled()
    monkeypatch.setenv("GENESYS_WEBHOOK_LEGACY_V1", "true")
    both = sign("k", 1700000000, body, **where, legacy_v1=legacy_v1_enabled())
    v1 = hmac.new(b"k", b"1700000000." + body, hashlib.sha256).hexdigest()
    assert both.endswith(f",v1={v1}")  # an old receiver still verifies "<t>.<body>"
    old_only = f"t=1700000000,v1={v1}"
    with pytest.raises(WebhookSignatureError, match="v2 required"):
        verify_signature("k", old_only, body, now=1700000000, **where)
    assert verify_signature("k", old_only, body, now=1700000000, accept_v1=True, **where) == 1700000000


def test_idempotency_key_depends_on_identity_only() -> None:
    same = idempotency_key(
        "campaign_stats",
        "2024-05-01T00:00:00+00:00",
        "2024-05-02T00:00:00+00:00",
        "notify",
        None,
        "published",
    )
    assert KEY == same and len(KEY) == 64
    assert KEY != idempotency_key(
        "campaign_stats", "2024-05-01T00:00:00+00:00", "2024-05-02T00:00:00+00:00", "notify", 0, "published"
    )
    assert KEY != idempotency_key(
        "campaign_stats", "2024-05-02T00:00:00+00:00", "2024-05-03T00:00:00+00:00", "notify", -1, "published"
    )


def test_delivery_is_signed_and_idempotent(receiver: Receiver, connection, caplog) -> None:
    sink, _ = _sink()
    first = sink.deliver({"url": "https://s3/presigned?sig=1", "rows": 3}, KEY)
    # A retried task: same identity, a new presigned URL in the payload; the receiver dedupes on the key.
    second = sink.deliver({"url": "https://s3/presigned?sig=2", "rows": 3}, KEY)
    assert first["status_code"] == 202 and first["response"] == {"duplicate": False}
    assert second["response"] == {"duplicate": True}
    assert list(receiver.accepted) == [KEY]
    assert json.loads(receiver.accepted[KEY]) == {"rows": 3, "url": "https://s3/presigned?sig=1"}
    assert SECRET not in caplog.text


def test_tampered_body_is_rejected(receiver: Receiver, connection) -> None:
    body = canonical_json({"rows": 3})
    headers = {
        "Content-Type": "application/json",
        "Idempotency-Key": KEY,
        "X-Signature": sign(SECRET, int(time.time()), body, method="POST",
                            path=httpx.URL(receiver.url).raw_path.decode(), idempotency_key=KEY),
    }
    tampered = httpx.post(receiver.url, content=canonical_json({"rows": 4}), headers=headers)
    assert tampered.status_code == 401
    genuine = httpx.post(receiver.url, content=body, headers=headers)
    assert genuine.status_code == 202


def test_wrong_secret_fails_fast_without_retry(receiver: Receiver, monkeypatch, connection) -> None:
    conn = json.loads(__import__("os").environ["AIRFLOW_CONN_GENESYS_WEBHOOK_DEFAULT"])
    monkeypatch.setenv("AIRFLOW_CONN_GENESYS_WEBHOOK_DEFAULT", json.dumps({**conn, "password": "wrong"}))
    sink, sleeps = _sink()
    with pytest.raises(WebhookError, match="HTTP 401") as info:
        sink.deliver({"rows": 1}, KEY)
    assert "wrong" not in str(info.value)
    assert receiver.requests == 1 and sleeps == []


def test_retries_5xx_then_delivers(receiver: Receiver, connection) -> None:
    receiver.script = [(503, {}, 0), (502, {}, 0)]
    sink, sleeps = _sink()
    result = sink.deliver({"rows": 1}, KEY)
    assert result["attempts"] == 3 and receiver.requests == 3 and len(sleeps) == 2
    assert list(receiver.accepted) == [KEY]


def test_429_retry_after_wins(receiver: Receiver, connection) -> None:
    receiver.script = [(429, {"Retry-After": "7"}, 0)]
    sink, sleeps = _sink()
    assert sink.deliver({"rows": 1}, KEY)["attempts"] == 2
    assert sleeps == [7.0]


def test_timeout_is_retried(receiver: Receiver, connection) -> None:
    receiver.script = [(0, {}, 1.0)]  # first request answers after the client gave up
    sink, _ = _sink(timeout_seconds=0.3)
    assert sink.deliver({"rows": 1}, KEY)["attempts"] == 2
    assert list(receiver.accepted) == [KEY]


def test_exhausted_retries_raise_a_clear_error(receiver: Receiver, connection) -> None:
    receiver.script = [(503, {}, 0)] * 5
    sink, _ = _sink(max_attempts=3)
    with pytest.raises(WebhookError, match="after 3 attempts: HTTP 503"):
        sink.deliver({"rows": 1}, KEY)
    assert receiver.requests == 3


def test_connection_without_secret_is_refused(monkeypatch) -> None:
    monkeypatch.setenv(
        "AIRFLOW_CONN_HOOK_NO_SECRET", json.dumps({"conn_type": "http", "host": "127.0.0.1", "port": 9})
    )
    with pytest.raises(WebhookError, match="no signing secret"):
        WebhookSink("hook_no_secret").deliver({"a": 1}, KEY)


def test_full_url_in_host_is_used_as_is(receiver: Receiver, monkeypatch) -> None:
    conn = {"conn_type": "http", "host": receiver.url, "password": SECRET}
    monkeypatch.setenv("AIRFLOW_CONN_HOOK_FULL_URL", json.dumps(conn))
    result = WebhookSink("hook_full_url").deliver({"rows": 2}, KEY)
    assert list(receiver.accepted) == [KEY]
    assert result["url"] == f"http://127.0.0.1:{httpx.URL(receiver.url).port}/***"  # path redacted


def test_tokenised_url_is_redacted_in_logs_errors_and_results_and_masked(
    receiver: Receiver, monkeypatch, caplog, capsys
) -> None:
    # BI tools put the token in the path or the query: neither may reach logs, exceptions or XCom.
    token_url = f"{receiver.url}/tok-PATH-9f8e?token=tok-QUERY-1a2b"
    monkeypatch.setenv(
        "AIRFLOW_CONN_HOOK_TOKEN_URL",
        json.dumps({"conn_type": "http", "host": token_url, "password": SECRET}),
    )
    masked: list[object] = []
    monkeypatch.setattr("airflow.sdk.log.mask_secret", lambda value, name=None: masked.append(value))
    caplog.set_level("DEBUG")
    sink, _ = _sink(http_conn_id="hook_token_url")
    result = sink.deliver({"rows": 1}, KEY)
    receiver.script = [(503, {}, 0)] * 2
    with pytest.raises(WebhookError) as failed:
        _sink(http_conn_id="hook_token_url", max_attempts=2)[0].deliver({"rows": 1}, "other-key")
    receiver.script = [(400, {}, 0)]
    with pytest.raises(WebhookError) as rejected:
        _sink(http_conn_id="hook_token_url")[0].deliver({"rows": 1}, "third-key")
    assert token_url in masked  # the secrets masker hides it wherever else it is logged (httpx, ...)
    seen = (
        caplog.text + capsys.readouterr().out + str(failed.value) + str(rejected.value) + json.dumps(result)
    )
    assert "tok-PATH" not in seen and "tok-QUERY" not in seen
    redacted = f"http://127.0.0.1:{httpx.URL(receiver.url).port}/***"
    assert result["url"] == redacted and redacted in str(failed.value) and redacted in str(rejected.value)


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("https://bi.example.com", "https://bi.example.com"),
        ("https://bi.example.com/", "https://bi.example.com"),
        ("https://bi.example.com:8443/hooks/abc123", "https://bi.example.com:8443/***"),
        ("https://user:pw@bi.example.com/?key=abc", "https://bi.example.com/***"),
    ],
)
def test_redact_url_keeps_scheme_and_host_only(url: str, shown: str) -> None:
    assert redact_url(url) == shown


# -- the sandbox's receiver (POST /_sandbox/webhooks/{name}), through the default connection ---------
def test_sandbox_receiver_verifies_and_dedupes(sandbox) -> None:
    sink = WebhookSink()  # genesys_webhook_default from config/airflow_settings.yaml
    first = sink.deliver({"event": "published", "url": "https://s3/x?sig=1"}, KEY)
    second = sink.deliver({"event": "published", "url": "https://s3/x?sig=2"}, KEY)
    assert first["response"]["duplicate"] is False and second["response"]["duplicate"] is True
    (delivery,) = sandbox.webhooks("bi")
    assert delivery["idempotencyKey"] == KEY and delivery["body"]["url"] == "https://s3/x?sig=1"

    body = canonical_json({"event": "published"})
    headers = {
        "Idempotency-Key": "other",
        "X-Signature": sign("sandbox-webhook-secret", int(time.time()), body, method="POST",
                            path=httpx.URL(sink._target().url).raw_path.decode(), idempotency_key="other"),
    }
    tampered = httpx.post(sink._target().url, content=canonical_json({"event": "tampered"}), headers=headers)
    assert tampered.status_code == 401
    assert len(sandbox.webhooks("bi")) == 1
