"""The reporting export pipeline's steps, over an injected API client and the run's object store.

Pure of Airflow: ``api`` has the hook's export verbs (``reporting_export_metadata``); ``store`` is the run's
partition publisher (``staging_key``, ``read_key``, ``stage_bytes``). The submit/wait/download step is the
provider's ``GenesysReportingExportOperator``.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from typing import Any

from genesys_pipelines.reporting_export.config import ReportingExportConfig
from genesys_pipelines.reporting_export.params import ReportingExportParams
from genesys_pipelines.reporting_export.request import (
    RequestValidationError,
    build_request,
    check_against_metadata,
    request_fingerprint,
)
from genesys_pipelines.windows import Window


def plan_exports(
    params: ReportingExportParams,
    window: Window,
    config: ReportingExportConfig,
    metadata: Sequence[Any] | None,
    pipeline: str,
) -> list[dict[str, Any]]:
    """One validated plan per configured export: ``{"index", "view_type", "stem", "body", "notes"}``.

    Raises RequestValidationError listing every problem of every export (fields named
    ``exports[i]....``), so a bad configuration fails before the first POST.
    """
    if len(params.exports) > config.limits.max_exports_per_run:
        raise RequestValidationError(
            [("exports", f"{len(params.exports)} > limits.max_exports_per_run={config.limits.max_exports_per_run}")]
        )
    problems: list[tuple[str, str]] = []
    plans: list[dict[str, Any]] = []
    for index, spec in enumerate(params.exports):
        field = f"exports[{index}]"
        try:
            body = build_request(
                spec, interval=window.interval(), time_zone=window.tz, pipeline=pipeline, config=config, field=field
            )
        except RequestValidationError as exc:
            problems += exc.problems
            continue
        notes: list[str] = []
        if metadata is not None:
            found, notes = check_against_metadata(body, metadata)
            problems += [(f"{field}.{f}", m) for f, m in found]
        plans.append({"index": index, "view_type": spec.view_type, "body": body, "notes": notes})
    if problems:
        raise RequestValidationError(problems)
    names = Counter(p["body"]["name"] for p in plans)
    duplicated = [n for n, c in names.items() if c > 1]
    if duplicated:
        raise RequestValidationError([("exports", f"the same export is configured twice: {duplicated}")])
    views = Counter(p["view_type"] for p in plans)
    for plan in plans:
        # Output file stem: the view's name, plus the request digest only when a view appears twice.
        stem = plan["view_type"].lower()
        plan["stem"] = stem if views[plan["view_type"]] == 1 else f"{stem}-{request_fingerprint(plan['body'])}"
    return plans


def raw_name(plan: Mapping[str, Any]) -> str:
    """The exported file as published: ``raw/{stem}.csv``."""
    return f"raw/{plan['stem']}.csv"


def export_kwargs(plans: Sequence[Mapping[str, Any]], store: Any) -> list[dict[str, Any]]:
    """The export operator's mapped arguments: the request, and where its file is staged (kept as raw)."""
    return [{"request": plan["body"], "s3_key": store.staging_key(raw_name(plan))} for plan in plans]


def transform(store: Any, export: Mapping[str, Any], plan: Mapping[str, Any], time_zone: str,
              config: ReportingExportConfig) -> dict[str, Any]:
    """Read the staged raw file, transform it, stage ``{stem}.parquet`` and ``{stem}.csv``; the item with
    the export's facts and the transform's stats."""
    from genesys_pipelines.reporting_export.csv_io import read_csv_bytes
    from genesys_pipelines.reporting_export.outputs import to_csv_bytes, to_parquet_bytes
    from genesys_pipelines.reporting_export.transform import transform as transform_table

    raw = read_csv_bytes(store.read_key(export["s3_key"]), config.defaults.csv_delimiter)  # ≤ 10 MB (API limit)
    table, stats = transform_table(raw, config.view(plan["view_type"]), time_zone)
    rows, stem = table.num_rows, plan["stem"]
    store.stage_bytes(f"{stem}.parquet", to_parquet_bytes(table), "application/vnd.apache.parquet", rows=rows)
    store.stage_bytes(f"{stem}.csv", to_csv_bytes(table), "text/csv", rows=rows)
    return {
        "plan": {k: plan[k] for k in ("index", "view_type", "stem", "notes")},
        "export_name": plan["body"]["name"],
        "export": {k: export.get(k) for k in ("export_id", "status", "partial", "polls", "latency_s")},
        "download": {"bytes": export.get("bytes"), "sha256": export.get("sha256"),
                     "raw_staging_key": export["s3_key"], "raw_name": raw_name(plan)},
        "stats": stats.to_dict(),
    }


def check_output(item: Mapping[str, Any], params: ReportingExportParams, config: ReportingExportConfig) -> dict[str, Any]:
    """The output validation of one transformed export, as a JSON-able dict with ``failures``."""
    from genesys_pipelines.reporting_export.outputs import validate_output
    from genesys_pipelines.reporting_export.transform import TransformStats

    share = params.max_dropped_share
    threshold = config.defaults.max_dropped_share if share is None else float(share)
    result = validate_output(TransformStats(**item["stats"]), threshold)
    return {**result.to_dict(), "failures": result.failures(), "max_dropped_share": threshold}
