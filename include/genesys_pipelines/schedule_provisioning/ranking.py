"""Priority score and the sibling-conflict decision.

Score = campaign ``priority`` (1–5, 5 highest, genesys-api.md §3e) + ``size / (size + 10,000)`` for the
contact list size. The size term lies in [0, 1), so priority always dominates and, within one priority,
a bigger audience wins (a list of 10,000 contacts adds 0.5). A missing priority counts as 1 and a
missing size as 0: what we cannot see never outranks what we can. Ties break on campaign id so the
order is deterministic.

Policies for conflicts with *other* campaigns (siblings sharing the contact list or queue, or other
campaigns requested in the same run):

- ``refuse``: the lower-scored side is refused. A request outranking an existing sibling goes ahead
  (with a warning: siblings are never written to); an equal score refuses the request.
- ``warn``: every request goes ahead; conflicts are reported as warnings.

Conflicts of a request with itself (``self``) or with its campaign's own existing windows
(``current``, merge mode) always refuse it: those are mistakes in the request, whatever the policy.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from genesys_pipelines.schedule_provisioning.overlap import Conflict

__all__ = ["Decision", "Policy", "SIZE_HALF", "decide", "priority_score", "rank"]

Policy = Literal["refuse", "warn"]
SIZE_HALF = 10_000


def priority_score(priority: int | None, contact_list_size: int | None) -> float:
    prio = priority if priority is not None and 1 <= priority <= 5 else 1
    size = max(contact_list_size or 0, 0)
    return round(prio + size / (size + SIZE_HALF), 6)


def rank(scores: dict[str, float]) -> list[str]:
    """Campaign ids, highest score first, ties by id."""
    return sorted(scores, key=lambda cid: (-scores[cid], cid))


@dataclass
class Decision:
    campaign_id: str
    score: float
    refused: bool = False
    reasons: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    conflicts: list[dict[str, Any]] = field(default_factory=list)


def _describe(c: Conflict) -> str:
    o = c.overlap.to_api()
    return f"{c.kind} overlap with {c.other.campaign_id} ({c.other.source}) over {o['start']}/{o['end']}"


def decide(
    scores: dict[str, float],
    conflicts: list[Conflict],
    policy: Policy,
    other_scores: dict[str, float] | None = None,
) -> dict[str, Decision]:
    """Accept or refuse each requested campaign (keys of ``scores``), in rank order.

    ``other_scores`` holds the scores of sibling campaigns that are not requested. A request conflict
    between two requested campaigns refuses the lower-ranked one only if the higher one is accepted
    (a refused request writes nothing, so it cannot block anyone).
    """
    other_scores = other_scores or {}
    decisions = {cid: Decision(cid, scores[cid]) for cid in scores}
    by_campaign: dict[str, list[Conflict]] = {cid: [] for cid in scores}
    for c in conflicts:
        by_campaign[c.requested.campaign_id].append(c)
        if c.kind == "request":
            by_campaign[c.other.campaign_id].append(c)

    for cid in rank(scores):
        d = decisions[cid]
        for c in by_campaign[cid]:
            d.conflicts.append(c.to_dict())
            text = (
                _describe(c)
                if c.requested.campaign_id == cid
                else (
                    f"request overlap with {c.requested.campaign_id} (requested) over "
                    f"{c.overlap.to_api()['start']}/{c.overlap.to_api()['end']}"
                )
            )
            if c.kind in ("self", "current"):
                d.refused = True
                d.reasons.append(text)
                continue
            rival = c.other.campaign_id if c.requested.campaign_id == cid else c.requested.campaign_id
            if c.kind == "request":
                rival_decision = decisions[rival]
                rival_first = rank(scores).index(rival) < rank(scores).index(cid)
                loses = rival_first and not rival_decision.refused
            else:
                loses = d.score <= other_scores.get(rival, 1.0)
            if policy == "refuse" and loses:
                d.refused = True
                d.reasons.append(f"{text}; {rival} ranks higher or equal")
            else:
                d.warnings.append(text)
    return decisions
