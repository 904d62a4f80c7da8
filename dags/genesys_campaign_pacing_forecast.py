"""Answer-rate forecast, agent capacity and bounded pacing per outbound campaign (runs on the stats asset).

Table of contents only: the steps are the provider's hook verbs and sinks (``plugins/genesys_cloud``) and
the pipeline's pure functions (``include/genesys_pipelines/pacing_forecast``). The user documentation is
``genesys_campaign_pacing_forecast.md`` (the DAG's doc_md).
"""

from __future__ import annotations

from typing import Any

import pendulum
from _common import API_POOL, default_args, doc, validate_params
from airflow.sdk import Asset, dag, get_current_context, task

from genesys_cloud.operators.authenticate import GenesysAuthenticateOperator
from genesys_cloud.params import dag_params
from genesys_pipelines.pacing_forecast.params import PacingParams, parse_params
from genesys_pipelines.runspec import RunSpec

DAG_ID = "genesys_campaign_pacing_forecast"
UPSTREAM = Asset("genesys://campaign_execution_stats")


def spec(cfg: dict[str, Any]) -> RunSpec[PacingParams]:
    return RunSpec.load(cfg, PacingParams)


def store(cfg: dict[str, Any]) -> Any:
    from genesys_cloud.sinks.delivery import publisher_for

    return publisher_for(get_current_context(), spec(cfg).window)


@dag(dag_id=DAG_ID, schedule=[UPSTREAM], start_date=pendulum.datetime(2026, 1, 1, tz="UTC"), catchup=False,
     max_active_runs=4, tags=["genesys", "outbound", "forecast", "wfm"], doc_md=doc(DAG_ID),
     # Asset-triggered (the stats window just published) and manual only; stale windows never write.
     allowed_run_types=["asset_triggered", "manual"],
     params=dag_params(PacingParams), default_args=default_args())
def genesys_campaign_pacing_forecast() -> None:
    @task
    def freshness(cfg: dict[str, Any]) -> dict[str, Any]:
        """Whether the window is recent enough to pace from (GENESYS_PACING_MAX_AGE_H, default 24 h)."""
        from datetime import datetime

        from genesys_cloud.context import run_after
        from genesys_pipelines.pacing_forecast import steps
        from genesys_pipelines.pacing_forecast.params import deployment_limits

        end = spec(cfg).window.end
        reason = steps.stale_reason(end if isinstance(end, datetime) else datetime.fromisoformat(str(end)),
                                    run_after(get_current_context()), deployment_limits().max_age_hours)
        return {"stale": reason}

    @task(pool=API_POOL)
    def select_campaigns(cfg: dict[str, Any], fresh: dict[str, Any]) -> list[dict[str, Any]]:
        from genesys_cloud.context import invalid_param_fails
        from genesys_cloud.hooks.genesys_cloud import GenesysCloudHook
        from genesys_pipelines.pacing_forecast import steps

        if fresh.get("stale"):
            return []  # nothing to forecast from a stale window: no reads, no approval, no write
        return invalid_param_fails(lambda: steps.select_campaigns(GenesysCloudHook(), spec(cfg).params))

    @task
    def recorded_plans(cfg: dict[str, Any]) -> dict[str, Any]:
        """What an earlier run of this window published per campaign (re-runs bound from its `before`)."""
        from genesys_pipelines.pacing_forecast import steps

        return steps.read_recorded(store(cfg))

    @task(pool=API_POOL)
    def fetch_inputs(ref: dict[str, Any], cfg: dict[str, Any]) -> dict[str, Any]:
        """API reads only (history, campaign, capacity): the pool slot is not held while fitting."""
        from genesys_cloud.hooks.genesys_cloud import GenesysCloudHook
        from genesys_pipelines.pacing_forecast import steps

        run = spec(cfg)
        return steps.fetch_inputs(GenesysCloudHook(), ref, run.window, run.params)

    @task
    def analyse(fetched: dict[str, Any], cfg: dict[str, Any], recorded: dict[str, Any]) -> dict[str, Any]:
        """Backtest + forecast → recommendation; stages the campaign's chart (CPU only, outside the pool)."""
        from genesys_pipelines.pacing_forecast import steps

        run = spec(cfg)
        return steps.analyse(fetched, run.window, run.params, store(cfg), (recorded or {}).get(str(fetched["ref"]["id"])))

    @task.branch
    def review(cfg: dict[str, Any], results: list[dict[str, Any]]) -> list[str]:
        """Every pacing apply needs a person's Approve of exactly these values (bound to their digest)."""
        from genesys_pipelines import approval as ap

        results = list(results or [])
        items = ap.pacing_items(results)
        digest = ap.plan_digest(items)
        required = ap.approval_required(manual=True, dry_run=not spec(cfg).params.apply, writes=bool(items),
                                        is_destructive=True)
        get_current_context()["ti"].xcom_push(key="review", value={
            "required": required, "digest": digest, "body": ap.pacing_review_body(results, digest)})
        return ["approve", "apply_changes"] if required else ["apply_changes"]

    @task(pool=API_POOL, trigger_rule="none_failed_min_one_success")
    def apply_changes(cfg: dict[str, Any], results: list[dict[str, Any]], recorded: dict[str, Any]) -> dict:
        """Only with apply: true and a recorded Approve of these values; every write audited ahead."""
        params = spec(cfg).params
        if not params.apply:
            return {}
        from genesys_cloud.hooks.genesys_cloud import GenesysCloudHook
        from genesys_cloud.sinks.audit import WriteAheadJournal
        from genesys_pipelines import approval as ap
        from genesys_pipelines.pacing_forecast import steps

        ctx, results = get_current_context(), list(results or [])
        shown = ctx["ti"].xcom_pull(task_ids="review", key="review") or {}
        approved, record = None, {}
        if shown.get("required"):
            ok, record = ap.granted(ctx["ti"].xcom_pull(task_ids="approve"), shown.get("digest"),
                                    ap.plan_digest(ap.pacing_items(results)))
            approved = lambda _cid, _result: ok  # noqa: E731 - the digest covers every campaign
        window = spec(cfg).window
        journal = WriteAheadJournal(ctx, window.start, window.end, "pacing_write", "outbound_campaign",
                                    approver=record)
        return steps.apply_all(GenesysCloudHook(), results, params, recorded or {}, journal, approved)

    @task
    def deliver(cfg: dict[str, Any], results: list[dict[str, Any]], fresh: dict[str, Any]) -> dict[str, Any]:
        """Publish, webhook, audit whatever happened upstream (a teardown); then fail the run if a
        campaign's write was refused."""
        from airflow.sdk.exceptions import AirflowFailException

        from genesys_cloud.sinks.delivery import Delivery, deliver
        from genesys_pipelines.pacing_forecast import output

        ctx = get_current_context()
        run, outcomes = spec(cfg), ctx["ti"].xcom_pull(task_ids="apply_changes") or {}
        what = output.delivery(DAG_ID, cfg["window"], list(results or []), outcomes, run.params.apply,
                               run.params.deliver_webhook, stale=(fresh or {}).get("stale"))
        published = deliver(ctx, Delivery(**what), window=run.window).to_xcom()
        if failed := output.failed_campaigns(outcomes):
            # Delivered and audited first, then failed: an unapplied change must not look like success.
            raise AirflowFailException(f"pacing not applied to campaign(s) {', '.join(failed)}")
        return published

    from airflow.providers.standard.operators.hitl import ApprovalOperator

    from genesys_pipelines.approval import REJECT, timeout_hours

    cfg = validate_params(parse_params)
    fresh = freshness(cfg)
    refs = select_campaigns(cfg, fresh)
    cfg >> GenesysAuthenticateOperator(task_id="authenticate", pool=API_POOL) >> refs
    recorded = recorded_plans(cfg)
    fetched = fetch_inputs.partial(cfg=cfg).expand(ref=refs)
    results = analyse.partial(cfg=cfg, recorded=recorded).expand(fetched=fetched)
    approve = ApprovalOperator(
        task_id="approve", subject="Apply these pacing values?", defaults=REJECT,
        body="{{ ti.xcom_pull(task_ids='review', key='review')['body'] }}",
        response_timeout=pendulum.duration(hours=timeout_hours()))
    applied = apply_changes(cfg, results, recorded)
    review(cfg, results) >> [approve, applied]
    approve >> applied
    applied >> deliver(cfg, results, fresh).as_teardown(on_failure_fail_dagrun=True)


genesys_campaign_pacing_forecast()
