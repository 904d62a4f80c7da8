from __future__ import annotations

import pytest
from conversation_report_data import Q_SALES, Q_SUPPORT

from genesys_pipelines.conversation_report.aggregate import aggregate
from genesys_pipelines.conversation_report.flatten import flatten
from genesys_pipelines.conversation_report.reference import reference_aggregate

# Hand-computed from the five conversations documented in conversation_report_data.sample_conversations.
EXPECTED_MEDIA_QUEUE = [
    {"mediaType": "chat", "queueId": Q_SALES, "conversation_count": 1, "avg_duration_s": 120.0,
     "talk_ratio": 0.0, "hold_ratio": 0.0, "efficiency_score": 100.0, "wrapup_code_count": 0,
     "wrapup_codes": [], "total_talk_s": 0.0, "total_hold_s": 0.0, "total_acw_s": 0.0},
    {"mediaType": "voice", "queueId": None, "conversation_count": 1, "avg_duration_s": 60.0,
     "talk_ratio": 0.0, "hold_ratio": 0.0, "efficiency_score": 100.0, "wrapup_code_count": 0,
     "wrapup_codes": [], "total_talk_s": 0.0, "total_hold_s": 0.0, "total_acw_s": 0.0},
    # c1 + c5 (c5 still open: counted, but not in durations or ratios)
    {"mediaType": "voice", "queueId": Q_SALES, "conversation_count": 2, "avg_duration_s": 600.0,
     "talk_ratio": 0.666667, "hold_ratio": 0.1, "efficiency_score": 95.0, "wrapup_code_count": 1,
     "wrapup_codes": ["W1"], "total_talk_s": 400.0, "total_hold_s": 60.0, "total_acw_s": 30.0},
    # c2: first ACD segment is support's (09:00:10) although sales' acd participant is listed first
    {"mediaType": "voice", "queueId": Q_SUPPORT, "conversation_count": 1, "avg_duration_s": 300.0,
     "talk_ratio": 0.5, "hold_ratio": 0.1, "efficiency_score": 95.0, "wrapup_code_count": 2,
     "wrapup_codes": ["W1", "W2"], "total_talk_s": 150.0, "total_hold_s": 30.0, "total_acw_s": 30.0},
]


def test_report_matches_hand_computation(conversations) -> None:
    assert aggregate([flatten(conversations)]) == EXPECTED_MEDIA_QUEUE


def test_group_by_media_type_only(conversations) -> None:
    chat, voice = aggregate([flatten(conversations)], ["mediaType"])
    assert chat["conversation_count"] == 1
    # voice: c1, c2, c4 ended (600 + 300 + 60 s), c5 open; talk 400+150 s, hold 60+30 s
    assert voice["conversation_count"] == 4
    assert voice["avg_duration_s"] == 320.0
    assert voice["talk_ratio"] == round(550 / 960, 6)
    assert voice["hold_ratio"] == 0.09375
    assert voice["efficiency_score"] == 100 - 0.09375 * 50
    assert voice["wrapup_codes"] == ["W1", "W2"]


def test_efficiency_score_floors_at_zero() -> None:
    conv = {"conversationId": "h", "conversationStart": "2026-06-10T00:00:00Z",
            "conversationEnd": "2026-06-10T00:01:40Z",
            "participants": [{"purpose": "agent", "sessions": [{"mediaType": "voice", "metrics": [
                {"name": "tHeld", "value": 250_000}], "segments": [
                {"segmentStart": "2026-06-10T00:00:00Z", "queueId": "q"}]}]}]}
    [row] = aggregate([flatten([conv])])
    assert row["hold_ratio"] == 2.5 and row["efficiency_score"] == 0.0


@pytest.mark.parametrize("batch_rows", [1, 2, 3, 5, 7, 1000])
def test_batch_boundaries_do_not_change_the_result(conversations, batch_rows: int) -> None:
    table = flatten(conversations)
    assert aggregate(table.to_batches(max_chunksize=batch_rows)) == EXPECTED_MEDIA_QUEUE


@pytest.mark.parametrize("group_by", [["mediaType", "queueId"], ["originatingDirection"], ["queueId", "mediaType"],
                                      ["outboundCampaignId", "mediaType"]])
def test_vectorised_equals_reference(conversations, group_by: list[str]) -> None:
    table = flatten(conversations)
    assert aggregate([table], group_by) == reference_aggregate(table.to_pylist(), group_by)


def test_empty_input_gives_an_empty_report() -> None:
    assert aggregate([flatten([])]) == []
    assert aggregate([]) == []


def test_dictionary_encoded_parquet_batches_with_carry(conversations, tmp_path) -> None:
    """The DAG's read path: per-row-group dictionaries; row groups of 4 rows cut conversations apart."""
    import pyarrow.parquet as pq

    from genesys_pipelines.conversation_report.aggregate import read_session_batches

    path = tmp_path / "sessions.parquet"
    pq.write_table(flatten(conversations), path, row_group_size=4)
    first = next(iter(read_session_batches(path)))
    assert pa_is_dictionary(first.schema.field("queue_id").type)
    assert aggregate(read_session_batches(path)) == EXPECTED_MEDIA_QUEUE
    assert aggregate(read_session_batches(path), ["originatingDirection"]) == reference_aggregate(
        flatten(conversations).to_pylist(), ["originatingDirection"])


def pa_is_dictionary(data_type) -> bool:
    import pyarrow as pa

    return pa.types.is_dictionary(data_type)


@pytest.mark.parametrize("seed", [1, 2, 3])
@pytest.mark.parametrize("group_by", [["mediaType", "queueId"], ["queueId", "originatingDirection", "outboundCampaignId"]])
def test_vectorised_equals_reference_on_irregular_data(seed: int, group_by: list[str]) -> None:
    """Ties between queued sessions, null starts, empty ids, repeated metrics, conversations without
    sessions, batches that cut conversations apart."""
    from conversation_report_data import random_conversations

    table = flatten(random_conversations(seed, 400))
    expected = reference_aggregate(table.to_pylist(), group_by)
    assert aggregate([table], group_by) == expected
    assert aggregate(table.to_batches(max_chunksize=37), group_by) == expected


def test_batches_without_agents_or_queues() -> None:
    convs = [{"conversationId": f"n{i}", "conversationStart": "2026-06-10T00:00:00Z",
              "conversationEnd": "2026-06-10T00:00:30Z",
              "participants": [{"purpose": "customer", "sessions": [{"mediaType": "chat"}]}]} for i in range(3)]
    table = flatten(convs)
    assert aggregate(table.to_batches(max_chunksize=1)) == reference_aggregate(table.to_pylist())
    [row] = aggregate([table])
    assert (row["mediaType"], row["queueId"], row["conversation_count"], row["avg_duration_s"]) == ("chat", None, 3, 30.0)
