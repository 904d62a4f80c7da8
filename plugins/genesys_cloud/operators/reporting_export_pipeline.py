"""Genesys and storage steps of the reporting export pipeline (genesys-api.md §3c), over a passed-in hook.

The submit/wait step is the provider's ``GenesysReportingExportOperator``; this module holds the rest of
the pipeline's I/O so the DAG's tasks stay one-liners: reading the exports metadata, building the
validated request bodies, streaming ``downloadUrl`` into the run's staging area, and turning a staged raw
file into staged Parquet/CSV. Request shaping, transforms and checks are pure, in
``genesys_pipelines.reporting_export``.
"""

from __future__ import annotations

import logging
import tempfile
import time
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from genesys_cloud.exceptions import GenesysForbiddenError, GenesysNotFoundError
from genesys_cloud.operators.reporting_export import GenesysReportingExportOperator
from genesys_pipelines.reporting_export.config import ReportingExportConfig
from genesys_pipelines.reporting_export.params import ReportingExportParams
from genesys_pipelines.reporting_export.request import (
    RequestValidationError,
    build_request,
    check_against_metadata,
    request_fingerprint,
)
from genesys_pipelines.windows import Window

if TYPE_CHECKING:
    from genesys_cloud.hooks.genesys_cloud import GenesysCloudHook
    from genesys_cloud.sinks.object_store import PartitionPublisher

log = logging.getLogger(__name__)

EXPORTS_PATH = "/api/v2/analytics/reporting/exports"
METADATA_PATH = "/api/v2/analytics/reporting/exports/metadata"


# -- submit + wait, timed --------------------------------------------------------------------------------
class TimedReportingExportOperator(GenesysReportingExportOperator):
    """The provider's export operator, plus ``latency_s`` in its result: from this try's start (before
    the reuse lookup / POST) to the final status seen by the trigger, kept across the deferral in XCom."""

    def execute(self, context: Any) -> dict[str, Any]:
        context["ti"].xcom_push(key="started_at", value=time.time())
        return super().execute(context)

    def execute_complete(self, context: Any, event: dict[str, Any] | None = None) -> dict[str, Any]:
        result = super().execute_complete(context, event)
        ti = context["ti"]
        started = ti.xcom_pull(task_ids=ti.task_id, key="started_at", map_indexes=ti.map_index)
        result["latency_s"] = None if started is None else round(time.time() - float(started), 3)
        return result


# -- metadata and requests ------------------------------------------------------------------------------
def fetch_metadata(hook: GenesysCloudHook) -> list[dict[str, Any]] | None:
    """Every entity of the exports metadata listing, or None when this client may not read it."""
    try:
        return list(hook.paginate(METADATA_PATH, page_size=100))
    except (GenesysForbiddenError, GenesysNotFoundError) as exc:
        log.warning("Exports metadata unavailable (%s): requests are checked without it", exc)
        return None


def plan_exports(
    params: ReportingExportParams,
    window: Window,
    config: ReportingExportConfig,
    metadata: Sequence[dict[str, Any]] | None,
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


# -- download ------------------------------------------------------------------------------------------
def download_to_file(hook: GenesysCloudHook, url: str, dest: Path) -> dict[str, Any]:
    """Stream ``url`` into ``dest`` through the hook (retried read; bearer only to the API host)."""
    return hook.download(url, dest)


def download_and_stage(
    hook: GenesysCloudHook, publisher: PartitionPublisher, download_url: str, stem: str
) -> dict[str, Any]:
    """Download the export file and stage it, unchanged, as ``raw/{stem}.csv`` (kept with the outputs)."""
    with tempfile.TemporaryDirectory(prefix="genesys-export-") as tmp:
        path = Path(tmp) / f"{stem}.csv"
        facts = download_to_file(hook, download_url, path)
        key = publisher.stage_file(f"raw/{stem}.csv", path, content_type="text/csv")
    return {**facts, "raw_staging_key": key, "raw_name": f"raw/{stem}.csv"}


# -- transform ------------------------------------------------------------------------------------------
def transform_staged(
    publisher: PartitionPublisher,
    raw_staging_key: str,
    stem: str,
    view_type: str,
    time_zone: str,
    config: ReportingExportConfig,
    delimiter_hint: str = "COMMA",
) -> dict[str, Any]:
    """Read the staged raw file, transform it, stage ``{stem}.parquet`` and ``{stem}.csv``; the stats."""
    from genesys_pipelines.reporting_export.csv_io import read_csv_bytes
    from genesys_pipelines.reporting_export.outputs import to_csv_bytes, to_parquet_bytes
    from genesys_pipelines.reporting_export.transform import transform

    obj = publisher.hook.get_conn().get_object(Bucket=publisher.bucket, Key=raw_staging_key)
    raw = read_csv_bytes(obj["Body"].read(), delimiter_hint)  # ≤ 10 MB by the API's own limit
    table, stats = transform(raw, config.view(view_type), time_zone)
    rows = table.num_rows
    publisher.stage_bytes(f"{stem}.parquet", to_parquet_bytes(table), "application/vnd.apache.parquet", rows=rows)
    publisher.stage_bytes(f"{stem}.csv", to_csv_bytes(table), "text/csv", rows=rows)
    return stats.to_dict()


# -- operator result, output checks, delivery -----------------------------------------------------------
def export_result(event: Any) -> dict[str, Any]:
    """The submit/wait step's XCom as a stable, non-secret dict (whatever spelling the operator used)."""
    data = dict(event or {})

    def pick(*names: str) -> Any:
        return next((data[n] for n in names if data.get(n) is not None), None)

    result = {
        "export_id": pick("export_id", "id"),
        "status": pick("export_status", "status_of_export", "status"),
        "download_url": pick("download_url", "downloadUrl"),
        "partial": bool(pick("partial") or False),
        "polls": pick("polls"),
        "latency_s": pick("latency_s", "export_latency_s", "elapsed_s"),
    }
    if not result["download_url"]:
        raise ValueError(f"the export step returned no downloadUrl: keys {sorted(data)}")
    return result


def check_output(item: dict[str, Any], cfg: dict[str, Any], config: ReportingExportConfig) -> dict[str, Any]:
    """The output validation of one transformed export, as a JSON-able dict with ``failures``."""
    from genesys_pipelines.reporting_export.outputs import validate_output
    from genesys_pipelines.reporting_export.transform import TransformStats

    share = cfg["params"].get("max_dropped_share")
    threshold = config.defaults.max_dropped_share if share is None else float(share)
    result = validate_output(TransformStats(**item["stats"]), threshold)
    return {**result.to_dict(), "failures": result.failures(), "max_dropped_share": threshold}


def _audit_rows(context: Any, window: Window, items: list[dict[str, Any]], status: str | None) -> list[Any]:
    from genesys_cloud.sinks.audit import AuditRow

    rows = []
    for item in items:
        export, stats = item["export"], item.get("stats") or {}
        validation = item.get("validation") or {}
        latency = export.get("latency_s")
        rows.append(
            AuditRow.from_context(
                context, window.start, window.end, "reporting_export",
                entity_type="reporting_export", entity_id=item["export_name"],
                status=status or ("partial" if export.get("partial") else "success"),
                latency_ms=None if latency is None else round(float(latency) * 1000.0, 1),
                record_count=stats.get("rows_out"),
                details={
                    "view_type": item["plan"]["view_type"],
                    "export_id": export.get("export_id"),
                    "export_status": export.get("status"),
                    "polls": export.get("polls"),
                    "rows_in": stats.get("rows_in"),
                    "dropped_rows": stats.get("dropped_missing_key"),
                    "cast_errors": stats.get("cast_errors"),
                    "missing_columns": stats.get("missing_columns"),
                    "raw_bytes": item["download"].get("bytes"),
                    "raw_sha256": item["download"].get("sha256"),
                    # not "passed": the audit scrubber masks keys that look like "pass(word)"
                    "validation_ok": validation.get("passed"),
                    "validation_failures": validation.get("failures"),
                    "max_dropped_share": validation.get("max_dropped_share"),
                    "notes": item["plan"].get("notes"),
                },
            )
        )
    return rows


def audit_exports(context: Any, cfg: dict[str, Any], items: list[dict[str, Any]], status: str | None = None) -> int:
    """One ``reporting_export`` audit row per export (upserted: a re-run updates it)."""
    from genesys_cloud.sinks.audit import AuditSink

    sink = AuditSink()
    sink.ensure_schema()
    return sink.record(_audit_rows(context, Window.from_dict(cfg["window"]), items, status))


def audit_export_failure(context: Any) -> None:
    """``on_failure_callback`` of the submit/wait step: a ``failed`` audit row naming the API's reason
    (e.g. ``FAILED_NO_DATA_EXPORT_JOB_FOUND``), keyed like the success row of the same export."""
    from genesys_cloud.context import window_from_context
    from genesys_cloud.sinks.audit import AuditRow, AuditSink

    try:
        window = window_from_context(context)
        request = getattr(context.get("task"), "request", None) or {}
        row = AuditRow.from_context(
            context, window.start, window.end, "reporting_export",
            entity_type="reporting_export", entity_id=str(request.get("name") or ""), status="failed",
            details={"view_type": request.get("viewType"), "error": str(context.get("exception") or "")[:2000]},
        )
        sink = AuditSink()
        sink.ensure_schema()
        sink.record([row])
    except Exception:  # a failing audit must not hide the task's own failure
        log.exception("Could not audit the failed reporting export")


def deliver(context: Any, cfg: dict[str, Any], items: list[dict[str, Any]], pipeline: str) -> dict[str, Any]:
    """Publish the partition atomically, presign its tables, send the signed webhook, audit each export."""
    from genesys_cloud.sinks.object_store import PartitionPublisher
    from genesys_cloud.sinks.webhook import WebhookSink, idempotency_key

    window = Window.from_dict(cfg["window"])
    items = sorted(items, key=lambda i: i["plan"]["index"])
    publisher = PartitionPublisher(pipeline, window.local_start(), window.local_end(), context["run_id"])
    # Only deterministic facts go into the manifest (no export ids, polls or latencies: those are run facts).
    summary = [
        {
            "view_type": i["plan"]["view_type"],
            "export_name": i["export_name"],
            "rows": i["stats"]["rows_out"],
            "dropped_rows": i["stats"]["dropped_missing_key"],
            "partial": bool(i["export"].get("partial")),
            "validation_passed": i["validation"]["passed"],
            "objects": {k: f"{i['plan']['stem']}.{k}" for k in ("parquet", "csv")} | {"raw": i["download"]["raw_name"]},
        }
        for i in items
    ]
    # Exactly the objects this try produced: a plan that shrank since an earlier try leaves nothing stale.
    names = [name for entry in summary for name in entry["objects"].values()]
    manifest = publisher.publish(
        {"exports": summary, "interval": window.interval(), "time_zone": window.tz}, names=names
    )
    urls = {
        entry["name"]: publisher.presign(entry["key"])
        for entry in manifest["objects"]
        if not entry["name"].startswith("raw/")
    }
    delivered = None
    if cfg["params"].get("deliver_webhook", True):
        payload = {
            "pipeline": pipeline,
            "window": {"start": window.start.isoformat(), "end": window.end.isoformat(), "tz": window.tz},
            "partition": manifest["partition"],
            "exports": [
                {**s, "urls": {k: urls[name] for k, name in s["objects"].items() if name in urls}} for s in summary
            ],
        }
        key = idempotency_key(pipeline, window.start, window.end, "deliver", -1, "reporting_export.published")
        delivered = WebhookSink().deliver(payload, key)["status_code"]
    audit_exports(context, cfg, items)
    return {
        "partition": manifest["partition"],
        "manifest_key": manifest["manifest_key"],
        "objects": [e["key"] for e in manifest["objects"]],
        "urls": urls,
        "webhook_status": delivered,
        "exports": summary,
    }
