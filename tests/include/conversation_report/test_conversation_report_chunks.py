from __future__ import annotations

import copy
import gc
import io
import random
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from conversation_report_data import random_conversations

from genesys_pipelines.conversation_report.chunks import (
    ChunkWriter,
    MergeStats,
    merge_chunks,
    write_session_table,
)
from genesys_pipelines.conversation_report.flatten import flatten


def _conv(i: int, second: int) -> dict:
    start = f"2026-06-10T{second // 3600:02d}:{second // 60 % 60:02d}:{second % 60:02d}.000Z"
    return {"conversationId": f"conv-{i:04d}", "conversationStart": start,
            "participants": [{"purpose": "customer", "sessions": [{"sessionId": f"a{i}", "mediaType": "voice"}]},
                             {"purpose": "agent", "sessions": [{"sessionId": f"b{i}", "mediaType": "voice"}]}]}


def _write_chunks(tmp_path: Path, pages: list[list[dict]]) -> list[Path]:
    """One chunk per 'concurrently fetched' page list."""
    paths = []
    for n, page in enumerate(pages):
        writer = ChunkWriter(tmp_path / f"w{n}", chunk_conversations=10**6, row_group_size=16)
        paths += writer.add_all(page).paths
    return paths


def test_kway_merge_orders_by_start_then_id_and_keeps_session_order(tmp_path: Path) -> None:
    rng = random.Random(7)
    convs = [_conv(i, rng.randrange(0, 86_400)) for i in range(300)]
    rng.shuffle(convs)
    pages = [convs[i::4] for i in range(4)]  # four interleaved streams
    stats = MergeStats()
    merged = [r for t in merge_chunks(_write_chunks(tmp_path, pages), stats, out_rows=50)
              for r in t.to_pylist()]
    keys = [(r["conversation_start"], r["conversation_id"]) for r in merged]
    assert keys == sorted(keys)
    assert [r["session_id"][0] for r in merged] == ["a", "b"] * 300  # customer row before agent row
    assert (stats.conversations, stats.rows, stats.duplicates) == (300, 600, 0)


def test_duplicates_across_chunks_are_dropped_keeping_the_first(tmp_path: Path) -> None:
    convs = [_conv(i, i * 10) for i in range(50)]
    again = copy.deepcopy(convs[10:20])
    for c in again:  # a later copy with different content must not win
        c["participants"][0]["sessions"][0]["sessionId"] = "late"
    stats = MergeStats()
    merged = [r for t in merge_chunks(_write_chunks(tmp_path, [convs, again]), stats) for r in t.to_pylist()]
    assert stats.duplicates == 10 and stats.conversations == 50 and len(merged) == 100
    assert "late" not in {r["session_id"] for r in merged}


def test_duplicates_inside_a_chunk_are_dropped_by_the_writer(tmp_path: Path) -> None:
    convs = [_conv(i, i) for i in range(5)]
    stats = ChunkWriter(tmp_path / "one", chunk_conversations=10).add_all(convs + convs[:2])
    assert stats.duplicates == 2 and stats.conversations == 5 and len(stats.paths) == 1
    # copies that land in another chunk are left to the merge
    split = ChunkWriter(tmp_path / "three", chunk_conversations=3).add_all(convs + convs[:2])
    merge = MergeStats()
    assert sum(t.num_rows for t in merge_chunks(split.paths, merge)) == 10
    assert (split.duplicates + merge.duplicates, merge.conversations) == (2, 5)


def test_session_table_is_deterministic_and_equals_flatten_sorted(tmp_path: Path) -> None:
    rng = random.Random(3)
    convs = [_conv(i, rng.randrange(0, 86_400)) for i in range(200)]
    paths = ChunkWriter(tmp_path / "c", chunk_conversations=37).add_all(convs).paths
    first, second = io.BytesIO(), io.BytesIO()
    write_session_table(paths, first, row_group_size=64)
    write_session_table(paths, second, row_group_size=64)
    assert first.getvalue() == second.getvalue()
    expected = flatten(convs).sort_by([("conversation_start", "ascending"), ("conversation_id", "ascending")])
    assert pq.read_table(io.BytesIO(first.getvalue())).to_pylist() == expected.to_pylist()


def test_empty_extraction_gives_an_empty_session_table(tmp_path: Path) -> None:
    buf = io.BytesIO()
    stats = write_session_table([], buf)
    assert stats.rows == 0 and pq.read_table(io.BytesIO(buf.getvalue())).num_rows == 0


def test_session_table_row_groups_hold_whole_conversations(tmp_path: Path) -> None:
    convs = [_conv(i, i) for i in range(100)]  # two session rows each
    paths = ChunkWriter(tmp_path / "c", chunk_conversations=30, row_group_size=7).add_all(convs).paths
    target = tmp_path / "sessions.parquet"
    write_session_table(paths, str(target), row_group_size=25)
    parquet = pq.ParquetFile(target)
    groups = [parquet.read_row_group(i).column("conversation_id").to_pylist() for i in range(parquet.num_row_groups)]
    assert sum(map(len, groups)) == 200 and len(groups) > 1
    for before, after in zip(groups, groups[1:], strict=False):
        assert before[-1] != after[0]


def _expected_session_rows(pages: list[list[dict]]) -> list[dict]:
    """Independent of the merge: the first copy of each conversation (earliest page, then position),
    flattened, stably sorted by (start, id)."""
    first: dict[str, dict] = {}
    for page in pages:
        for conv in page:
            first.setdefault(conv["conversationId"], conv)
    rows = flatten(list(first.values())).to_pylist()
    return sorted(rows, key=lambda r: (r["conversation_start"], r["conversation_id"]))


@pytest.mark.parametrize("row_group_size", [1, 3, 16, 1024])
def test_merge_with_ties_small_row_groups_and_duplicates(tmp_path: Path, row_group_size: int) -> None:
    """Many conversations share a millisecond, row groups cut conversations apart, copies of a conversation
    sit in several chunks with different contents: the earliest chunk's copy wins, rows stay in order."""
    convs = random_conversations(11, 300, seconds=3)
    rng = random.Random(5)
    pages = [convs[i::3] for i in range(3)]
    for page in pages[1:]:  # later pages repeat some conversations, with other contents
        for c in rng.sample(convs, 40):
            late = copy.deepcopy(c)
            late["participants"] = [{"purpose": "agent", "sessions": [{"sessionId": "late"}]}]
            page.append(late)
    paths = []
    for n, page in enumerate(pages):
        paths += ChunkWriter(tmp_path / f"w{n}", chunk_conversations=45, row_group_size=row_group_size
                             ).add_all(page).paths
    stats = MergeStats()
    merged = [r for t in merge_chunks(paths, stats, out_rows=64) for r in t.to_pylist()]
    expected = _expected_session_rows(pages)
    assert merged == expected
    assert stats.conversations == len({c["conversationId"] for c in convs})
    assert stats.rows == len(expected)


def test_output_tables_are_the_smallest_whole_conversation_runs_reaching_out_rows(tmp_path: Path) -> None:
    convs = random_conversations(12, 200)
    paths = ChunkWriter(tmp_path / "c", chunk_conversations=30, row_group_size=5).add_all(convs).paths
    tables = [t.column("conversation_id").to_pylist() for t in merge_chunks(paths, MergeStats(), out_rows=50)]
    assert sum(map(len, tables)) == len(flatten(convs))
    for ids in tables[:-1]:
        last_conversation = ids.count(ids[-1])
        assert len(ids) >= 50 and len(ids) - last_conversation < 50
    for before, after in zip(tables, tables[1:], strict=False):
        assert before[-1] != after[0]


def test_add_all_pauses_the_garbage_collector_and_restores_it(tmp_path: Path) -> None:
    states = []

    def source():
        for conv in [_conv(i, i) for i in range(3)]:
            states.append(gc.isenabled())
            yield conv
        raise RuntimeError("page failed")

    assert gc.isenabled()
    with pytest.raises(RuntimeError, match="page failed"):
        ChunkWriter(tmp_path / "g").add_all(source())
    assert states == [False, False, False] and gc.isenabled()


def test_session_table_names_each_wrap_up_code_after_it(tmp_path: Path) -> None:
    convs = [_conv(i, i) for i in range(6)]
    for i, conv in enumerate(convs):  # codes W0, W1, W2, W0, ... on the agent's session; W2 is unnamed
        conv["participants"][1]["sessions"][0]["segments"] = [
            {"segmentType": "wrapup", "segmentStart": conv["conversationStart"], "wrapUpCode": f"W{i % 3}"}]
    paths = ChunkWriter(tmp_path / "c", chunk_conversations=4).add_all(convs).paths
    buf = io.BytesIO()
    write_session_table(paths, buf, code_names={"W0": "Sale", "W1": "Wrong Number"})
    table = pq.read_table(io.BytesIO(buf.getvalue()))
    columns = table.column_names
    assert columns[columns.index("wrap_up_code") + 1] == "wrap_up_code_name"
    pairs = list(zip(table.column("wrap_up_code").to_pylist(), table.column("wrap_up_code_name").to_pylist(), strict=True))
    assert {p for p in pairs if p[0]} == {("W0", "Sale"), ("W1", "Wrong Number"), ("W2", None)}
    assert all(name is None for code, name in pairs if code is None)  # the customer's session: no code
    # the same table otherwise: dropping the name column gives the merge without names, byte for byte in rows
    plain = io.BytesIO()
    write_session_table(paths, plain)
    assert table.drop_columns(["wrap_up_code_name"]).to_pylist() == pq.read_table(io.BytesIO(plain.getvalue())).to_pylist()
    empty = io.BytesIO()  # the listing failed: the column is there, all null
    write_session_table(paths, empty, code_names={})
    assert set(pq.read_table(io.BytesIO(empty.getvalue())).column("wrap_up_code_name").to_pylist()) == {None}
