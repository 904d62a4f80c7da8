"""Reporting exports → typed tables: submit (or reuse) each export, wait, store, transform, validate, deliver.

Table of contents only: the steps are the provider's (``plugins/genesys_cloud``) and the pipeline's pure
functions (``include/genesys_pipelines/reporting_export``); user docs: ``genesys_reporting_export.md``.
"""

from __future__ import annotations

from typing import Any

import pendulum
from _common import API_POOL, default_args, doc, validate_params
from airflow.sdk import dag, get_current_context, task

from genesys_cloud.operators.authenticate import GenesysAuthenticateOperator
from genesys_cloud.operators.reporting_export import GenesysReportingExportOperator
from genesys_cloud.params import dag_params
from genesys_cloud.sinks.audit import audit_task_failure
from genesys_pipelines.reporting_export.params import ReportingExportParams
from genesys_pipelines.reporting_export.params import validate_params as parse_params
from genesys_pipelines.runspec import RunSpec

DAG_ID = "genesys_reporting_export"


def spec(cfg: dict[str, Any]) -> RunSpec[ReportingExportParams]:
    return RunSpec.load(cfg, ReportingExportParams)


def store(cfg: dict[str, Any]) -> Any:
    from genesys_cloud.sinks.delivery import publisher_for

    return publisher_for(get_current_context(), spec(cfg).window)


@dag(dag_id=DAG_ID, schedule="0 4 * * *", start_date=pendulum.datetime(2026, 1, 1, tz="UTC"), catchup=False,
     max_active_runs=4, tags=["genesys", "analytics", "reporting-export"], doc_md=doc(DAG_ID),
     params=dag_params(ReportingExportParams), default_args=default_args())
def genesys_reporting_export() -> None:
    @task(pool=API_POOL)
    def plan_exports(cfg: dict[str, Any]) -> list[dict[str, Any]]:
        """One validated request body per export, checked against the exports metadata, before any POST."""
        from airflow.sdk.exceptions import AirflowFailException

        from genesys_cloud.hooks.genesys_cloud import GenesysCloudHook
        from genesys_pipelines.reporting_export import steps
        from genesys_pipelines.reporting_export.config import load_config
        from genesys_pipelines.reporting_export.request import RequestValidationError

        run = spec(cfg)
        try:
            metadata = GenesysCloudHook().reporting_export_metadata()
            return steps.plan_exports(run.params, run.window, load_config(), metadata, DAG_ID)
        except RequestValidationError as exc:
            raise AirflowFailException(f"invalid export request: {exc}") from exc

    @task
    def export_kwargs(cfg: dict[str, Any], plans: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """The export operator's mapped arguments: each request, and where its file is staged."""
        from genesys_pipelines.reporting_export.steps import export_kwargs

        return export_kwargs(plans, store(cfg))

    @task(map_index_template="{{ view_type }}")
    def transform(pair: tuple[dict[str, Any], dict[str, Any]], cfg: dict[str, Any]) -> dict[str, Any]:
        """Typed, normalised tables from the stored file (staged as {view}.parquet / {view}.csv)."""
        from genesys_pipelines.reporting_export import steps
        from genesys_pipelines.reporting_export.config import load_config

        export, plan = pair
        get_current_context()["view_type"] = plan["view_type"]  # type: ignore[typeddict-unknown-key]
        return steps.transform(store(cfg), export, plan, spec(cfg).window.tz, load_config())

    @task(map_index_template="{{ view_type }}")
    def validate_output(item: dict[str, Any], cfg: dict[str, Any]) -> dict[str, Any]:
        """Required columns, row count and dropped share; a failure is audited, then fails the export."""
        from airflow.sdk.exceptions import AirflowFailException

        from genesys_cloud.sinks.audit import record_entries
        from genesys_pipelines.reporting_export import steps
        from genesys_pipelines.reporting_export.config import load_config
        from genesys_pipelines.reporting_export.delivery import audit_entries

        run, context = spec(cfg), get_current_context()
        context["view_type"] = item["plan"]["view_type"]  # type: ignore[typeddict-unknown-key]
        result = steps.check_output(item, run.params, load_config())
        if not result["passed"]:
            record_entries(context, run.window.start, run.window.end,
                           audit_entries([{**item, "validation": result}], status="failed"))
            raise AirflowFailException(f"output of {item['plan']['view_type']} failed validation: {result['failures']}")
        return {**item, "validation": result}

    @task  # S3, webhook and audit only: no Genesys call, so no API pool slot
    def deliver(items: list[dict[str, Any]], cfg: dict[str, Any]) -> dict[str, Any]:
        """Atomic publish, presigned URLs, signed webhook, one audit row per export."""
        from genesys_cloud.no_data import check_no_data
        from genesys_cloud.sinks.delivery import Delivery, deliver
        from genesys_pipelines.reporting_export.delivery import NO_DATA_WHAT, delivery

        run = spec(cfg)
        what = delivery(list(items), run.window, DAG_ID, run.params.deliver_webhook)
        published = deliver(get_current_context(), Delivery(**what), window=run.window).to_xcom()
        check_no_data(DAG_ID, run.window, published["extra"]["flags"], NO_DATA_WHAT, fail=run.params.fail_on_no_data)
        return published

    cfg = validate_params(parse_params)
    plans = plan_exports(cfg)
    cfg >> GenesysAuthenticateOperator(task_id="authenticate", pool=API_POOL) >> plans
    exports = GenesysReportingExportOperator.partial(
        task_id="submit_and_wait", pool=API_POOL, map_index_template="{{ task.request['viewType'] }}",
        on_failure_callback=audit_task_failure(
            "reporting_export", "reporting_export", lambda task: task.request.get("name"),
            lambda task: {"view_type": task.request.get("viewType")}),
    ).expand_kwargs(export_kwargs(cfg, plans))
    transformed = transform.partial(cfg=cfg).expand(pair=exports.output.zip(plans))
    validated = validate_output.partial(cfg=cfg).expand(item=transformed)
    deliver(validated, cfg)


genesys_reporting_export()
