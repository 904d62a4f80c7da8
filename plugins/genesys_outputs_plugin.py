"""The Genesys outputs page in the Airflow UI: one click from a DAG or a run to its files, charts and audit rows.

Airflow 3 plugin: ``fastapi_apps`` mounts the page's app at ``/genesys-outputs`` in the API server
(Airflow does not authenticate plugin apps: the app checks the user's Airflow token itself, see
``genesys_cloud.ui.app``); ``external_views`` put it in the UI: a top-level "Genesys outputs" entry, an
"Outputs" tab on every DAG and on every DAG run (the run's windows only), and an *Outputs* button on
every Genesys operator's task page (``operator_extra_links``, see ``genesys_cloud.ui.links``). This is the project's only
``AirflowPlugin``; its file name is unique because Airflow imports each file here under its stem.
"""

from __future__ import annotations

from airflow.plugins_manager import AirflowPlugin

from genesys_cloud.ui.app import create_app
from genesys_cloud.ui.links import URL_PREFIX, GenesysOutputsLink


class GenesysOutputsPlugin(AirflowPlugin):
    name = "genesys_outputs"
    fastapi_apps = [{"app": create_app(), "url_prefix": URL_PREFIX, "name": "Genesys outputs"}]
    # registered here so the API server can show the *Outputs* button the Genesys operators carry
    operator_extra_links = [GenesysOutputsLink()]
    external_views = [
        {"name": "Genesys outputs", "href": f"{URL_PREFIX}/", "destination": "nav",
         "url_route": "genesys-outputs"},
        {"name": "Outputs", "href": f"{URL_PREFIX}/dags/{{DAG_ID}}", "destination": "dag",
         "url_route": "genesys-dag-outputs"},
        {"name": "Outputs", "href": f"{URL_PREFIX}/dags/{{DAG_ID}}?run_id={{RUN_ID}}", "destination": "dag_run",
         "url_route": "genesys-run-outputs"},
    ]
