"""Genesys calls of the campaign execution statistics pipeline (genesys-api.md §3a).

Small functions over a :class:`~genesys_cloud.hooks.genesys_cloud.GenesysCloudHook` (passed in, so the
DAG's tasks stay one-liners and these stay testable with any object that has ``get``/``query``/
``paginate``). All request shaping and response reading is in ``genesys_pipelines.campaign_stats``.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from genesys_cloud.exceptions import GenesysPayloadError
from genesys_pipelines.campaign_stats import aggregates, queries
from genesys_pipelines.campaign_stats.params import CampaignStatsParams, ParamError
from genesys_pipelines.models.outbound import Campaign
from genesys_pipelines.windows import Window

if TYPE_CHECKING:
    from genesys_cloud.hooks.genesys_cloud import GenesysCloudHook

CAMPAIGNS_PATH = "/api/v2/outbound/campaigns"
WRAPUP_MAPPINGS_PATH = "/api/v2/outbound/wrapupcodemappings"
CAMPAIGNS_PAGE_SIZE = 100  # the listing's maximum


def _campaign_ref(campaign: Campaign) -> dict[str, Any]:
    return {
        "id": campaign.id,
        "name": campaign.name,
        "division_id": campaign.division.id if campaign.division else None,
        "status": campaign.campaign_status,
    }


def select_campaigns(hook: GenesysCloudHook, params: CampaignStatsParams) -> list[dict[str, Any]]:
    """The campaigns to report on, sorted by id: ``{"id", "name", "division_id", "status"}`` each.

    One page-number listing walk (100 per page) serves both cases: all campaigns (optionally filtered
    by status / division), or the ``campaign_ids`` param, whose unknown ids fail the run by name
    (cheaper than one GET per id, and a typo'd id must not pass silently as an idle campaign).
    """
    listed = [
        _campaign_ref(Campaign.model_validate(entity))
        for entity in hook.paginate(CAMPAIGNS_PATH, page_size=CAMPAIGNS_PAGE_SIZE)
    ]
    nameless = [ref for ref in listed if not ref["id"]]
    if nameless:
        # A listed campaign without its id is a broken answer; dropping it would under-report silently.
        raise GenesysPayloadError(
            f"GET {CAMPAIGNS_PATH}: {len(nameless)} listed campaign(s) missing required field id", CAMPAIGNS_PATH
        )
    by_id = {ref["id"]: ref for ref in listed}
    if params.campaign_ids:
        missing = [cid for cid in params.campaign_ids if cid not in by_id]
        if missing:
            raise ParamError("campaign_ids", f"no such outbound campaign(s): {', '.join(missing)}")
        chosen = [by_id[cid] for cid in params.campaign_ids]
    else:
        chosen = list(by_id.values())
    if params.status_filter:
        chosen = [ref for ref in chosen if ref["status"] in params.status_filter]
    if params.division_ids:
        chosen = [ref for ref in chosen if ref["division_id"] in params.division_ids]
    return sorted(chosen, key=lambda ref: ref["id"])


def conversion_rule(hook: GenesysCloudHook, params: CampaignStatsParams) -> dict[str, Any]:
    """The success rule: the ``success_wrapup_codes`` param, else the org's wrap-up code mappings."""
    if params.success_wrapup_codes:
        return aggregates.success_rule(override=params.success_wrapup_codes)
    return aggregates.success_rule(hook.get(WRAPUP_MAPPINGS_PATH))


def query_batch(
    hook: GenesysCloudHook,
    campaigns: Sequence[Mapping[str, Any]],
    window: Window,
    history_days: int = queries.HISTORY_DAYS,
) -> dict[str, Any]:
    """The three aggregates queries for one batch of campaigns, read into per-campaign sums.

    Returns ``{"campaigns", "window_sums", "wrapup_counts", "history", "latency_ms"}`` (small: a few
    numbers per campaign and history day).
    """
    ids = [str(c["id"]) for c in campaigns]
    started = time.monotonic()
    totals = hook.query(queries.AGGREGATES_PATH, queries.window_totals_query(ids, window))
    wrapups = hook.query(queries.AGGREGATES_PATH, queries.wrapup_query(ids, window))
    history = hook.query(queries.AGGREGATES_PATH, queries.history_query(ids, window, history_days))
    latency_ms = round((time.monotonic() - started) * 1000)
    return {
        "campaigns": [dict(c) for c in campaigns],
        "window_sums": aggregates.window_sums(totals),
        "wrapup_counts": aggregates.wrapup_counts(wrapups),
        "history": aggregates.daily_sums(history),
        "latency_ms": latency_ms,
    }


def live_snapshot(hook: GenesysCloudHook, campaign_ids: Sequence[str]) -> dict[str, Any]:
    """Cumulative live ``/stats`` and ``/progress`` per campaign (state when the run ran, not window data)."""
    from genesys_pipelines.campaign_stats.output import snapshot_entry

    snapshot: dict[str, Any] = {}
    for cid in sorted(campaign_ids):
        stats = hook.get(f"{CAMPAIGNS_PATH}/{cid}/stats")
        progress = hook.get(f"{CAMPAIGNS_PATH}/{cid}/progress")
        snapshot[cid] = snapshot_entry(stats, progress)
    return snapshot


def deliver_outputs(
    context: Mapping[str, Any],
    dag_id: str,
    window: Window,
    validated: Sequence[Mapping[str, Any]],
    snapshot: Mapping[str, Any] | None,
    params: Mapping[str, Any],
) -> dict[str, Any]:
    """Publish the partition, send the signed webhook, write the audit rows; returns small facts for XCom.

    ``validated`` is the list of the mapped validate tasks' outputs (``{"rows", "latency_ms"}`` each).
    """
    from genesys_cloud.sinks.audit import AuditRow, AuditSink
    from genesys_cloud.sinks.object_store import PartitionPublisher
    from genesys_cloud.sinks.webhook import WebhookSink, idempotency_key
    from genesys_pipelines.campaign_stats import output

    rows = [row for batch in validated for row in batch["rows"]]
    latency = {row["campaign_id"]: batch["latency_ms"] for batch in validated for row in batch["rows"]}
    run_summary = output.summary(rows)

    # The publisher names the partition from the bounds' own zone: pass them in the reporting zone.
    publisher = PartitionPublisher(dag_id, window.local_start(), window.local_end(), str(context["run_id"]))
    publisher.stage_bytes(output.ROWS_PARQUET, output.parquet_bytes(rows), "application/vnd.apache.parquet", rows=len(rows))
    publisher.stage_bytes(output.ROWS_JSON, output.json_bytes(rows, window), "application/json", rows=len(rows))
    manifest = publisher.publish(
        extra_manifest={"summary": run_summary}, allow_empty=False, names=[output.ROWS_PARQUET, output.ROWS_JSON]
    )
    keys = {entry["name"]: entry["key"] for entry in manifest["objects"]}

    webhook: dict[str, Any] | None = None
    ti = context.get("ti")
    if params.get("deliver_webhook", True):
        payload = output.webhook_payload(
            rows,
            window,
            pipeline=dag_id,
            objects={name: publisher.presign(key) for name, key in sorted(keys.items())},
            live_snapshot=snapshot if params.get("include_live_snapshot") else None,
        )
        key = idempotency_key(dag_id, window.start, window.end, getattr(ti, "task_id", "deliver"), -1, "rows")
        answer = WebhookSink().deliver(payload, key)
        webhook = {"status_code": answer.get("status_code"), "attempts": answer.get("attempts")}

    audit_rows = [
        AuditRow.from_context(
            context, window.start, window.end, "campaign_stats",
            entity_type="outbound_campaign", entity_id=row["campaign_id"], status=row["status"],
            latency_ms=latency.get(row["campaign_id"]), record_count=1,
            details={"flags": row["flags"], "partition": publisher.partition},
        )
        for row in rows
    ]
    audit_rows.append(
        AuditRow.from_context(
            context, window.start, window.end, "run_summary",
            entity_type="run", entity_id=dag_id, status="flagged" if run_summary["campaigns_flagged"] else "ok",
            latency_ms=max(latency.values(), default=None), record_count=len(rows),
            details={**run_summary, "manifest_key": manifest["manifest_key"], "webhook": webhook},
        )
    )
    sink = AuditSink()
    sink.ensure_schema()
    sink.record(audit_rows)
    return {
        "manifest_key": manifest["manifest_key"],
        "keys": keys,
        "summary": run_summary,
        "webhook": webhook,
    }
