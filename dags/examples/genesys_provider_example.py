"""An example built only from the Genesys Cloud provider's operators: the proof that it is reusable.

Not scheduled (``schedule=None``) and not part of ``make demo``; ``tests/dags/test_provider_example.py``
runs it against the sandbox with ``dag.test()``, as Airflow's own providers' example DAGs double as their
system tests. Against a real org, note that the last task WRITES to a campaign (a versioned PUT).
"""

from __future__ import annotations

import pendulum
from airflow.sdk import Param, dag

from genesys_cloud.operators.aggregates import GenesysAggregatesQueryToS3Operator
from genesys_cloud.operators.authenticate import GenesysAuthenticateOperator
from genesys_cloud.operators.conversation_details import GenesysConversationDetailsToS3Operator
from genesys_cloud.operators.reporting_export import GenesysReportingExportOperator
from genesys_cloud.operators.versioned_write import GenesysVersionedWriteOperator

DAY = "{{ params.day }}T00:00:00.000Z/{{ macros.ds_add(params.day, 1) }}T00:00:00.000Z"
PREFIX = "examples/{{ params.day }}"

DOC = """
### Genesys Cloud provider example

Four provider operators, no pipeline code: authenticate; one analytics aggregates query (connected calls
and handle time per queue and hour) stored as JSON lines; the day's conversation details (sync query) stored as chunk
files; a queue performance reporting export, submitted (or reused by its name), awaited in the
triggerer and stored; and a versioned write of one campaign field (compare, PUT with `version`, retry
after 409, verify). Outputs go under `s3://$GENESYS_BUCKET/examples/<day>/`.

Params: `day` (the UTC day to read), `campaign_id` and `abandon_rate` (the write).
"""


@dag(dag_id="genesys_provider_example", schedule=None, start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
     catchup=False, max_active_runs=1, tags=["genesys", "example"], doc_md=DOC, render_template_as_native_obj=True,
     # Every task calls the Genesys API: all in the pool that bounds concurrent API work.
     default_args={"owner": "genesys-provider", "retries": 2, "retry_exponential_backoff": 2.0,
                   "pool": "genesys_api"},
     params={"day": Param("2026-06-10", type="string", format="date", title="Day (UTC)"),
             "campaign_id": Param("c0ffee00-0000-4000-8000-000000000003", type="string", title="Campaign to write"),
             "abandon_rate": Param(3.0, type="number", minimum=0, maximum=100, title="Abandon rate (%)")})
def genesys_provider_example() -> None:
    authenticate = GenesysAuthenticateOperator(task_id="authenticate")
    handled = GenesysAggregatesQueryToS3Operator(
        task_id="handled_per_queue_and_hour", s3_key=f"{PREFIX}/handled.jsonl.gz",
        query={"interval": DAY, "granularity": "PT1H", "groupBy": ["queueId"], "metrics": ["nOutboundConnected", "tHandle"]})
    conversations = GenesysConversationDetailsToS3Operator(
        task_id="conversations", s3_prefix=f"{PREFIX}/conversations/", method="sync",
        query={"interval": DAY, "order": "asc", "orderBy": "conversationStart"})
    export = GenesysReportingExportOperator(
        task_id="queue_performance_export", s3_key=f"{PREFIX}/queue_performance.csv",
        request={"name": "provider example queue performance {{ params.day }}", "timeZone": "UTC",
                 "exportFormat": "CSV", "interval": DAY, "period": "P1D", "viewType": "QUEUE_PERFORMANCE_SUMMARY_VIEW",
                 "filter": {"mediaTypes": ["voice"]}, "locale": "en-us"})
    write = GenesysVersionedWriteOperator(
        task_id="set_abandon_rate", entity="campaign", entity_id="{{ params.campaign_id }}",
        changes={"abandonRate": "{{ params.abandon_rate }}"})
    authenticate >> [handled, conversations, export] >> write


genesys_provider_example()
