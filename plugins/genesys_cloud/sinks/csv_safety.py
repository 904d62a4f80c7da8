"""CSV formula neutralisation (OWASP "CSV injection"): a cell that starts with ``=``, ``+``, ``-``, ``@``,
a tab or a carriage return is run as a formula by spreadsheet programs. Names from the API (campaign,
queue, wrap-up code names) are chosen by whoever administers the org, so every CSV the pipelines publish
goes through :func:`neutralise_csv_bytes` / :func:`neutralise_csv_file` when it is staged: such a cell
gets a leading ``'`` (shown as text, not evaluated).

Plain numbers (``-5``, ``+1.5``, ``-2e-3``) are left as they are: they are not formulas, and prefixing
them would turn numeric columns into text. Files without a dangerous cell are returned byte for byte.
Hand-written over the ``csv`` module: no maintained library does this one rule.
"""

from __future__ import annotations

import csv
import io
import re
import shutil
from pathlib import Path

TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
_NUMBER = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?")


def neutralise_cell(value: str) -> str:
    """``'`` + ``value`` when it would be evaluated as a formula, else ``value``."""
    if value.startswith(TRIGGERS) and not _NUMBER.fullmatch(value):
        return "'" + value
    return value


def _needs(row: list[str]) -> bool:
    return any(cell.startswith(TRIGGERS) and not _NUMBER.fullmatch(cell) for cell in row)


def _terminator(sample: str) -> str:
    return "\r\n" if "\r\n" in sample.split("\n", 1)[0] + "\n" else "\n"


def neutralise_csv_bytes(data: bytes, encoding: str = "utf-8") -> bytes:
    """The CSV with every formula-like cell neutralised (the same bytes when there is none)."""
    text = data.decode(encoding)
    rows = list(csv.reader(io.StringIO(text, newline="")))
    if not any(_needs(row) for row in rows):
        return data
    out = io.StringIO(newline="")
    writer = csv.writer(out, lineterminator=_terminator(text[:65536]))
    writer.writerows([[neutralise_cell(cell) for cell in row] for row in rows])
    return out.getvalue().encode(encoding)


def neutralise_csv_file(path: str | Path, encoding: str = "utf-8") -> bool:
    """Neutralise ``path`` in place, streaming row by row; True when it changed."""
    path = Path(path)
    with path.open(newline="", encoding=encoding) as handle:
        if not any(_needs(row) for row in csv.reader(handle)):
            return False
        handle.seek(0)
        terminator = _terminator(handle.read(65536))
        handle.seek(0)
        tmp = path.with_name(path.name + ".neutralised")
        with tmp.open("w", newline="", encoding=encoding) as out:
            writer = csv.writer(out, lineterminator=terminator)
            for row in csv.reader(handle):
                writer.writerow([neutralise_cell(cell) for cell in row])
    shutil.move(tmp, path)
    return True
