"""Flatten details-query conversations (participants → sessions → metrics/segments) into session rows.

Input is the API's JSON (camelCase dicts, null/empty fields omitted) as the hook yields it; one output
row per session. A conversation without any session still yields one row (session columns null) so it
is counted. Per session:

- ``queue_id`` / ``queue_segment_start``: the first segment (in the API's chronological segment order)
  that carries a ``queueId``, and its start; the report attributes a conversation from these.
- ``talk_ms`` / ``hold_ms`` / ``acw_ms`` / ``handle_ms``: the sum of the session's ``tTalk`` / ``tHeld``
  / ``tAcw`` / ``tHandle`` metrics (milliseconds), null when the session has none.
- ``wrap_up_code``: the last segment's ``wrapUpCode`` in the session (the wrap-up segment), if any.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

TS = pa.timestamp("ms", tz="UTC")

SESSION_SCHEMA = pa.schema(
    [
        pa.field("conversation_id", pa.string(), nullable=False),
        pa.field("conversation_start", TS, nullable=False),
        pa.field("conversation_end", TS),
        pa.field("duration_ms", pa.int64()),
        pa.field("originating_direction", pa.string()),
        pa.field("participant_id", pa.string()),
        pa.field("purpose", pa.string()),
        pa.field("user_id", pa.string()),
        pa.field("session_id", pa.string()),
        pa.field("media_type", pa.string()),
        pa.field("direction", pa.string()),
        pa.field("queue_id", pa.string()),
        pa.field("queue_segment_start", TS),
        pa.field("talk_ms", pa.int64()),
        pa.field("hold_ms", pa.int64()),
        pa.field("acw_ms", pa.int64()),
        pa.field("handle_ms", pa.int64()),
        pa.field("wrap_up_code", pa.string()),
        pa.field("outbound_campaign_id", pa.string()),
        pa.field("outbound_contact_list_id", pa.string()),
    ]
)
COLUMNS: tuple[str, ...] = tuple(SESSION_SCHEMA.names)
_METRICS = {"tTalk": "talk_ms", "tHeld": "hold_ms", "tAcw": "acw_ms", "tHandle": "handle_ms"}
# Columns filled from raw strings, then cast by Arrow (ISO-8601 with Z → timestamp) in one vectorised step.
_TIME_COLUMNS = ("conversation_start", "conversation_end", "queue_segment_start")


def as_json(conversation: Any) -> Mapping[str, Any]:
    """Accept the hook's dicts or pydantic models (dumped to the API's camelCase JSON)."""
    if isinstance(conversation, Mapping):
        return conversation
    return conversation.model_dump(by_alias=True, exclude_none=True, mode="json")


def _session_values(session: Mapping[str, Any]) -> tuple[Any, ...]:
    queue_id = queue_start = wrap_up = None
    for segment in session.get("segments") or ():
        if queue_id is None and segment.get("queueId"):
            queue_id, queue_start = segment["queueId"], segment.get("segmentStart")
        if segment.get("wrapUpCode"):
            wrap_up = segment["wrapUpCode"]
    sums: dict[str, int] = {}
    for metric in session.get("metrics") or ():
        column = _METRICS.get(metric.get("name"))
        if column is not None:
            sums[column] = sums.get(column, 0) + int(metric.get("value") or 0)
    return (
        session.get("sessionId"),
        session.get("mediaType"),
        session.get("direction"),
        queue_id,
        queue_start,
        sums.get("talk_ms"),
        sums.get("hold_ms"),
        sums.get("acw_ms"),
        sums.get("handle_ms"),
        wrap_up,
        session.get("outboundCampaignId"),
        session.get("outboundContactListId"),
    )


_EMPTY_SESSION: tuple[Any, ...] = (None,) * 12


def flatten_rows(conversation: Any) -> list[tuple[Any, ...]]:
    """Session rows of one conversation, as tuples in ``COLUMNS`` order (times still ISO strings)."""
    conv = as_json(conversation)
    head = (
        conv["conversationId"],
        conv["conversationStart"],
        conv.get("conversationEnd"),
        None,
        conv.get("originatingDirection"),
    )
    rows: list[tuple[Any, ...]] = []
    for participant in conv.get("participants") or ():
        who = (participant.get("participantId"), participant.get("purpose"), participant.get("userId"))
        for session in participant.get("sessions") or ():
            rows.append(head + who + _session_values(session))
    if not rows:
        rows.append(head + (None, None, None) + _EMPTY_SESSION)
    return rows


def rows_to_table(rows: list[tuple[Any, ...]]) -> pa.Table:
    """Build a ``SESSION_SCHEMA`` table from flattened rows; times cast and duration computed in Arrow."""
    columns = list(zip(*rows, strict=True)) if rows else [()] * len(COLUMNS)
    arrays: list[pa.Array] = []
    for field, values in zip(SESSION_SCHEMA, columns, strict=True):
        if field.name in _TIME_COLUMNS:
            arrays.append(pa.array(values, type=pa.string()).cast(TS))
        elif field.name == "duration_ms":
            arrays.append(pa.nulls(len(values), pa.int64()))
        else:
            arrays.append(pa.array(values, type=field.type))
    table = pa.Table.from_arrays(arrays, schema=SESSION_SCHEMA)
    start = table.column("conversation_start").cast(pa.int64())
    end = table.column("conversation_end").cast(pa.int64())
    duration = pc.subtract(end, start)
    return table.set_column(COLUMNS.index("duration_ms"), SESSION_SCHEMA.field("duration_ms"), duration)


def flatten(conversations: Iterable[Any]) -> pa.Table:
    """Session-level table of ``conversations`` in their given order."""
    rows: list[tuple[Any, ...]] = []
    for conversation in conversations:
        rows.extend(flatten_rows(conversation))
    return rows_to_table(rows)
