from __future__ import annotations

import csv
import io
import json

import pyarrow.parquet as pq

from genesys_pipelines.conversation_report.aggregate import aggregate
from genesys_pipelines.conversation_report.export import render
from genesys_pipelines.conversation_report.flatten import flatten
from genesys_pipelines.conversation_report.names import with_names

WINDOW = {"start": "2026-06-10T00:00:00+00:00", "end": "2026-06-11T00:00:00+00:00", "tz": "UTC"}
GROUP_BY = ["mediaType", "queueId"]


def test_formats_carry_the_same_rows_and_are_deterministic(conversations) -> None:
    rows = aggregate([flatten(conversations)], GROUP_BY)
    out = render(rows, GROUP_BY, WINDOW, ["csv", "json", "parquet"])
    assert out == render(aggregate([flatten(conversations)], GROUP_BY), GROUP_BY, WINDOW, ["csv", "json", "parquet"])
    named = with_names(rows, GROUP_BY, None)  # every queue id is followed by its name (none known here)
    assert json.loads(out["json"])["rows"] == named
    assert pq.read_table(io.BytesIO(out["parquet"])).to_pylist() == named
    parsed = list(csv.DictReader(io.StringIO(out["csv"].decode())))
    assert [r["conversation_count"] for r in parsed] == [str(r["conversation_count"]) for r in rows]
    assert parsed[1]["queueId"] == ""  # never-queued conversations
    assert parsed[3]["wrapup_codes"] == "W1|W2"


def test_only_requested_formats() -> None:
    assert set(render([], GROUP_BY, WINDOW, ["csv"])) == {"csv"}
