from __future__ import annotations

from datetime import UTC, datetime

from conversation_report_data import Q_SALES, Q_SUPPORT

from genesys_pipelines.conversation_report.flatten import COLUMNS, SESSION_SCHEMA, flatten
from genesys_pipelines.models.analytics import AnalyticsConversation


def _by_conv(table, cid: str) -> list[dict]:
    return [r for r in table.to_pylist() if r["conversation_id"] == cid]


def test_one_row_per_session_in_api_order(conversations) -> None:
    table = flatten(conversations)
    assert table.schema == SESSION_SCHEMA
    # c1: 3 sessions, c2: 5, c3: 3, c4: 2, c5: 3
    assert [len(_by_conv(table, c)) for c in ("c1", "c2", "c3", "c4", "c5")] == [3, 5, 3, 2, 3]
    assert [r["purpose"] for r in _by_conv(table, "c2")] == ["customer", "acd", "acd", "agent", "agent"]


def test_session_values(conversations) -> None:
    table = flatten(conversations)
    agent = _by_conv(table, "c1")[2]
    assert agent["conversation_start"] == datetime(2026, 6, 10, 8, tzinfo=UTC)
    assert agent["duration_ms"] == 600_000
    assert (agent["talk_ms"], agent["hold_ms"], agent["acw_ms"], agent["handle_ms"]) == (400_000, 60_000, 30_000, None)
    assert (agent["user_id"], agent["queue_id"], agent["wrap_up_code"]) == ("u1", Q_SALES, "W1")
    assert agent["queue_segment_start"] == datetime(2026, 6, 10, 8, 0, 25, tzinfo=UTC)
    acd_support = _by_conv(table, "c2")[2]
    assert (acd_support["purpose"], acd_support["queue_id"]) == ("acd", Q_SUPPORT)


def test_missing_optional_fields_are_null(conversations) -> None:
    table = flatten(conversations)
    chat_agent = _by_conv(table, "c3")[2]
    assert chat_agent["talk_ms"] is None and chat_agent["wrap_up_code"] is None
    assert chat_agent["media_type"] == "chat"
    ivr = _by_conv(table, "c4")[1]
    assert ivr["queue_id"] is None and ivr["user_id"] is None and ivr["direction"] is None
    open_conv = _by_conv(table, "c5")[0]
    assert open_conv["conversation_end"] is None and open_conv["duration_ms"] is None


def test_conversation_without_participants_still_yields_a_row() -> None:
    table = flatten([{"conversationId": "bare", "conversationStart": "2026-06-10T01:00:00Z"}])
    [row] = table.to_pylist()
    assert row["conversation_id"] == "bare" and row["session_id"] is None
    assert set(row) == set(COLUMNS)


def test_pydantic_models_are_accepted(conversations) -> None:
    models = [AnalyticsConversation.model_validate(c) for c in conversations]
    assert flatten(models).to_pylist() == flatten(conversations).to_pylist()
