"""The provider registers the `genesys_cloud` connection type through its entry point."""

from __future__ import annotations

from importlib.metadata import entry_points


def test_entry_point_declares_the_connection_type() -> None:
    eps = [ep for ep in entry_points(group="apache_airflow_provider") if ep.value.startswith("genesys_cloud")]
    assert len(eps) == 1
    info = eps[0].load()()
    (conn_type,) = [c for c in info["connection-types"] if c["connection-type"] == "genesys_cloud"]
    assert conn_type["hook-class-name"] == "genesys_cloud.hooks.genesys_cloud.GenesysCloudHook"
    assert {"region", "api_base_url", "login_base_url", "requests_per_minute"} <= set(conn_type["conn-fields"])
    assert conn_type["ui-field-behaviour"]["relabeling"] == {"login": "Client ID", "password": "Client Secret"}


def test_airflow_providers_manager_knows_the_hook() -> None:
    from airflow.providers_manager import ProvidersManager

    pm = ProvidersManager()
    assert "genesys-airflow-pipelines" in pm.providers
    hooks = pm.hooks
    assert "genesys_cloud" in hooks
    assert hooks["genesys_cloud"].hook_class_name == "genesys_cloud.hooks.genesys_cloud.GenesysCloudHook"
