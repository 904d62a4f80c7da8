"""The forecast on a synthetic series with known seasonality, the backtest, and the short-history skip."""

from __future__ import annotations

from datetime import timedelta

import numpy as np
import pytest

from genesys_pipelines.pacing_forecast import history, model


def _grid(counts, days: int, window):  # noqa: ANN001, ANN202
    return history.hourly_grid(counts, history.history_window(window, days))


def test_forecast_recovers_daily_shape_and_beats_seasonal_naive(make_counts, window, profile) -> None:  # noqa: ANN001
    grid = _grid(make_counts(14), 14, window)
    skill = model.backtest(grid)
    assert skill.hours_evaluated == 13  # the dialing hours of the held-out day
    assert skill.mase is not None and skill.mase < 1.0, skill
    assert skill.mae < skill.naive_mae
    fc = model.forecast(grid)
    assert len(fc.hours) == 24 and fc.hours[0] == window.end.isoformat()
    assert fc.method.startswith("STL(24")
    # The known profile comes back within a few points in the dialing hours.
    errors = [abs(fc.mean[h] - profile(h)) for h in range(8, 21)]
    assert float(np.mean(errors)) < 0.05, errors
    for low, mean, high in zip(fc.lower, fc.mean, fc.upper, strict=True):
        assert 0.0 <= low <= mean <= high <= 1.0
    assert any(high > low for low, high in zip(fc.lower, fc.upper, strict=True))


def test_weekly_model_only_from_four_weeks_and_only_when_it_backtests_better(make_counts, window) -> None:  # noqa: ANN001
    short = _grid(make_counts(21), 21, window)
    assert model.backtest(short).candidates.keys() == {"STL(24,robust)+ETS(A,Ad,N)"}
    assert model.forecast(short, weekly=True).method.startswith("STL(24")  # 3 weeks: not allowed
    grid = _grid(make_counts(30), 30, window)
    skill = model.backtest(grid)
    assert set(skill.candidates) == {"STL(24,robust)+ETS(A,Ad,N)", "MSTL(24,168,robust)+ETS(A,Ad,N)"}
    assert skill.mae == min(skill.candidates.values())
    assert skill.method == ("MSTL(24,168,robust)+ETS(A,Ad,N)" if skill.weekly else "STL(24,robust)+ETS(A,Ad,N)")
    fc = model.forecast(grid, weekly=True)
    assert fc.method.startswith("MSTL(24,168")
    assert all(0.0 <= v <= 1.0 for v in fc.mean + fc.lower + fc.upper)


def test_forecast_is_clamped_to_a_rate(window) -> None:  # noqa: ANN001
    # Rates near 1 with a rising trend would extrapolate above 1 without the clamp.
    start = window.end - timedelta(days=7)
    counts = {start + timedelta(hours=h): (50, min(50, 44 + h // 40)) for h in range(7 * 24)}
    fc = model.forecast(_grid(counts, 7, window))
    assert max(fc.upper) <= 1.0 and min(fc.lower) >= 0.0


def test_short_history_is_skipped_with_a_reason(make_counts, window) -> None:  # noqa: ANN001
    grid = _grid(make_counts(7, dial_hours=range(9, 17)), 7, window)  # 7 × 8 = 56 usable hours
    with pytest.raises(model.ShortHistoryError, match="only 56 hours with attempts"):
        model.forecast(grid)
    with pytest.raises(model.ShortHistoryError):
        model.backtest(grid)
    enough = _grid(make_counts(8), 8, window)  # 8 × 13 = 104 ≥ 96
    assert model.forecast(enough).hours


def test_typical_attempts_marks_dialing_hours(make_counts, window) -> None:  # noqa: ANN001
    grid = _grid(make_counts(10), 10, window)
    fc = model.forecast(grid)
    typical = model.typical_attempts(grid, fc.hours)
    assert typical[3] == 0.0 and typical[12] == pytest.approx(40.0)
