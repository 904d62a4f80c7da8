"""Row-by-row pure-Python twin of :func:`aggregate.aggregate`, for tests and the benchmark only.

Deliberately simple and independent of Arrow/NumPy: it is the yardstick the vectorised path is checked
and timed against. Same attribution rules (see ``aggregate``'s docstring).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from genesys_pipelines.conversation_report.aggregate import (
    AGENT_PURPOSE,
    QUEUED_PURPOSES,
    GroupKey,
    _Totals,
    report_rows,
)
from genesys_pipelines.conversation_report.params import DEFAULT_GROUP_BY


def reference_aggregate(
    rows: Iterable[Mapping[str, Any]], group_by: Sequence[str] = DEFAULT_GROUP_BY
) -> list[dict[str, Any]]:
    """``rows``: session rows as dicts keyed by the session table's column names, in table order."""
    conversations: dict[str, dict[str, Any]] = {}
    add_rows(conversations, rows)
    return finish(conversations, group_by)


def add_rows(conversations: dict[str, dict[str, Any]], rows: Iterable[Mapping[str, Any]]) -> None:
    """Fold ``rows`` into the per-conversation state (callable batch by batch)."""
    for row in rows:
        c = conversations.get(row["conversation_id"])
        if c is None:
            c = conversations[row["conversation_id"]] = {
                "duration": row["duration_ms"],
                "direction": row["originating_direction"],
                "queue": None,
                "queue_start": None,
                "queue_media": None,
                "first_media": None,
                "campaign": None,
                "talk": 0,
                "hold": 0,
                "acw": 0,
                "codes": set(),
            }
        if c["first_media"] is None:
            c["first_media"] = row["media_type"]
        if c["campaign"] is None:
            c["campaign"] = row["outbound_campaign_id"]
        if row["purpose"] in QUEUED_PURPOSES and row["queue_id"] is not None:
            start = row["queue_segment_start"]
            if c["queue"] is None or (
                start is not None and (c["queue_start"] is None or start < c["queue_start"])
            ):
                c["queue"], c["queue_start"], c["queue_media"] = row["queue_id"], start, row["media_type"]
        if row["purpose"] == AGENT_PURPOSE:
            c["talk"] += row["talk_ms"] or 0
            c["hold"] += row["hold_ms"] or 0
            c["acw"] += row["acw_ms"] or 0
        if row["wrap_up_code"] is not None:
            c["codes"].add(row["wrap_up_code"])


def finish(conversations: dict[str, dict[str, Any]], group_by: Sequence[str]) -> list[dict[str, Any]]:
    """The report rows from the per-conversation state."""
    totals: dict[GroupKey, _Totals] = {}
    for c in conversations.values():
        dims = {
            "queueId": c["queue"],
            "mediaType": c["queue_media"] if c["queue"] is not None else c["first_media"],
            "originatingDirection": c["direction"],
            "outboundCampaignId": c["campaign"],
        }
        t = totals.setdefault(tuple(dims[d] for d in group_by), _Totals())
        t.conversations += 1
        if c["duration"] is not None:
            t.ended += 1
            t.duration_ms += c["duration"]
            t.talk_ms += c["talk"]
            t.hold_ms += c["hold"]
            t.acw_ms += c["acw"]
        t.wrapup_codes |= c["codes"]
    return report_rows(totals, group_by)
