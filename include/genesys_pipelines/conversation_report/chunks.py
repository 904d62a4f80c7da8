"""Extraction chunks and their k-way merge into the session-level table.

Pages stream into :class:`ChunkWriter`, which flattens each conversation and writes a sorted Parquet chunk
every ``chunk_conversations`` conversations, so extraction memory is bounded by one chunk. The chunks
are then merged on ``(conversationStart, conversationId)`` (each chunk is sorted; nothing re-sorts the
whole extraction) and deduplicated on ``conversationId``.

The merge works on Arrow batches, not Python rows: each chunk is a sorted run read a row group at a
time; every step emits, from all runs at once, the rows whose key is below the smallest "last key
buffered" among the runs still being read (everything below it is already in memory), then refills the
run(s) that set that bound. Emitted rows are ordered by a stable sort of a bounded window (half an
output row group, taken in chunk order), which is the k-way merge's order: successive windows are in
key order and, within a key, rows come in chunk then row order.

Dedupe is bounded: a conversation's start never changes, so its copies sort next to each other and only
the conversation being read is remembered. The copy from the earliest chunk wins (the first page that
returned it), which keeps the output deterministic.
"""

from __future__ import annotations

import gc
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from genesys_pipelines.conversation_report.flatten import SESSION_SCHEMA, SessionColumns, as_json

SORT_KEYS = [("conversation_start", "ascending"), ("conversation_id", "ascending")]
Key = tuple[int, str]  # (conversation_start in epoch ms, conversation_id)
# While automatic collection is paused, collect the cycles requests leave behind every this many
# conversations: a bound of ~100 MiB of raw page bodies (see paused_gc).
COLLECT_EVERY = 40_000
# Rows the merge orders at a time: half an output row group keeps its transient copies small.
_WINDOW_ROWS = 32_768


# Low-cardinality columns worth dictionary-encoding in chunks (ids and times are mostly distinct).
_CHUNK_DICTIONARY = ["originating_direction", "purpose", "user_id", "media_type", "direction", "queue_id",
                     "wrap_up_code", "outbound_campaign_id", "outbound_contact_list_id"]


def write_chunk(table: pa.Table, where: Any, row_group_size: int) -> None:
    """An intermediate chunk: read back once by the merge, so written for speed (lz4, dictionaries only
    where they pay), about half the CPU of zstd with dictionaries everywhere each way."""
    pq.write_table(
        table.cast(SESSION_SCHEMA) if table.schema != SESSION_SCHEMA else table,
        where,
        compression="lz4",
        use_dictionary=_CHUNK_DICTIONARY,
        row_group_size=row_group_size,
    )


@contextmanager
def paused_gc() -> Iterator[None]:
    """Suspend CPython's automatic cyclic garbage collection for an extraction.

    Decoding and flattening a page allocates about a million small dicts, lists and strings; each batch
    of allocations triggers collections that traverse all young (and, often, all) tracked objects, which
    made JSON decoding 3-5x slower than the decoding itself. Pages are acyclic and freed by reference
    counting. What is cyclic is each HTTP response (httpx's response and its body stream refer to each
    other), so its raw body, ~26 MiB for a page of 10,000 conversations, waits for a collection:
    :meth:`ChunkWriter.flush` runs a full one every ``COLLECT_EVERY`` conversations (a response still in
    flight then is caught by the next), and one runs on the way out. The heap that predates the
    extraction is frozen meanwhile (unless someone else froze objects: theirs are left alone), so a
    collection only walks the extraction's live objects, about one page.
    """
    enabled = gc.isenabled()
    gc.disable()
    freeze = gc.get_freeze_count() == 0
    if freeze:
        gc.freeze()
    try:
        yield
    finally:
        if freeze:
            gc.unfreeze()
        gc.collect()
        if enabled:
            gc.enable()


@dataclass
class ChunkStats:
    paths: list[Path] = field(default_factory=list)
    conversations: int = 0
    rows: int = 0
    duplicates: int = 0  # dropped inside a chunk (the merge counts those across chunks)


class ChunkWriter:
    """Flattens conversations into sorted Parquet chunks under ``directory``."""

    def __init__(self, directory: Path, chunk_conversations: int = 10_000, row_group_size: int = 1024) -> None:
        self.directory = directory
        self.chunk_conversations = chunk_conversations
        # Row groups are the merge's read unit: each open chunk buffers about two of them (~0.4 MiB per
        # 1,024 rows), which keeps a hundred-chunk merge small while amortising per-read overheads.
        self.row_group_size = row_group_size
        self.stats = ChunkStats()
        self._columns = SessionColumns()
        self._seen: set[str] = set()
        self._paused = False  # inside add_all's paused_gc
        self._uncollected = 0  # conversations flushed since the last collection (see paused_gc)
        directory.mkdir(parents=True, exist_ok=True)

    def add(self, conversation: Any) -> None:
        conv = as_json(conversation)
        if conv["conversationId"] in self._seen:
            self.stats.duplicates += 1
            return
        self._seen.add(self._columns.add(conv))
        if len(self._seen) >= self.chunk_conversations:
            self.flush()

    def add_all(self, conversations: Iterable[Any]) -> ChunkStats:
        """Add every conversation (pulling ``conversations`` with the garbage collector paused) and close."""
        with paused_gc():
            self._paused = True
            try:
                for conversation in conversations:
                    self.add(conversation)
            finally:
                self._paused = False
        return self.close()

    def flush(self) -> None:
        if not self._columns.num_rows:
            return
        # Arrow's sort is stable: a conversation's rows keep their participant/session order.
        table = self._columns.to_table().sort_by(SORT_KEYS)
        path = self.directory / f"chunk-{len(self.stats.paths):05d}.parquet"
        write_chunk(table, path, self.row_group_size)
        self.stats.paths.append(path)
        self.stats.conversations += len(self._seen)
        self.stats.rows += table.num_rows
        self._uncollected += len(self._seen)
        self._columns.clear()
        self._seen = set()
        if self._paused and self._uncollected >= COLLECT_EVERY:
            gc.collect()  # see paused_gc
            self._uncollected = 0

    def close(self) -> ChunkStats:
        self.flush()
        return self.stats


class _Run:
    """One sorted chunk being merged: its unmerged rows, buffered a row group at a time. The first
    ``taken`` buffered rows are below the merge's current bound: they leave together with the window."""

    def __init__(self, path: Path, index: int) -> None:
        # Row group by row group without pre-buffering: the open chunks' memory is their buffers only.
        self.file = pq.ParquetFile(path, pre_buffer=False)
        self.index = index
        self.next_group = 0
        self.groups: list[pa.Table] = []
        self.starts = np.empty(0, dtype=np.int64)
        self.taken = 0
        self.last: Key | None = None  # key of the last buffered row: the run's bound while it is read
        self.refill()

    @property
    def exhausted(self) -> bool:
        """Nothing left to read from the file (the buffer may still hold rows)."""
        return self.next_group >= self.file.num_row_groups

    @property
    def buffered(self) -> int:
        return self.starts.size

    def refill(self) -> None:
        if self.exhausted:
            return
        group = self.file.read_row_group(self.next_group, use_threads=False)
        self.next_group += 1
        self.groups.append(group)
        starts = group.column("conversation_start").cast(pa.int64()).to_numpy()
        self.starts = np.concatenate((self.starts, starts))
        self.last = int(starts[-1]), group.column("conversation_id")[-1].as_py()

    def take_below(self, bound: Key | None) -> int:
        """Mark the buffered rows whose key is below ``bound`` (all for None) as taken; how many are new."""
        if bound is None:
            cut = self.buffered
        else:
            start, conversation_id = bound
            cut = int(np.searchsorted(self.starts, start, side="left"))
            tie_end = int(np.searchsorted(self.starts, start, side="right"))
            if tie_end > cut:  # rows starting in the bound's millisecond: compare ids (sorted there)
                ids = pa.concat_tables(self.groups).column("conversation_id").slice(cut, tie_end - cut)
                cut += sum(1 for i in ids.to_pylist() if i < conversation_id)
        added, self.taken = cut - self.taken, cut
        return added

    def pop_taken(self) -> pa.Table:
        """The taken rows, removed from the buffer."""
        buffer = pa.concat_tables(self.groups)
        head = buffer.slice(0, self.taken)
        rest = buffer.slice(self.taken)
        self.groups = [rest] if rest.num_rows else []
        self.starts, self.taken = self.starts[self.taken:], 0
        return head


@dataclass
class MergeStats:
    conversations: int = 0
    rows: int = 0
    duplicates: int = 0


class _Deduper:
    """Keeps the earliest chunk's copy of each conversation in merged windows; state spans windows."""

    def __init__(self, stats: MergeStats) -> None:
        self.stats = stats
        self.last_id: str | None = None
        self.kept_chunk = -1
        self.last_chunk = -1

    def __call__(self, window: pa.Table, chunks: np.ndarray) -> tuple[pa.Table, np.ndarray]:
        """The rows to keep and, for them, whether each starts a conversation."""
        ids = window.column("conversation_id")
        n = window.num_rows
        new = np.empty(n, dtype=bool)
        new[0] = ids[0].as_py() != self.last_id
        if n > 1:
            new[1:] = pc.not_equal(ids.slice(1), ids.slice(0, n - 1)).to_numpy(zero_copy_only=False)
        conversation = np.cumsum(new)  # 0: the conversation carried over from the previous window
        first_chunk = np.concatenate(([self.kept_chunk], chunks[new]))  # slot 0: the carried conversation
        keep = chunks == first_chunk[conversation]
        # a dropped copy is counted once per (conversation, chunk), not per session row
        previous = np.concatenate(([self.last_chunk], chunks[:-1]))
        copy_starts = new | (chunks != previous)
        self.stats.duplicates += int(np.count_nonzero(copy_starts & ~keep))
        self.stats.conversations += int(np.count_nonzero(new))
        self.last_id, self.kept_chunk, self.last_chunk = ids[n - 1].as_py(), int(first_chunk[-1]), int(chunks[-1])
        rows = np.flatnonzero(keep)
        if rows.size == n:
            return window, new
        return window.take(pa.array(rows)), new[rows]


def _merged_windows(paths: list[Path], window_rows: int) -> Iterator[tuple[pa.Table, np.ndarray]]:
    """The chunks' rows in ``(start, id, chunk, row)`` order, as windows of about ``window_rows`` rows,
    each with the chunk index of every row."""
    runs = [run for run in (_Run(p, i) for i, p in enumerate(paths)) if run.buffered]

    def window() -> tuple[pa.Table, np.ndarray]:
        pieces = [(run.index, run.pop_taken()) for run in runs if run.taken]
        table = pa.concat_tables([piece for _, piece in pieces])  # in chunk order
        origin = np.concatenate([np.full(piece.num_rows, index, dtype=np.int64) for index, piece in pieces])
        order = pc.sort_indices(table, sort_keys=SORT_KEYS)  # stable: ties stay in chunk, then row order
        return table.take(order).combine_chunks(), origin[order.to_numpy()]

    pending = 0
    while True:
        reading = [run for run in runs if not run.exhausted]
        bound = min(run.last for run in reading if run.last is not None) if reading else None
        pending += sum(run.take_below(bound) for run in runs)
        if bound is None:
            break
        for run in reading:
            if run.last == bound:  # its buffer ends at the bound: read on
                run.refill()
        if pending >= window_rows:
            yield window()
            runs = [run for run in runs if run.buffered]
            pending = 0
    if pending:
        yield window()


def merge_chunks(paths: list[Path], stats: MergeStats, out_rows: int = 65_536) -> Iterator[pa.Table]:
    """K-way merge of sorted chunks into ``SESSION_SCHEMA`` tables of about ``out_rows`` rows, deduplicated.

    Each table is the smallest run of whole conversations reaching ``out_rows`` rows (so each becomes a
    row group holding whole conversations). Holds one or two row groups per chunk
    (``ChunkWriter.row_group_size`` rows) plus about two output tables, whatever the extraction's size.
    """
    dedupe = _Deduper(stats)
    out: list[pa.Table] = []
    starts: list[np.ndarray] = []
    held = 0
    for window, chunks in _merged_windows(paths, _WINDOW_ROWS):
        kept, new = dedupe(window, chunks)
        out.append(kept)
        starts.append(new)
        held += kept.num_rows
        while held >= out_rows:
            # cut before the first conversation that starts at or after out_rows rows
            boundaries = np.flatnonzero(np.concatenate(starts))
            after = boundaries[boundaries >= out_rows]
            if not after.size:
                break
            cut = int(after[0])
            table, flags = pa.concat_tables(out), np.concatenate(starts)
            yield table.slice(0, cut).combine_chunks()
            stats.rows += cut
            out, starts, held = [table.slice(cut)], [flags[cut:]], held - cut
    if held:
        yield pa.concat_tables(out).combine_chunks()
        stats.rows += held


#: The published session table's name column, right after the id it names.
CODE_NAME = pa.field("wrap_up_code_name", pa.string())


def published_schema() -> pa.Schema:
    """``SESSION_SCHEMA`` with ``wrap_up_code_name`` after ``wrap_up_code``."""
    return SESSION_SCHEMA.insert(SESSION_SCHEMA.get_field_index("wrap_up_code") + 1, CODE_NAME)


def _with_code_names(table: pa.Table, code_names: Mapping[str, str]) -> pa.Table:
    """``table`` with each row's wrap-up code name (null where the code is null or the listing names none)."""
    keys = pa.array(list(code_names), pa.string())
    found = pc.index_in(table.column("wrap_up_code"), value_set=keys)
    names = pc.take(pa.array(list(code_names.values()), pa.string()), found)
    return table.add_column(SESSION_SCHEMA.get_field_index("wrap_up_code") + 1, CODE_NAME, names)


def write_session_table(paths: list[Path], target: Any, row_group_size: int = 65_536,
                        code_names: Mapping[str, str] | None = None) -> MergeStats:
    """Merge ``paths`` into one deterministic Parquet file at ``target`` (path or binary file object).

    With ``code_names`` (wrap-up code id -> name, the run's listing; may be empty) the table carries
    ``wrap_up_code_name`` after ``wrap_up_code`` (:func:`published_schema`)."""
    stats = MergeStats()
    schema = SESSION_SCHEMA if code_names is None else published_schema()
    with pq.ParquetWriter(target, schema, compression="zstd") as writer:
        for table in merge_chunks(paths, stats, out_rows=row_group_size):
            if code_names is not None:
                table = _with_code_names(table, code_names)
            writer.write_table(table, row_group_size=table.num_rows)  # one row group per merged table
    return stats
