"""Normalisation: ms → s, ratios as fractions, null-safe zeros, conversions from wrap-up codes."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from genesys_pipelines.campaign_stats.aggregates import daily_sums, success_rule, window_sums
from genesys_pipelines.campaign_stats.normalise import conversions_for, day_figures, normalise_row
from genesys_pipelines.windows import Window

CID = "c0ffee00-0000-4000-8000-000000000001"
OTHER = "c0ffee00-0000-4000-8000-000000000002"
WINDOW = Window(datetime(2026, 6, 10, tzinfo=UTC), datetime(2026, 6, 11, tzinfo=UTC), "UTC", "params")


def _metric(name: str, count: int, total: float | None = None) -> dict:
    stats: dict = {"count": count}
    if total is not None:
        stats["sum"] = total
    return {"metric": name, "stats": stats}


def _response(groups: list[tuple[dict, list[tuple[str, list[dict]]]]]) -> dict:
    return {"results": [{"group": g, "data": [{"interval": i, "metrics": m} for i, m in data]} for g, data in groups]}


def test_window_sums_adds_buckets_and_splits_timers() -> None:
    payload = _response([
        ({"outboundCampaignId": CID}, [
            ("a", [_metric("nOutboundAttempted", 100), _metric("tHandle", 40, 4_000_000.0)]),
            ("b", [_metric("nOutboundAttempted", 20), _metric("tHandle", 10, 500_000.0)]),
        ]),
    ])
    sums = window_sums(payload)[CID]
    assert sums["nOutboundAttempted"] == 120
    assert sums["tHandle.sum"] == 4_500_000.0
    assert sums["tHandle.count"] == 50


def test_row_converts_units_and_rates() -> None:
    sums = {
        "nOutboundAttempted": 200, "nOutboundConnected": 80, "nOutboundAbandoned": 4,
        "tHandle.sum": 24_000_000.0, "tHandle.count": 80, "tTalk.sum": 16_000_000.0, "tTalk.count": 80,
        "tHeld.sum": 90_000.0, "tHeld.count": 3, "tAcw.sum": 2_400_000.0, "tAcw.count": 80,
    }
    row = normalise_row({"id": CID, "name": "N", "division_id": None}, sums, 20, WINDOW)
    assert row["avg_handle_time_s"] == pytest.approx(300.0)
    assert row["handle_time_s"] == pytest.approx(24_000.0)
    assert row["avg_hold_time_s"] == pytest.approx(30.0)
    assert row["avg_acw_time_s"] == pytest.approx(30.0)
    assert row["connect_rate"] == pytest.approx(0.4)
    assert row["abandon_rate"] == pytest.approx(4 / 80, abs=1e-6)  # abandoned ÷ connected, not ÷ attempted
    assert row["conversion_rate"] == pytest.approx(0.25)
    assert row["no_activity"] is False
    assert row["window_start"] == "2026-06-10T00:00:00+00:00"


def test_no_activity_is_zeros_not_an_error() -> None:
    row = normalise_row({"id": CID}, None, 0, WINDOW)
    assert row["no_activity"] is True
    for key in ("attempted", "connected", "connect_rate", "abandon_rate", "conversion_rate", "avg_handle_time_s"):
        assert row[key] == 0


def test_day_figures_missing_denominators_are_none() -> None:
    assert day_figures({}) == {"avg_handle_time_s": None, "connect_rate": None, "abandon_rate": None}
    figures = day_figures({"nOutboundAttempted": 10, "nOutboundConnected": 5, "nOutboundAbandoned": 1})
    assert figures == {"avg_handle_time_s": None, "connect_rate": 0.5, "abandon_rate": 0.2}


def test_conversions_from_mapping_and_default_set() -> None:
    sale, refused, unmapped = "11111111-1111-4111-8111-111111111111", "22222222-2222-4222-8222-222222222222", "33333333-3333-4333-8333-333333333333"
    payload = _response([
        ({"outboundCampaignId": CID, "wrapUpCode": sale}, [("w", [_metric("tHandle", 7, 1.0)])]),
        ({"outboundCampaignId": CID, "wrapUpCode": refused}, [("w", [_metric("tHandle", 5, 1.0)])]),
        ({"outboundCampaignId": OTHER, "wrapUpCode": unmapped}, [("w", [_metric("tHandle", 3, 1.0)])]),
        ({"outboundCampaignId": CID}, [("w", [_metric("tHandle", 9, 1.0)])]),  # no wrap-up code
    ])
    from genesys_pipelines.campaign_stats.aggregates import wrapup_counts

    counts = wrapup_counts(payload)
    assert counts == {CID: {sale: 7, refused: 5}, OTHER: {unmapped: 3}}
    mapping = {"mapping": {sale: ["BUSINESS_SUCCESS"], refused: ["BUSINESS_FAILURE"]}, "defaultSet": []}
    rule = success_rule(mapping)
    assert conversions_for(counts[CID], rule) == 7
    assert conversions_for(counts[OTHER], rule) == 0
    # An unmapped code takes the defaultSet's flags; a mapped one keeps its own.
    mapping["defaultSet"] = ["BUSINESS_SUCCESS"]
    rule = success_rule(mapping)
    assert conversions_for(counts[OTHER], rule) == 3
    assert conversions_for(counts[CID], rule) == 7
    # The success_wrapup_codes param replaces the mapping entirely.
    assert conversions_for(counts[CID], success_rule(mapping, override=[refused])) == 5


def test_daily_sums_keeps_days_apart() -> None:
    payload = _response([
        ({"outboundCampaignId": CID}, [
            ("d1", [_metric("nOutboundAttempted", 10)]),
            ("d2", [_metric("nOutboundAttempted", 30)]),
        ]),
    ])
    assert daily_sums(payload) == {CID: {"d1": {"nOutboundAttempted": 10.0}, "d2": {"nOutboundAttempted": 30.0}}}
