"""Issue 16: CSV outputs neutralise formula cells (names from the API reach spreadsheets)."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest

from genesys_cloud.sinks.csv_safety import neutralise_cell, neutralise_csv_bytes, neutralise_csv_file


@pytest.mark.parametrize(("cell", "shown"), [
    ("=HYPERLINK(\"http://x\",\"y\")", "'=HYPERLINK(\"http://x\",\"y\")"), ("+cmd|' /C calc'!A0", "'+cmd|' /C calc'!A0"),
    ("-2+3+cmd|x", "'-2+3+cmd|x"), ("@SUM(A1)", "'@SUM(A1)"), ("\tTabbed", "'\tTabbed"), ("\rCR", "'\rCR"),
    ("-5", "-5"), ("+1.5", "+1.5"), ("-2e-3", "-2e-3"), ("Sales queue", "Sales queue"), ("", ""),
])
def test_cells(cell: str, shown: str) -> None:
    assert neutralise_cell(cell) == shown


def test_a_csv_with_formula_names_is_neutralised_and_a_clean_one_kept_byte_for_byte() -> None:
    clean = b"campaign,attempted\nc1,-3\n"
    assert neutralise_csv_bytes(clean) is clean
    data = b'campaign,attempted\n"=1+2,""x""",3\n@evil,-4\n'
    rows = list(csv.reader(io.StringIO(neutralise_csv_bytes(data).decode(), newline="")))
    assert rows == [["campaign", "attempted"], ["'=1+2,\"x\"", "3"], ["'@evil", "-4"]]


def test_a_staged_file_is_neutralised_in_place(tmp_path: Path) -> None:
    path = tmp_path / "report.csv"
    path.write_bytes(b"queue,n\r\n+SUM(1),2\r\n")
    assert neutralise_csv_file(path) is True
    assert path.read_bytes() == b"queue,n\r\n'+SUM(1),2\r\n"
    assert neutralise_csv_file(path) is False
