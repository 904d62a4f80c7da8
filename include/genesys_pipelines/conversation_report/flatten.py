"""Flatten details-query conversations (participants → sessions → metrics/segments) into session rows.

Input is the API's JSON (camelCase dicts, null/empty fields omitted) as the hook yields it; one output
row per session. A conversation without any session still yields one row (session columns null) so it
is counted. Per session:

- ``queue_id`` / ``queue_segment_start``: the first segment (in the API's chronological segment order)
  that carries a ``queueId``, and its start; the report attributes a conversation from these.
- ``talk_ms`` / ``hold_ms`` / ``acw_ms`` / ``handle_ms``: the sum of the session's ``tTalk`` / ``tHeld``
  / ``tAcw`` / ``tHandle`` metrics (milliseconds), null when the session has none.
- ``wrap_up_code``: the last segment's ``wrapUpCode`` in the session (the wrap-up segment), if any.

Rows are accumulated column by column (:class:`SessionColumns`): one list append per value, no per-row
tuples to transpose, and Arrow builds each column from its list in one call.
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
# Columns filled from raw strings, then cast by Arrow (ISO-8601 with Z → timestamp) in one vectorised step.
_TIME_COLUMNS = ("conversation_start", "conversation_end", "queue_segment_start")
_DURATION = COLUMNS.index("duration_ms")


def as_json(conversation: Any) -> Mapping[str, Any]:
    """Accept the hook's dicts or pydantic models (dumped to the API's camelCase JSON)."""
    if type(conversation) is dict or isinstance(conversation, Mapping):  # the exact-type test is the fast path
        return conversation
    return conversation.model_dump(by_alias=True, exclude_none=True, mode="json")


class SessionColumns:
    """Session rows of conversations, accumulated column by column (times kept as ISO strings)."""

    def __init__(self) -> None:
        # duration_ms's list stays empty: Arrow computes it from the end and start columns in to_table().
        self._columns: list[list[Any]] = [[] for _ in COLUMNS]
        self._appends = tuple(column.append for column in self._columns)  # valid for good: clear() keeps lists

    @property
    def num_rows(self) -> int:
        return len(self._columns[0])

    def add(self, conversation: Any) -> str:
        """Append the session rows of one conversation (dict or pydantic model); returns its id."""
        conv = as_json(conversation)
        (_, _, _, _, _, participant_id, purpose, user_id, session_id, media,
         direction, queue, queue_start, talk, hold, acw, handle, wrap, campaign, contact_list) = self._appends
        cid, start, end = conv["conversationId"], conv["conversationStart"], conv.get("conversationEnd")
        odir = conv.get("originatingDirection")
        rows = 0
        for participant in conv.get("participants") or ():
            sessions = participant.get("sessions")
            if not sessions:
                continue
            pid, ppurpose, puser = participant.get("participantId"), participant.get("purpose"), participant.get("userId")
            for session in sessions:
                rows += 1
                queue_id = segment_start = wrap_up = None
                for segment in session.get("segments") or ():
                    if queue_id is None and segment.get("queueId"):
                        queue_id, segment_start = segment["queueId"], segment.get("segmentStart")
                    if segment.get("wrapUpCode"):
                        wrap_up = segment["wrapUpCode"]
                t_talk = t_held = t_acw = t_handle = None
                for metric in session.get("metrics") or ():
                    name = metric.get("name")
                    if name == "tTalk":
                        t_talk = (t_talk or 0) + int(metric.get("value") or 0)
                    elif name == "tHeld":
                        t_held = (t_held or 0) + int(metric.get("value") or 0)
                    elif name == "tAcw":
                        t_acw = (t_acw or 0) + int(metric.get("value") or 0)
                    elif name == "tHandle":
                        t_handle = (t_handle or 0) + int(metric.get("value") or 0)
                participant_id(pid)
                purpose(ppurpose)
                user_id(puser)
                session_id(session.get("sessionId"))
                media(session.get("mediaType"))
                direction(session.get("direction"))
                queue(queue_id)
                queue_start(segment_start)
                talk(t_talk)
                hold(t_held)
                acw(t_acw)
                handle(t_handle)
                wrap(wrap_up)
                campaign(session.get("outboundCampaignId"))
                contact_list(session.get("outboundContactListId"))
        if not rows:  # counted all the same: one row with null session columns
            rows = 1
            for column in self._columns[COLUMNS.index("participant_id"):]:
                column.append(None)
        for column, value in ((self._columns[0], cid), (self._columns[1], start), (self._columns[2], end),
                              (self._columns[4], odir)):
            column.extend((value,) * rows)
        return cid

    def to_table(self) -> pa.Table:
        """A ``SESSION_SCHEMA`` table of the rows so far; times cast and duration computed in Arrow."""
        n = self.num_rows
        arrays: list[pa.Array] = []
        for field, values in zip(SESSION_SCHEMA, self._columns, strict=True):
            if field.name in _TIME_COLUMNS:
                arrays.append(pa.array(values, type=pa.string()).cast(TS))
            elif field.name == "duration_ms":
                arrays.append(pa.nulls(n, pa.int64()))
            else:
                arrays.append(pa.array(values, type=field.type))
        table = pa.Table.from_arrays(arrays, schema=SESSION_SCHEMA)
        start = table.column("conversation_start").cast(pa.int64())
        end = table.column("conversation_end").cast(pa.int64())
        duration = pc.subtract(end, start)
        return table.set_column(_DURATION, SESSION_SCHEMA.field("duration_ms"), duration)

    def clear(self) -> None:
        for column in self._columns:
            column.clear()


def flatten(conversations: Iterable[Any]) -> pa.Table:
    """Session-level table of ``conversations`` in their given order."""
    columns = SessionColumns()
    for conversation in conversations:
        columns.add(conversation)
    return columns.to_table()
