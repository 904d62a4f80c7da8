"""Serialise the report deterministically: same rows in, same bytes out (no run ids or run times)."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Mapping, Sequence
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from genesys_pipelines.conversation_report.names import metric_columns, report_columns, with_names

CONTENT_TYPES = {"csv": "text/csv", "json": "application/json", "parquet": "application/vnd.apache.parquet"}
_METRIC_TYPES: dict[str, pa.DataType] = {
    "conversation_count": pa.int64(),
    "avg_duration_s": pa.float64(),
    "talk_ratio": pa.float64(),
    "hold_ratio": pa.float64(),
    "efficiency_score": pa.float64(),
    "wrapup_code_count": pa.int64(),
    "wrapup_codes": pa.list_(pa.string()),
    "wrapup_code_names": pa.list_(pa.string()),
    "total_talk_s": pa.float64(),
    "total_hold_s": pa.float64(),
    "total_acw_s": pa.float64(),
}


def report_schema(group_by: Sequence[str]) -> pa.Schema:
    return pa.schema(
        [pa.field(d, pa.string()) for d in report_columns(group_by)]
        + [pa.field(m, _METRIC_TYPES[m]) for m in metric_columns()]
    )


def to_csv(rows: list[dict[str, Any]], group_by: Sequence[str]) -> bytes:
    """One line per group; wrap-up codes (and their names) joined with ``|``; a missing value is an empty
    cell (so an unnamed code leaves an empty slot: ``Sale||Voicemail Left``)."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    columns = [*report_columns(group_by), *metric_columns()]
    writer.writerow(columns)
    for row in rows:
        writer.writerow(
            ["|".join(v or "" for v in row[c]) if isinstance(row[c], list) else ("" if row[c] is None else row[c])
             for c in columns]
        )
    return buf.getvalue().encode()


def to_json(rows: list[dict[str, Any]], group_by: Sequence[str], window: dict[str, Any]) -> bytes:
    document = {
        "report": "genesys_conversation_report",
        "window": window,
        "group_by": list(group_by),
        "rows": rows,
    }
    return (json.dumps(document, indent=2, ensure_ascii=False) + "\n").encode()


def to_parquet(rows: list[dict[str, Any]], group_by: Sequence[str]) -> bytes:
    schema = report_schema(group_by)
    table = pa.Table.from_pylist(rows, schema=schema)
    buf = io.BytesIO()
    pq.write_table(table, buf, compression="zstd")
    return buf.getvalue()


def render(
    rows: list[dict[str, Any]], group_by: Sequence[str], window: dict[str, Any], formats: Sequence[str],
    names: Mapping[str, Mapping[str, str]] | None = None,
) -> dict[str, bytes]:
    """``{"csv": ..., "json": ..., "parquet": ...}`` for the requested formats; each queue, campaign or
    wrap-up code id followed by its name from ``names`` (:mod:`~genesys_pipelines.conversation_report.names`)."""
    rows = with_names(rows, group_by, names)
    out: dict[str, bytes] = {}
    for fmt in formats:
        out[fmt] = (
            to_csv(rows, group_by)
            if fmt == "csv"
            else to_json(rows, group_by, window)
            if fmt == "json"
            else to_parquet(rows, group_by)
        )
    return out
