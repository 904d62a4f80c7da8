"""
### Outbound answer-rate forecast, agent capacity and bounded pacing (Genesys Cloud)

Per selected outbound campaign: a 24-hour answer-rate forecast with its measured skill, the agents
forecast for those hours, a pacing recommendation in the campaign's real fields, a chart, and an
audit trail. Applying the recommendation is opt-in (`apply: true`); by default the run only proposes.

**Schedule**: runs when `genesys_campaign_execution_stats` publishes (Asset
`genesys://campaign_execution_stats`, window from the asset event), and by hand (form). The forecast
covers the 24 hours after the window end; the history is the `history_days` before it.

**Steps**: validate params → authenticate → select campaigns (`campaign_ids`, else every campaign
that is `on`/`stopping`) → per campaign (dynamic task mapping), split in two tasks so the CPU work
never holds a `genesys_api` pool slot: `fetch_inputs` (in the pool: hourly history, the campaign,
capacity; hands on the hourly counts as two compact int arrays) and `analyse` (outside the pool). Hourly
history: `PT1H` aggregates of `nOutboundAttempted`/`nOutboundConnected`, chunked by `chunk_days`; missing
hours reindexed as 0 attempts with an undefined rate and a `filled` flag → backtest (last 24 h held out; MAE and MASE
against seasonal naive, i.e. the same hour a day earlier) and forecast (robust STL, period 24;
MSTL 24+168 from 15 days of history; damped-trend ETS; prediction interval; clamped to [0, 1]) →
capacity (WFM planning group of the campaign's queue → intraday `ScheduleData` of its `Voice`
grouping only (a group that also routes callbacks or chat reports those agents in other groupings),
agents = onQueueTimeSeconds ÷ interval seconds, dates in the business unit's time zone; else live
`idleAgents`, with the reason, e.g. no `Voice` grouping) → recommendation → apply (only with `apply`) → deliver. Under 96 hours with attempts
a campaign is skipped with its reason (audited), not failed.

**Recommendation**: power/predictive: `maxCallsPerAgentDecimal` = the largest calls-per-agent ratio
whose expected abandon percentage (pooled binomial model, answer rate at the forecast's upper
bound, scheduled agents) stays ≤ `abandon_rate_target` in every dialing hour; agentless:
`outboundLineCount` scaled by history rate ÷ forecast rate. `abandonRate` (a PERCENTAGE) is lowered
to the target when above it. Each change moves at most `max_relative_step` per run and stays inside
the absolute bounds; changes under `min_change` are not written. The arithmetic is in the output.

**Apply**: GET the full campaign, set the fields, PUT with `version` and
`?useMaxCallsPerAgentDecimal=true`; 409 → re-read, recompute, retry (bounded); a lost answer →
re-read and compare before any retry (never applied twice); read back to verify. A refused write
(400, 403, 404...) fails only that campaign, with the cause; the others are still applied, everything is
published and audited, then the run fails.

**Re-runs of a window** are idempotent: `recommendations.json` records each campaign's `before` values and
the applied target. A re-run of the same window bounds the recommendation from that recorded `before`
(not from the value the first run wrote, which would add another `max_relative_step`), writes nothing
when the campaign already holds the recorded target, and publishes byte-identical objects. If someone
else changed the pacing fields in between, the run starts from their values.

**Params**: `campaign_ids`, `start`/`end`/`timezone` (manual windows), `history_days` (14),
`chunk_days` (7), `apply` (false), `abandon_rate_target` (percent, 3), `max_relative_step` (0.2),
`min_change` (0.02), `max_calls_per_agent_min`/`_max` (1/4), `outbound_line_count_min`/`_max`,
`max_write_attempts` (5), `deliver_webhook`.

**Outputs** (bucket `GENESYS_BUCKET`): `genesys_campaign_pacing_forecast/date=YYYY-MM-DD/`
(`interval=…/` for other windows): `forecast.csv` (campaign, hour, forecast, interval, typical
attempts, agents, capacity source), `recommendations.json` (skill, capacity source, before/after,
explanation, apply outcome), `chart_<campaign_id>.png`, `_manifest.json` (last). Presigned URLs in
the signed webhook. Audit: one `pacing_forecast` row per campaign (before/after, MAE/MASE, capacity
source, skip reason) and one `run_summary`.

**Endpoints** (permissions): `POST /api/v2/analytics/conversations/aggregates/query`
(`analytics:conversationAggregate:view`); `GET /api/v2/outbound/campaigns`, `…/{id}`, `…/{id}/stats`
(`outbound:campaign:view`); `PUT /api/v2/outbound/campaigns/{id}` (`outbound:campaign:edit`, apply only);
`GET /api/v2/workforcemanagement/businessunits` (none), `…/{id}?expand=settings`, `…/{id}/planninggroups`
(`wfm:planningGroup:view`), `POST …/{id}/intraday` (`wfm:intraday:view`).
"""

from __future__ import annotations

from typing import Any

import pendulum
from airflow.sdk import Asset, Param, dag, get_current_context, task

from genesys_cloud.config import settings
from genesys_cloud.dag_support import default_args, validated_run
from genesys_cloud.operators.authenticate import GenesysAuthenticateOperator

DAG_ID = "genesys_campaign_pacing_forecast"
UPSTREAM = Asset("genesys://campaign_execution_stats")
UUID_PATTERN = r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"
API_POOL = settings().api_pool

PARAMS: dict[str, Param] = {
    "campaign_ids": Param([], type=["array", "null"], items={"type": "string", "pattern": UUID_PATTERN},
                          description="Outbound campaign ids to forecast. Empty: every campaign that is on/stopping."),
    "start": Param(None, type=["null", "string"],
                   description="Window start (ISO date or datetime; naive = in `timezone`). With `end`. "
                               "Empty: the upstream asset event's window, else the day before the run."),
    "end": Param(None, type=["null", "string"],
                 description="Window end, exclusive. The forecast covers the 24 hours after it."),
    "timezone": Param("UTC", type="string", description="IANA time zone of the window and the history query."),
    "history_days": Param(14, type="integer", minimum=5, maximum=56,
                          description="Days of hourly history before the window end (15+ adds weekly seasonality)."),
    "chunk_days": Param(7, type="integer", minimum=1, maximum=7, description="Days per history query."),
    "apply": Param(False, type="boolean",
                   description="Write the recommendation to the campaigns (PUT). Off: propose only."),
    "abandon_rate_target": Param(3.0, type="number", minimum=0.5, maximum=100,
                                 description="Compliance abandon target in PERCENT (3 = 3 %), as Campaign.abandonRate."),
    "max_relative_step": Param(0.2, type="number", exclusiveMinimum=0, maximum=1,
                               description="Largest change per run, relative to the current value."),
    "min_change": Param(0.02, type="number", minimum=0, exclusiveMaximum=1,
                        description="Smallest relative change worth a write."),
    "max_calls_per_agent_min": Param(1.0, type="number", exclusiveMinimum=0, maximum=100,
                                     description="Lower bound of maxCallsPerAgentDecimal."),
    "max_calls_per_agent_max": Param(4.0, type="number", exclusiveMinimum=0, maximum=100,
                                     description="Upper bound of maxCallsPerAgentDecimal."),
    "outbound_line_count_min": Param(1, type="integer", minimum=1, description="Lower bound of outboundLineCount."),
    "outbound_line_count_max": Param(500, type="integer", minimum=1, description="Upper bound of outboundLineCount."),
    "max_write_attempts": Param(5, type="integer", minimum=1, maximum=10,
                                description="Writes per campaign (first try + retries after a 409 or lost answer)."),
    "deliver_webhook": Param(True, type="boolean", description="POST the signed summary to the webhook."),
}


@dag(
    dag_id=DAG_ID,
    schedule=[UPSTREAM],
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    catchup=False,
    max_active_runs=4,
    tags=["genesys", "outbound", "forecast", "wfm"],
    doc_md=__doc__,
    params=PARAMS,
    default_args=default_args(),
)
def genesys_campaign_pacing_forecast() -> None:
    @task
    def validate_params() -> dict[str, Any]:
        """Params and window, checked before any API call (a bad param fails here, by name)."""
        from genesys_pipelines.pacing_forecast.params import parse_params as parse

        return validated_run(parse)

    @task(pool=API_POOL)
    def select_campaigns(cfg: dict[str, Any]) -> list[dict[str, Any]]:
        from airflow.sdk.exceptions import AirflowFailException

        from genesys_cloud.hooks.genesys_cloud import GenesysCloudHook
        from genesys_cloud.operators import pacing_forecast as api
        from genesys_pipelines.pacing_forecast.params import PacingParams, ParamError

        try:
            return api.select_campaigns(GenesysCloudHook(), PacingParams.model_validate(cfg["params"]))
        except ParamError as exc:
            raise AirflowFailException(f"invalid param {exc}") from exc

    @task
    def recorded_plans(cfg: dict[str, Any]) -> dict[str, Any]:
        """What an earlier run of this window published per campaign (re-runs bound from its `before`)."""
        from genesys_cloud.operators.pacing_forecast import read_recorded
        from genesys_pipelines.windows import Window

        return read_recorded(DAG_ID, Window.from_dict(cfg["window"]))

    @task(pool=API_POOL)
    def fetch_inputs(ref: dict[str, Any], cfg: dict[str, Any]) -> dict[str, Any]:
        """API reads only (history, campaign, capacity): the pool slot is not held while fitting."""
        from genesys_cloud.hooks.genesys_cloud import GenesysCloudHook
        from genesys_cloud.operators import pacing_forecast as api
        from genesys_pipelines.pacing_forecast.params import PacingParams
        from genesys_pipelines.windows import Window

        return api.fetch_inputs(GenesysCloudHook(), ref, Window.from_dict(cfg["window"]),
                                PacingParams.model_validate(cfg["params"]))

    @task
    def analyse(fetched: dict[str, Any], cfg: dict[str, Any], recorded: dict[str, Any]) -> dict[str, Any]:
        """Backtest + forecast → recommendation; stages the campaign's chart (CPU only, outside the pool)."""
        from genesys_cloud.operators import pacing_forecast as api
        from genesys_cloud.sinks.object_store import PartitionPublisher
        from genesys_pipelines.pacing_forecast.params import PacingParams
        from genesys_pipelines.windows import Window

        window = Window.from_dict(cfg["window"])
        publisher = PartitionPublisher(DAG_ID, window.local_start(), window.local_end(),
                                       str(get_current_context()["run_id"]))
        return api.analyse_fetched(fetched, window, PacingParams.model_validate(cfg["params"]), publisher,
                                   (recorded or {}).get(str(fetched["ref"]["id"])))

    @task(pool=API_POOL)
    def apply_changes(
        cfg: dict[str, Any], results: list[dict[str, Any]], recorded: dict[str, Any]
    ) -> dict[str, dict[str, Any]]:
        """Only with apply: true; no API call otherwise."""
        from genesys_pipelines.pacing_forecast.params import PacingParams

        params = PacingParams.model_validate(cfg["params"])
        if not params.apply:
            return {}
        from genesys_cloud.hooks.genesys_cloud import GenesysCloudHook
        from genesys_cloud.operators import pacing_forecast as api

        return api.apply_all(GenesysCloudHook(), list(results or []), params, recorded or {})

    @task
    def deliver(cfg: dict[str, Any], results: list[dict[str, Any]], outcomes: dict[str, Any]) -> dict[str, Any]:
        from airflow.sdk.exceptions import AirflowFailException

        from genesys_cloud.operators.pacing_forecast import deliver_outputs
        from genesys_pipelines.pacing_forecast.params import PacingParams
        from genesys_pipelines.windows import Window

        result = deliver_outputs(get_current_context(), DAG_ID, Window.from_dict(cfg["window"]),
                                 list(results or []), outcomes or {}, PacingParams.model_validate(cfg["params"]))
        if result["failed"]:
            # Delivered and audited first, then failed: an unapplied change must not look like success.
            raise AirflowFailException(f"pacing not applied to campaign(s) {', '.join(result['failed'])}")
        return result

    cfg = validate_params()
    auth = GenesysAuthenticateOperator(task_id="authenticate")
    refs = select_campaigns(cfg)
    cfg >> auth >> refs
    recorded = recorded_plans(cfg)
    fetched = fetch_inputs.partial(cfg=cfg).expand(ref=refs)
    results = analyse.partial(cfg=cfg, recorded=recorded).expand(fetched=fetched)
    outcomes = apply_changes(cfg, results, recorded)
    deliver(cfg, results, outcomes)


genesys_campaign_pacing_forecast()
