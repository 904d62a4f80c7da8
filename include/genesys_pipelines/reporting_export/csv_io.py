"""Robust reading of an export's CSV file into header + rows of strings.

Export files come from another system and outlive the code reading them, so the reader accepts what
such files really look like: empty (0 bytes), header only, UTF-8 with or without BOM, UTF-16 with BOM,
Windows-1252/latin-1, quoted fields with the delimiter or newlines inside, comma or semicolon as
delimiter, CRLF line ends, trailing blank lines and ragged rows. The API caps a file at 10 MB
(``FAILED_AS_EXPORT_FILE_SIZE_IS_GREATER_THAN_10MB``), so reading it whole is bounded.
"""

from __future__ import annotations

import codecs
import csv
import io
from dataclasses import dataclass, field
from pathlib import Path

_DELIMITERS = {"COMMA": ",", "SEMICOLON": ";"}


@dataclass(frozen=True)
class RawTable:
    """A parsed CSV: the header, the rows (all strings, padded/truncated to the header) and facts."""

    header: list[str]
    rows: list[list[str]]
    encoding: str
    delimiter: str
    ragged_rows: int = 0
    empty_file: bool = False
    notes: list[str] = field(default_factory=list)


def decode(raw: bytes) -> tuple[str, str]:
    """Text and encoding name: BOMs first, then strict UTF-8, then Windows-1252, then latin-1."""
    if raw.startswith(codecs.BOM_UTF8):
        return raw[len(codecs.BOM_UTF8):].decode("utf-8"), "utf-8-sig"
    if raw.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return raw.decode("utf-16"), "utf-16"
    for encoding in ("utf-8", "cp1252"):
        try:
            return raw.decode(encoding), encoding
        except UnicodeDecodeError:
            continue
    return raw.decode("latin-1"), "latin-1"  # never fails: every byte is a character


def sniff_delimiter(text: str, hint: str = "COMMA") -> str:
    """``,`` or ``;``: the one splitting the header line into more fields (quotes respected)."""
    first_line = next(iter(io.StringIO(text)), "")
    counts = {d: len(next(csv.reader([first_line], delimiter=d), [])) for d in (",", ";")}
    if counts[","] == counts[";"]:
        return _DELIMITERS.get(hint, ",")
    return max(counts, key=lambda d: counts[d])


def read_csv_bytes(raw: bytes, delimiter_hint: str = "COMMA") -> RawTable:
    """Parse an export file's bytes (see module doc for what is tolerated)."""
    text, encoding = decode(raw)
    if not text.strip():
        return RawTable([], [], encoding, _DELIMITERS.get(delimiter_hint, ","), empty_file=True)
    delimiter = sniff_delimiter(text, delimiter_hint)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, quotechar='"', doublequote=True)
    header: list[str] | None = None
    rows: list[list[str]] = []
    ragged = 0
    for record in reader:
        if not record or all(not cell.strip() for cell in record):
            continue  # blank lines carry nothing (trailing newlines, CRLF leftovers)
        if header is None:
            header = [cell.replace("\ufeff", "").strip() for cell in record]
            continue
        if len(record) != len(header):
            ragged += 1
            record = (record + [""] * len(header))[: len(header)]
        rows.append(record)
    notes = [f"{ragged} rows had a different number of fields than the header"] if ragged else []
    return RawTable(header or [], rows, encoding, delimiter, ragged_rows=ragged, notes=notes)


def read_csv_file(path: str | Path, delimiter_hint: str = "COMMA") -> RawTable:
    return read_csv_bytes(Path(path).read_bytes(), delimiter_hint)
