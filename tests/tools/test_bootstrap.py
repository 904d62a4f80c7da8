"""Connections and pools come from the one settings file, and bootstrapping twice changes nothing."""

from __future__ import annotations

import json

import pytest
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
    # every field of the form stays in the extra (null when empty): Airflow's Edit form shows only those
    assert gc["extra"] == {"api_base_url": "http://127.0.0.1:1", "requests_per_minute": 600, "region": None,
                           "login_base_url": None, "sandbox": None}
    assert load_settings(env={"GENESYS_SANDBOX": "true"})["connections"]["genesys_cloud_default"]["extra"][
        "sandbox"] is True  # a boolean, as the form's switch stores it
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


def _conn(conn_id: str):
    from airflow.models.connection import Connection
    from airflow.utils.session import create_session

    with create_session() as session:
        row = session.query(Connection).filter(Connection.conn_id == conn_id).one()
        return row.login, row.password, row.host, row.extra_dejson


def _edit(conn_id: str, **fields) -> None:
    from airflow.models.connection import Connection
    from airflow.utils.session import create_session

    with create_session() as session:
        row = session.query(Connection).filter(Connection.conn_id == conn_id).one()
        for key, value in fields.items():
            setattr(row, key, json.dumps(value) if key == "extra" else value)


def test_bootstrap_never_overwrites_an_existing_connection(airflow_db, monkeypatch) -> None:
    apply(load_settings(), reset=True)
    extra = {**_conn("genesys_cloud_default")[3], "requests_per_minute": 77}
    _edit("genesys_cloud_default", login="edited-client", extra=extra)  # as the UI's Edit form would
    monkeypatch.setenv("GENESYS_REQUESTS_PER_MINUTE", "120")  # the file changed too: the edit still wins
    report = apply(load_settings())
    assert "genesys_cloud_default" in report["kept"] and report["updated"] == []
    login, _, _, kept = _conn("genesys_cloud_default")
    assert login == "edited-client" and kept["requests_per_minute"] == 77
    # --reset goes back to the file
    report = apply(load_settings(), reset=True)
    assert "genesys_cloud_default" in report["updated"]
    login, _, _, extra = _conn("genesys_cloud_default")
    assert login == "sandbox-client" and extra["requests_per_minute"] == 120
    assert apply(load_settings())["updated"] == []


def test_bootstrap_adds_missing_form_fields_as_null_without_changing_values(airflow_db) -> None:
    apply(load_settings(), reset=True)
    _edit("genesys_cloud_default", port=None,  # a row of an older bootstrap
          extra={"api_base_url": "http://127.0.0.1:1", "sandbox": True})
    apply(load_settings())
    extra = _conn("genesys_cloud_default")[3]
    from airflow.models.connection import Connection
    from airflow.utils.session import create_session

    with create_session() as session:  # the port the UI's Test button sends for an empty one (0)
        assert session.query(Connection).filter(Connection.conn_id == "genesys_cloud_default").one().port == 0
    assert extra["api_base_url"] == "http://127.0.0.1:1" and extra["sandbox"] is True
    assert extra["region"] is None and "requests_per_minute" in extra  # now shown by the Edit form


def test_bootstrap_relocates_only_values_that_name_the_old_stack_url(airflow_db, monkeypatch) -> None:
    old, new = "http://127.0.0.1:4100", "http://127.0.0.1:4200"
    monkeypatch.setenv("GENESYS_API_BASE_URL", old)
    monkeypatch.setenv("GENESYS_LOGIN_BASE_URL", old)
    monkeypatch.setenv("GENESYS_WEBHOOK_URL", f"{old}/_sandbox/webhooks/bi")
    monkeypatch.setenv("GENESYS_SANDBOX", "true")
    apply(load_settings(), reset=True)
    extra = _conn("genesys_cloud_default")[3]
    _edit("genesys_cloud_default", login="edited-client",
          extra={**extra, "login_base_url": "http://127.0.0.1:41000", "requests_per_minute": 55})
    for name in ("GENESYS_API_BASE_URL", "GENESYS_LOGIN_BASE_URL"):  # the next start: the sandbox moved
        monkeypatch.setenv(name, new)
    monkeypatch.setenv("GENESYS_WEBHOOK_URL", f"{new}/_sandbox/webhooks/bi")
    report = apply(load_settings(), relocate={old: new})
    assert {"genesys_cloud_default", "genesys_webhook_default"} <= set(report["relocated"])
    login, _, _, extra = _conn("genesys_cloud_default")
    assert extra["api_base_url"] == new  # followed the move
    assert extra["login_base_url"] == "http://127.0.0.1:41000"  # another port, not a prefix match: kept
    assert login == "edited-client" and extra["requests_per_minute"] == 55  # the edits stay
    assert _conn("genesys_webhook_default")[2] == f"{new}/_sandbox/webhooks/bi"


REAL = {"GENESYS_REGION": "mypurecloud.ie", "GENESYS_WEBHOOK_SECRET": "a-long-real-webhook-secret",
        "GENESYS_CLIENT_SECRET": "real-client-secret", "_AIRFLOW_WWW_USER_PASSWORD": "a-real-password",
        "AIRFLOW__CORE__FERNET_KEY": "ZmDfcTF7_60GrrY167zsiPd67pEvs0aGOv2oasOM1Pg="}


def test_a_complete_real_deployment_passes_the_check(capsys) -> None:
    from bootstrap import check, deployment_problems

    assert deployment_problems(REAL) == ([], [])
    assert check(REAL) == 0


@pytest.mark.parametrize(("change", "named"), [
    ({"GENESYS_WEBHOOK_SECRET": ""}, "GENESYS_WEBHOOK_SECRET"),
    ({"GENESYS_WEBHOOK_SECRET": "sandbox-webhook-secret"}, "GENESYS_WEBHOOK_SECRET"),
    ({"AIRFLOW__CORE__FERNET_KEY": ""}, "AIRFLOW__CORE__FERNET_KEY"),
    ({"AIRFLOW__CORE__FERNET_KEY": "not-a-key"}, "AIRFLOW__CORE__FERNET_KEY"),
    ({"_AIRFLOW_WWW_USER_PASSWORD": ""}, "_AIRFLOW_WWW_USER_PASSWORD"),
    ({"_AIRFLOW_WWW_USER_PASSWORD": "admin"}, "_AIRFLOW_WWW_USER_PASSWORD"),
    ({"GENESYS_CLIENT_SECRET": "sandbox-secret"}, "GENESYS_CLIENT_SECRET"),
    ({"AWS_SECRET_ACCESS_KEY": "testing"}, "AWS_SECRET_ACCESS_KEY"),
])
def test_a_real_region_fails_closed_on_a_missing_or_default_secret(change, named, capsys) -> None:
    """Issue 16: with a real region, no default secret is ever used: start-up stops naming the variable."""
    from bootstrap import check

    env = {**REAL, **change}
    assert check(env) == 2
    err = capsys.readouterr().err
    assert named in err and "refusing to start" in err


def test_bootstrap_refuses_to_apply_on_a_real_region_without_secrets(monkeypatch, capsys) -> None:
    from bootstrap import main

    for name, value in {**REAL, "GENESYS_WEBHOOK_SECRET": ""}.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("GENESYS_WEBHOOK_SECRET")
    assert main(["--check"]) == 2
    assert main([]) == 2  # the apply step (compose airflow-init, native stack) stops before touching the DB
    assert "GENESYS_WEBHOOK_SECRET" in capsys.readouterr().err


def test_the_sandbox_only_warns_but_a_malformed_fernet_key_is_always_an_error() -> None:
    from bootstrap import deployment_problems

    errors, warnings = deployment_problems({})
    assert errors == [] and any("FERNET" in w for w in warnings)
    errors, _ = deployment_problems({"AIRFLOW__CORE__FERNET_KEY": "short"})
    assert errors and "Fernet" in errors[0]
