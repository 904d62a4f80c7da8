"""Per-group conversation report, vectorised (Arrow + NumPy) and streaming over session-table batches.

The unit is the conversation. Attribution (what the report's groups mean):

- ``queueId``: the queue of the conversation's first ACD segment, i.e. among the sessions of participants
  with purpose ``acd`` or ``agent``, the session whose first ``queueId``-carrying segment starts earliest
  (ties: the earlier participant/session in the API's order). Null when the conversation never queued.
- ``mediaType``: that session's media type; for a conversation that never queued, the media type of its
  first session that has one.
- ``originatingDirection``: the conversation's own field; ``outboundCampaignId``: the first session's
  campaign id, if any.
- talk / hold / ACW: the sum of ``tTalk`` / ``tHeld`` / ``tAcw`` over the sessions of ``agent``
  participants; wrap-up codes: the distinct codes over all of the conversation's sessions.

Per group: ``conversation_count``; over the conversations that have ended (a duration):
``avg_duration_s``, ``talk_ratio`` = Σtalk / Σduration, ``hold_ratio`` = Σhold / Σduration (0 when
Σduration is 0), ``efficiency_score`` = max(0, 100 − hold_ratio × 50), totals of talk/hold/ACW in
seconds; ``wrapup_codes`` (sorted, distinct) and their count. Sums are integer milliseconds, so the
result does not depend on how the rows were batched.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from genesys_pipelines.conversation_report.params import DEFAULT_GROUP_BY

QUEUED_PURPOSES = ("acd", "agent")
AGENT_PURPOSE = "agent"
METRIC_COLUMNS: tuple[str, ...] = (
    "conversation_count",
    "avg_duration_s",
    "talk_ratio",
    "hold_ratio",
    "efficiency_score",
    "wrapup_code_count",
    "wrapup_codes",
    "total_talk_s",
    "total_hold_s",
    "total_acw_s",
)
# What the aggregation reads from the session table (the rest is there for users of that table).
NEEDED_COLUMNS: tuple[str, ...] = (
    "conversation_id",
    "duration_ms",
    "originating_direction",
    "purpose",
    "media_type",
    "queue_id",
    "queue_segment_start",
    "talk_ms",
    "hold_ms",
    "acw_ms",
    "wrap_up_code",
    "outbound_campaign_id",
)
DICTIONARY_COLUMNS: tuple[str, ...] = (
    "originating_direction",
    "purpose",
    "media_type",
    "queue_id",
    "wrap_up_code",
    "outbound_campaign_id",
)
_NO_TIME = np.iinfo(np.int64).max
GroupKey = tuple[str | None, ...]


@dataclass
class _Totals:
    conversations: int = 0
    ended: int = 0
    duration_ms: int = 0
    talk_ms: int = 0
    hold_ms: int = 0
    acw_ms: int = 0
    wrapup_codes: set[str] = field(default_factory=set)


def _array(column: pa.ChunkedArray | pa.Array) -> pa.Array:
    return column.combine_chunks() if isinstance(column, pa.ChunkedArray) else column


def _values(array: pa.Array, null: int) -> np.ndarray:
    """An integer array's values as int64 with ``null`` where null, straight from its Arrow buffers (a
    view plus one ``where``: several times cheaper than fill_null + to_numpy)."""
    if not len(array):
        return np.empty(0, dtype=np.int64)
    dtype = np.dtype(array.type.to_pandas_dtype())
    end = len(array) + array.offset
    values = np.frombuffer(array.buffers()[1], dtype=dtype, count=end)[array.offset:].astype(np.int64, copy=False)
    if not array.null_count:
        return values
    bits = np.unpackbits(np.frombuffer(array.buffers()[0], dtype=np.uint8), count=end, bitorder="little")
    return np.where(bits[array.offset:].view(bool), values, null)


def _ints(column: pa.ChunkedArray | pa.Array) -> np.ndarray:
    """int64 or timestamp column → int64 values, null as 0."""
    return _values(_array(column).cast(pa.int64()), 0)


def _codes(column: pa.ChunkedArray | pa.Array) -> tuple[np.ndarray, list[Any]]:
    """Dictionary codes of a column (-1 for null) and its dictionary; Parquet reads give them for free."""
    array = _array(column)
    if not pa.types.is_dictionary(array.type):
        array = array.dictionary_encode()
    return _values(array.indices, -1), array.dictionary.to_pylist()


def _first_per_group(group: np.ndarray, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For rows sorted by ``group``: the distinct groups and the first row of each."""
    if rows.size == 0:
        return rows, rows
    starts = np.empty(group.size, dtype=bool)
    starts[0] = True
    np.not_equal(group[1:], group[:-1], out=starts[1:])
    return group[starts], rows[starts]


def _dense_groups(key: np.ndarray, size: int) -> tuple[np.ndarray, np.ndarray]:
    """Distinct values of a non-negative int key (ascending) and each row's index into them.

    A counting pass when the key space is small (the usual case: a few media types × queues), else a sort.
    """
    if size <= max(1 << 20, 4 * key.size):
        present = np.flatnonzero(np.bincount(key, minlength=size))
        lookup = np.empty(size, dtype=np.int64)
        lookup[present] = np.arange(present.size)
        return present, lookup[key]
    distinct, inverse = np.unique(key, return_inverse=True)
    return distinct, inverse.reshape(-1)


class _Batch:
    """One batch of complete conversations (rows contiguous, in API order): conversation index per row,
    per-conversation picks, each column's dictionary codes computed once."""

    def __init__(self, table: pa.Table) -> None:
        self.table = table
        n = table.num_rows
        ids = table.column("conversation_id").combine_chunks()
        new = np.ones(n, dtype=bool)
        if n > 1:
            new[1:] = pc.not_equal(ids.slice(1), ids.slice(0, n - 1)).to_numpy(zero_copy_only=False)
        self.conv = np.cumsum(new) - 1
        self.first_rows = np.flatnonzero(new)
        self.n_conv = self.first_rows.size
        self._codes: dict[str, tuple[np.ndarray, list[Any]]] = {}

    def codes(self, name: str) -> tuple[np.ndarray, list[Any]]:
        if name not in self._codes:
            self._codes[name] = _codes(self.table.column(name))
        return self._codes[name]

    def first_of(self, rows: np.ndarray) -> np.ndarray:
        """Per conversation, the first of ``rows`` (ascending row numbers) in it, else -1."""
        out = np.full(self.n_conv, -1, dtype=np.int64)
        g, r = _first_per_group(self.conv[rows], rows)
        out[g] = r
        return out

    def first_valid(self, name: str) -> np.ndarray:
        """Per conversation, its first row where column ``name`` is not null, else -1."""
        codes = self.codes(name)[0]
        out = np.where(codes[self.first_rows] >= 0, self.first_rows, -1)
        missing = out < 0
        if missing.any():  # usually the first row has it: search the others only when it does not
            later = self.first_of(np.flatnonzero(codes >= 0))
            out[missing] = later[missing]
        return out

    def pick(self, name: str, rows: np.ndarray) -> tuple[np.ndarray, list[Any]]:
        """Codes of column ``name`` at ``rows`` (one per conversation; -1 row = null) and the dictionary."""
        codes, dictionary = self.codes(name)
        return np.where(rows >= 0, codes[rows], -1), dictionary

    def attributed(self, queued: np.ndarray) -> np.ndarray:
        """Per conversation, the queued row whose queue segment starts earliest (the first such row in API
        order on ties; a null start counts as latest), else -1. Works on the queued rows only."""
        rows = np.flatnonzero(queued)
        if rows.size == 0:
            return np.full(self.n_conv, -1, dtype=np.int64)
        start = _values(_array(self.table.column("queue_segment_start").take(pa.array(rows))).cast(pa.int64()),
                        _NO_TIME)
        group = self.conv[rows]
        bounds = np.flatnonzero(np.concatenate(([True], group[1:] != group[:-1])))
        earliest = np.minimum.reduceat(start, bounds)
        hit = start == np.repeat(earliest, np.diff(np.append(bounds, rows.size)))
        return self.first_of(rows[hit])


def _partial(table: pa.Table, group_by: Sequence[str]) -> dict[str, Any]:
    """Per-group counts, sums and wrap-up codes of one batch whose conversations are contiguous and complete.

    Conversation-level values (group key, duration) are computed per conversation; session-level sums go
    straight from the rows that count to their conversation's group with ``bincount``.
    """
    b = _Batch(table)
    # Masks from dictionary codes: integer comparisons instead of string kernels.
    purpose, purposes = b.codes("purpose")
    # lookup tables indexed by code + 1 (slot 0: null purpose)
    queued = np.array([False] + [p in QUEUED_PURPOSES for p in purposes])[purpose + 1]
    queued &= b.codes("queue_id")[0] >= 0
    agent = np.array([False] + [p == AGENT_PURPOSE for p in purposes])[purpose + 1]
    attributed = b.attributed(queued)

    def key(dimension: str) -> tuple[np.ndarray, list[Any]]:
        if dimension == "queueId":
            return b.pick("queue_id", attributed)
        if dimension == "mediaType":
            return b.pick("media_type", np.where(attributed >= 0, attributed, b.first_valid("media_type")))
        if dimension == "originatingDirection":
            return b.pick("originating_direction", b.first_rows)
        if dimension == "outboundCampaignId":
            return b.pick("outbound_campaign_id", b.first_valid("outbound_campaign_id"))
        raise ValueError(f"group_by: unknown dimension {dimension!r}")

    keys = [key(d) for d in group_by]
    dictionaries = [d for _, d in keys]
    # One int64 key per conversation: mixed radix over the dimensions' codes (null = 0).
    size = 1
    for d in dictionaries:
        size *= len(d) + 1
    if size >= 1 << 62:  # the mixed-radix key would overflow int64 (far beyond real cardinalities)
        raise ValueError(f"too many distinct group values ({size}) for one report")
    radix = np.zeros(b.n_conv, dtype=np.int64)
    for codes, d in keys:
        radix = radix * (len(d) + 1) + (codes + 1)
    distinct, group = _dense_groups(radix, size)
    names: list[GroupKey] = []
    for value in distinct.tolist():
        parts: list[str | None] = []
        for d in reversed(dictionaries):
            value, code = divmod(value, len(d) + 1)
            parts.append(d[code - 1] if code else None)
        names.append(tuple(reversed(parts)))
    n_groups = len(names)

    duration = table.column("duration_ms").take(pa.array(b.first_rows))
    ended = pc.is_valid(duration).to_numpy(zero_copy_only=False)
    # float64 weights are exact for integer sums below 2**53 ms (285,000 years)
    sums = {
        "ended": np.bincount(group, weights=ended, minlength=n_groups),
        "duration_ms": np.bincount(group, weights=_ints(duration), minlength=n_groups),
    }
    # talk, hold, ACW: agent sessions of ended conversations, each row straight to its group
    rows = np.flatnonzero(agent & ended[b.conv])
    row_group = group[b.conv[rows]]
    taken = table.select(["talk_ms", "hold_ms", "acw_ms"]).take(pa.array(rows))
    for name in ("talk_ms", "hold_ms", "acw_ms"):
        sums[name] = np.bincount(row_group, weights=_ints(taken.column(name)), minlength=n_groups)

    wrap_codes, vocabulary = b.codes("wrap_up_code")
    wrap_rows = np.flatnonzero(wrap_codes >= 0)
    codes_by_group: list[set[str]] = [set() for _ in names]
    if wrap_rows.size:
        pair = group[b.conv[wrap_rows]] * len(vocabulary) + wrap_codes[wrap_rows]
        present, _ = _dense_groups(pair, n_groups * len(vocabulary))
        for value in present.tolist():
            g, c = divmod(value, len(vocabulary))
            codes_by_group[g].add(vocabulary[c])
    return {
        "names": names,
        "count": np.bincount(group, minlength=n_groups).tolist(),
        "sums": {k: v.astype(np.int64).tolist() for k, v in sums.items()},
        "codes": codes_by_group,
    }


def _accumulate(totals: dict[GroupKey, _Totals], part: dict[str, Any]) -> None:
    """Fold one batch's per-group partials into the running totals (one step per group, not per row)."""
    sums = part["sums"]
    for i, name in enumerate(part["names"]):
        t = totals.setdefault(name, _Totals())
        t.conversations += part["count"][i]
        t.ended += sums["ended"][i]
        t.duration_ms += sums["duration_ms"][i]
        t.talk_ms += sums["talk_ms"][i]
        t.hold_ms += sums["hold_ms"][i]
        t.acw_ms += sums["acw_ms"][i]
        t.wrapup_codes |= part["codes"][i]


def _complete_conversations(batches: Iterable[pa.Table | pa.RecordBatch]) -> Iterator[pa.Table]:
    """Batches re-cut at conversation boundaries: a batch is held until the next one shows whether its
    last conversation continues there (rare: the merge writes row groups of whole conversations)."""
    held: pa.Table | None = None
    for batch in batches:
        table = batch if isinstance(batch, pa.Table) else pa.Table.from_batches([batch])
        if table.num_rows == 0:
            continue
        if held is None:
            held = table
            continue
        last = held.column("conversation_id")[held.num_rows - 1]
        if table.column("conversation_id")[0] != last:
            yield held
            held = table
            continue
        # The conversation straddles the boundary: move its leading rows of `table` into `held`.
        ids = table.column("conversation_id")
        same = pc.equal(ids, last).to_numpy(zero_copy_only=False)
        cut = int(np.argmin(same)) if not same.all() else table.num_rows
        # Batches read from Parquet carry their own dictionaries: unify before combining.
        held = pa.concat_tables([held, table.slice(0, cut)]).unify_dictionaries().combine_chunks()
        rest = table.slice(cut)
        if rest.num_rows:
            yield held
            held = rest
    if held is not None:
        yield held


def report_rows(totals: Mapping[GroupKey, _Totals], group_by: Sequence[str]) -> list[dict[str, Any]]:
    """Final per-group rows, sorted by group key (nulls first) so the output is deterministic."""
    out = []
    for key in sorted(totals, key=lambda k: tuple((v is not None, v or "") for v in k)):
        t = totals[key]
        talk_ratio = t.talk_ms / t.duration_ms if t.duration_ms > 0 else 0.0
        hold_ratio = t.hold_ms / t.duration_ms if t.duration_ms > 0 else 0.0
        row: dict[str, Any] = dict(zip(group_by, key, strict=True))
        row.update(
            conversation_count=t.conversations,
            avg_duration_s=round(t.duration_ms / t.ended / 1000, 6) if t.ended else None,
            talk_ratio=round(talk_ratio, 6),
            hold_ratio=round(hold_ratio, 6),
            efficiency_score=round(max(0.0, 100 - hold_ratio * 50), 6),
            wrapup_code_count=len(t.wrapup_codes),
            wrapup_codes=sorted(t.wrapup_codes),
            total_talk_s=t.talk_ms / 1000,
            total_hold_s=t.hold_ms / 1000,
            total_acw_s=t.acw_ms / 1000,
        )
        out.append(row)
    return out


def read_session_batches(source: Any) -> Iterator[pa.Table]:
    """The columns the report needs from a session-table Parquet file, one row group at a time (the
    merge writes row groups of whole conversations), low-cardinality strings kept dictionary-encoded as
    stored (no string decoding or re-hashing)."""
    import pyarrow.parquet as pq

    parquet = pq.ParquetFile(source, read_dictionary=list(DICTIONARY_COLUMNS))
    for group in range(parquet.num_row_groups):
        yield parquet.read_row_group(group, columns=list(NEEDED_COLUMNS))


def aggregate(
    batches: Iterable[pa.Table | pa.RecordBatch], group_by: Sequence[str] = DEFAULT_GROUP_BY
) -> list[dict[str, Any]]:
    """The report from session-table batches (conversation rows contiguous, as the merge writes them)."""
    totals: dict[GroupKey, _Totals] = {}
    for table in _complete_conversations(batches):
        _accumulate(totals, _partial(table, group_by))
    return report_rows(totals, group_by)
