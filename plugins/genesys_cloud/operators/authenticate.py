"""The authenticate step every pipeline runs first.

It obtains a token (proving the client id/secret and the region), reads the live ``platform.api`` limits
where the client may, and returns only non-secret facts (base URL, region, requests per minute, token
lifetime) for XCom. Failing here fails the run before any real work starts, with the API's reason.

When the org's live limit is below the connection's ``requests_per_minute``, the budget is lowered only
in this task's process (every later task is a new process that reads the connection again): the facts
say so (``live_limit_below_configured: true``) and a WARNING asks to fix the connection.
"""

from __future__ import annotations

from typing import Any

from airflow.sdk import Context

from genesys_cloud.operators.base import GenesysBaseOperator


class GenesysAuthenticateOperator(GenesysBaseOperator):
    """Returns ``GenesysCloudHook.authenticate()``'s facts.

    :param genesys_cloud_conn_id: the connection (templated).
    """

    def execute(self, context: Context) -> dict[str, Any]:
        with self.hook as hook:
            facts = hook.authenticate()
        self.log.info("Authenticated on %s: %s requests/min for this token", facts.get("api_base_url"),
                      facts.get("requests_per_minute"))
        return facts
