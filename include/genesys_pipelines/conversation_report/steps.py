"""The conversation report's steps, over an injected API client and the run's object store.

Pure of Airflow: ``api`` has the hook's analytics verbs (``details_total_hits``,
``details_job_availability``); ``store`` is the run's partition publisher (``download``, ``stage_file``,
``stage_bytes``), so these run the same in the DAG, the benchmark and tests.
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Mapping
from datetime import datetime
from pathlib import Path
from typing import Any

from genesys_pipelines.conversation_report.names import resolve_names
from genesys_pipelines.conversation_report.params import ReportParams
from genesys_pipelines.conversation_report.query import build_async_query, build_query, choose_mode
from genesys_pipelines.windows import Window, format_interval, parse_instant, utc_days

#: The sync details query refuses to page past this many results (genesys-api.md §2.1).
DETAILS_CEILING = 100_000
SESSIONS = "sessions.parquet"


class DataNotYetAvailable(RuntimeError):
    """The window ends after the datalake's ``dataAvailabilityDate`` (retryable: the data lands later)."""


def day_hits(api: Any, query: Mapping[str, Any]) -> dict[str, int]:
    """``totalHits`` of the sync query per UTC day of its interval (one 1-row page each).

    The sync query matches whole days and its ceiling applies per query, so the day is the unit that
    decides between the sync query and the async job.
    """
    start, end = (parse_instant(v) for v in query["interval"].split("/"))
    return {day[0].date().isoformat(): api.details_total_hits(query, format_interval(day))
            for day in utc_days((start, end))}


def check_data_availability(api: Any, window_end: datetime) -> str:
    """The async details job reads the datalake: data before ``dataAvailabilityDate`` is guaranteed to be
    there. A window ending after it would give a silently incomplete (yet "complete") partition, so fail
    with a retryable error instead; the task's retries try again later. Returns the availability date."""
    available = api.details_job_availability()
    if window_end > available:
        raise DataNotYetAvailable(
            f"analytics data is available up to {available.isoformat()}, but the window ends "
            f"{window_end.isoformat()}: the async details job would miss data; retrying later"
        )
    return available.isoformat()


def hits_of(source: Mapping[str, Any] | None) -> dict[str, int] | None:
    """Per UTC day, the ``totalHits`` the restatement probes already read (the probe is the same details
    query, one row ordered by end: its ``totalHits`` is the day's), so the plan needs no probe of its own;
    None without source facts."""
    if not source or source.get("kind") != "details":
        return None
    return {day: int(fp["total_hits"]) for day, fp in source["days"].items()}


def plan_probed(api: Any, params: ReportParams, window: Window, work_prefix: str, *,
                range_run: bool = False) -> dict[str, Any]:
    """:func:`plan` (or :func:`plan_range`) with the window's restatement source facts under ``source``:
    ONE 1-row details probe per UTC day serves both the fingerprint and the per-day ``totalHits`` (it used
    to be two), read BEFORE extracting (data landing during the run shows as a change later)."""
    from genesys_pipelines.restatement.source import details_source

    source = details_source(api, build_query(params, window.interval()).to_api(), window)
    planned = (plan_range if range_run else plan)(api, params, window, work_prefix, hits=hits_of(source))
    return {**planned, "source": source}


def plan(api: Any, params: ReportParams, window: Window, work_prefix: str,
         hits: Mapping[str, int] | None = None) -> dict[str, Any]:
    """The query bodies and the extraction method: sync while each UTC day's totalHits is under the
    ceiling, else the async job (only on a window the datalake already holds). ``hits``: the per-UTC-day
    ``totalHits`` when already read (:func:`plan_probed`), else one 1-row page per day here."""
    query = build_query(params, window.interval()).to_api()
    if params.mode != "auto":
        hits = {}
    elif hits is None:
        hits = day_hits(api, query)
    hits = dict(hits)
    mode = choose_mode(params.mode, hits, DETAILS_CEILING)
    available = check_data_availability(api, window.end) if mode == "async" else None
    resolved = resolve_names(api, params.group_by)  # once per run, from the org's listings (small: id -> name)
    return {
        "names": resolved["names"],
        "names_missing": resolved["missing"],
        "mode": mode,
        "method": "sync" if mode == "sync" else "job",
        "data_availability_date": available,
        "day_hits": hits,
        "query": query,
        "async_query": build_async_query(params, window.interval()).to_api(),
        "chunks_prefix": f"{work_prefix}chunks/",
    }


def plan_range(api: Any, params: ReportParams, window: Window, work_prefix: str,
               hits: Mapping[str, int] | None = None) -> dict[str, Any]:
    """The plan of a range run that publishes day partitions (``ranges``): per-day ``totalHits`` (one
    1-row page per UTC day), the cost of each extraction method and the one chosen, the query bodies over
    the whole range. The cost estimate is returned under ``range`` (logged and audited by the caller).
    ``hits``: the per-UTC-day ``totalHits`` when already read (:func:`plan_probed`)."""
    import logging

    from genesys_pipelines.conversation_report import ranges
    from genesys_pipelines.day_ranges import range_days

    days = range_days(window)
    query = build_query(params, window.interval()).to_api()
    hits = dict(hits) if hits is not None else day_hits(api, query)
    available_at = None
    if params.mode != "sync":
        try:
            available_at = check_data_availability(api, window.end)
        except DataNotYetAvailable:
            if params.mode == "async":
                raise
    cost = ranges.extraction_cost(hits, DETAILS_CEILING, params.mode, job_available=available_at is not None)
    logging.getLogger(__name__).info(
        "Range run of %d reporting days (%s conversations): sync query ~%d requests, async job ~%d requests: "
        "%s (%s)", len(days), cost["conversations"], cost["sync_requests"], cost["job_requests"], cost["mode"],
        cost["reason"])
    resolved = resolve_names(api, params.group_by)  # once for the whole range: every day gets the same names
    return {
        "names": resolved["names"],
        "names_missing": resolved["missing"],
        "mode": cost["mode"],
        "method": "sync" if cost["mode"] == "sync" else "job",
        "data_availability_date": available_at if cost["mode"] == "async" else None,
        "day_hits": hits,
        "query": query,
        "async_query": build_async_query(params, window.interval()).to_api(),
        "chunks_prefix": f"{work_prefix}chunks/",
        "range": cost,
    }


def flatten_days(store: Any, day_stores: list[Any], days: list[Window],
                 extracted: Mapping[str, Any], names: Mapping[str, Mapping[str, str]] | None = None) -> list[dict[str, Any]]:
    """:func:`flatten` for a range run: the range's chunks (downloaded once) cut by reporting day, each
    day's session table merged and staged in ``day_stores[i]`` (the day's own partition)."""
    from genesys_pipelines.conversation_report.chunks import write_session_table
    from genesys_pipelines.conversation_report.ranges import split_chunks

    out = []
    with tempfile.TemporaryDirectory(prefix="conversation_report_") as tmp:
        paths = store.download(list(extracted["chunk_keys"]), Path(tmp) / "chunks")
        per_day = split_chunks(paths, days, Path(tmp) / "days")  # in extraction order, as flatten()
        for i, (day_store, day_paths) in enumerate(zip(day_stores, per_day, strict=True)):
            started = time.monotonic()
            target = Path(tmp) / f"{i:04d}-{SESSIONS}"
            merged = write_session_table(day_paths, str(target), code_names=_code_names(names))
            key = day_store.stage_file(SESSIONS, target, content_type="application/vnd.apache.parquet",
                                       rows=merged.rows)
            out.append({"session_key": key, "conversations": merged.conversations, "rows": merged.rows,
                        "duplicates": merged.duplicates, "extract_seconds": extracted["seconds"],
                        "seconds": round(time.monotonic() - started, 3)})
    return out


def _code_names(names: Mapping[str, Mapping[str, str]] | None) -> dict[str, str]:
    return dict((names or {}).get("wrapUpCode") or {})


def flatten(store: Any, extracted: Mapping[str, Any],
            names: Mapping[str, Mapping[str, str]] | None = None) -> dict[str, Any]:
    """K-way merge of the extraction's sorted chunks into the session table (dedupe on conversationId),
    staged as ``sessions.parquet`` (each ``wrap_up_code`` followed by its name from ``names``)."""
    from genesys_pipelines.conversation_report.chunks import write_session_table

    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="conversation_report_") as tmp:
        paths = store.download(list(extracted["chunk_keys"]), Path(tmp) / "chunks")
        target = Path(tmp) / SESSIONS
        merged = write_session_table(paths, str(target), code_names=_code_names(names))
        key = store.stage_file(SESSIONS, target, content_type="application/vnd.apache.parquet", rows=merged.rows)
    return {"session_key": key, "conversations": merged.conversations, "rows": merged.rows,
            "duplicates": extracted["duplicates"] + merged.duplicates, "extract_seconds": extracted["seconds"],
            "seconds": round(time.monotonic() - started, 3)}


def aggregate(store: Any, params: ReportParams, window: Window, flat: Mapping[str, Any],
              names: Mapping[str, Mapping[str, str]] | None = None) -> dict[str, Any]:
    """Vectorised per-group report from the session table, staged in the requested formats (queue, campaign
    and wrap-up code ids followed by their ``names``)."""
    from genesys_pipelines.conversation_report.aggregate import aggregate as aggregate_report
    from genesys_pipelines.conversation_report.aggregate import read_session_batches
    from genesys_pipelines.conversation_report.export import CONTENT_TYPES, render

    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="conversation_report_") as tmp:
        [path] = store.download([flat["session_key"]], Path(tmp))
        rows = aggregate_report(read_session_batches(path), params.group_by)
    window_doc = {"start": window.start.isoformat(), "end": window.end.isoformat(), "tz": window.tz}
    for fmt, data in render(rows, params.group_by, window_doc, params.formats, names).items():
        store.stage_bytes(f"report.{fmt}", data, content_type=CONTENT_TYPES[fmt], rows=len(rows))
    return {"groups": len(rows), "seconds": round(time.monotonic() - started, 3)}
