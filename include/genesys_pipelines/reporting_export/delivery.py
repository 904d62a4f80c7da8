"""What the reporting export pipeline delivers: its partition, manifest facts, webhook body, audit rows."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from genesys_pipelines.no_data import run_flags
from genesys_pipelines.windows import Window

EVENT = "reporting_export.published"
AUDIT_EVENT = "reporting_export"
#: What a NO_DATA run of this pipeline found empty (its WARNING and failure messages say it).
NO_DATA_WHAT = "every export came back without a data row"


def audit_entries(items: Sequence[Mapping[str, Any]], status: str | None = None,
                  flags: Sequence[str] = ()) -> list[dict[str, Any]]:
    """One ``reporting_export`` audit row per export (upserted on its natural key: a re-run updates it);
    ``flags`` are the run's (``NO_DATA``)."""
    rows = []
    for item in items:
        export, stats = item["export"], item.get("stats") or {}
        validation = item.get("validation") or {}
        latency = export.get("latency_s")
        rows.append({
            "event": AUDIT_EVENT, "entity_type": "reporting_export", "entity_id": item["export_name"],
            "status": status or ("no_data" if flags else "partial" if export.get("partial") else "success"),
            "latency_ms": None if latency is None else round(float(latency) * 1000.0, 1),
            "record_count": stats.get("rows_out"),
            "details": {
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
                "flags": list(flags),
            },
        })
    return rows


def delivery(items: Sequence[Mapping[str, Any]], window: Window, pipeline: str, deliver_webhook: bool) -> dict[str, Any]:
    """The provider ``Delivery`` fields: every export's tables and raw file, presigned tables in the webhook."""
    items = sorted(items, key=lambda i: i["plan"]["index"])
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
    flags = run_flags(all(not s["rows"] for s in summary))

    def payload(published: Any) -> dict[str, Any]:
        urls = published.urls
        return {
            "pipeline": pipeline,
            "window": {"start": window.start.isoformat(), "end": window.end.isoformat(), "tz": window.tz},
            "partition": published.partition,
            "flags": flags,
            "exports": [{**s, "urls": {k: urls[name] for k, name in s["objects"].items() if name in urls}}
                        for s in summary],
        }

    return {
        "event": EVENT,
        # Exactly the objects this try produced: a plan that shrank since an earlier try leaves nothing stale.
        "staged": [name for entry in summary for name in entry["objects"].values()],
        "manifest_extra": {"exports": summary, "interval": window.interval(), "time_zone": window.tz, "flags": flags},
        "payload": payload if deliver_webhook else None,
        "presign": lambda name: not name.startswith("raw/"),
        "audit": lambda published: audit_entries(items, flags=flags),
    }
