"""
### Analytics reporting exports → typed tables (Genesys Cloud)

Runs one or more Genesys Cloud **reporting exports** (view type, period, time zone, filter) for the
run's window and turns each exported CSV into a normalised, typed, BI-ready table.

**Window**: the reporting day before the run (daily at 04:00 UTC), or the `start`/`end` params (manual
runs, backfills), cut in the `timezone` param's zone (also the export's `timeZone`).

**Steps**: validate params → authenticate → plan exports (build each `ReportingExportJobRequest` and
validate it: required fields, `exportFormat` CSV, real `viewType`, IANA `timeZone`, ISO `period`,
`interval` = the window, `filter` keys of the real `ViewFilter`, our limits in `views.yaml`, and the
exports metadata's `dateLimitations`/`requiredFilters`/`supportedFilters`/columns) → per export (dynamic
task mapping): submit + wait (`GenesysReportingExportOperator`: an export with the same deterministic
name is reused, never POSTed twice; polling is deferred to `ReportingExportTrigger`) → download
`downloadUrl` (streamed into the run's staging area; the raw file is kept) → transform (column mapping
per view type from `views.yaml`, casting, blank → null, durations → seconds, rows without their key
dropped and counted) → validate output (required columns, row count, dropped share ≤
`max_dropped_share`) → deliver (atomic publish, presigned URLs, signed webhook, audit rows).

**Params**: `start`, `end`, `timezone`, `exports` (list of `{view_type, filter, period?,
selected_columns?}`), `max_dropped_share`, `deliver_webhook`.

**Outputs** (bucket `GENESYS_BUCKET`): `genesys_reporting_export/date=YYYY-MM-DD/` (`interval=START_END/`
for other windows) with `{view}.parquet`, `{view}.csv`, `raw/{view}.csv` (the file as exported) and
`_manifest.json` (written last). Byte-identical on re-run. Audit rows: one `reporting_export` row per
export (export latency, status polls, records, dropped rows, validation result).

**Endpoints** (permissions): `POST /api/v2/analytics/reporting/exports` (`analytics:dataExport:add`);
`GET /api/v2/analytics/reporting/exports` and `…/exports/metadata` (`analytics:dataExport:view`);
the export's `downloadUrl`.
"""

from __future__ import annotations

from typing import Any

import pendulum
from airflow.sdk import Param, dag, get_current_context, task

from genesys_cloud.config import settings
from genesys_cloud.dag_support import default_args, validated_run
from genesys_pipelines.models.exports import VIEW_TYPES
from genesys_pipelines.reporting_export.params import DEFAULT_EXPORTS

DAG_ID = "genesys_reporting_export"
API_POOL = settings().api_pool

PARAMS: dict[str, Param] = {
    "start": Param(None, type=["null", "string"],
                   description="Window start (ISO date or datetime; naive = in `timezone`). With `end`."),
    "end": Param(None, type=["null", "string"],
                 description="Window end, exclusive (ISO date or datetime). Must not be after the run."),
    "timezone": Param("UTC", type="string", description="IANA time zone of the reporting day and of the exports."),
    "exports": Param(
        [dict(e) for e in DEFAULT_EXPORTS],
        type="array",
        minItems=1,
        items={
            "type": "object",
            "required": ["view_type"],
            "additionalProperties": False,
            "properties": {
                "view_type": {"type": "string", "enum": list(VIEW_TYPES), "description": "The export's viewType."},
                "filter": {"type": "object", "description": "ViewFilter (JSON names, e.g. queueIds, mediaTypes)."},
                "period": {"type": ["null", "string"], "description": "ISO-8601 duration, e.g. P1D or PT30M."},
                "selected_columns": {"type": ["null", "array"], "items": {"type": "string"}},
            },
        },
        description="The exports to run: a view type with a configured column mapping (views.yaml), its "
        "filter, and optionally a period and the columns to select.",
    ),
    "max_dropped_share": Param(None, type=["null", "number"], minimum=0, maximum=1,
                               description="Fail an export whose share of rows without key exceeds this "
                               "(default from views.yaml)."),
    "deliver_webhook": Param(True, type="boolean", description="POST the signed result to the BI webhook."),
}


@dag(
    dag_id=DAG_ID,
    schedule="0 4 * * *",
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    catchup=False,
    max_active_runs=4,
    tags=["genesys", "analytics", "reporting-export"],
    doc_md=__doc__,
    params=PARAMS,
    default_args=default_args(),
)
def genesys_reporting_export() -> None:
    @task
    def validate_params() -> dict[str, Any]:
        """Params and window, checked before any API call (a bad param fails here, by name)."""
        from genesys_pipelines.reporting_export.params import validate_params as parse

        return validated_run(parse)

    @task(pool=API_POOL)
    def plan_exports(cfg: dict[str, Any]) -> list[dict[str, Any]]:
        """One validated request body per export, checked against the exports metadata, before any POST."""
        from airflow.sdk.exceptions import AirflowFailException

        from genesys_cloud.hooks.genesys_cloud import GenesysCloudHook
        from genesys_cloud.operators import reporting_export_pipeline as pipe
        from genesys_pipelines.reporting_export.config import load_config
        from genesys_pipelines.reporting_export.params import ReportingExportParams
        from genesys_pipelines.reporting_export.request import RequestValidationError
        from genesys_pipelines.windows import Window

        hook = GenesysCloudHook()
        try:
            return pipe.plan_exports(
                ReportingExportParams.model_validate(cfg["params"]), Window.from_dict(cfg["window"]),
                load_config(), pipe.fetch_metadata(hook), DAG_ID,
            )
        except RequestValidationError as exc:
            raise AirflowFailException(f"invalid export request: {exc}") from exc

    @task
    def request_kwargs(plans: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """The operator's mapped arguments (one export each)."""
        return [{"request": plan["body"]} for plan in plans]

    @task(pool=API_POOL)
    def download(pair: tuple[dict[str, Any], dict[str, Any]], cfg: dict[str, Any]) -> dict[str, Any]:
        """Stream the finished export's file into the run's staging area (kept as raw/{view}.csv)."""
        from genesys_cloud.hooks.genesys_cloud import GenesysCloudHook
        from genesys_cloud.operators import reporting_export_pipeline as pipe
        from genesys_cloud.sinks.object_store import PartitionPublisher
        from genesys_pipelines.windows import Window

        export, plan = pair
        window = Window.from_dict(cfg["window"])
        run_id = get_current_context()["run_id"]
        publisher = PartitionPublisher(DAG_ID, window.local_start(), window.local_end(), run_id)
        result = pipe.export_result(export)
        staged = pipe.download_and_stage(GenesysCloudHook(), publisher, result["download_url"], plan["stem"])
        return {"plan": {k: plan[k] for k in ("index", "view_type", "stem", "notes")},
                "export_name": plan["body"]["name"], "export": result, "download": staged}

    @task
    def transform(item: dict[str, Any], cfg: dict[str, Any]) -> dict[str, Any]:
        from genesys_cloud.operators import reporting_export_pipeline as pipe
        from genesys_cloud.sinks.object_store import PartitionPublisher
        from genesys_pipelines.reporting_export.config import load_config
        from genesys_pipelines.windows import Window

        window = Window.from_dict(cfg["window"])
        publisher = PartitionPublisher(DAG_ID, window.local_start(), window.local_end(), get_current_context()["run_id"])
        config = load_config()
        stats = pipe.transform_staged(
            publisher, item["download"]["raw_staging_key"], item["plan"]["stem"], item["plan"]["view_type"],
            window.tz, config, config.defaults.csv_delimiter,
        )
        return {**item, "stats": stats}

    @task
    def validate_output(item: dict[str, Any], cfg: dict[str, Any]) -> dict[str, Any]:
        """Required columns, row count and dropped share; a failure is audited, then fails the export."""
        from airflow.sdk.exceptions import AirflowFailException

        from genesys_cloud.operators import reporting_export_pipeline as pipe
        from genesys_pipelines.reporting_export.config import load_config

        result = pipe.check_output(item, cfg, load_config())
        if not result["passed"]:
            pipe.audit_exports(get_current_context(), cfg, [{**item, "validation": result}], status="failed")
            raise AirflowFailException(f"output of {item['plan']['view_type']} failed validation: {result['failures']}")
        return {**item, "validation": result}

    @task  # S3, webhook and audit only: no Genesys call, so no API pool slot
    def deliver(items: list[dict[str, Any]], cfg: dict[str, Any]) -> dict[str, Any]:
        """Atomic publish, presigned URLs, signed webhook, one audit row per export."""
        from genesys_cloud.operators import reporting_export_pipeline as pipe

        return pipe.deliver(get_current_context(), cfg, list(items), DAG_ID)

    from genesys_cloud.operators.authenticate import GenesysAuthenticateOperator
    from genesys_cloud.operators.reporting_export_pipeline import (
        TimedReportingExportOperator,
        audit_export_failure,
    )

    cfg = validate_params()
    auth = GenesysAuthenticateOperator(task_id="authenticate", pool=API_POOL)
    plans = plan_exports(cfg)
    cfg >> auth >> plans
    exports = TimedReportingExportOperator.partial(
        task_id="submit_and_wait", pool=API_POOL, on_failure_callback=audit_export_failure
    ).expand_kwargs(
        request_kwargs(plans)
    )
    downloaded = download.partial(cfg=cfg).expand(pair=exports.output.zip(plans))
    transformed = transform.partial(cfg=cfg).expand(item=downloaded)
    validated = validate_output.partial(cfg=cfg).expand(item=transformed)
    deliver(validated, cfg)


genesys_reporting_export()
