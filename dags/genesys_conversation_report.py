"""
### Conversation-detail analytics report (Genesys Cloud)

A per-group report of the window's conversations (default: media type × queue) as CSV, JSON and
Parquet, plus the session-level table it was computed from, published atomically to object storage;
presigned URLs go to the signed webhook and stay in XCom.

**Window**: the reporting day before the run (daily at 02:00 UTC), or the `start`/`end` params
(manual runs, backfills), cut in the `timezone` param's zone.

**Steps**: validate params → authenticate → plan (build the `ConversationQuery`; in `auto` mode, one
1-row probe per UTC day reads `totalHits`) → **sync** details query with body paging when every day is
under the 100,000-result ceiling, else (or with `mode=async`) the **async details job** (submitted in
the worker, polled in a trigger, results by cursor) → both stream pages into sorted Parquet chunks in
the run's work area, cut to the exact window by the same post-filter → flatten (k-way merge of the
chunks on `conversationStart`, dedupe on `conversationId`) → aggregate (vectorised) → publish
(manifest last, presigned URLs, webhook, audit row).

**Definitions** (the unit is the conversation): it is attributed to the queue of its first ACD segment
(the earliest segment carrying a `queueId` in a session of an `acd` or `agent` participant) and to that
session's media type; a conversation that never queued has no queue and the media type of its first
session. Talk / hold / after-call work are `tTalk` / `tHeld` / `tAcw` summed over the `agent`
participants' sessions. Per group: `conversation_count`; over ended conversations `avg_duration_s`
(`conversationEnd − conversationStart`), `talk_ratio` = Σtalk ÷ Σduration, `hold_ratio` = Σhold ÷
Σduration (0 when Σduration is 0), `efficiency_score` = max(0, 100 − hold_ratio × 50), totals in
seconds; `wrapup_codes` (distinct, sorted) and their count. Only ended conversations are queried
(`conversationEnd exists`).

**Outputs** (bucket `GENESYS_BUCKET`): `genesys_conversation_report/date=YYYY-MM-DD/`
(`interval=START_END/` for other windows) with `report.csv`, `report.json`, `report.parquet` (the
`formats` param), `sessions.parquet` and `_manifest.json` (written last). Byte-identical on re-run.
Audit row `report_published` (conversations extracted, session rows, groups, duplicates dropped, mode,
latency).

**Endpoints** (permission `analytics:conversationDetail:view` or
`analytics:agentConversationDetail:view`): `POST /api/v2/analytics/conversations/details/query`;
`POST /api/v2/analytics/conversations/details/jobs`, `GET …/jobs/{jobId}`,
`GET …/jobs/{jobId}/results`.
"""

from __future__ import annotations

from typing import Any

import pendulum
from airflow.sdk import Param, dag, get_current_context, task

from genesys_cloud.config import settings
from genesys_cloud.dag_support import default_args, validated_run
from genesys_cloud.operators.analytics_job import GenesysAnalyticsJobOperator
from genesys_cloud.operators.authenticate import GenesysAuthenticateOperator

DAG_ID = "genesys_conversation_report"
API_POOL = settings().api_pool
UUID_PATTERN = r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"
MEDIA_TYPES = ["callback", "chat", "cobrowse", "email", "internalmessage", "message", "screenmonitoring",
               "screenshare", "unknown", "video", "voice"]
GROUP_DIMENSIONS = ["mediaType", "queueId", "originatingDirection", "outboundCampaignId"]
FORMATS = ["csv", "json", "parquet"]

PARAMS: dict[str, Param] = {
    "start": Param(None, type=["null", "string"],
                   description="Window start (ISO date or datetime; naive = in `timezone`). With `end`."),
    "end": Param(None, type=["null", "string"],
                 description="Window end, exclusive (ISO date or datetime). Must not be after the run."),
    "timezone": Param("UTC", type="string", description="IANA time zone of the reporting day."),
    "media_type": Param(None, type=["null", "string"], enum=[None, *MEDIA_TYPES],
                        description="Only conversations with a segment of this media type. Empty: all."),
    "queue_ids": Param([], type=["array", "null"], items={"type": "string", "pattern": UUID_PATTERN},
                       description="Only conversations with a segment in one of these queues. Empty: all."),
    "group_by": Param(["mediaType", "queueId"], type="array", minItems=1, uniqueItems=True,
                      items={"type": "string", "enum": GROUP_DIMENSIONS},
                      description="Report groups (conversation-level dimensions, see the DAG docs)."),
    "formats": Param(FORMATS, type="array", minItems=1, uniqueItems=True, items={"type": "string", "enum": FORMATS},
                     description="Report files to write (the session table is always written)."),
    "url_expiry_hours": Param(24, type="integer", minimum=1, maximum=168,
                              description="Lifetime of the presigned URLs, hours (S3 allows at most 7 days)."),
    "mode": Param("auto", type="string", enum=["auto", "sync", "async"],
                  description="auto: sync query under the 100,000-results-per-day ceiling, else async job."),
}


def _setup(data: dict[str, Any]) -> tuple[Any, Any]:
    from genesys_pipelines.conversation_report.params import ReportParams
    from genesys_pipelines.windows import Window

    return ReportParams.model_validate(data["params"]), Window.from_dict(data["window"])


def _publisher(window: Any, run_id: str) -> Any:
    from genesys_cloud.sinks.object_store import PartitionPublisher

    return PartitionPublisher(pipeline=DAG_ID, window_start=window.local_start(), window_end=window.local_end(),
                              run_id=run_id)


@dag(
    dag_id=DAG_ID,
    schedule="0 2 * * *",
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    catchup=False,
    max_active_runs=4,
    tags=["genesys", "analytics", "conversations"],
    doc_md=__doc__,
    params=PARAMS,
    default_args=default_args(),
)
def genesys_conversation_report() -> None:
    @task
    def validate_params() -> dict[str, Any]:
        """Params and window, checked before any API call (a bad param fails here, by name)."""
        from genesys_pipelines.conversation_report.params import validate_params as parse

        return validated_run(parse)

    @task(pool=API_POOL, multiple_outputs=True)
    def plan(setup: dict[str, Any]) -> dict[str, Any]:
        """The query bodies and the path: sync while each day's totalHits is under the ceiling."""
        from genesys_cloud.hooks.genesys_cloud import GenesysCloudHook
        from genesys_cloud.hooks.pagination import DETAILS_CEILING
        from genesys_cloud.operators.conversation_report import check_data_availability, day_hits
        from genesys_pipelines.conversation_report.query import build_async_query, build_query, choose_mode

        params, window = _setup(setup)
        query = build_query(params, window.interval()).to_api()
        hook = GenesysCloudHook()
        hits = day_hits(hook, query) if params.mode == "auto" else {}
        mode = choose_mode(params.mode, hits, DETAILS_CEILING)
        # The async job reads the datalake: only run it on a window the datalake already holds.
        available = check_data_availability(hook, window.end) if mode == "async" else None
        return {
            "mode": mode,
            "data_availability_date": available,
            "day_hits": hits,
            "query": query,
            "async_query": build_async_query(params, window.interval()).to_api(),
        }

    @task.branch
    def choose_path(planned: dict[str, Any]) -> str:
        return "extract_sync" if planned["mode"] == "sync" else "submit_job"

    def _extract(setup: dict[str, Any], conversations: Any, started: float) -> dict[str, Any]:
        import tempfile
        import time
        from pathlib import Path

        from genesys_cloud.operators.conversation_report import extract_to_chunks, upload_work

        _, window = _setup(setup)
        publisher = _publisher(window, get_current_context()["run_id"])
        with tempfile.TemporaryDirectory(prefix="conversation_report_") as tmp:
            stats = extract_to_chunks(conversations, Path(tmp))
            keys = upload_work(publisher, stats.paths, "chunks")
        return {"chunk_keys": keys, "conversations": stats.conversations, "rows": stats.rows,
                "duplicates": stats.duplicates, "seconds": round(time.monotonic() - started, 3)}

    @task(pool=API_POOL)
    def extract_sync(setup: dict[str, Any], planned: dict[str, Any]) -> dict[str, Any]:
        """Sync details query, body paging, streamed into Parquet chunks (XCom: their keys and counts)."""
        import time

        from genesys_cloud.hooks.genesys_cloud import GenesysCloudHook
        from genesys_cloud.operators.conversation_report import sync_conversations

        started = time.monotonic()
        with GenesysCloudHook() as hook:
            return _extract(setup, sync_conversations(hook, planned["query"]), started)

    @task(pool=API_POOL)
    def extract_job(setup: dict[str, Any], job: dict[str, Any]) -> dict[str, Any]:
        """The async job's results by cursor, post-filtered to the window like the sync path."""
        import time

        from genesys_cloud.hooks.genesys_cloud import GenesysCloudHook
        from genesys_cloud.operators.conversation_report import job_conversations

        started = time.monotonic()
        _, window = _setup(setup)
        with GenesysCloudHook() as hook:
            return _extract(setup, job_conversations(hook, job["job_id"], window.interval()), started)

    @task(trigger_rule="none_failed_min_one_success")
    def flatten(setup: dict[str, Any], planned: dict[str, Any]) -> dict[str, Any]:
        """K-way merge of the chunks into the session table (dedupe on conversationId), staged."""
        import tempfile
        import time
        from pathlib import Path

        from genesys_cloud.operators.conversation_report import download
        from genesys_pipelines.conversation_report.chunks import write_session_table

        started = time.monotonic()
        context = get_current_context()
        ti = context["ti"]
        # The branch this run took (a cleared run may have taken the other one before: its XCom is stale).
        extracted = ti.xcom_pull(task_ids="extract_sync" if planned["mode"] == "sync" else "extract_job")
        _, window = _setup(setup)
        publisher = _publisher(window, context["run_id"])
        with tempfile.TemporaryDirectory(prefix="conversation_report_") as tmp:
            paths = download(publisher, extracted["chunk_keys"], Path(tmp) / "chunks")
            target = Path(tmp) / "sessions.parquet"
            merged = write_session_table(paths, str(target))
            key = publisher.stage_file("sessions.parquet", target, content_type="application/vnd.apache.parquet",
                                       rows=merged.rows)
        return {"session_key": key, "conversations": merged.conversations, "rows": merged.rows,
                "duplicates": extracted["duplicates"] + merged.duplicates, "extract_seconds": extracted["seconds"],
                "seconds": round(time.monotonic() - started, 3)}

    @task
    def aggregate(setup: dict[str, Any], flat: dict[str, Any]) -> dict[str, Any]:
        """Vectorised per-group report from the session table, staged in the requested formats."""
        import tempfile
        import time
        from pathlib import Path

        from genesys_cloud.operators.conversation_report import download
        from genesys_pipelines.conversation_report.aggregate import aggregate as aggregate_report
        from genesys_pipelines.conversation_report.aggregate import read_session_batches
        from genesys_pipelines.conversation_report.export import CONTENT_TYPES, render

        started = time.monotonic()
        params, window = _setup(setup)
        publisher = _publisher(window, get_current_context()["run_id"])
        with tempfile.TemporaryDirectory(prefix="conversation_report_") as tmp:
            [path] = download(publisher, [flat["session_key"]], Path(tmp))
            rows = aggregate_report(read_session_batches(path), params.group_by)
        window_doc = {"start": window.start.isoformat(), "end": window.end.isoformat(), "tz": window.tz}
        for fmt, data in render(rows, params.group_by, window_doc, params.formats).items():
            publisher.stage_bytes(f"report.{fmt}", data, content_type=CONTENT_TYPES[fmt], rows=len(rows))
        return {"groups": len(rows), "seconds": round(time.monotonic() - started, 3)}

    @task
    def publish(setup: dict[str, Any], planned: dict[str, Any], flat: dict[str, Any],
                report: dict[str, Any]) -> dict[str, Any]:
        """Publish atomically, presign, deliver the signed webhook, write the audit row."""
        import time

        from genesys_cloud.operators.conversation_report import clear_work, publish_partition
        from genesys_cloud.sinks.audit import AuditRow, AuditSink
        from genesys_cloud.sinks.webhook import WebhookSink, idempotency_key

        started = time.monotonic()
        context = get_current_context()
        params, window = _setup(setup)
        publisher = _publisher(window, context["run_id"])
        audit = AuditSink()
        audit.ensure_schema()
        manifest = publish_partition(
            publisher,
            {"group_by": list(params.group_by), "conversations": flat["conversations"], "groups": report["groups"]},
            names=["sessions.parquet", *(f"report.{fmt}" for fmt in params.formats)],
        )
        objects = [{"name": o["name"], "key": o["key"], "size": o["size"], "sha256": o["sha256"],
                    "url": publisher.presign(o["key"], params.url_expiry_hours)} for o in manifest["objects"]]
        clear_work(publisher)
        summary = {"conversations": flat["conversations"], "session_rows": flat["rows"],
                   "groups": report["groups"], "duplicates_dropped": flat["duplicates"], "mode": planned["mode"]}
        event = "report_published"
        ti = context["ti"]
        delivery = WebhookSink().deliver(
            {"event": event, "dag_id": DAG_ID, "window": window.to_dict(), "bucket": manifest["bucket"],
             "manifest_key": manifest["manifest_key"], "url_expiry_hours": params.url_expiry_hours,
             "objects": objects, **summary},
            # identity of the delivery only: never the URLs, which change on every run
            idempotency_key(DAG_ID, window.start, window.end, ti.task_id, ti.map_index, event),
        )
        seconds = {"extract": flat["extract_seconds"], "flatten": flat["seconds"], "aggregate": report["seconds"],
                   "publish": round(time.monotonic() - started, 3)}
        audit.record([AuditRow.from_context(
            context, window.start, window.end, event, entity_type="partition", entity_id=manifest["partition"],
            status="success", latency_ms=round(sum(seconds.values()) * 1000, 1),
            record_count=flat["conversations"],
            details={**summary, "day_hits": planned["day_hits"], "seconds": seconds,
                     "webhook_status": delivery.get("status_code")},
        )])
        return {"manifest_key": manifest["manifest_key"], "urls": {o["name"]: o["url"] for o in objects},
                **summary}

    setup = validate_params()
    planned = plan(setup)
    setup >> GenesysAuthenticateOperator(task_id="authenticate") >> planned
    branch = choose_path(planned)
    synced = extract_sync(setup, planned)
    job = GenesysAnalyticsJobOperator(task_id="submit_job", query=planned["async_query"], job_kind="details",
                                      pool=API_POOL)
    jobbed = extract_job(setup, job.output)
    branch >> [synced, job]
    flat = flatten(setup, planned)
    [synced, jobbed] >> flat
    publish(setup, planned, flat, aggregate(setup, flat))


genesys_conversation_report()
