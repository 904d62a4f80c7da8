"""Outbound campaign schedule provisioning: validate, read, plan (overlaps, ranking), apply safely, deliver.

Table of contents only: the steps are the provider's hook verbs and sinks (``plugins/genesys_cloud``) and
the pipeline's pure functions (``include/genesys_pipelines/schedule_provisioning``). The user documentation
is ``genesys_campaign_schedule_provisioning.md`` (the DAG's doc_md).
"""

from __future__ import annotations

from typing import Any

import pendulum
from _common import API_POOL, default_args, doc
from airflow.sdk import dag, get_current_context, task

from genesys_cloud.operators.authenticate import GenesysAuthenticateOperator
from genesys_cloud.params import dag_params
from genesys_pipelines.schedule_provisioning.params import ProvisioningForm

DAG_ID = "genesys_campaign_schedule_provisioning"


@dag(dag_id=DAG_ID, schedule="0 * * * *", start_date=pendulum.datetime(2026, 1, 1, tz="UTC"), catchup=False,
     max_active_runs=1,  # two runs writing the same schedules would only fight over versions
     tags=["genesys", "outbound", "provisioning"], doc_md=doc(DAG_ID), params=dag_params(ProvisioningForm),
     default_args=default_args())
def genesys_campaign_schedule_provisioning() -> None:
    @task  # a bad param raises AirflowFailException: failed at once, never retried
    def validate_params() -> dict[str, Any]:
        """Mode, dry_run and the requests, checked before any API call (a bad param fails by name)."""
        from genesys_cloud.context import invalid_param_fails, run_after, run_type
        from genesys_pipelines.schedule_provisioning.steps import resolve_run

        ctx = get_current_context()
        return invalid_param_fails(lambda: resolve_run(ctx["params"], run_type(ctx), run_after(ctx)))

    @task(pool=API_POOL)
    def read(run: dict[str, Any]) -> dict[str, Any]:
        """Campaigns, their schedules, related campaigns and contact list sizes."""
        from genesys_cloud.context import invalid_param_fails
        from genesys_cloud.hooks.genesys_cloud import GenesysCloudHook
        from genesys_pipelines.schedule_provisioning.steps import read_facts

        return invalid_param_fails(lambda: read_facts(GenesysCloudHook(), [r["campaign_id"] for r in run["requests"]]))

    @task
    def plan(run: dict[str, Any], facts: dict[str, Any]) -> list[dict[str, Any]]:
        """Detect overlaps, rank, plan (pure). A dry run's result is this plan."""
        from genesys_pipelines.schedule_provisioning.steps import plan_for_run

        return plan_for_run(run, facts)

    @task(pool=API_POOL)
    def apply(run: dict[str, Any], entries: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Write the accepted plans in rank order (nothing when dry_run); never a sibling campaign."""
        from genesys_cloud.hooks.genesys_cloud import GenesysCloudHook
        from genesys_pipelines.schedule_provisioning.steps import apply_run

        return apply_run(GenesysCloudHook(), run, entries)

    @task
    def deliver(run: dict[str, Any], entries: list[dict[str, Any]], outcomes: list[dict[str, Any]]) -> dict:
        """Signed webhook + audit rows; then fail the run if a campaign failed (or was refused)."""
        from airflow.sdk.exceptions import AirflowFailException

        from genesys_cloud.context import run_identity
        from genesys_cloud.sinks.delivery import Delivery, deliver
        from genesys_pipelines.schedule_provisioning import output

        ctx = get_current_context()
        published = deliver(ctx, Delivery(**output.delivery(run, entries, outcomes, run_identity(ctx))),
                            bounds=(run["run_after"], run["run_after"]))
        summary = {**output.summary(entries, outcomes), "webhook_status": (published.webhook or {}).get("status_code")}
        if summary["failed"]:
            raise AirflowFailException(f"schedule provisioning failed for {summary['failed']}")
        if summary["refused"] and run["fail_on_conflict"]:
            raise AirflowFailException(f"schedule requests refused (overlap) for {summary['refused']}")
        return summary

    run = validate_params()
    facts = read(run)
    run >> GenesysAuthenticateOperator(task_id="authenticate", pool=API_POOL) >> facts
    entries = plan(run, facts)
    deliver(run, entries, apply(run, entries))


genesys_campaign_schedule_provisioning()
