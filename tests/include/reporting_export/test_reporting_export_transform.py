"""CSV reading, transform and output validation of reporting exports, on the files real exports produce."""

from __future__ import annotations

from datetime import datetime, timezone

import pyarrow.parquet as pq
import pytest

from genesys_pipelines.reporting_export.config import load_config
from genesys_pipelines.reporting_export.csv_io import read_csv_bytes
from genesys_pipelines.reporting_export.outputs import to_csv_bytes, to_parquet_bytes, validate_output
from genesys_pipelines.reporting_export.transform import schema_for, transform

QUEUE = load_config().view("QUEUE_PERFORMANCE_SUMMARY_VIEW")
HEADER = "Queue ID,Queue Name,Offered,Answer,Avg Handle,Answer %,Interval Start"


def run(raw: bytes, tz: str = "UTC"):
    return transform(read_csv_bytes(raw), QUEUE, tz)


def test_empty_file_gives_empty_table_with_the_view_schema() -> None:
    for raw in (b"", b"\n\n", b"\xef\xbb\xbf"):
        table, stats = run(raw)
        assert table.num_rows == 0 and table.schema == schema_for(QUEUE)
        assert stats.empty_file and validate_output(stats, 0.0).passed


def test_header_only_file_has_no_rows_but_checks_required_columns() -> None:
    table, stats = run((HEADER + "\r\n").encode())
    assert table.num_rows == 0 and not stats.empty_file and stats.missing_required == []
    assert validate_output(stats, 0.0).passed
    _, stats = run(b"Queue Name,Offered\n")
    result = validate_output(stats, 0.0)
    assert not result.passed and "queue_id" in result.failures()[0] and "offered" not in result.failures()[0]


@pytest.mark.parametrize(
    ("raw", "name"),
    [
        (("\ufeff" + HEADER + "\nq1,Caf\u00e9 M\u00fcnchen,1,1,1000,100,\n").encode("utf-8"), "Caf\u00e9 M\u00fcnchen"),
        ((HEADER + "\nq1,Caf\u00e9 M\u00fcnchen,1,1,1000,100,\n").encode("latin-1"), "Caf\u00e9 M\u00fcnchen"),
        ((HEADER + "\nq1,\u20ac Sales \u2013 EU,1,1,1000,100,\n").encode("cp1252"), "\u20ac Sales \u2013 EU"),
        ((HEADER + "\nq1,Caf\u00e9 M\u00fcnchen,1,1,1000,100,\n").encode("utf-16"), "Caf\u00e9 M\u00fcnchen"),
    ],
    ids=["utf8-bom", "latin1", "cp1252", "utf16-bom"],
)
def test_odd_encodings_decode_to_the_same_text(raw: bytes, name: str) -> None:
    table, stats = run(raw)
    assert table.column("queue_name").to_pylist() == [name]
    assert table.column("queue_id").to_pylist() == ["q1"]  # a BOM never sticks to the first header


def test_quoted_delimiters_quotes_and_newlines_inside_fields() -> None:
    raw = (HEADER + '\nq1,"Sales, ""EU""\nsecond line",5,4,2000,80,\n').encode()
    table, _ = run(raw)
    assert table.column("queue_name").to_pylist() == ['Sales, "EU"\nsecond line']
    assert table.column("offered").to_pylist() == [5]


def test_semicolon_delimiter_with_decimal_commas() -> None:
    raw = b"Queue ID;Queue Name;Offered;Answer;Avg Handle;Answer %\nq1;\"A;B\";10;8;1234,5;80,5\n"
    table, stats = run(raw)
    assert stats.delimiter == ";"
    row = table.to_pylist()[0]
    assert row["queue_name"] == "A;B" and row["avg_handle_s"] == pytest.approx(1.2345)
    assert row["answer_rate"] == pytest.approx(0.805)


def test_casting_blank_to_null_durations_to_seconds_and_timestamps_to_utc() -> None:
    raw = (
        b"Queue ID,Offered,Answer,Avg Handle,Avg Talk,Answer %,Interval Start,Media Type\n"
        b"q1,10,  ,90500,00:01:30.5,50%,2026-06-10T00:00:00,voice\n"
        b"q2,x,3.5,,1:00:00,,2026-06-10T00:00:00.000Z,\n"
    )
    table, stats = run(raw, "Europe/Berlin")
    rows = {r["queue_id"]: r for r in table.to_pylist()}
    assert rows["q1"]["answered"] is None and rows["q1"]["avg_handle_s"] == 90.5 and rows["q1"]["avg_talk_s"] == 90.5
    assert rows["q1"]["answer_rate"] == 0.5
    assert rows["q1"]["interval_start"] == datetime(2026, 6, 9, 22, tzinfo=timezone.utc)  # naive = export's zone
    assert rows["q2"]["interval_start"] == datetime(2026, 6, 10, tzinfo=timezone.utc)
    assert rows["q2"]["offered"] is None and rows["q2"]["answered"] is None and rows["q2"]["avg_talk_s"] == 3600.0
    assert rows["q2"]["media_type"] is None and rows["q2"]["avg_handle_s"] is None
    assert stats.cast_errors == {"offered": 1, "answered": 1}  # "x" and "3.5"; blanks are not errors


def test_rows_missing_the_key_are_dropped_counted_and_checked_against_threshold() -> None:
    raw = (HEADER + "\nq1,A,1,1,,,\n,B,2,2,,,\n   ,C,3,3,,,\nq2,D,4,4,,,\n").encode()
    table, stats = run(raw)
    assert table.column("queue_id").to_pylist() == ["q1", "q2"]
    assert (stats.rows_in, stats.rows_out, stats.dropped_missing_key) == (4, 2, 2)
    assert not validate_output(stats, 0.25).passed
    assert validate_output(stats, 0.5).passed


def test_header_matching_is_case_space_and_punctuation_insensitive_and_reports_unmapped() -> None:
    table, stats = run(b"QUEUE_ID,queueName,offered,ANSWER,Something Else\nq1,n,1,2,zzz\n")
    assert table.to_pylist()[0]["queue_name"] == "n" and table.to_pylist()[0]["answered"] == 2
    assert stats.unmapped_source_columns == ["Something Else"]


def test_ragged_rows_are_padded_and_counted() -> None:
    table, stats = run((HEADER + "\nq1,A,1\nq2,B,2,2,1000,50,,EXTRA\n").encode())
    assert stats.ragged_rows == 2 and table.num_rows == 2


def test_outputs_are_byte_identical_whatever_the_row_order() -> None:
    a = (HEADER + "\nq2,B,2,2,2000,50,2026-06-10T00:00:00Z\nq1,A,1,1,1000,100,2026-06-10T00:00:00Z\n").encode()
    b = (HEADER + "\nq1,A,1,1,1000,100,2026-06-10T00:00:00Z\nq2,B,2,2,2000,50,2026-06-10T00:00:00Z\n").encode()
    ta, _ = run(a)
    tb, _ = run(b)
    assert to_parquet_bytes(ta) == to_parquet_bytes(tb)
    assert to_csv_bytes(ta) == to_csv_bytes(tb)
    assert to_csv_bytes(ta).decode().splitlines()[1].startswith('"q1","A"')


def test_parquet_round_trip_keeps_schema_and_values(tmp_path) -> None:
    table, _ = run((HEADER + "\nq1,A,1,1,1000,100,2026-06-10T00:00:00Z\n").encode())
    path = tmp_path / "x.parquet"
    path.write_bytes(to_parquet_bytes(table))
    back = pq.read_table(path)
    assert back.schema == schema_for(QUEUE) and back.to_pylist() == table.to_pylist()


def test_fraction_columns_keep_fractions_and_read_percent_cells() -> None:
    campaign = load_config().view("CAMPAIGN_PERFORMANCE_SUMMARY_VIEW")
    raw = b"Campaign ID,Attempts,Connects,Offered,Connect Rate\nc1,10,4,10,0.4000\nc2,10,5,10,50%\nc3,0,0,0,\n"
    table, stats = transform(read_csv_bytes(raw), campaign)
    assert table.column("connect_rate").to_pylist() == [0.4, 0.5, None] and stats.cast_errors == {}
