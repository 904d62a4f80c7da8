"""Local chunk writers for the extraction operators: rows in, files on disk out, memory bounded.

An extraction operator streams rows (conversations, aggregate results) into a writer and uploads the
files it wrote. A writer is anything with ``add_all(rows) -> stats`` where ``stats`` is a dataclass with
``paths`` (the files) and counts; :class:`JsonLinesChunkWriter` is the provider's default (gzip JSON
lines, one file per ``chunk_rows`` rows). Pipelines pass their own (e.g. the conversation report's sorted
Parquet chunk writer) by dotted path: ``"package.module:ClassName"``.
"""

from __future__ import annotations

import gzip
import importlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import msgspec


@dataclass
class JsonLinesStats:
    paths: list[Path] = field(default_factory=list)
    rows: int = 0


class JsonLinesChunkWriter:
    """``chunk-00000.jsonl.gz``, ... under ``directory``, ``chunk_rows`` rows each."""

    def __init__(self, directory: Path, chunk_rows: int = 10_000) -> None:
        self.directory = Path(directory)
        self.directory.mkdir(parents=True, exist_ok=True)
        self.chunk_rows = chunk_rows
        self.stats = JsonLinesStats()

    def add_all(self, rows: Iterable[Any]) -> JsonLinesStats:
        encoder = msgspec.json.Encoder()
        handle = None
        try:
            for row in rows:
                if handle is None or self.stats.rows % self.chunk_rows == 0 and self.stats.rows:
                    if handle is not None:
                        handle.close()
                    path = self.directory / f"chunk-{len(self.stats.paths):05d}.jsonl.gz"
                    self.stats.paths.append(path)
                    handle = gzip.open(path, "wb", compresslevel=5)
                handle.write(encoder.encode(row) + b"\n")
                self.stats.rows += 1
        finally:
            if handle is not None:
                handle.close()
        return self.stats


WriterFactory = Callable[[Path], Any]


def resolve_writer(writer: str | WriterFactory | None) -> WriterFactory:
    """A writer factory from a callable, a ``"module:attribute"`` path, or None (the default writer)."""
    if writer is None:
        return JsonLinesChunkWriter
    if callable(writer):
        return writer
    module, _, attribute = str(writer).partition(":")
    if not module or not attribute:
        raise ValueError(f"writer {writer!r} must be 'package.module:ClassName'")
    return getattr(importlib.import_module(module), attribute)
