"""Validation: consistency flags, z-scores against trailing history, run summary and output bytes."""

from __future__ import annotations

import json
import statistics
from datetime import UTC, datetime

import pytest

from genesys_pipelines.campaign_stats import output
from genesys_pipelines.campaign_stats.normalise import normalise_row
from genesys_pipelines.campaign_stats.validate import MIN_HISTORY_DAYS, validate_row, zscore
from genesys_pipelines.windows import Window

CID = "c0ffee00-0000-4000-8000-000000000001"
WINDOW = Window(datetime(2026, 6, 10, tzinfo=UTC), datetime(2026, 6, 11, tzinfo=UTC), "UTC", "params")


def _day(attempted: int, connected: int, abandoned: int, aht_s: float) -> dict[str, float]:
    return {
        "nOutboundAttempted": attempted, "nOutboundConnected": connected, "nOutboundAbandoned": abandoned,
        "tHandle.sum": aht_s * 1000 * connected, "tHandle.count": connected,
    }


def _history(n: int = 28) -> dict[str, dict[str, float]]:
    # Mild day-to-day variation around AHT 300 s, connect rate 0.4, abandon rate 0.025.
    return {f"2026-05-{i + 1:02d}": _day(200 + i % 5, 80 + (i % 3), 2 + i % 2, 300 + (i % 7) * 4) for i in range(n)}


def _row(**sums: float) -> dict:
    return normalise_row({"id": CID}, sums, 0, WINDOW)


def test_zscore_matches_definition() -> None:
    history = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0]
    expected = (10.0 - statistics.fmean(history)) / statistics.stdev(history)
    assert zscore(10.0, history) == pytest.approx(expected, abs=1e-4)
    assert zscore(10.0, history[: MIN_HISTORY_DAYS - 1]) is None  # too little history
    assert zscore(10.0, [2.0] * 10) is None  # constant history: undefined, not infinite
    assert zscore(None, history) is None


def test_normal_day_has_no_flags() -> None:
    row = validate_row(_row(**_day(201, 81, 2, 310)), _history(), threshold=3.0)
    assert row["flags"] == []
    assert row["status"] == "ok"
    assert row["history_days"] == 28
    assert abs(row["avg_handle_time_zscore"]) < 3


def test_handle_time_spike_is_flagged() -> None:
    row = validate_row(_row(**_day(201, 81, 2, 900)), _history(), threshold=3.0)
    assert "OUTLIER_AVG_HANDLE_TIME" in row["flags"]
    assert row["avg_handle_time_zscore"] > 3
    assert row["status"] == "flagged"
    # A looser threshold lets the same value pass.
    assert "OUTLIER_AVG_HANDLE_TIME" not in validate_row(_row(**_day(201, 81, 2, 900)), _history(), 1000)["flags"]


def test_abandon_and_connect_rate_outliers() -> None:
    row = validate_row(_row(**_day(200, 20, 15, 305)), _history(), threshold=3.0)
    assert {"OUTLIER_ABANDON_RATE", "OUTLIER_CONNECT_RATE"} <= set(row["flags"])


def test_consistency_flags() -> None:
    row = validate_row(_row(nOutboundAttempted=5, nOutboundConnected=9, nOutboundAbandoned=12), None, 3.0)
    assert row["flags"] == ["ABANDONED_GT_CONNECTED", "CONNECTED_GT_ATTEMPTED"]
    negative = validate_row(_row(nOutboundAttempted=5, nOutboundConnected=2, **{"tAcw.sum": -5.0, "tAcw.count": 1}), None, 3.0)
    assert negative["flags"] == ["NEGATIVE_TIMER"]
    over = normalise_row({"id": CID}, {"nOutboundAttempted": 5, "nOutboundConnected": 2}, 3, WINDOW)
    assert validate_row(over, None, 3.0)["flags"] == ["CONVERSIONS_GT_CONNECTED"]


def test_idle_window_is_flagged_but_not_zscored() -> None:
    row = validate_row(_row(), _history(), threshold=3.0)
    assert row["flags"] == ["NO_ACTIVITY"]
    assert row["avg_handle_time_zscore"] is None and row["connect_rate_zscore"] is None


def test_history_days_without_activity_are_missing_not_zero() -> None:
    history = _history()
    quiet = {f"2026-04-{i + 1:02d}": {} for i in range(10)}
    plain = validate_row(_row(**_day(201, 81, 2, 310)), history, 3.0)
    padded = validate_row(_row(**_day(201, 81, 2, 310)), {**history, **quiet}, 3.0)
    assert padded["avg_handle_time_zscore"] == plain["avg_handle_time_zscore"]


def test_summary_accuracy_and_deterministic_bytes() -> None:
    ok = validate_row({**_row(**_day(201, 81, 2, 310)), "campaign_id": "b" * 8}, _history(), 3.0)
    idle = validate_row({**_row(), "campaign_id": "a" * 8}, _history(), 3.0)
    summary = output.summary([ok, idle])
    assert summary["campaigns"] == 2
    assert summary["accuracy_rate"] == 0.5
    assert summary["flag_counts"] == {"NO_ACTIVITY": 1}
    assert output.parquet_bytes([ok, idle]) == output.parquet_bytes([idle, ok])
    document = json.loads(output.json_bytes([ok, idle], WINDOW))
    assert [r["campaign_id"] for r in document["rows"]] == ["a" * 8, "b" * 8]
    assert "source" not in document["window"]


def test_parquet_round_trip() -> None:
    import io

    import pyarrow.parquet as pq

    row = validate_row(_row(**_day(201, 81, 2, 310)), _history(), 3.0)
    table = pq.read_table(io.BytesIO(output.parquet_bytes([row])))
    assert table.column_names == [name for name, _ in output.COLUMNS]
    assert table.to_pylist()[0]["connect_rate"] == pytest.approx(81 / 201, abs=1e-6)
