"""Export CSV → typed, BI-ready Arrow table, driven by the view's mapping in ``views.yaml``.

Steps: match the file's headers to configured columns, blank → null, cast each column to its type
(durations to seconds, percentages to fractions, timestamps to UTC), drop and count rows whose key
columns are null, and sort on every column so the output bytes do not depend on row order in the file.
The output schema is fixed by the configuration: a configured column absent from the file is an
all-null column of its type, so every partition of a view has the same schema.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from typing import Any
from zoneinfo import ZoneInfo

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from genesys_pipelines.reporting_export.config import ColumnSpec, ViewConfig, normalize_header
from genesys_pipelines.reporting_export.csv_io import RawTable

ARROW_TYPES: dict[str, pa.DataType] = {
    "string": pa.string(),
    "int": pa.int64(),
    "float": pa.float64(),
    "percent": pa.float64(),
    "fraction": pa.float64(),
    "duration": pa.float64(),
    "timestamp": pa.timestamp("ms", tz="UTC"),
    "bool": pa.bool_(),
}
_HMS = re.compile(r"^(-?)(\d+):([0-5]?\d):([0-5]?\d(?:\.\d+)?)$")
_DECIMAL_COMMA = re.compile(r"^(-?\d+),(\d+)$")
_TRUE = {"true", "yes", "y", "1"}
_FALSE = {"false", "no", "n", "0"}


@dataclass
class TransformStats:
    rows_in: int = 0
    rows_out: int = 0
    dropped_missing_key: int = 0
    cast_errors: dict[str, int] = field(default_factory=dict)
    missing_columns: list[str] = field(default_factory=list)
    missing_required: list[str] = field(default_factory=list)
    unmapped_source_columns: list[str] = field(default_factory=list)
    encoding: str = "utf-8"
    delimiter: str = ","
    ragged_rows: int = 0
    empty_file: bool = False

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def schema_for(view: ViewConfig) -> pa.Schema:
    """The fixed output schema of a view (configuration order)."""
    return pa.schema([pa.field(c.name, ARROW_TYPES[c.type], nullable=True) for c in view.columns])


# -- casting (blank cells are already null) -------------------------------------------------------------
def _numeric(values: pd.Series) -> pd.Series:
    # Semicolon-delimited exports from decimal-comma locales write "12,5"; a lone comma is the decimal mark.
    return pd.to_numeric(values.str.replace(_DECIMAL_COMMA, r"\1.\2", regex=True), errors="coerce")


def _duration_seconds(values: pd.Series, unit: str) -> pd.Series:
    seconds = _numeric(values) / (1000.0 if unit == "ms" else 1.0)
    parts = values.str.extract(_HMS)
    hms = parts[1].astype("float64") * 3600 + parts[2].astype("float64") * 60 + parts[3].astype("float64")
    hms = hms.where(parts[0] != "-", -hms)
    return seconds.fillna(hms)


def _timestamp(value: str, tz: ZoneInfo) -> datetime | None:
    try:
        dt = datetime.fromisoformat(value.replace(" ", "T", 1) if "T" not in value else value)
    except ValueError:
        return None
    return (dt.replace(tzinfo=tz) if dt.tzinfo is None else dt).astimezone(timezone.utc)


def cast_column(values: pd.Series, spec: ColumnSpec, tz: ZoneInfo) -> tuple[list[Any], int]:
    """Python values for Arrow (None for null) and the count of non-blank cells that failed to cast."""
    present = values.notna()
    if spec.type == "string":
        return [None if pd.isna(v) else str(v) for v in values], 0
    if spec.type in ("int", "float"):
        out = _numeric(values)
        if spec.type == "int":
            out = out.where(out.isna() | (out == out.round()))  # 12.5 is not an int: a cast error
    elif spec.type == "percent":
        out = _numeric(values.str.rstrip("%").str.strip()) / 100.0
    elif spec.type == "fraction":  # already 0-1, unless the cell itself says it is a percentage
        number = _numeric(values.str.rstrip("%").str.strip())
        out = number.where(~values.str.endswith("%").fillna(False).astype(bool), number / 100.0)
    elif spec.type == "duration":
        out = _duration_seconds(values, spec.unit)
    elif spec.type == "bool":
        lowered = values.str.lower()
        out = pd.Series([True if v in _TRUE else False if v in _FALSE else None for v in lowered], dtype="object")
        out.index = values.index
    else:  # timestamp
        out = pd.Series([None if pd.isna(v) else _timestamp(v, tz) for v in values], dtype="object", index=values.index)
    errors = int((present & out.isna()).sum())
    if spec.type == "int":
        return [None if pd.isna(v) else int(v) for v in out], errors
    if spec.type in ("float", "percent", "fraction", "duration"):
        return [None if pd.isna(v) else float(v) for v in out], errors
    return [None if v is None or (not isinstance(v, bool | datetime) and pd.isna(v)) else v for v in out], errors


# -- the transform --------------------------------------------------------------------------------------
def match_columns(header: list[str], view: ViewConfig) -> dict[str, int]:
    """Configured column name → index of the first header cell matching one of its sources."""
    normalized = [normalize_header(h) for h in header]
    found: dict[str, int] = {}
    for spec in view.columns:
        for key in spec.source_keys:
            if key in normalized:
                found[spec.name] = normalized.index(key)
                break
    return found


def transform(raw: RawTable, view: ViewConfig, time_zone: str = "UTC") -> tuple[pa.Table, TransformStats]:
    """The typed, sorted output table of one export file and what happened on the way."""
    tz = ZoneInfo(time_zone)
    stats = TransformStats(
        rows_in=len(raw.rows), encoding=raw.encoding, delimiter=raw.delimiter,
        ragged_rows=raw.ragged_rows, empty_file=raw.empty_file,
    )
    positions = match_columns(raw.header, view)
    used = set(positions.values())
    stats.unmapped_source_columns = [h for i, h in enumerate(raw.header) if i not in used]
    stats.missing_columns = [c.name for c in view.columns if c.name not in positions]
    stats.missing_required = [c.name for c in view.columns if c.required and c.name not in positions]

    frame = pd.DataFrame(raw.rows, columns=range(len(raw.header)), dtype="string") if raw.rows else None
    arrays: dict[str, list[Any]] = {}
    for spec in view.columns:
        if frame is None or spec.name not in positions:
            arrays[spec.name] = [None] * len(raw.rows)
            continue
        cells = frame[positions[spec.name]].str.strip()
        cells = cells.mask(cells == "")  # blank → null before casting, so blanks are never cast errors
        arrays[spec.name], errors = cast_column(cells, spec, tz)
        if errors:
            stats.cast_errors[spec.name] = errors

    schema = schema_for(view)
    table = pa.table({name: pa.array(arrays[name], type=schema.field(name).type) for name in schema.names}, schema=schema)
    keep = None
    for key in view.key_columns:
        valid = pc.is_valid(table[key])
        keep = valid if keep is None else pc.and_(keep, valid)
    if keep is not None and len(table):
        table = table.filter(keep)
    stats.dropped_missing_key = stats.rows_in - table.num_rows
    stats.rows_out = table.num_rows
    # Sort on the key columns, then every other column: a total order, so bytes never depend on file order.
    order = list(view.key_columns) + [n for n in schema.names if n not in view.key_columns]
    if table.num_rows:
        table = table.sort_by([(n, "ascending", "at_end") for n in order])
    return table, stats
