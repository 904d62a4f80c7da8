"""The provider registers the `genesys_cloud` connection type through its entry point."""

from __future__ import annotations

import os
import subprocess
import sys
from importlib.metadata import entry_points

import pytest


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


@pytest.mark.parametrize("module", ["genesys_cloud.hooks.connection", "genesys_cloud.exceptions"])
def test_provider_modules_import_first_in_a_fresh_process(module: str, tmp_path) -> None:
    # exceptions.py imports Airflow, whose first import runs provider discovery, which imports
    # hooks.connection: a module-level import of exceptions there would be circular in a fresh process.
    code = (
        f"import {module}\n"
        "from airflow.sdk.exceptions import AirflowFailException\n"
        "from genesys_cloud.exceptions import GenesysNotFoundError\n"
        "assert issubclass(GenesysNotFoundError, AirflowFailException)\n"
    )
    env = {**os.environ, "AIRFLOW_HOME": str(tmp_path)}
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
