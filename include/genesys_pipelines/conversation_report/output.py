"""What the conversation report delivers: its partition's objects, manifest facts, webhook body, audit row."""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

from genesys_pipelines.conversation_report.params import ReportParams
from genesys_pipelines.conversation_report.steps import SESSIONS
from genesys_pipelines.no_data import run_flags
from genesys_pipelines.restatement.source import run_conf
from genesys_pipelines.windows import Window

EVENT = "report_published"
#: What a NO_DATA run of this pipeline found empty (its WARNING and failure messages say it).
NO_DATA_WHAT = "zero conversations"


def delivery(pipeline: str, params: ReportParams, window: Window, planned: Mapping[str, Any],
             flat: Mapping[str, Any], report: Mapping[str, Any]) -> dict[str, Any]:
    """The provider ``Delivery`` fields: the staged session table and report files, presigned for
    ``url_expiry_hours``, the webhook body and the ``report_published`` audit row."""
    started = time.monotonic()
    summary = {"conversations": flat["conversations"], "session_rows": flat["rows"], "groups": report["groups"],
               "duplicates_dropped": flat["duplicates"], "mode": planned["mode"],
               "flags": run_flags(flat["conversations"] == 0),
               # listings that failed: their names are empty in the report (the ids are unaffected)
               **({"names_missing": dict(planned["names_missing"])} if planned.get("names_missing") else {})}

    def payload(published: Any) -> dict[str, Any]:
        manifest = published.manifest
        objects = [{"name": o["name"], "key": o["key"], "size": o["size"], "sha256": o["sha256"],
                    "url": published.urls[o["name"]]} for o in manifest["objects"]]
        return {"event": EVENT, "dag_id": pipeline, "window": window.to_dict(), "bucket": manifest["bucket"],
                "manifest_key": manifest["manifest_key"], "url_expiry_hours": params.url_expiry_hours,
                "objects": objects, **summary}

    def audit(published: Any) -> list[dict[str, Any]]:
        seconds = {"extract": flat["extract_seconds"], "flatten": flat["seconds"], "aggregate": report["seconds"],
                   "publish": round(time.monotonic() - started, 3)}
        return [{"event": EVENT, "entity_type": "partition", "entity_id": published.partition,
                 "status": "no_data" if summary["flags"] else "success",
                 "latency_ms": round(sum(seconds.values()) * 1000, 1), "record_count": flat["conversations"],
                 "details": {**summary, "day_hits": planned["day_hits"], "seconds": seconds,
                             # a day of a range run: the range's extraction cost estimate and choice
                             **({"range": planned["range"]} if planned.get("range") else {}),
                             "webhook_status": (published.webhook or {}).get("status_code")}}]

    return {
        "event": EVENT,
        "staged": [SESSIONS, *(f"report.{fmt}" for fmt in params.formats)],
        "manifest_extra": {"group_by": list(params.group_by), "conversations": flat["conversations"],
                           "groups": report["groups"], "flags": summary["flags"]},
        "payload": payload,
        "audit": audit,
        "url_expiry_hours": params.url_expiry_hours,
        # Late-arriving data: the source fingerprint the plan step read before extracting (None: not read).
        # A day of a range run records the conf of that day's own run (publish_days is about the range).
        "restatement": ({"source": planned["source"],
                         "run_conf": run_conf({**params.model_dump(mode="json"), "publish_days": False}, window)}
                        if planned.get("source") else None),
    }
