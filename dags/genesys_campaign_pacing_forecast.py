"""Answer-rate forecast, capacity and bounded pacing per campaign: table of contents (doc: the ``.md``)."""

from __future__ import annotations

from typing import Any

import pendulum
from _common import API_POOL, approval, default_args, doc, run_outcome, run_store, validate_params
from airflow.sdk import Asset, dag, get_current_context, task
from airflow.sdk.exceptions import AirflowFailException, AirflowSkipException

from genesys_cloud.operators.authenticate import GenesysAuthenticateOperator
from genesys_cloud.params import dag_params
from genesys_pipelines.pacing_forecast.params import PacingParams, parse_params
from genesys_pipelines.runspec import RunSpec

DAG_ID = "genesys_campaign_pacing_forecast"
UPSTREAM = Asset("genesys://campaign_execution_stats")


def spec(cfg: dict[str, Any]) -> RunSpec[PacingParams]:
    return RunSpec.load(cfg, PacingParams)


@dag(dag_id=DAG_ID, schedule=[UPSTREAM], start_date=pendulum.datetime(2026, 1, 1, tz="UTC"), catchup=False,
     max_active_runs=4, tags=["genesys", "outbound", "forecast", "wfm"], doc_md=doc(DAG_ID),
     allowed_run_types=["asset_triggered", "manual"], params=dag_params(PacingParams), default_args=default_args())
def genesys_campaign_pacing_forecast() -> None:
    @task(pool=API_POOL)
    def select_campaigns(cfg: dict[str, Any]) -> list[dict[str, Any]]:
        """None when the window is stale or its upstream day was restated: no reads, no approval, no write."""
        from genesys_cloud.context import invalid_param_fails, run_after, window_restatement
        from genesys_cloud.hooks.genesys_cloud import GenesysCloudHook
        from genesys_pipelines.pacing_forecast import steps

        ctx, run = get_current_context(), spec(cfg)
        return invalid_param_fails(lambda: steps.select_campaigns(GenesysCloudHook(), run.params, run.window, run_after(ctx), window_restatement(ctx, run.window)))

    @task
    def recorded_plans(cfg: dict[str, Any]) -> dict[str, Any]:
        from genesys_pipelines.pacing_forecast import steps
        return steps.read_recorded(run_store(spec(cfg).window))

    @task(pool=API_POOL, map_index_template="{{ ref['name'] }}")
    def fetch_inputs(ref: dict[str, Any], cfg: dict[str, Any]) -> dict[str, Any]:
        """API reads only (history, campaign, capacity): the pool slot is not held while fitting."""
        from genesys_cloud.hooks.genesys_cloud import GenesysCloudHook
        from genesys_pipelines.pacing_forecast import steps

        return steps.fetch_inputs(GenesysCloudHook(), ref, spec(cfg).window, spec(cfg).params)

    @task(map_index_template="{{ fetched['ref']['name'] }}")
    def analyse(fetched: dict[str, Any], cfg: dict[str, Any], recorded: dict[str, Any]) -> dict[str, Any]:
        """Backtest + forecast → recommendation; stages the campaign's chart (CPU only, outside the pool)."""
        from genesys_pipelines.pacing_forecast import steps

        return steps.analyse(fetched, spec(cfg).window, spec(cfg).params, run_store(spec(cfg).window),
                             (recorded or {}).get(str(fetched["ref"]["id"])))

    @task.branch(pool=API_POOL)  # reads the connection (sandbox or real org)
    def review(cfg: dict[str, Any], results: list[dict[str, Any]]) -> list[str]:
        """Every pacing apply needs a person's Approve of exactly these values (bound to their digest)."""
        from genesys_cloud.hooks.genesys_cloud import GenesysCloudHook
        from genesys_pipelines.pacing_forecast import steps

        shown = steps.review(list(results or []), spec(cfg).params.apply, GenesysCloudHook().is_sandbox)
        get_current_context()["ti"].xcom_push(key="review", value=shown)
        return ["approve", "apply_changes"] if shown["required"] else ["apply_changes"]

    @task(pool=API_POOL, trigger_rule="none_failed_min_one_success", inlets=[UPSTREAM])
    def apply_changes(cfg: dict[str, Any], results: list[dict[str, Any]], recorded: dict[str, Any]) -> dict:
        """Only with apply: true, a person's Approve (its own record, never XCom), no restatement since the run began."""
        from genesys_cloud.hooks.genesys_cloud import GenesysCloudHook
        from genesys_cloud.sinks.audit import approved_journal
        from genesys_cloud.upstream import restated_during_run
        from genesys_pipelines.pacing_forecast import steps

        ctx, run, results, hook = get_current_context(), spec(cfg), list(results or []), GenesysCloudHook()
        if not run.params.apply:
            return {}
        journal, approved = approved_journal(ctx, run.window.start, run.window.end, "pacing_write", "outbound_campaign",
                                             steps.review(results, run.params.apply, hook.is_sandbox))
        return steps.apply_all(hook, results, run.params, recorded or {}, journal, approved, restated_during_run(ctx, UPSTREAM, run.window))

    @task
    def deliver(cfg: dict[str, Any], results: list[dict[str, Any]]) -> dict[str, Any]:
        """Publish, webhook, audit whatever happened (a teardown); then fail if a campaign's write failed."""
        from genesys_cloud.context import run_after, window_restatement
        from genesys_cloud.sinks.delivery import Delivery, deliver
        from genesys_cloud.upstream import fail_on_unprocessed_windows, unprocessed_windows
        from genesys_pipelines.pacing_forecast import output, steps

        ctx, run = get_current_context(), spec(cfg)
        restated = window_restatement(ctx, run.window)  # a restated upstream day: stale, nothing written
        outcomes, stale = ctx["ti"].xcom_pull(task_ids="apply_changes") or {}, steps.run_staleness(run.window, run_after(ctx), restated)
        if ctx["ti"].xcom_pull(task_ids="select_campaigns") is None and not stale and not outcomes:
            raise AirflowSkipException("select_campaigns failed: nothing read or written, nothing to deliver")
        skipped, left = steps.left_out_windows(unprocessed_windows(ctx), stale, lambda w: steps.run_staleness(w, run_after(ctx), window_restatement(ctx, w)))
        what = output.delivery(DAG_ID, cfg["window"], list(results or []), outcomes, run.params.apply,
                               run.params.deliver_webhook, stale, restated=restated is not None, left_out=skipped)
        published = deliver(ctx, Delivery(**what), window=run.window).to_xcom()
        if fault := output.run_fault(outcomes):  # a failed write, or an approval that could not be read
            raise AirflowFailException(fault)
        fail_on_unprocessed_windows(ctx, DAG_ID, left, skipped)  # other upstream days: fail by name (stale: recorded)
        return published

    cfg = validate_params(parse_params)
    refs = select_campaigns(cfg)
    cfg >> GenesysAuthenticateOperator(task_id="authenticate", pool=API_POOL) >> refs
    recorded = recorded_plans(cfg)
    fetched = fetch_inputs.partial(cfg=cfg).expand(ref=refs)
    results = analyse.partial(cfg=cfg, recorded=recorded).expand(fetched=fetched)
    applied = apply_changes(cfg, results, recorded)
    review(cfg, results) >> [approve := approval("Apply these pacing values?"), applied]
    approve >> applied
    applied >> deliver(cfg, results).as_teardown(on_failure_fail_dagrun=True)
    applied >> run_outcome()  # a failure upstream fails the run (deliver is a teardown)


genesys_campaign_pacing_forecast()
