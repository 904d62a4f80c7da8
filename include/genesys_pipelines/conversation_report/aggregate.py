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


def _ints(column: pa.ChunkedArray | pa.Array) -> np.ndarray:
    return pc.fill_null(column.cast(pa.int64()), 0).to_numpy()


def _flags(values: pa.ChunkedArray | pa.Array) -> np.ndarray:
    return pc.fill_null(values, False).to_numpy(zero_copy_only=False)


def _codes(column: pa.ChunkedArray | pa.Array) -> tuple[np.ndarray, list[Any]]:
    """Dictionary codes of a column (-1 for null) and its dictionary; Parquet reads give them for free."""
    array = column.combine_chunks() if isinstance(column, pa.ChunkedArray) else column
    if not pa.types.is_dictionary(array.type):
        array = array.dictionary_encode()
    return pc.fill_null(array.indices, -1).to_numpy().astype(np.int64), array.dictionary.to_pylist()


def _first_per_group(group: np.ndarray, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For rows sorted by ``group``: the distinct groups and the first row of each."""
    if rows.size == 0:
        return rows, rows
    starts = np.concatenate(([True], group[1:] != group[:-1]))
    return group[starts], rows[starts]


class _Batch:
    """One batch of complete conversations: conversation index per row and per-conversation picks."""

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

    def first_valid(self, valid: np.ndarray) -> np.ndarray:
        """Per conversation, its first row where ``valid`` (rows are in API order), else -1."""
        rows = np.flatnonzero(valid)
        out = np.full(self.n_conv, -1, dtype=np.int64)
        g, r = _first_per_group(self.conv[rows], rows)
        out[g] = r
        return out

    def pick(self, name: str, rows: np.ndarray) -> tuple[np.ndarray, list[Any]]:
        """Codes of column ``name`` at ``rows`` (one per conversation; -1 row = null) and the dictionary."""
        codes, dictionary = _codes(self.table.column(name))
        return np.where(rows >= 0, codes[np.maximum(rows, 0)], -1), dictionary

    def per_conversation_sum(self, values: np.ndarray) -> np.ndarray:
        return np.add.reduceat(values, self.first_rows, axis=0) if self.n_conv else values[:0]


def _conversation_level(table: pa.Table, group_by: Sequence[str]) -> dict[str, Any]:
    """Per-conversation group codes and sums for one batch whose conversations are contiguous and complete."""
    b = _Batch(table)
    # Masks from dictionary codes: integer comparisons instead of string kernels.
    purpose, purposes = _codes(table.column("purpose"))
    # lookup tables indexed by code + 1 (slot 0: null purpose)
    queued = np.array([False] + [p in QUEUED_PURPOSES for p in purposes])[purpose + 1]
    queued &= _codes(table.column("queue_id"))[0] >= 0
    agent = np.array([False] + [p == AGENT_PURPOSE for p in purposes])[purpose + 1]

    # Attributed session: per conversation, the first row (API order breaks ties) among the queued rows
    # whose queue segment starts earliest. Rows are grouped by conversation, so segment-wise reductions
    # (reduceat) replace a sort.
    qstart = pc.fill_null(table.column("queue_segment_start").cast(pa.int64()), _NO_TIME).to_numpy()
    qstart = np.where(queued, qstart, _NO_TIME)
    earliest = np.minimum.reduceat(qstart, b.first_rows)
    attributed = b.first_valid(queued & (qstart == earliest[b.conv]))

    def key(dimension: str) -> tuple[np.ndarray, list[Any]]:
        if dimension == "queueId":
            return b.pick("queue_id", attributed)
        if dimension == "mediaType":
            fallback = b.first_valid(_codes(table.column("media_type"))[0] >= 0)
            return b.pick("media_type", np.where(attributed >= 0, attributed, fallback))
        if dimension == "originatingDirection":
            return b.pick("originating_direction", b.first_rows)
        if dimension == "outboundCampaignId":
            valid = _flags(pc.is_valid(table.column("outbound_campaign_id")))
            return b.pick("outbound_campaign_id", b.first_valid(valid))
        raise ValueError(f"group_by: unknown dimension {dimension!r}")

    duration = table.column("duration_ms").take(pa.array(b.first_rows))
    ended = _flags(pc.is_valid(duration))
    duration_ms = _ints(duration)
    # talk, hold, ACW of agent sessions, summed per conversation in one pass
    timed = np.column_stack([_ints(table.column(c)) for c in ("talk_ms", "hold_ms", "acw_ms")])
    timed[~agent] = 0
    agent_sums = np.where(ended[:, None], b.per_conversation_sum(timed), 0)

    wrap_codes, vocabulary = _codes(table.column("wrap_up_code"))
    wrap_rows = np.flatnonzero(wrap_codes >= 0)
    return {
        "keys": [key(d) for d in group_by],
        "sums": {
            "ended": ended.astype(np.int64),
            "duration_ms": np.where(ended, duration_ms, 0),
            "talk_ms": agent_sums[:, 0],
            "hold_ms": agent_sums[:, 1],
            "acw_ms": agent_sums[:, 2],
        },
        "wrap_conv": b.conv[wrap_rows],
        "wrap_codes": wrap_codes[wrap_rows],
        "wrap_vocabulary": vocabulary,
    }


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


def _accumulate(totals: dict[GroupKey, _Totals], part: dict[str, Any]) -> None:
    # One int64 key per conversation: mixed radix over the dimensions' codes (null = 0).
    dictionaries = [d for _, d in part["keys"]]
    size = 1
    for d in dictionaries:
        size *= len(d) + 1
    if size >= 1 << 62:  # the mixed-radix key would overflow int64 (far beyond real cardinalities)
        raise ValueError(f"too many distinct group values ({size}) for one report")
    key = np.zeros(len(part["sums"]["ended"]), dtype=np.int64)
    for codes, d in part["keys"]:
        key = key * (len(d) + 1) + (codes + 1)
    distinct, group = _dense_groups(key, size)
    names: list[GroupKey] = []
    for value in distinct.tolist():
        parts: list[str | None] = []
        for d in reversed(dictionaries):
            value, code = divmod(value, len(d) + 1)
            parts.append(d[code - 1] if code else None)
        names.append(tuple(reversed(parts)))
    count = np.bincount(group, minlength=len(names))
    # float64 weights are exact for integer sums below 2**53 ms (285,000 years)
    sums = {
        k: np.bincount(group, weights=v, minlength=len(names)).astype(np.int64)
        for k, v in part["sums"].items()
    }
    for i, name in enumerate(names):
        t = totals.setdefault(name, _Totals())
        t.conversations += int(count[i])
        t.ended += int(sums["ended"][i])
        t.duration_ms += int(sums["duration_ms"][i])
        t.talk_ms += int(sums["talk_ms"][i])
        t.hold_ms += int(sums["hold_ms"][i])
        t.acw_ms += int(sums["acw_ms"][i])
    vocabulary = part["wrap_vocabulary"]
    if len(part["wrap_conv"]):
        pair = group[part["wrap_conv"]] * len(vocabulary) + part["wrap_codes"]
        present, _ = _dense_groups(pair, len(names) * len(vocabulary))
        for value in present.tolist():
            g, c = divmod(value, len(vocabulary))
            totals[names[g]].wrapup_codes.add(vocabulary[c])


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
        part = _conversation_level(table, group_by)
        _accumulate(totals, part)
    return report_rows(totals, group_by)
