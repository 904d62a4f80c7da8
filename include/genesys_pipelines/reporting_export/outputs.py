"""Output validation and deterministic serialisation of a transformed export.

Validation checks what a BI consumer relies on: the required columns were in the file, the row count
adds up (rows out = rows in − rows dropped, and at least the configured minimum), and the share of
rows dropped for a missing key stays under the threshold. Serialisation is byte-stable: a fixed
schema, rows already sorted, no pandas index, no timestamps of the run in the content.
"""

from __future__ import annotations

import io
from dataclasses import asdict, dataclass, field
from typing import Any

import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from genesys_pipelines.reporting_export.transform import TransformStats


@dataclass(frozen=True)
class Check:
    name: str
    passed: bool
    detail: str


@dataclass(frozen=True)
class ValidationResult:
    passed: bool
    checks: list[Check] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def failures(self) -> list[str]:
        return [f"{c.name}: {c.detail}" for c in self.checks if not c.passed]


def dropped_share(stats: TransformStats) -> float:
    return stats.dropped_missing_key / stats.rows_in if stats.rows_in else 0.0


def validate_output(stats: TransformStats, max_dropped_share: float, min_rows: int = 0) -> ValidationResult:
    """Run the output checks (an empty file passes the column check: it has no header to check)."""
    share = dropped_share(stats)
    checks = [
        Check(
            "required_columns",
            stats.empty_file or not stats.missing_required,
            "empty file (no header)" if stats.empty_file else f"missing {stats.missing_required}" if stats.missing_required else "all present",
        ),
        Check(
            "row_count",
            stats.rows_out == stats.rows_in - stats.dropped_missing_key and stats.rows_out >= min_rows,
            f"rows_in={stats.rows_in} dropped={stats.dropped_missing_key} rows_out={stats.rows_out} min_rows={min_rows}",
        ),
        Check("dropped_share", share <= max_dropped_share, f"{share:.4f} (max {max_dropped_share})"),
    ]
    return ValidationResult(all(c.passed for c in checks), checks)


def to_parquet_bytes(table: pa.Table) -> bytes:
    buf = io.BytesIO()
    pq.write_table(table, buf, compression="zstd")
    return buf.getvalue()


def to_csv_bytes(table: pa.Table) -> bytes:
    """UTF-8 CSV with a header, comma-delimited, quoted where needed (Arrow's writer: stable output)."""
    buf = io.BytesIO()
    pacsv.write_csv(table, buf, pacsv.WriteOptions(include_header=True, quoting_style="needed"))
    return buf.getvalue()
