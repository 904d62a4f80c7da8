"""
### Outbound campaign execution statistics (Genesys Cloud)

For each selected outbound campaign, one validated, normalised row of execution statistics for the
run's window: attempts, connects, abandons, conversions, handle/talk/hold/after-call-work times (seconds)
and connect / abandon / conversion rates (fractions), with consistency and z-score outlier flags.

**Window**: the reporting day before the run (daily at 03:00 UTC), or the `start`/`end` params
(manual runs, backfills). Cut in the `timezone` param's zone.

**Steps**: validate params → authenticate → select campaigns (the `campaign_ids` param or the
page-number campaigns listing, filtered by `status_filter` / `division_ids`) and the conversion rule
(wrap-up code mappings, or the `success_wrapup_codes` param) → per batch of up to 25 campaigns
(dynamic task mapping): query (3 aggregates queries: window totals, wrap-up codes, 28-day `P1D`
history) → normalise → validate → deliver (one partition, published atomically) → flag gate.

**Definitions**: connect rate = connected ÷ attempted; abandon rate = abandoned ÷ connected (the
dialer's compliance definition); conversion rate = conversions ÷ connected, where a conversion is a
handled conversation whose wrap-up code maps to `BUSINESS_SUCCESS`. A ratio with a zero denominator
is 0; a campaign without activity gets zeros and the flag `NO_ACTIVITY`. Outliers: |z| of average
handle time, connect rate or abandon rate against the campaign's previous 28 reporting days (days
with activity, at least 7) above `zscore_threshold`.

**Outputs** (bucket `GENESYS_BUCKET`): `genesys_campaign_execution_stats/date=YYYY-MM-DD/`
(`interval=START_END/` for other windows) with `campaign_stats.parquet`, `campaign_stats.json` and
`_manifest.json` (written last). Byte-identical on re-run. The signed BI webhook gets rows, flags,
summary and presigned URLs; with `include_live_snapshot` also the campaigns' live `/stats` and
`/progress` under `live_snapshot` (cumulative state at run time: webhook only, never in the files).
Audit rows: one per campaign (`campaign_stats`) and one `run_summary` (accuracy rate = share of
campaigns without flags). Emits the asset `genesys://campaign_execution_stats` with the window in
the event's `extra["window"]`.

**Endpoints** (permissions): `POST /api/v2/analytics/conversations/aggregates/query`
(`analytics:conversationAggregate:view`); `GET /api/v2/outbound/campaigns` and, with the snapshot,
`…/{id}/stats`, `…/{id}/progress` (`outbound:campaign:view`); `GET /api/v2/outbound/wrapupcodemappings`
(`outbound:wrapUpCodeMapping:view`).
"""

from __future__ import annotations

from typing import Any

import pendulum
from airflow.sdk import Asset, Param, dag, get_current_context, task

from genesys_cloud.config import settings
from genesys_cloud.dag_support import default_args, validated_run
from genesys_cloud.operators.authenticate import GenesysAuthenticateOperator

DAG_ID = "genesys_campaign_execution_stats"
ASSET = Asset("genesys://campaign_execution_stats")
UUID_PATTERN = r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"
CAMPAIGN_STATUSES = ["on", "stopping", "off", "complete", "invalid", "forced_off", "forced_stopping"]
API_POOL = settings().api_pool


def _uuid_list(description: str) -> Param:
    return Param([], type=["array", "null"], items={"type": "string", "pattern": UUID_PATTERN},
                 description=description)


PARAMS: dict[str, Param] = {
    "campaign_ids": _uuid_list("Outbound campaign ids to report on. Empty: every campaign of the listing."),
    "start": Param(None, type=["null", "string"],
                   description="Window start (ISO date or datetime; naive = in `timezone`). With `end`."),
    "end": Param(None, type=["null", "string"],
                 description="Window end, exclusive (ISO date or datetime). Must not be after the run."),
    "timezone": Param("UTC", type="string", description="IANA time zone of the reporting day."),
    "success_wrapup_codes": _uuid_list(
        "Wrap-up code ids that count as conversions. Empty: codes mapped to BUSINESS_SUCCESS."),
    "zscore_threshold": Param(3.0, type="number", exclusiveMinimum=0, maximum=100,
                              description="Flag a figure whose |z-score| against 28-day history exceeds this."),
    "fail_on_flags": Param(False, type="boolean",
                           description="Fail the run (after delivering) when any campaign has a flag."),
    "deliver_webhook": Param(True, type="boolean", description="POST the signed rows to the BI webhook."),
    "include_live_snapshot": Param(False, type="boolean",
                                   description="Add live /stats and /progress to the webhook (not the files)."),
    "status_filter": Param([], type=["array", "null"], items={"type": "string", "enum": CAMPAIGN_STATUSES},
                           description="Only campaigns in these statuses. Empty: any status."),
    "division_ids": _uuid_list("Only campaigns in these divisions. Empty: any division."),
}


@dag(
    dag_id=DAG_ID,
    schedule="0 3 * * *",
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    catchup=False,
    max_active_runs=4,
    tags=["genesys", "outbound", "analytics"],
    doc_md=__doc__,
    params=PARAMS,
    default_args=default_args(),
)
def genesys_campaign_execution_stats() -> None:
    @task
    def validate_params() -> dict[str, Any]:
        """Params and window, checked before any API call (a bad param fails here, by name)."""
        from genesys_pipelines.campaign_stats.params import parse_params as parse

        return validated_run(parse)

    @task(pool=API_POOL)
    def select_campaigns(cfg: dict[str, Any]) -> list[list[dict[str, Any]]]:
        """Batches of campaign refs (one mapped query task per batch)."""
        from airflow.sdk.exceptions import AirflowFailException

        from genesys_cloud.hooks.genesys_cloud import GenesysCloudHook
        from genesys_cloud.operators import campaign_stats as api
        from genesys_pipelines.campaign_stats.params import CampaignStatsParams, ParamError
        from genesys_pipelines.campaign_stats.queries import batches

        params = CampaignStatsParams.model_validate(cfg["params"])
        try:
            chosen = api.select_campaigns(GenesysCloudHook(), params)
        except ParamError as exc:
            raise AirflowFailException(f"invalid param {exc}") from exc
        return batches(chosen, params.batch_size)

    @task(pool=API_POOL)
    def conversion_rule(cfg: dict[str, Any]) -> dict[str, Any]:
        from genesys_cloud.hooks.genesys_cloud import GenesysCloudHook
        from genesys_cloud.operators import campaign_stats as api
        from genesys_pipelines.campaign_stats.params import CampaignStatsParams

        params = CampaignStatsParams.model_validate(cfg["params"])
        return api.conversion_rule(GenesysCloudHook(), params)

    @task(pool=API_POOL)
    def query(batch: list[dict[str, Any]], cfg: dict[str, Any]) -> dict[str, Any]:
        from genesys_cloud.hooks.genesys_cloud import GenesysCloudHook
        from genesys_cloud.operators import campaign_stats as api
        from genesys_pipelines.windows import Window

        return api.query_batch(GenesysCloudHook(), batch, Window.from_dict(cfg["window"]))

    @task
    def normalise(result: dict[str, Any], rule: dict[str, Any], cfg: dict[str, Any]) -> dict[str, Any]:
        from genesys_pipelines.campaign_stats.normalise import conversions_for, normalise_row
        from genesys_pipelines.windows import Window

        window = Window.from_dict(cfg["window"])
        rows = [
            normalise_row(
                campaign,
                result["window_sums"].get(campaign["id"]),
                conversions_for(result["wrapup_counts"].get(campaign["id"]), rule),
                window,
            )
            for campaign in result["campaigns"]
        ]
        return {"rows": rows, "history": result["history"], "latency_ms": result["latency_ms"]}

    @task
    def validate(normalised: dict[str, Any], cfg: dict[str, Any]) -> dict[str, Any]:
        from genesys_pipelines.campaign_stats.validate import validate_row

        threshold = float(cfg["params"]["zscore_threshold"])
        rows = [
            validate_row(row, normalised["history"].get(row["campaign_id"]), threshold)
            for row in normalised["rows"]
        ]
        return {"rows": rows, "latency_ms": normalised["latency_ms"]}

    @task(pool=API_POOL)
    def live_snapshot(cfg: dict[str, Any], campaign_batches: list[list[dict[str, Any]]]) -> dict[str, Any] | None:
        """Live /stats and /progress (only with include_live_snapshot; otherwise no API call)."""
        if not cfg["params"]["include_live_snapshot"]:
            return None
        from genesys_cloud.hooks.genesys_cloud import GenesysCloudHook
        from genesys_cloud.operators import campaign_stats as api

        ids = [c["id"] for batch in campaign_batches for c in batch]
        return api.live_snapshot(GenesysCloudHook(), ids)

    @task(outlets=[ASSET], trigger_rule="none_failed")
    def deliver(
        cfg: dict[str, Any], validated: list[dict[str, Any]], snapshot: dict[str, Any] | None
    ) -> dict[str, Any]:
        from genesys_cloud.operators.campaign_stats import deliver_outputs
        from genesys_pipelines.windows import Window

        context = get_current_context()
        result = deliver_outputs(
            context, DAG_ID, Window.from_dict(cfg["window"]), list(validated or []), snapshot, cfg["params"]
        )
        context["outlet_events"][ASSET].extra = {
            "window": cfg["window"],
            "manifest_key": result["manifest_key"],
            "summary": result["summary"],
        }
        return result

    @task
    def check_flags(cfg: dict[str, Any], delivered: dict[str, Any]) -> dict[str, Any]:
        """Flags are data; with fail_on_flags they also fail the run (after everything was delivered)."""
        from airflow.sdk.exceptions import AirflowFailException

        summary = delivered["summary"]
        if cfg["params"]["fail_on_flags"] and summary["campaigns_flagged"]:
            raise AirflowFailException(
                f"fail_on_flags: {summary['campaigns_flagged']} of {summary['campaigns']} campaigns flagged "
                f"{summary['flag_counts']}"
            )
        return summary

    cfg = validate_params()
    auth = GenesysAuthenticateOperator(task_id="authenticate")
    campaign_batches = select_campaigns(cfg)
    rule = conversion_rule(cfg)
    cfg >> auth >> [campaign_batches, rule]
    raw = query.partial(cfg=cfg).expand(batch=campaign_batches)
    rule >> raw
    normalised = normalise.partial(rule=rule, cfg=cfg).expand(result=raw)
    validated = validate.partial(cfg=cfg).expand(normalised=normalised)
    snapshot = live_snapshot(cfg, campaign_batches)
    delivered = deliver(cfg, validated, snapshot)
    check_flags(cfg, delivered)


genesys_campaign_execution_stats()
