"""Read aggregates-query responses into small per-campaign sums (plain dicts: they travel by XCom).

A sum dict holds, for every count metric ``nX``, ``{"nX": Σ stats.count}`` and, for every timer ``tX``,
``{"tX.sum": Σ stats.sum (ms), "tX.count": Σ stats.count}``. Metrics and intervals without data are
omitted by the API (genesys-api.md §3a), so a missing key reads as 0.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from typing import Any

from genesys_pipelines.models.analytics import (
    AggregateMetricData,
    ConversationAggregateQueryResponse,
)
from genesys_pipelines.models.outbound import WrapUpCodeMapping

MetricSums = dict[str, float]

CAMPAIGN_DIM = "outboundCampaignId"
WRAPUP_DIM = "wrapUpCode"


def _add_metric(sums: MetricSums, item: AggregateMetricData) -> None:
    stats = item.stats
    if item.metric.startswith("t"):
        sums[f"{item.metric}.sum"] = sums.get(f"{item.metric}.sum", 0.0) + float(stats.sum or 0.0)
        sums[f"{item.metric}.count"] = sums.get(f"{item.metric}.count", 0.0) + float(stats.count or 0)
    else:
        sums[item.metric] = sums.get(item.metric, 0.0) + float(stats.count or 0)


def _response(payload: Mapping[str, Any] | ConversationAggregateQueryResponse) -> ConversationAggregateQueryResponse:
    if isinstance(payload, ConversationAggregateQueryResponse):
        return payload
    return ConversationAggregateQueryResponse.model_validate(payload)


def window_sums(payload: Mapping[str, Any] | ConversationAggregateQueryResponse) -> dict[str, MetricSums]:
    """Per campaign id: the metric sums over every bucket of the response."""
    out: dict[str, MetricSums] = defaultdict(dict)
    for result in _response(payload).results or []:
        campaign_id = (result.group or {}).get(CAMPAIGN_DIM)
        if not campaign_id:
            continue
        for bucket in result.data or []:
            for item in bucket.metrics or []:
                _add_metric(out[campaign_id], item)
    return dict(out)


def wrapup_counts(payload: Mapping[str, Any] | ConversationAggregateQueryResponse) -> dict[str, dict[str, int]]:
    """Per campaign id: handled conversations (``tHandle.count``) per wrap-up code id."""
    out: dict[str, dict[str, int]] = defaultdict(dict)
    for result in _response(payload).results or []:
        group = result.group or {}
        campaign_id, code = group.get(CAMPAIGN_DIM), group.get(WRAPUP_DIM)
        if not campaign_id or not code:
            continue  # conversations without a wrap-up code cannot be conversions
        for bucket in result.data or []:
            for item in bucket.metrics or []:
                if item.metric == "tHandle":
                    out[campaign_id][code] = out[campaign_id].get(code, 0) + int(item.stats.count or 0)
    return dict(out)


def daily_sums(payload: Mapping[str, Any] | ConversationAggregateQueryResponse) -> dict[str, dict[str, MetricSums]]:
    """Per campaign id, per bucket interval (``P1D`` days): the metric sums. Days without data are absent."""
    out: dict[str, dict[str, MetricSums]] = defaultdict(dict)
    for result in _response(payload).results or []:
        campaign_id = (result.group or {}).get(CAMPAIGN_DIM)
        if not campaign_id:
            continue
        for bucket in result.data or []:
            sums = out[campaign_id].setdefault(bucket.interval, {})
            for item in bucket.metrics or []:
                _add_metric(sums, item)
    return dict(out)


def success_rule(mapping: Mapping[str, Any] | None = None, override: Iterable[str] | None = None) -> dict[str, Any]:
    """How to tell a conversion: ``{"success": [...], "not_success": [...], "default_success": bool}``.

    With ``override`` (the ``success_wrapup_codes`` param) exactly those codes count. Otherwise
    ``mapping`` is the ``GET /api/v2/outbound/wrapupcodemappings`` body: codes mapped to
    ``BUSINESS_SUCCESS`` count, and a code without an entry takes the ``defaultSet`` flags (what the
    dialer does), so when ``defaultSet`` holds ``BUSINESS_SUCCESS`` every unmapped code counts too.
    """
    if override:
        return {"success": sorted(set(override)), "not_success": [], "default_success": False, "source": "param"}
    model = WrapUpCodeMapping.model_validate(dict(mapping or {}))
    success = model.codes_with("BUSINESS_SUCCESS")
    return {
        "success": sorted(success),
        "not_success": sorted(set(model.mapping or {}) - success),
        "default_success": "BUSINESS_SUCCESS" in (model.default_set or []),
        "source": "wrapupcodemappings",
    }


def is_success(rule: Mapping[str, Any], code: str) -> bool:
    """Whether wrap-up code id ``code`` is a conversion under ``rule`` (see :func:`success_rule`)."""
    if code in rule["success"]:
        return True
    return bool(rule["default_success"]) and code not in rule["not_success"]
