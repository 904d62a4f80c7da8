"""Late-arriving data: re-probe the recent non-final partitions and re-run exactly the changed windows.

Table of contents only: the decisions are pure functions of ``include/genesys_pipelines/restatement``;
the re-runs go through Airflow itself (``TriggerDagRunOperator``, mapped, deterministic run ids). The user
documentation is ``genesys_restatement_sweep.md`` (the DAG's doc_md).
"""

from __future__ import annotations

from typing import Any

import pendulum
from _common import API_POOL, default_args, doc, validate_params
from airflow.providers.standard.operators.trigger_dagrun import TriggerDagRunOperator
from airflow.sdk import dag, task

from genesys_cloud.params import dag_params
from genesys_pipelines.restatement.params import SweepParams, parse_params

DAG_ID = "genesys_restatement_sweep"


@dag(dag_id=DAG_ID, schedule="30 5 * * *", start_date=pendulum.datetime(2026, 1, 1, tz="UTC"), catchup=False,
     max_active_runs=1, tags=["genesys", "restatement", "late-data"], doc_md=doc(DAG_ID),
     params=dag_params(SweepParams), default_args=default_args())
def genesys_restatement_sweep() -> None:
    @task(pool=API_POOL)
    def find(cfg: dict[str, Any]) -> list[dict[str, Any]]:
        """The swept days with partitions that are not final, each day once with its partitions (manifests
        read from S3; one availability read)."""
        from genesys_cloud.context import invalid_param_fails
        from genesys_cloud.hooks.genesys_cloud import GenesysCloudHook
        from genesys_cloud.sinks.sweep import read_partition_manifests
        from genesys_pipelines.restatement import sweep
        from genesys_pipelines.restatement.source import availability

        params = SweepParams.model_validate(cfg["params"])
        # reset_from: final days too; a reset after the run's day fails at once, by name (no retries)
        days = invalid_param_fails(lambda: sweep.days_of(cfg["window"], params.days, params.reset_from))
        manifests = read_partition_manifests(params.pipelines, days)
        found = sweep.candidates(manifests, availability(GenesysCloudHook()), reset=bool(params.reset_from))
        return sweep.by_day(found)

    @task(pool=API_POOL, map_index_template="{{ found['pipeline'] }} {{ found['day'] }}")
    def probe(found: dict[str, Any]) -> dict[str, Any]:
        """One request for the day (1-row details probe or one aggregates query), shared by its partitions
        when they probe alike; what changed in each partition."""
        from genesys_cloud.hooks.genesys_cloud import GenesysCloudHook
        from genesys_pipelines.restatement import sweep
        from genesys_pipelines.restatement.source import probe_partitions

        return sweep.day_outcome(found, probe_partitions(GenesysCloudHook(), found["partitions"]))

    @task(trigger_rule="none_failed")  # also when nothing was probed (probe mapped over no day): audit it
    def changed(cfg: dict[str, Any], probed: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """The re-runs to trigger: exactly the changed windows (none on a dry run); the sweep's audit row."""
        from airflow.sdk import get_current_context

        from genesys_cloud.sinks.audit import record_entries
        from genesys_pipelines.restatement import sweep

        dry_run, probed = SweepParams.model_validate(cfg["params"]).dry_run, list(probed or [])
        reruns = sweep.triggers(probed, dry_run=dry_run)
        record_entries(get_current_context(), cfg["window"]["start"], cfg["window"]["end"],
                       [sweep.audit_entry(probed, reruns, dry_run=dry_run)])
        return reruns

    cfg = validate_params(parse_params)
    reruns = changed(cfg, probe.expand(found=find(cfg)))
    TriggerDagRunOperator.partial(task_id="restate", reset_dag_run=True, wait_for_completion=False,
                                  logical_date=None).expand_kwargs(reruns)


genesys_restatement_sweep()
