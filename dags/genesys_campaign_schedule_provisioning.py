"""Outbound campaign schedule provisioning: validate, read, plan (overlaps, ranking), apply safely, deliver.

Table of contents only: the steps are the provider's hook verbs and sinks (``plugins/genesys_cloud``) and
the pipeline's pure functions (``include/genesys_pipelines/schedule_provisioning``). The user documentation
is ``genesys_campaign_schedule_provisioning.md`` (the DAG's doc_md).
"""

from __future__ import annotations

from typing import Any

import pendulum
from _common import API_POOL, approval, default_args, doc, run_outcome
from airflow.sdk import dag, get_current_context, task

from genesys_cloud.operators.authenticate import GenesysAuthenticateOperator
from genesys_cloud.params import dag_params
from genesys_pipelines.schedule_provisioning.params import ProvisioningForm

DAG_ID = "genesys_campaign_schedule_provisioning"


@dag(dag_id=DAG_ID, schedule="0 * * * *", start_date=pendulum.datetime(2026, 1, 1, tz="UTC"), catchup=False,
     max_active_runs=1,  # two runs writing the same schedules would only fight over versions
     # No backfill: replaying hourly reconciles of the past would write today's dialer from old intent
     # (`airflow backfill create` fails with DagRunTypeNotAllowed).
     allowed_run_types=["manual", "scheduled"],
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
        from genesys_cloud.context import invalid_param_fails
        from genesys_cloud.hooks.genesys_cloud import GenesysCloudHook
        from genesys_pipelines.schedule_provisioning.steps import read_facts

        return invalid_param_fails(lambda: read_facts(GenesysCloudHook(), [r["campaign_id"] for r in run["requests"]]))

    @task
    def plan(run: dict[str, Any], facts: dict[str, Any]) -> list[dict[str, Any]]:
        from genesys_pipelines.schedule_provisioning.steps import plan_for_run

        return plan_for_run(run, facts)

    @task.branch(pool=API_POOL)  # reads the connection (sandbox or real org)
    def review(run: dict[str, Any], entries: list[dict[str, Any]]) -> list[str]:
        """Whether a person must approve (manual applies; the reconcile per GENESYS_RECONCILE_APPROVAL)."""
        from genesys_cloud.hooks.genesys_cloud import GenesysCloudHook
        from genesys_pipelines.schedule_provisioning.steps import review as review_of

        shown = review_of(run, entries, GenesysCloudHook().is_sandbox)
        get_current_context()["ti"].xcom_push(key="review", value=shown)
        return ["approve", "apply"] if shown["required"] else ["apply"]

    @task(pool=API_POOL, trigger_rule="none_failed_min_one_success")
    def apply(run: dict[str, Any], entries: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Write the accepted plans (nothing when dry_run; with a required approval only with a person's
        Approve of this plan's digest, read from the approval task instance's own record, never XCom),
        every write audited ahead; never a sibling campaign."""
        from genesys_cloud.context import invalid_param_fails, run_after, run_type
        from genesys_cloud.hooks.genesys_cloud import GenesysCloudHook
        from genesys_cloud.sinks.audit import approved_journal
        from genesys_pipelines.schedule_provisioning.steps import apply_run, checked_run, review

        ctx, when, hook = get_current_context(), run_after(get_current_context()), GenesysCloudHook()
        run = invalid_param_fails(lambda: checked_run(run, ctx["params"], run_type(ctx), when))
        journal, approved = approved_journal(ctx, when, when, "schedule_write", "campaign_schedule",
                                             review(run, entries, hook.is_sandbox))
        return apply_run(hook, run, entries, journal, approved)

    @task
    def deliver(run: dict[str, Any] | None, entries: list[dict[str, Any]] | None) -> dict:
        """Webhook + audit rows whatever happened (a teardown); then fail the run if a campaign failed."""
        from airflow.sdk.exceptions import AirflowFailException, AirflowSkipException

        from genesys_cloud.context import run_identity
        from genesys_cloud.sinks.delivery import Delivery, deliver
        from genesys_pipelines.approval import approval_fault
        from genesys_pipelines.schedule_provisioning import output

        if run is None or entries is None:  # validate_params, read or plan failed: no plan, nothing written
            raise AirflowSkipException("no plan was made (an upstream task failed): nothing written, nothing to deliver")
        ctx = get_current_context()
        outcomes = ctx["ti"].xcom_pull(task_ids="apply") or output.not_applied(entries, "apply did not run")
        published = deliver(ctx, Delivery(**output.delivery(run, entries, outcomes, run_identity(ctx))),
                            bounds=(run["run_after"], run["run_after"]))
        summary = {**output.summary(entries, outcomes), "webhook_status": (published.webhook or {}).get("status_code")}
        if summary["failed"]:
            raise AirflowFailException(f"schedule provisioning failed for {summary['failed']}")
        if fault := approval_fault(outcomes):  # not a person's "no": the approval could not be read at all
            raise AirflowFailException(fault)
        if summary["refused"] and run["fail_on_conflict"]:
            raise AirflowFailException(f"schedule requests refused (overlap) for {summary['refused']}")
        return summary

    run = validate_params()
    facts = read(run)
    run >> GenesysAuthenticateOperator(task_id="authenticate", pool=API_POOL) >> facts
    entries = plan(run, facts)
    approve = approval("Write these campaign schedules?")
    applied = apply(run, entries)
    review(run, entries) >> [approve, applied]
    approve >> applied
    applied >> deliver(run, entries).as_teardown(on_failure_fail_dagrun=True)
    applied >> run_outcome()  # a failure upstream fails the run (deliver is a teardown)


genesys_campaign_schedule_provisioning()
