"""Deterministic output bytes (Parquet, JSON), the run summary and the webhook payload.

Re-running a window must give byte-identical files, so: a fixed Parquet schema written by pyarrow
without a pandas index, rows sorted by campaign id, JSON with sorted keys, and nothing from the run
itself (run id, wall clock, live snapshot) in file content.
"""

from __future__ import annotations

import io
import json
from collections import Counter
from collections.abc import Mapping, Sequence
from typing import Any

from genesys_pipelines.no_data import run_flags
from genesys_pipelines.windows import Window

ROWS_PARQUET = "campaign_stats.parquet"
ROWS_JSON = "campaign_stats.json"
#: What a NO_DATA run of this pipeline found empty (its WARNING and failure messages say it).
NO_DATA_WHAT = "no campaign had outbound activity (every campaign NO_ACTIVITY, or no campaign selected)"

#: Column order and Arrow type names of the output table.
COLUMNS: tuple[tuple[str, str], ...] = (
    ("campaign_id", "string"),
    ("campaign_name", "string"),
    ("division_id", "string"),
    ("window_start", "string"),
    ("window_end", "string"),
    ("timezone", "string"),
    ("attempted", "int64"),
    ("connected", "int64"),
    ("abandoned", "int64"),
    ("handled", "int64"),
    ("conversions", "int64"),
    ("handle_time_s", "float64"),
    ("talk_time_s", "float64"),
    ("hold_time_s", "float64"),
    ("acw_time_s", "float64"),
    ("avg_handle_time_s", "float64"),
    ("avg_talk_time_s", "float64"),
    ("avg_hold_time_s", "float64"),
    ("avg_acw_time_s", "float64"),
    ("connect_rate", "float64"),
    ("abandon_rate", "float64"),
    ("conversion_rate", "float64"),
    ("no_activity", "bool"),
    ("history_days", "int64"),
    ("avg_handle_time_zscore", "float64"),
    ("connect_rate_zscore", "float64"),
    ("abandon_rate_zscore", "float64"),
    ("flags", "list<string>"),
    ("status", "string"),
)


def sorted_rows(rows: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Rows restricted to :data:`COLUMNS`, in column order, sorted by campaign id."""
    names = [name for name, _ in COLUMNS]
    return [{name: row.get(name) for name in names} for row in sorted(rows, key=lambda r: r["campaign_id"])]


def arrow_schema() -> Any:
    import pyarrow as pa

    types = {
        "string": pa.string(),
        "int64": pa.int64(),
        "float64": pa.float64(),
        "bool": pa.bool_(),
        "list<string>": pa.list_(pa.string()),
    }
    return pa.schema([pa.field(name, types[kind]) for name, kind in COLUMNS])


def parquet_bytes(rows: Sequence[Mapping[str, Any]]) -> bytes:
    """The rows as one Parquet file (zstd), deterministic for the same rows."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    table = pa.Table.from_pylist(sorted_rows(rows), schema=arrow_schema())
    buf = io.BytesIO()
    pq.write_table(table, buf, compression="zstd")
    return buf.getvalue()


def window_facts(window: Window) -> dict[str, str]:
    """The window as written into files: without ``source`` (a scheduled run and a manual run of the
    same window must write the same bytes)."""
    facts = window.to_dict()
    facts.pop("source", None)
    return facts


def summary(rows: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """Run summary: campaign counts, accuracy rate (share of campaigns without flags), flag counts, totals,
    and the run's flags (``NO_DATA`` when no campaign had any activity in the window)."""
    flagged = sum(1 for row in rows if row["flags"])
    flag_counts = Counter(flag for row in rows for flag in row["flags"])
    totals = {key: sum(int(row[key]) for row in rows) for key in ("attempted", "connected", "abandoned", "conversions")}
    return {
        "campaigns": len(rows),
        "campaigns_flagged": flagged,
        "accuracy_rate": round((len(rows) - flagged) / len(rows), 6) if rows else 1.0,
        "flag_counts": dict(sorted(flag_counts.items())),
        "totals": totals,
        "flags": run_flags(all(row.get("no_activity") for row in rows)),
    }


def json_bytes(rows: Sequence[Mapping[str, Any]], window: Window) -> bytes:
    """The rows, the window and the summary as one JSON document (sorted keys, trailing newline)."""
    document = {"window": window_facts(window), "rows": sorted_rows(rows), "summary": summary(rows)}
    return (json.dumps(document, sort_keys=True, indent=1, ensure_ascii=False) + "\n").encode("utf-8")


def webhook_payload(
    rows: Sequence[Mapping[str, Any]],
    window: Window,
    *,
    pipeline: str,
    objects: Mapping[str, str] | None = None,
    live_snapshot: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """The BI webhook body: rows with their flags, the summary, object URLs and, when asked for, the live
    snapshot under its own key (it is the campaign's cumulative state when the run ran, not window data)."""
    payload: dict[str, Any] = {
        "pipeline": pipeline,
        "window": window_facts(window),
        "rows": sorted_rows(rows),
        "summary": summary(rows),
        "objects": dict(objects or {}),
    }
    if live_snapshot is not None:
        payload["live_snapshot"] = {"kind": "snapshot_at_run_time", "campaigns": dict(live_snapshot)}
    return payload


def snapshot_entry(stats: Mapping[str, Any] | None, progress: Mapping[str, Any] | None) -> dict[str, Any]:
    """The few live figures worth sending from ``/stats`` and ``/progress`` (genesys-api.md §3a)."""
    stats = stats or {}
    progress = progress or {}
    contact_rate = stats.get("contactRate") or {}
    business = stats.get("businessCategoryMetrics") or {}
    return {
        "connect_ratio": contact_rate.get("connectRatio"),
        "attempts": contact_rate.get("attempts"),
        "connects": contact_rate.get("connects"),
        "success_count": business.get("successCount"),
        "idle_agents": stats.get("idleAgents"),
        "outstanding_calls": stats.get("outstandingCalls"),
        "progress_percentage": progress.get("percentage"),
        "contacts_called": progress.get("numberOfContactsCalled"),
        "contacts_total": progress.get("totalNumberOfContacts"),
    }


def delivery(
    validated: Sequence[Mapping[str, Any]],
    window: Window,
    *,
    pipeline: str,
    snapshot: Mapping[str, Any] | None,
    deliver_webhook: bool | None = None,
    include_live_snapshot: bool | None = None,
    params: Mapping[str, Any] | None = None,
    data_availability: Any = None,
) -> dict[str, Any]:
    """What the run delivers (the provider's ``Delivery`` fields): the two files, the summary in the manifest,
    the webhook body with the object URLs, one audit row per campaign and a run summary row.

    ``validated`` is the list of the mapped validate tasks' outputs (``{"rows", "latency_ms"}`` each).
    ``params`` (the run's params as JSON) adds the restatement facts, and gives ``deliver_webhook`` and
    ``include_live_snapshot`` when they are not passed; ``data_availability`` is the datalake's date seen.
    """
    if deliver_webhook is None:
        deliver_webhook = bool((params or {}).get("deliver_webhook", True))
    if include_live_snapshot is None:
        include_live_snapshot = bool((params or {}).get("include_live_snapshot", False))
    rows = [row for batch in validated for row in batch["rows"]]
    latency = {row["campaign_id"]: batch["latency_ms"] for batch in validated for row in batch["rows"]}
    run_summary = summary(rows)

    def payload(published: Any) -> dict[str, Any]:
        return webhook_payload(rows, window, pipeline=pipeline, objects=published.urls,
                               live_snapshot=snapshot if include_live_snapshot else None)

    def audit(published: Any) -> list[dict[str, Any]]:
        entries = [
            {"event": "campaign_stats", "entity_type": "outbound_campaign", "entity_id": row["campaign_id"],
             "status": row["status"], "latency_ms": latency.get(row["campaign_id"]), "record_count": 1,
             "details": {"flags": row["flags"], "partition": published.partition}}
            for row in rows
        ]
        entries.append(
            {"event": "run_summary", "entity_type": "run", "entity_id": pipeline,
             "status": "no_data" if run_summary["flags"] else "flagged" if run_summary["campaigns_flagged"] else "ok",
             "latency_ms": max(latency.values(), default=None), "record_count": len(rows),
             "details": {**run_summary, "manifest_key": published.manifest_key, "webhook": published.webhook}}
        )
        return entries

    return {
        "event": "rows",
        "objects": {ROWS_PARQUET: (parquet_bytes(rows), "application/vnd.apache.parquet", len(rows)),
                    ROWS_JSON: (json_bytes(rows, window), "application/json", len(rows))},
        "manifest_extra": {"summary": run_summary},
        "payload": payload if deliver_webhook else None,
        "audit": audit,
        # Late-arriving data: the counts the rows came from, to compare with later (None without params).
        "restatement": restatement(rows, window, params, data_availability),
    }


def restatement(rows: Sequence[Mapping[str, Any]], window: Window, params: Mapping[str, Any] | None,
                data_availability: Any) -> dict[str, Any] | None:
    """The delivery's restatement facts (``genesys_pipelines.restatement``): source fingerprint, finality and
    the params that rebuild the partition; None when the caller gives no params."""
    if params is None:
        return None
    from genesys_pipelines.restatement.source import run_conf, stats_source

    return {"source": stats_source(list(rows), window, data_availability), "run_conf": run_conf(params, window)}


def asset_extra(window: Mapping[str, Any], published: Mapping[str, Any]) -> dict[str, Any]:
    """The asset event's extra: the window, the manifest key, the summary and the partition's restatement
    version. A restated day (``version`` > 1) emits its event again, marked: consumers such as the pacing
    forecast must treat it as stale data, not as a new day."""
    block = (published.get("extra") or {}).get("restatement") or {}
    return {"window": dict(window), "manifest_key": published["manifest_key"], "summary": published["extra"]["summary"],
            "restatement": {"version": block.get("version", 1), "restated_from": block.get("restated_from")}}


def flags_failure(run_summary: Mapping[str, Any]) -> str:
    """Why a ``fail_on_flags`` run fails (after everything was delivered)."""
    return (f"fail_on_flags: {run_summary['campaigns_flagged']} of {run_summary['campaigns']} campaigns flagged "
            f"{run_summary['flag_counts']}")


def deliveries(validated: Sequence[Mapping[str, Any]], window: Window, days: Sequence[Window], *, pipeline: str,
               snapshot: Mapping[str, Any] | None, params: Mapping[str, Any],
               data_availability: Any = None) -> list[tuple[Window, dict[str, Any]]]:
    """``(window, delivery)`` per partition the run publishes: its window's, or one per reporting day of a
    range run (``days``; each batch's ``{"days": [...]}``), each exactly what that day's own run delivers
    (its manifest records the day run's params: ``publish_days`` off)."""
    if not days:
        return [(window, delivery(validated, window, pipeline=pipeline, snapshot=snapshot, params=params,
                                  data_availability=data_availability))]
    day_params = {**params, "publish_days": False}
    return [(day, delivery([batch["days"][i] for batch in validated], day, pipeline=pipeline, snapshot=snapshot,
                           params=day_params, data_availability=data_availability)) for i, day in enumerate(days)]
