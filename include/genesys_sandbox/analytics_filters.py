"""Query filters of the analytics API compiled to numpy masks over the generator's columns.

Details filters (conversation and segment predicates, and/or clauses) become one function
``(synth, block, now) -> bool mask`` evaluated per block of 1,024 conversations; aggregate filters
are evaluated on the rows of a day's aggregate cube.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from genesys_pipelines.models.analytics import (
    CONVERSATION_DIMENSIONS,
    DIMENSION_VALUES,
    SEGMENT_DIMENSIONS,
    AsyncConversationQuery,
    ConversationQuery,
    QueryFilter,
    QueryPredicate,
)
from genesys_sandbox.errors import ApiError
from genesys_sandbox.synth import AGG_METRICS, MEDIA_TYPES, Block, Synth, block_view

Mask = Callable[[Synth, Block, int], np.ndarray]


def check_dimension_value(dimension: str, value: str | None, field_name: str) -> None:
    """An enum dimension's value must be one the SDK lists: the API answers 400 otherwise."""
    allowed = DIMENSION_VALUES.get(dimension)
    if allowed is not None and value is not None and value not in allowed:
        raise ApiError(
            400, f"Invalid value {value!r} for dimension {dimension!r} in {field_name}",
            fields=[f"{field_name}.value"],
        )



def _value_mask(synth: Synth, block: Block, dimension: str, now: int) -> tuple[np.ndarray, list[str]] | None:
    """Per-conversation codes (-1 = absent) and their values for a dimension the generator models."""
    coded = synth.dimension_codes(block, dimension)
    if coded is not None:
        return coded[0], list(coded[1])
    return None


def _set_mask(block: Block, dimension: str, value: str | None, now: int) -> np.ndarray | None:
    """Dimensions whose values form a set per conversation (purpose, segmentType)."""
    if dimension == "purpose":
        present = {
            "customer": np.ones(block.n, bool), "outbound": block.outbound,
            "acd": block.connected, "agent": block.handled,
        }
    elif dimension == "segmentType":
        present = {
            "interact": block.connected, "dialing": block.outbound,  # unanswered dials never interact
            "contacting": block.outbound & block.connected, "alert": block.handled,
            "wrapup": block.handled, "hold": block.held,
        }
    else:
        return None
    if value is None:
        return np.ones(block.n, bool)
    return present.get(value, np.zeros(block.n, bool))


def _predicate(pred: QueryPredicate, allowed: frozenset[str], field_name: str) -> Mask:
    operator = pred.operator or "matches"
    kind = pred.type or ("metric" if pred.metric else "dimension")
    if kind == "metric" or pred.metric:
        name = pred.metric or ""
        rng = pred.range

        def metric_mask(synth: Synth, block: Block, now: int) -> np.ndarray:
            if name not in AGG_METRICS:  # a metric the generator does not emit: absent everywhere
                present, values = np.zeros(block.n, bool), np.zeros(block.n, np.int64)
            else:
                present, values = block.metric(name, now)
            if operator == "exists":
                return present
            if operator == "notExists":
                return ~present
            mask = present.copy()
            if rng is not None:
                for bound, op in ((rng.gt, np.greater), (rng.gte, np.greater_equal), (rng.lt, np.less), (rng.lte, np.less_equal)):
                    if bound is not None:
                        mask &= op(values, bound)
            elif pred.value is not None:
                mask &= values == float(pred.value)
            return mask

        return metric_mask
    if kind == "property":
        # Custom properties are not generated: a property is never present.
        return lambda synth, block, now: np.full(block.n, operator == "notExists")
    dimension = pred.dimension or ""
    if dimension not in allowed:
        raise ApiError(400, f"Invalid dimension {dimension!r} in {field_name}", fields=[f"{field_name}.dimension"])
    if operator == "matches" and pred.value is None:
        raise ApiError(400, f"A 'matches' predicate needs a value ({dimension})", fields=[f"{field_name}.value"])
    check_dimension_value(dimension, pred.value, field_name)
    value = pred.value

    def dimension_mask(synth: Synth, block: Block, now: int) -> np.ndarray:
        if dimension == "conversationEnd":
            present = block.end <= now
            return present if operator != "notExists" else ~present
        if dimension == "conversationStart":
            return np.full(block.n, operator != "notExists")
        if dimension == "conversationId":
            ids = block_view(block).ids["conversation"]
            present = np.ones(block.n, bool)
            if operator == "matches":
                return np.array([cid == value for cid in ids], bool)
            return present if operator == "exists" else ~present
        sets = _set_mask(block, dimension, value if operator == "matches" else None, now)
        if sets is not None:
            return sets if operator != "notExists" else ~sets
        coded = _value_mask(synth, block, dimension, now)
        if coded is None:  # a dimension the generator never fills: absent on every conversation
            return np.full(block.n, operator == "notExists")
        codes, values = coded
        if operator == "exists":
            return codes >= 0
        if operator == "notExists":
            return codes < 0
        return codes == (values.index(value) if value in values else -2)

    return dimension_mask


def compile_filter(flt: QueryFilter | Any, allowed: frozenset[str], field_name: str) -> Mask:
    """An and/or filter with predicates and clauses as one mask function."""
    parts: list[Mask] = [_predicate(p, allowed, field_name) for p in flt.predicates or []]
    for clause in flt.clauses or []:
        inner = [_predicate(p, allowed, field_name) for p in clause.predicates]
        parts.append(_combine(clause.type, inner))
    return _combine(flt.type, parts)


def _combine(kind: str, parts: list[Mask]) -> Mask:
    if not parts:
        return lambda synth, block, now: np.ones(block.n, bool)

    def mask(synth: Synth, block: Block, now: int) -> np.ndarray:
        result = parts[0](synth, block, now)
        for part in parts[1:]:
            result = (result & part(synth, block, now)) if kind == "and" else (result | part(synth, block, now))
        return result

    return mask


def details_filter(query: ConversationQuery | AsyncConversationQuery) -> Mask:
    """All conversation and segment filters, ANDed (the platform ANDs separate filter entries)."""
    masks = [compile_filter(f, CONVERSATION_DIMENSIONS, "conversationFilters") for f in query.conversation_filters or []]
    masks += [compile_filter(f, SEGMENT_DIMENSIONS, "segmentFilters") for f in query.segment_filters or []]
    return _combine("and", masks)


def row_codes(synth: Synth, keys: dict[str, np.ndarray], dimension: str) -> tuple[np.ndarray, list[str]] | None:
    org = synth.org
    if dimension == "outboundCampaignId":
        return keys["campaign"], [c.id for c in org.campaigns]
    if dimension == "outboundContactListId":
        lists = sorted({c.contact_list_id for c in org.campaigns})
        mapping = np.array([lists.index(c.contact_list_id) for c in org.campaigns] or [0])
        return np.where(keys["campaign"] >= 0, mapping[np.maximum(keys["campaign"], 0)], -1), lists
    if dimension == "queueId":
        return keys["queue"], list(org.queue_ids)
    if dimension == "mediaType":
        return keys["media"], list(MEDIA_TYPES)
    if dimension == "wrapUpCode":
        return keys["wrapup"], list(org.wrapup_code_ids)
    if dimension in ("direction", "originatingDirection"):
        return keys["outbound"], ["inbound", "outbound"]
    if dimension == "divisionId":
        return np.zeros(len(keys["queue"]), np.int64), [org.division_id]
    return None


def row_mask(synth: Synth, keys: dict[str, np.ndarray], flt: QueryFilter | None) -> np.ndarray:
    rows = len(keys["queue"])
    if flt is None:
        return np.ones(rows, bool)

    def predicate(pred: QueryPredicate) -> np.ndarray:
        operator = pred.operator or "matches"
        if (pred.type or "dimension") != "dimension" or pred.metric:
            raise ApiError(400, "Only dimension predicates are supported in aggregate filters", fields=["filter.predicates"])
        coded = row_codes(synth, keys, pred.dimension or "")
        if coded is None:
            return np.full(rows, operator == "notExists")
        codes, values = coded
        if operator == "exists":
            return codes >= 0
        if operator == "notExists":
            return codes < 0
        return codes == (values.index(pred.value) if pred.value in values else -2)

    def combine(kind: str, masks: list[np.ndarray]) -> np.ndarray:
        if not masks:
            return np.ones(rows, bool)
        out = masks[0]
        for m in masks[1:]:
            out = out & m if kind == "and" else out | m
        return out

    parts = [predicate(p) for p in flt.predicates or []]
    parts += [combine(c.type, [predicate(p) for p in c.predicates]) for c in flt.clauses or []]
    return combine(flt.type, parts)
