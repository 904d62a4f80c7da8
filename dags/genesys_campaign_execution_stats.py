"""Outbound campaign execution statistics: table of contents (doc: the ``.md``; steps in plugins/ and include/)."""

from __future__ import annotations

from typing import Any

import pendulum
from _common import API_POOL, default_args, doc, validate_params
from airflow.sdk import Asset, AssetAlias, dag, get_current_context, task

from genesys_cloud.operators.authenticate import GenesysAuthenticateOperator
from genesys_cloud.params import dag_params
from genesys_pipelines.campaign_stats.params import CampaignStatsParams, parse_params
from genesys_pipelines.runspec import RunSpec

DAG_ID = "genesys_campaign_execution_stats"
ASSET = Asset("genesys://campaign_execution_stats")
DAYS = AssetAlias("genesys_campaign_execution_stats_days")  # a range run's other day events (one per day)


def spec(cfg: dict[str, Any]) -> RunSpec[CampaignStatsParams]:
    return RunSpec.load(cfg, CampaignStatsParams)


def days(cfg: dict[str, Any]) -> list[Any]:
    """The reporting days of a run publishing day partitions (``publish_days``); [] for other runs."""
    from genesys_pipelines.day_ranges import run_days
    return run_days(spec(cfg).params.publish_days, spec(cfg).window)


@dag(dag_id=DAG_ID, schedule="0 3 * * *", start_date=pendulum.datetime(2026, 1, 1, tz="UTC"), catchup=False,
     max_active_runs=4, tags=["genesys", "outbound", "analytics"], doc_md=doc(DAG_ID),
     params=dag_params(CampaignStatsParams), default_args=default_args())
def genesys_campaign_execution_stats() -> None:
    @task(pool=API_POOL)
    def select_campaigns(cfg: dict[str, Any]) -> list[list[dict[str, Any]]]:
        """Batches of campaign refs (one mapped query task per batch); unknown ids fail by name."""
        from genesys_cloud.context import invalid_param_fails
        from genesys_cloud.hooks.genesys_cloud import GenesysCloudHook
        from genesys_pipelines.campaign_stats import steps
        return invalid_param_fails(lambda: steps.campaign_batches(GenesysCloudHook(), spec(cfg).params))

    @task(pool=API_POOL)
    def conversion_rule(cfg: dict[str, Any]) -> dict[str, Any]:
        from genesys_cloud.hooks.genesys_cloud import GenesysCloudHook
        from genesys_pipelines.campaign_stats import steps
        return steps.conversion_rule(GenesysCloudHook(), spec(cfg).params)

    @task(pool=API_POOL, map_index_template="{{ campaigns }}")
    def query(batch: list[dict[str, Any]], cfg: dict[str, Any]) -> dict[str, Any]:
        from genesys_cloud.hooks.genesys_cloud import GenesysCloudHook
        from genesys_pipelines.campaign_stats import steps
        get_current_context()["campaigns"] = steps.batch_label(batch)  # type: ignore[typeddict-unknown-key]
        return steps.query_for(GenesysCloudHook(), batch, spec(cfg).window, days(cfg))

    @task(map_index_template="{{ campaigns }}")
    def normalise(result: dict[str, Any], rule: dict[str, Any], cfg: dict[str, Any]) -> dict[str, Any]:
        from genesys_pipelines.campaign_stats import steps
        get_current_context()["campaigns"] = steps.label(result)  # type: ignore[typeddict-unknown-key]
        return steps.normalise_for(result, rule, spec(cfg).window, days(cfg))

    @task(map_index_template="{{ campaigns }}")
    def validate(normalised: dict[str, Any], cfg: dict[str, Any]) -> dict[str, Any]:
        from genesys_pipelines.campaign_stats import steps
        get_current_context()["campaigns"] = steps.label(normalised)  # type: ignore[typeddict-unknown-key]
        return steps.validate_for(normalised, spec(cfg).params.zscore_threshold)

    @task(pool=API_POOL)
    def live_snapshot(cfg: dict[str, Any], campaign_batches: list[list[dict[str, Any]]]) -> dict[str, Any] | None:
        """Live /stats and /progress (only with include_live_snapshot; otherwise no API call)."""
        if not spec(cfg).params.include_live_snapshot:
            return None
        from genesys_cloud.hooks.genesys_cloud import GenesysCloudHook
        from genesys_pipelines.campaign_stats import steps
        return steps.live_snapshot(GenesysCloudHook(), campaign_batches)

    @task(pool=API_POOL)
    def data_availability(cfg: dict[str, Any]) -> str | None:
        """The data lake's dataAvailabilityDate for the manifest; ``cfg``: only once the params are valid."""
        from genesys_cloud.sinks.sweep import data_availability_iso
        return data_availability_iso()

    @task(outlets=[ASSET, DAYS], trigger_rule="none_failed")
    def deliver(cfg: dict[str, Any], validated: list, snapshot: dict | None, available: str | None) -> dict:
        """Publish the partition (a range run: one per day), webhook, audit rows; one asset event each."""
        from genesys_cloud.sinks.delivery import deliver_partitions
        from genesys_pipelines.campaign_stats.output import asset_extra, deliveries
        parts = deliveries(list(validated or []), spec(cfg).window, days(cfg), pipeline=DAG_ID, snapshot=snapshot,
                           params=cfg["params"], data_availability=available)
        done = deliver_partitions(get_current_context(), parts, asset=ASSET, alias=DAYS, event_extra=asset_extra)
        return {"days": done} if days(cfg) else done[0]

    @task
    def check_flags(cfg: dict[str, Any], delivered: dict[str, Any]) -> dict[str, Any]:
        """Flags are data; with fail_on_no_data / fail_on_flags they also fail the run (after delivering)."""
        from airflow.sdk.exceptions import AirflowFailException

        from genesys_cloud.no_data import check_no_data
        from genesys_pipelines.campaign_stats.output import NO_DATA_WHAT, flags_failure

        run = spec(cfg)  # every day (of a range run) was delivered first; then each day's checks
        for window, published in zip(days(cfg) or [run.window], delivered.get("days") or [delivered], strict=True):
            summary = published["extra"]["summary"]
            check_no_data(DAG_ID, window, summary["flags"], NO_DATA_WHAT, fail=run.params.fail_on_no_data)
            if run.params.fail_on_flags and summary["campaigns_flagged"]:
                raise AirflowFailException(flags_failure(summary))
        return summary

    cfg = validate_params(parse_params)
    campaign_batches = select_campaigns(cfg)
    rule = conversion_rule(cfg)
    cfg >> GenesysAuthenticateOperator(task_id="authenticate", pool=API_POOL) >> [campaign_batches, rule]
    rule >> (raw := query.partial(cfg=cfg).expand(batch=campaign_batches))
    normalised = normalise.partial(rule=rule, cfg=cfg).expand(result=raw)
    validated = validate.partial(cfg=cfg).expand(normalised=normalised)
    delivered = deliver(cfg, validated, live_snapshot(cfg, campaign_batches), data_availability(cfg))
    check_flags(cfg, delivered)


genesys_campaign_execution_stats()
