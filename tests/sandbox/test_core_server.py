"""The real server: uvicorn in a thread on a free loopback port, and the CLI flags."""

from __future__ import annotations

import httpx
import pytest
from core_support import NORMAL
from sdk_check import assert_sdk_compatible

from genesys_sandbox.__main__ import parse_args
from genesys_sandbox.config import SandboxConfig
from genesys_sandbox.server import run_in_thread


def test_run_in_thread_serves_oauth_and_api_over_http() -> None:
    with run_in_thread(SandboxConfig(port=0, clock="2026-05-15T12:00:00Z")) as handle:
        assert handle.url.startswith("http://127.0.0.1:")
        with httpx.Client(base_url=handle.url, timeout=10) as client:
            assert client.get("/_sandbox/health").json()["status"] == "ok"
            token = client.post(
                "/oauth/token", data={"grant_type": "client_credentials"}, auth=("sandbox-client", "sandbox-secret")
            ).json()["access_token"]
            response = client.get(f"/api/v2/outbound/campaigns/{NORMAL}", headers={"Authorization": f"Bearer {token}"})
            assert response.status_code == 200
            assert_sdk_compatible(response.json(), "Campaign")
    assert not handle.thread.is_alive()


def test_cli_flags_build_the_config() -> None:
    config = parse_args(
        ["--port", "9000", "--seed", "9", "--requests-per-minute", "60", "--budget-per", "client", "--token-ttl",
         "600", "--clock", "2026-01-01T00:00:00Z", "--scale", "500", "--faults", "5xx=0.1", "--no-self-validation",
         "--client-id", "a", "--client-secret", "b", "--webhook-secret", "c"]
    )
    assert (config.port, config.seed, config.requests_per_minute, config.budget_per) == (9000, 9, 60, "client")
    assert (config.token_ttl, config.clock, config.scale, config.faults) == (600, "2026-01-01T00:00:00Z", 500, "5xx=0.1")
    assert config.self_validation is False and (config.client_id, config.client_secret, config.webhook_secret) == ("a", "b", "c")
    assert parse_args([]).self_validation is True


@pytest.mark.parametrize("argv", [["--faults", "5xx=9"], ["--clock", "soon"], ["--budget-per", "org"], ["--token-ttl", "0"]])
def test_cli_rejects_bad_flags(argv) -> None:
    with pytest.raises(SystemExit):
        parse_args(argv)
