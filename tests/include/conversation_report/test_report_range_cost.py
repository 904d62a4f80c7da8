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


class CountingApi:
    """The hook's plan verbs, counting the details requests (a probe page each)."""

    def __init__(self) -> None:
        self.details_requests = 0
        self.availability_reads = 0

    def details_probe(self, body: dict) -> dict:
        self.details_requests += 1
        day = int(body["interval"][8:10])
        return {"totalHits": 1000 + day, "conversations": [{"conversationEnd": body["interval"][:10] + "T23:00:00.000Z"}]}

    def details_total_hits(self, query: dict, interval: str) -> int:
        self.details_requests += 1
        return 1000 + int(interval[8:10])

    def details_job_availability(self) -> datetime:
        self.availability_reads += 1
        return datetime(2026, 6, 30, tzinfo=UTC)

    def list_campaigns(self) -> list:
        return []


def test_the_plan_probes_each_utc_day_once_for_both_the_cost_estimate_and_the_fingerprint() -> None:
    """Issue 20: the range plan read each day twice (a totalHits page for the cost estimate, then the
    restatement probe); the probe's totalHits now serves both: one details request per day."""
    from genesys_pipelines.conversation_report.params import validate_params
    from genesys_pipelines.conversation_report.steps import plan_probed

    params = validate_params({"start": "2026-06-01", "end": "2026-06-08", "publish_days": True})
    window = Window(datetime(2026, 6, 1, tzinfo=UTC), datetime(2026, 6, 8, tzinfo=UTC))
    api = CountingApi()
    planned = plan_probed(api, params, window, "work/", range_run=True)
    assert api.details_requests == 7  # was 14
    assert planned["day_hits"] == {f"2026-06-0{d}": 1000 + d for d in range(1, 8)}
    assert {k: v["total_hits"] for k, v in planned["source"]["days"].items()} == planned["day_hits"]
    assert planned["range"]["conversations"] == sum(1000 + d for d in range(1, 8))
    day = Window(datetime(2026, 6, 3, tzinfo=UTC), datetime(2026, 6, 4, tzinfo=UTC))
    one = CountingApi()
    single = plan_probed(one, validate_params({"start": "2026-06-03", "end": "2026-06-04"}), day, "work/")
    assert one.details_requests == 1 and single["day_hits"] == {"2026-06-03": 1003}  # a day run: 1 (was 2)
