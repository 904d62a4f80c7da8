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
     params=dag_params(PacingParams), default_args=default_args())
def genesys_campaign_pacing_forecast() -> None:
    @task(pool=API_POOL)
    def select_campaigns(cfg: dict[str, Any]) -> list[dict[str, Any]]:
        from genesys_cloud.context import invalid_param_fails
        from genesys_cloud.hooks.genesys_cloud import GenesysCloudHook
        from genesys_pipelines.pacing_forecast import steps

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

    @task(pool=API_POOL)
    def apply_changes(cfg: dict[str, Any], results: list[dict[str, Any]], recorded: dict[str, Any]) -> dict:
        """Only with apply: true; no API call otherwise."""
        params = spec(cfg).params
        if not params.apply:
            return {}
        from genesys_cloud.hooks.genesys_cloud import GenesysCloudHook
        from genesys_pipelines.pacing_forecast import steps

        return steps.apply_all(GenesysCloudHook(), list(results or []), params, recorded or {})

    @task
    def deliver(cfg: dict[str, Any], results: list[dict[str, Any]], outcomes: dict[str, Any]) -> dict[str, Any]:
        """Publish, webhook, audit; then fail the run if a campaign's write was refused."""
        from airflow.sdk.exceptions import AirflowFailException

        from genesys_cloud.sinks.delivery import Delivery, deliver
        from genesys_cloud.upstream import fail_on_unprocessed_windows
        from genesys_pipelines.pacing_forecast import output

        run, outcomes = spec(cfg), outcomes or {}
        what = output.delivery(DAG_ID, cfg["window"], list(results or []), outcomes, run.params.apply,
                               run.params.deliver_webhook)
        published = deliver(get_current_context(), Delivery(**what), window=run.window).to_xcom()
        if failed := output.failed_campaigns(outcomes):
            # Delivered and audited first, then failed: an unapplied change must not look like success.
            raise AirflowFailException(f"pacing not applied to campaign(s) {', '.join(failed)}")
        fail_on_unprocessed_windows(get_current_context(), DAG_ID)  # other upstream days: fail by name
        return published

    cfg = validate_params(parse_params)
    refs = select_campaigns(cfg)
    cfg >> GenesysAuthenticateOperator(task_id="authenticate", pool=API_POOL) >> refs
    recorded = recorded_plans(cfg)
    fetched = fetch_inputs.partial(cfg=cfg).expand(ref=refs)
    results = analyse.partial(cfg=cfg, recorded=recorded).expand(fetched=fetched)
    deliver(cfg, results, apply_changes(cfg, results, recorded))


genesys_campaign_pacing_forecast()
