"""Pacing guard rails (issue 17, finding 4): bounds hold when the current value is outside them; a
negative or non-numeric current value is a payload error; guard rails are deployment settings a run may
tighten, never loosen; stale windows never write. Each fails on old main."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from genesys_pipelines.pacing_forecast import recommend as rec
from genesys_pipelines.pacing_forecast.params import PacingParams, deployment_limits, parse_params
from genesys_pipelines.pacing_forecast.steps import stale_reason


def test_above_the_ceiling_goes_straight_down_to_it() -> None:
    # less aggressive: straight to the bound, not limited by the step (old main: 12 -> 9.6)
    value, notes = rec.bound(12.0, 3.0, 0.2, 1.0, 4.0)
    assert value == 4.0 and any("above 4" in n for n in notes)


def test_below_the_floor_rises_by_at_most_the_step() -> None:
    # more aggressive: limited by the step (old main jumped from 0.5 to the floor 1.0)
    value, _ = rec.bound(0.5, 3.0, 0.2, 1.0, 4.0)
    assert value == pytest.approx(0.6)


def test_never_above_the_ceiling_and_never_more_than_the_step_up() -> None:
    assert rec.bound(3.9, 10.0, 0.2, 1.0, 4.0)[0] == 4.0
    assert rec.bound(2.0, 10.0, 0.2, 1.0, 4.0)[0] == pytest.approx(2.4)


@pytest.mark.parametrize("bad", [-3.0, "3", True, {"v": 3}])
def test_a_negative_or_non_numeric_abandon_rate_is_a_payload_error(bad: object) -> None:
    campaign = {"id": "c", "version": 2, "dialingMode": "predictive", "abandonRate": bad,
                "maxCallsPerAgentDecimal": 2.0}
    with pytest.raises(rec.MalformedCampaign, match="abandonRate"):
        rec.check_campaign_read(campaign, [rec.FIELD_ABANDON])
    with pytest.raises(rec.MalformedCampaign):
        rec.recommend(campaign, {"hours": ["h"], "mean": [0.3], "upper": [0.35]}, [10.0], [50.0],
                      PacingParams(), 0.3)


def test_guard_rails_are_deployment_settings_a_run_can_only_tighten() -> None:
    loose = parse_params({"abandon_rate_target": 50, "max_relative_step": 1.0, "max_calls_per_agent_max": 90}, {})
    assert (loose.abandon_rate_target, loose.max_relative_step, loose.max_calls_per_agent_max) == (3.0, 0.2, 4.0)
    tight = parse_params({"abandon_rate_target": 2, "max_relative_step": 0.1}, {})
    assert (tight.abandon_rate_target, tight.max_relative_step) == (2.0, 0.1)
    site = parse_params({}, {"GENESYS_PACING_ABANDON_TARGET_MAX": "2.5", "GENESYS_PACING_MAX_STEP": "0.05"})
    assert (site.abandon_rate_target, site.max_relative_step) == (2.5, 0.05)
    with pytest.raises(ValueError, match="GENESYS_PACING_MAX_STEP"):
        deployment_limits({"GENESYS_PACING_MAX_STEP": "7"})


def test_a_window_older_than_the_max_age_is_stale() -> None:
    end = datetime(2026, 6, 10, tzinfo=UTC)
    assert stale_reason(end, datetime(2026, 6, 10, 6, tzinfo=UTC), 24) is None
    reason = stale_reason(end, datetime(2026, 6, 12, 1, tzinfo=UTC), 24)
    assert reason and reason.startswith("stale") and "49.0 h" in reason
    assert deployment_limits({}).max_age_hours == 24


def test_a_stale_window_selects_nothing_and_calls_no_api() -> None:
    from genesys_pipelines.pacing_forecast.steps import select_campaigns
    from genesys_pipelines.windows import Window

    class NoApi:
        def __getattr__(self, name: str):
            raise AssertionError(f"API called for a stale window: {name}")

    window = Window(datetime(2026, 6, 9, tzinfo=UTC), datetime(2026, 6, 10, tzinfo=UTC))
    assert select_campaigns(NoApi(), PacingParams(), window, datetime(2026, 6, 12, tzinfo=UTC)) == []
