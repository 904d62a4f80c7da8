"""Range runs (issue 20): the extraction method of a multi-day run comes from a request-cost estimate, and the
extraction's chunks are cut by reporting day without changing the merge's rows."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from genesys_pipelines.conversation_report.ranges import extraction_cost, split_chunks
from genesys_pipelines.windows import Window


def test_the_job_is_chosen_when_it_costs_fewer_requests_and_the_lake_holds_the_range() -> None:
    days = {f"2026-06-{d:02d}": 2000 for d in range(1, 31)}
    cost = extraction_cost(days)
    assert (cost["sync_requests"], cost["job_requests"], cost["mode"]) == (600, 66, "async")
    assert "66" in cost["reason"] and "600" in cost["reason"]
    assert extraction_cost(days, job_available=False)["mode"] == "sync"  # not in the data lake yet
    assert extraction_cost({"2026-06-01": 3, "2026-06-02": 0})["mode"] == "sync"  # 2 pages vs 7 requests
    assert extraction_cost({"2026-06-01": 100_000, "2026-06-02": 1})["mode"] == "async"  # over the ceiling
    assert extraction_cost(days, mode="sync")["mode"] == "sync"


def test_chunks_are_cut_by_reporting_day_in_chunk_order(tmp_path: Path) -> None:
    import pyarrow.parquet as pq

    from genesys_pipelines.conversation_report.chunks import ChunkWriter, write_session_table

    def conv(cid: str, start: str) -> dict:
        return {"conversationId": cid, "conversationStart": start, "conversationEnd": start,
                "participants": [{"participantId": "p", "purpose": "agent", "sessions": [{"sessionId": "s"}]}]}

    writer = ChunkWriter(tmp_path / "chunks", chunk_conversations=2)
    writer.add_all([conv("a", "2026-06-01T23:59:59.000Z"), conv("b", "2026-06-02T00:00:00.000Z"),
                    conv("c", "2026-06-02T12:00:00.000Z"), conv("d", "2026-06-03T00:00:00.000Z")])
    days = list(Window(datetime(2026, 6, 1, tzinfo=UTC), datetime(2026, 6, 3, tzinfo=UTC)).days())
    per_day = split_chunks(writer.stats.paths, days, tmp_path / "days")
    ids = []
    for i, paths in enumerate(per_day):
        write_session_table(paths, str(tmp_path / f"{i}.parquet"))
        ids.append(pq.read_table(tmp_path / f"{i}.parquet").column("conversation_id").to_pylist())
    assert ids == [["a"], ["b", "c"]]  # "d" starts after the range: in no day
