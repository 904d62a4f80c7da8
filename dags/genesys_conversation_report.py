"""Conversation-detail report: extraction (sync query or async job), merge, aggregation, publish, webhook.

Table of contents only: the steps are the provider's operators and sinks (``plugins/genesys_cloud``) and
the pipeline's pure functions (``include/genesys_pipelines/conversation_report``). The user documentation
is ``genesys_conversation_report.md`` (the DAG's doc_md).
"""

from __future__ import annotations

from typing import Any

import pendulum
from _common import API_POOL, default_args, doc, validate_params
from airflow.sdk import dag, get_current_context, task

from genesys_cloud.operators.authenticate import GenesysAuthenticateOperator
from genesys_cloud.operators.conversation_details import GenesysConversationDetailsToS3Operator
from genesys_cloud.params import dag_params
from genesys_pipelines.conversation_report.params import ReportParams
from genesys_pipelines.conversation_report.params import validate_params as parse_params
from genesys_pipelines.runspec import RunSpec

DAG_ID = "genesys_conversation_report"


def spec(cfg: dict[str, Any]) -> RunSpec[ReportParams]:
    return RunSpec.load(cfg, ReportParams)


def store(cfg: dict[str, Any]) -> Any:
    """The run's publisher of the window's partition (staging, work area, publish)."""
    from genesys_cloud.sinks.delivery import publisher_for

    return publisher_for(get_current_context(), spec(cfg).window)


def range_days(cfg: dict[str, Any]) -> list[tuple[Any, Any]]:
    """``(day window, its publisher)`` per reporting day of a run that publishes day partitions
    (``publish_days``, ``ranges``); [] for other runs."""
    from genesys_cloud.sinks.delivery import publisher_for
    from genesys_pipelines.day_ranges import run_days

    run = spec(cfg)
    days = run_days(run.params.publish_days, run.window)
    return [(day, publisher_for(get_current_context(), day)) for day in days]


@dag(dag_id=DAG_ID, schedule="0 2 * * *", start_date=pendulum.datetime(2026, 1, 1, tz="UTC"), catchup=False,
     max_active_runs=4, tags=["genesys", "analytics", "conversations"], doc_md=doc(DAG_ID),
     params=dag_params(ReportParams), default_args=default_args())
def genesys_conversation_report() -> None:
    @task(pool=API_POOL, multiple_outputs=True)
    def plan(cfg: dict[str, Any]) -> dict[str, Any]:
        """The query bodies and the method: sync while each day's totalHits is under the ceiling, else the job."""
        from genesys_cloud.hooks.genesys_cloud import GenesysCloudHook
        from genesys_pipelines.conversation_report import steps

        run = spec(cfg)
        # A range that publishes day partitions: ONE extraction, the method chosen by its request cost. The
        # source fingerprint (one 1-row probe per UTC day, also the days' totalHits) is read BEFORE extracting.
        return steps.plan_probed(GenesysCloudHook(), run.params, run.window, store(cfg).work_prefix,
                                 range_run=bool(range_days(cfg)))

    @task
    def flatten(cfg: dict[str, Any], extracted: dict[str, Any], names: dict[str, Any]) -> dict[str, Any]:
        """K-way merge of the chunks into the session table (dedupe on conversationId, code names), staged."""
        from genesys_pipelines.conversation_report import steps

        if days := range_days(cfg):
            return {"days": steps.flatten_days(store(cfg), [s for _, s in days], [d for d, _ in days], extracted, names)}
        return steps.flatten(store(cfg), extracted, names)

    @task
    def aggregate(cfg: dict[str, Any], flat: dict[str, Any], names: dict[str, Any]) -> dict[str, Any]:
        """Vectorised per-group report from the session table (names next to ids), staged in each format."""
        from genesys_pipelines.conversation_report import steps

        run = spec(cfg)
        if days := range_days(cfg):
            return {"days": [steps.aggregate(s, run.params, d, f, names) for (d, s), f in zip(days, flat["days"], strict=True)]}
        return steps.aggregate(store(cfg), run.params, run.window, flat, names)

    @task
    def publish(cfg: dict[str, Any], planned: dict[str, Any], flat: dict[str, Any], report: dict[str, Any]) -> dict:
        """Publish atomically, presign, deliver the signed webhook, write the audit row, clear the work area."""
        from genesys_cloud.no_data import check_no_data
        from genesys_cloud.sinks.delivery import Delivery, deliver
        from genesys_pipelines.conversation_report.output import NO_DATA_WHAT, delivery

        run = spec(cfg)
        if days := range_days(cfg):  # one partition per reporting day, each delivered as its day run does
            from genesys_pipelines.conversation_report.ranges import day_plans

            parts = zip([d for d, _ in days], day_plans(planned, [d for d, _ in days]), flat["days"], report["days"], strict=True)
            done = [(d, deliver(get_current_context(), Delivery(**delivery(DAG_ID, run.params, d, *rest)), window=d).to_xcom())
                    for d, *rest in parts]
            store(cfg).clear_work()
            for day, published in done:  # every day delivered first; then fail_on_no_data fails by day
                check_no_data(DAG_ID, day, published["extra"]["flags"], NO_DATA_WHAT, fail=run.params.fail_on_no_data)
            return {"range": planned.get("range"), "days": [published for _, published in done]}
        what = delivery(DAG_ID, run.params, run.window, planned, flat, report)
        published = deliver(get_current_context(), Delivery(**what), window=run.window).to_xcom()
        store(cfg).clear_work()
        check_no_data(DAG_ID, run.window, published["extra"]["flags"], NO_DATA_WHAT, fail=run.params.fail_on_no_data)
        return published

    cfg = validate_params(parse_params)
    planned = plan(cfg)
    cfg >> GenesysAuthenticateOperator(task_id="authenticate", pool=API_POOL) >> planned
    extracted = GenesysConversationDetailsToS3Operator(
        task_id="extract", query=planned["query"], job_query=planned["async_query"], method=planned["method"],
        s3_prefix=planned["chunks_prefix"], writer="genesys_pipelines.conversation_report.chunks:ChunkWriter",
        pool=API_POOL)
    flat = flatten(cfg, extracted.output, planned["names"])
    publish(cfg, planned, flat, aggregate(cfg, flat, planned["names"]))


genesys_conversation_report()
