"""Helpers of the sandbox core tests: an in-process app on a fixed clock and an authorised client."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from genesys_sandbox.app import create_app
from genesys_sandbox.config import SandboxConfig
from genesys_sandbox.org import FIXTURES

CLOCK = "2026-05-15T12:00:00Z"
NORMAL = FIXTURES["normal_campaign"]


def make_client(**overrides: Any) -> TestClient:
    config = SandboxConfig(clock=CLOCK, **overrides)
    return TestClient(create_app(config), raise_server_exceptions=False)


def get_token(client: TestClient) -> str:
    response = client.post(
        "/oauth/token", data={"grant_type": "client_credentials"}, auth=("sandbox-client", "sandbox-secret")
    )
    assert response.status_code == 200, response.text
    return response.json()["access_token"]


def auth_headers(client: TestClient) -> dict[str, str]:
    return {"Authorization": f"Bearer {get_token(client)}"}


def sandbox_state(client: TestClient) -> Any:
    return client.app.state.sandbox
