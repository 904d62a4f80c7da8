"""Connections and pools come from the one settings file, and bootstrapping twice changes nothing."""

from __future__ import annotations

import json

from bootstrap import apply, connection_env, load_settings


def _state():
    from airflow.models.connection import Connection
    from airflow.models.pool import Pool
    from airflow.utils.session import create_session

    with create_session() as session:
        conns = {c.conn_id: (c.conn_type, c.host, c.login, c.extra_dejson) for c in session.query(Connection)}
        pools = {p.pool: (p.slots, p.include_deferred) for p in session.query(Pool)}
    return conns, pools


def test_settings_expand_env_and_keep_secrets_out_of_extras() -> None:
    env = {"GENESYS_API_BASE_URL": "http://127.0.0.1:1", "GENESYS_REQUESTS_PER_MINUTE": "600"}
    settings = load_settings(env=env)
    gc = settings["connections"]["genesys_cloud_default"]
    assert gc["login"] == "sandbox-client" and gc["password"] == "sandbox-secret"
    assert gc["extra"] == {"api_base_url": "http://127.0.0.1:1", "requests_per_minute": 600}
    for conn in settings["connections"].values():
        assert not any("secret" in k or "password" in k for k in conn["extra"])
    rendered = json.loads(connection_env(settings)["AIRFLOW_CONN_GENESYS_CLOUD_DEFAULT"])
    assert rendered["conn_type"] == "genesys_cloud" and rendered["extra"]["requests_per_minute"] == 600
    assert settings["pools"]["genesys_api"]["include_deferred"] is True


def test_bootstrap_is_idempotent(airflow_db) -> None:
    settings = load_settings()
    apply(settings)
    first = _state()
    report = apply(settings)
    assert report["created"] == [] and report["updated"] == []
    assert _state() == first
    conns, pools = first
    assert {"genesys_cloud_default", "aws_default", "genesys_webhook_default", "genesys_audit"} <= set(conns)
    assert pools["genesys_api"] == (settings["pools"]["genesys_api"]["slots"], True)


def test_bootstrap_updates_a_changed_connection(airflow_db, monkeypatch) -> None:
    monkeypatch.setenv("GENESYS_REQUESTS_PER_MINUTE", "120")
    report = apply(load_settings())
    assert "genesys_cloud_default" in report["updated"]
    monkeypatch.delenv("GENESYS_REQUESTS_PER_MINUTE")
    report = apply(load_settings())
    assert "genesys_cloud_default" in report["updated"]
    assert apply(load_settings())["updated"] == []
