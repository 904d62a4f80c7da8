"""Recommendation: the abandon model, bounds, units (abandonRate stays a percentage), apply helpers."""

from __future__ import annotations

import pytest

from genesys_pipelines.pacing_forecast import recommend as rec
from genesys_pipelines.pacing_forecast.params import PacingParams

HOURS = [f"2026-06-11T{h:02d}:00:00+00:00" for h in range(24)]
TYPICAL = [0.0] * 8 + [20.0] * 13 + [0.0] * 3


def forecast(rate: float, spread: float = 0.05) -> dict:
    return {"hours": HOURS, "mean": [rate] * 24, "lower": [rate - spread] * 24, "upper": [rate + spread] * 24}


def campaign(mode: str = "predictive", **fields: object) -> dict:
    base = {"id": "c1", "version": 3, "dialingMode": mode, "abandonRate": 3.0, "maxCallsPerAgent": 2,
            "maxCallsPerAgentDecimal": 2.0, "outboundLineCount": 20}
    return {**base, **fields}


def test_abandon_model_grows_with_ratio_and_matches_a_hand_computation() -> None:
    # 1 agent, 2 lines, p = 0.5: P(X=2) = 0.25 → 0.25 abandoned of E[X] = 1 connected → 25 %.
    assert rec.expected_abandon_pct(2, 1, 0.5) == pytest.approx(25.0)
    assert rec.expected_abandon_pct(1, 1, 0.5) == 0.0
    values = [rec.expected_abandon_pct(10 * k, 10, 0.4) for k in (1.0, 1.5, 2.0, 2.5, 3.0)]
    assert values == sorted(values) and values[0] == 0.0
    ratio = rec.max_ratio_for_target(10, 0.4, 3.0, 1.0, 4.0)
    assert rec.expected_abandon_pct(10 * ratio, 10, 0.4) <= 3.0 + 1e-6
    assert rec.expected_abandon_pct(10 * (ratio + 0.01), 10, 0.4) > 3.0


def test_calls_per_agent_is_step_bounded_and_under_target() -> None:
    params = PacingParams(max_relative_step=0.2)
    # Many agents, low answer rate: the model allows a lot more than 2.0, the step caps it at 2.4.
    out = rec.recommend(campaign(), forecast(0.2), [30.0] * 24, TYPICAL, params)
    assert out["status"] == "change" and out["field"] == "maxCallsPerAgentDecimal"
    assert out["target_unbounded"] > 2.4
    assert out["after"]["maxCallsPerAgentDecimal"] == pytest.approx(2.4)
    assert any("step bound" in line for line in out["explanation"])
    # Few agents, high answer rate: the model wants less than 1.6; the step stops it at 1.6.
    down = rec.recommend(campaign(), forecast(0.8), [2.0] * 24, TYPICAL, params)
    assert down["after"]["maxCallsPerAgentDecimal"] == pytest.approx(1.6)
    # The absolute bounds win over the step.
    capped = rec.recommend(campaign(maxCallsPerAgentDecimal=3.9), forecast(0.1), [50.0] * 24, TYPICAL,
                           PacingParams(max_calls_per_agent_max=4.0))
    assert capped["after"]["maxCallsPerAgentDecimal"] == pytest.approx(4.0)
    # Unbounded enough step: the result respects the abandon target at the most constraining hour.
    free = rec.recommend(campaign(), forecast(0.35), [10.0] * 24, TYPICAL, PacingParams(max_relative_step=1.0))
    ratio = free["after"]["maxCallsPerAgentDecimal"]
    assert rec.expected_abandon_pct(10 * ratio, 10, 0.40) <= 3.0


def test_abandon_rate_stays_a_percentage_at_or_under_target() -> None:
    params = PacingParams(abandon_rate_target=3.0)
    high = rec.recommend(campaign(abandonRate=5.0), forecast(0.3), [10.0] * 24, TYPICAL, params)
    assert high["after"]["abandonRate"] == 3.0  # percent, not 0.03
    assert high["before"]["abandonRate"] == 5.0
    assert high["should_apply"]
    low = rec.recommend(campaign(abandonRate=2.0), forecast(0.3), [10.0] * 24, TYPICAL, params)
    assert low["after"]["abandonRate"] == 2.0  # under target: kept, never raised
    with pytest.raises(ValueError):
        PacingParams(abandon_rate_target=0.03)  # a fraction typed by mistake


def test_min_change_suppresses_a_tiny_write() -> None:
    params = PacingParams(min_change=0.5, max_relative_step=0.2)
    out = rec.recommend(campaign(), forecast(0.2), [30.0] * 24, TYPICAL, params)
    assert out["relative_change"] == pytest.approx(0.2) and not out["should_apply"]


def test_no_capacity_and_not_applicable_modes() -> None:
    none = rec.recommend(campaign(), forecast(0.3), [0.0] * 24, TYPICAL, PacingParams())
    assert none["status"] == "no_capacity" and not none["should_apply"]
    for mode in ("preview", "progressive", "external"):
        out = rec.recommend(campaign(mode), forecast(0.3), [10.0] * 24, TYPICAL, PacingParams())
        assert out["status"] == "not_applicable" and out["field"] is None and not out["should_apply"]


def test_agentless_lines_scale_inversely_with_answer_rate_in_whole_lines() -> None:
    out = rec.recommend(campaign("agentless"), forecast(0.25), [0.0] * 24, TYPICAL, PacingParams(), history_rate=0.3)
    # 20 × 0.3 / 0.25 = 24 → within the 20 % step → 24 lines.
    assert out["field"] == "outboundLineCount" and out["after"]["outboundLineCount"] == 24
    assert isinstance(out["after"]["outboundLineCount"], int)
    big = rec.recommend(campaign("agentless"), forecast(0.1), [0.0] * 24, TYPICAL, PacingParams(), history_rate=0.3)
    assert big["after"]["outboundLineCount"] == 24  # 60 wanted, step-bounded


def test_apply_helpers_set_fields_and_detect_a_landed_write() -> None:
    current = campaign(abandonRate=5.0)
    plan = rec.recommend(current, forecast(0.2), [30.0] * 24, TYPICAL, PacingParams())
    body = rec.apply_to_campaign(current, plan)
    assert body["version"] == 3 and body["abandonRate"] == 3.0
    assert body["maxCallsPerAgentDecimal"] == pytest.approx(2.4) and body["maxCallsPerAgent"] == 2
    assert not rec.is_applied(current, plan) and rec.is_applied({**body, "version": 4}, plan)
