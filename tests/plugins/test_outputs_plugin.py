"""The outputs plugin: what it registers, that it stays cheap to import, and which keys it never presigns."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from genesys_cloud.ui import outputs

ROOT = Path(__file__).resolve().parents[2]

PROBE = r"""
import json, sys
sys.path.insert(0, sys.argv[1])
import genesys_outputs_plugin as plugin
p = plugin.GenesysOutputsPlugin
print(json.dumps({
    "apps": [(a["url_prefix"], a["name"]) for a in p.fastapi_apps],
    "views": [(v["destination"], v["href"], v["url_route"]) for v in p.external_views],
    "api_imported": "airflow.api_fastapi.core_api.security" in sys.modules,
    "links": [type(link).__name__ for link in p.operator_extra_links],
}))
"""


def test_the_plugin_registers_the_page_and_its_three_entries() -> None:
    out = subprocess.run([sys.executable, "-c", PROBE, str(ROOT / "plugins")], capture_output=True, text=True,
                         check=True, timeout=120, env=os.environ.copy())
    found = json.loads(out.stdout.strip().splitlines()[-1])
    assert found["apps"] == [["/genesys-outputs", "Genesys outputs"]]
    assert found["views"] == [
        ["nav", "/genesys-outputs/", "genesys-outputs"],
        ["dag", "/genesys-outputs/dags/{DAG_ID}", "genesys-dag-outputs"],
        ["dag_run", "/genesys-outputs/dags/{DAG_ID}?run_id={RUN_ID}", "genesys-run-outputs"],
    ]
    # Every Airflow process imports plugin files: the API's auth modules load on the first request only.
    assert found["api_imported"] is False
    assert found["links"] == ["GenesysOutputsLink"]  # registered: the API server can show the button


def test_genesys_operators_link_to_their_runs_outputs_never_to_a_presigned_url() -> None:
    from airflow.sdk.types import TaskInstanceKey  # noqa: F401  (the key the worker passes)

    from genesys_cloud.operators.authenticate import GenesysAuthenticateOperator
    from genesys_cloud.operators.conversation_details import GenesysConversationDetailsToS3Operator
    from genesys_cloud.operators.reporting_export import GenesysReportingExportOperator
    from genesys_cloud.ui.links import GenesysOutputsLink

    for operator in (GenesysAuthenticateOperator, GenesysConversationDetailsToS3Operator,
                     GenesysReportingExportOperator):
        assert [type(link) for link in operator.operator_extra_links] == [GenesysOutputsLink]

    class Key:  # the fields of the TaskInstanceKey the link reads
        dag_id, task_id, run_id, map_index = "genesys_reporting_export", "submit_and_wait", "manual__2026-06-11T00:00:00+00:00", 1

    url = GenesysOutputsLink().get_link(None, ti_key=Key())  # type: ignore[arg-type]
    assert url == "/genesys-outputs/dags/genesys_reporting_export?run_id=manual__2026-06-11T00%3A00%3A00%2B00%3A00"
    assert "X-Amz" not in url and "Signature" not in url


@pytest.mark.parametrize("key", [
    "xcom/abc",                                                   # another prefix
    "other_dag/date=2026-06-07/report.csv",                       # another DAG
    "genesys_conversation_report/_staging/run/date=2026-06-07/x",  # staging is not an output
    "genesys_conversation_report/report.csv",                     # not in a partition
])
def test_keys_outside_the_dags_partitions_are_never_presigned(key: str) -> None:
    with pytest.raises(outputs.OutputNotFound):
        outputs.presigned_download("genesys_conversation_report", key)
