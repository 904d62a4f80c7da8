"""Genesys Cloud provider for Apache Airflow: hooks, operators, triggers and sinks."""

from __future__ import annotations

__version__ = "0.1.0"


def get_provider_info() -> dict:
    """Provider metadata read by Airflow's ProvidersManager (entry point ``apache_airflow_provider``).

    The connection form is declared here (Airflow >= 3.2 ``conn-fields`` / ``ui-field-behaviour``) so the
    UI can render it without importing the hook.
    """
    from genesys_cloud.hooks.connection import CONN_FIELDS, UI_FIELD_BEHAVIOUR

    return {
        "package-name": "genesys-airflow-pipelines",
        "name": "Genesys Cloud",
        "description": "Genesys Cloud Platform API v2: OAuth client credentials, analytics, outbound, WFM.",
        "versions": [__version__],
        "connection-types": [
            {
                "connection-type": "genesys_cloud",
                "hook-class-name": "genesys_cloud.hooks.genesys_cloud.GenesysCloudHook",
                "hook-name": "Genesys Cloud",
                "conn-fields": CONN_FIELDS,
                "ui-field-behaviour": UI_FIELD_BEHAVIOUR,
            }
        ],
        "hooks": [
            {
                "integration-name": "Genesys Cloud",
                "python-modules": ["genesys_cloud.hooks.genesys_cloud"],
            }
        ],
        "operators": [
            {
                "integration-name": "Genesys Cloud",
                "python-modules": [
                    "genesys_cloud.operators.authenticate",
                    "genesys_cloud.operators.analytics_job",
                    "genesys_cloud.operators.aggregates",
                    "genesys_cloud.operators.conversation_details",
                    "genesys_cloud.operators.reporting_export",
                    "genesys_cloud.operators.versioned_write",
                ],
            }
        ],
        "triggers": [
            {
                "integration-name": "Genesys Cloud",
                "python-modules": [
                    "genesys_cloud.triggers.analytics_job",
                    "genesys_cloud.triggers.reporting_export",
                ],
            }
        ],
        "integrations": [
            {
                "integration-name": "Genesys Cloud",
                "external-doc-url": "https://developer.genesys.cloud/",
                "tags": ["service"],
            }
        ],
    }
