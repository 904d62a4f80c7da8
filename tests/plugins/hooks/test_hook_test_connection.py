"""The connection form's Test button: ``GenesysCloudHook.test_connection`` (token + one cheap read).

Success, a bad secret, and a login/API host off the region's Genesys domain refused before any request
(the client secret never leaves), each through the hook and, for the host rule, through Airflow's own
``Connection.test_connection`` (what ``POST /api/v2/connections/test`` calls).
"""

from __future__ import annotations

import base64
import json

import httpx
import pytest
import respx

from genesys_cloud.hooks import ratelimit
from genesys_cloud.hooks.auth import TOKENS
from genesys_cloud.hooks.genesys_cloud import LIMITS_PATH, GenesysCloudHook

REGION = "mypurecloud.ie"
API = f"https://api.{REGION}"
LOGIN = f"https://login.{REGION}"
CONN_ID = "genesys_testbutton"
SECRET = "test-button-client-secret"


def set_conn(monkeypatch: pytest.MonkeyPatch, **extra: object) -> None:
    conn = {"conn_type": "genesys_cloud", "login": "client-7", "password": SECRET,
            "extra": {"region": REGION, **extra}}
    monkeypatch.setenv(f"AIRFLOW_CONN_{CONN_ID.upper()}", json.dumps(conn))


@pytest.fixture(autouse=True)
def _isolated(monkeypatch: pytest.MonkeyPatch):
    TOKENS.clear()
    ratelimit.reset_limiters()
    monkeypatch.setenv("GENESYS_RETRY_BACKOFF_BASE", "0.01")
    set_conn(monkeypatch)
    yield
    TOKENS.clear()
    ratelimit.reset_limiters()


def _basic_secret(request: httpx.Request) -> str:
    scheme, _, value = request.headers.get("Authorization", "").partition(" ")
    assert scheme == "Basic"
    return base64.b64decode(value).decode().partition(":")[2]


def test_a_good_connection_gets_a_token_and_does_one_read() -> None:
    limits = {"entities": [{"key": "client.credentials.token.rate.per.minute", "value": 300}]}
    with respx.mock(assert_all_mocked=True) as router:
        token = router.post(f"{LOGIN}/oauth/token").mock(
            return_value=httpx.Response(200, json={"access_token": "tok-button", "expires_in": 60}))
        read = router.get(f"{API}{LIMITS_PATH}").mock(return_value=httpx.Response(200, json=limits))
        ok, message = GenesysCloudHook(CONN_ID).test_connection()
        assert len(router.calls) == 2
    assert ok is True, message
    assert token.call_count == 1 and read.call_count == 1
    assert _basic_secret(token.calls[0].request) == SECRET  # the secret went to the region's login host
    assert read.calls[0].request.headers["Authorization"] == "Bearer tok-button"
    assert API in message and "client-7" in message and "read the live API limits" in message
    assert SECRET not in message and "tok-button" not in message


def test_a_client_without_the_limits_permission_still_passes_and_is_told() -> None:
    with respx.mock(assert_all_mocked=True) as router:
        router.post(f"{LOGIN}/oauth/token").mock(
            return_value=httpx.Response(200, json={"access_token": "t", "expires_in": 60}))
        router.get(f"{API}{LIMITS_PATH}").mock(return_value=httpx.Response(
            403, json={"status": 403, "code": "missing.permissions", "message": "no"}))
        ok, message = GenesysCloudHook(CONN_ID).test_connection()
    assert ok is True and "refused (403)" in message


def test_a_bad_secret_fails_once_without_retrying_or_echoing_it() -> None:
    with respx.mock(assert_all_mocked=True) as router:
        token = router.post(f"{LOGIN}/oauth/token").mock(return_value=httpx.Response(
            401, json={"error": "invalid_client", "description": "authentication failed"}))
        ok, message = GenesysCloudHook(CONN_ID).test_connection()
    assert ok is False and "invalid_client" in message
    assert token.call_count == 1  # a person waits on the button: one attempt, no backoff
    assert SECRET not in message


def test_an_unreachable_login_host_fails_after_one_attempt() -> None:
    with respx.mock(assert_all_mocked=True) as router:
        token = router.post(f"{LOGIN}/oauth/token").mock(side_effect=httpx.ConnectError("refused"))
        ok, message = GenesysCloudHook(CONN_ID).test_connection()
    assert ok is False and token.call_count == 1 and SECRET not in message


@pytest.mark.parametrize(("extra", "field"), [
    ({"api_base_url": "https://collector.example"}, "api_base_url"),
    ({"api_base_url": API, "login_base_url": "https://login.evil.example"}, "login_base_url"),
    ({"api_base_url": "https://api.mypurecloud.ie.evil.example"}, "api_base_url"),
    ({"api_base_url": "http://api.mypurecloud.ie"}, "api_base_url"),
])
def test_a_foreign_host_is_refused_before_the_secret_is_sent(monkeypatch: pytest.MonkeyPatch, extra: dict,
                                                              field: str) -> None:
    set_conn(monkeypatch, **extra)
    with respx.mock(assert_all_called=False) as router:
        anything = router.route().mock(return_value=httpx.Response(200, json={"access_token": "x"}))
        ok, message = GenesysCloudHook(CONN_ID).test_connection()
    assert ok is False and field in message and ("not on" in message or "plain https" in message), message
    assert anything.call_count == 0  # no request at all: the secret never left
    assert SECRET not in message


def test_airflows_test_endpoint_path_refuses_a_foreign_host_too(monkeypatch: pytest.MonkeyPatch) -> None:
    """``POST /api/v2/connections/test`` exports the form's connection as a transient ``AIRFLOW_CONN_*``
    URI and calls its ``test_connection``, which finds the hook through the provider registry."""
    from airflow.models.connection import Connection

    conn = Connection(conn_id="transient_test", conn_type="genesys_cloud", login="client-7", password=SECRET,
                      extra=json.dumps({"region": REGION, "login_base_url": "https://login.evil.example",
                                        "api_base_url": API}))
    monkeypatch.setenv("AIRFLOW_CONN_TRANSIENT_TEST", conn.get_uri())
    with respx.mock(assert_all_called=False) as router:
        anything = router.route().mock(return_value=httpx.Response(200, json={}))
        ok, message = conn.test_connection()
    assert ok is False and "login_base_url" in message and anything.call_count == 0
