"""The library entry point ``forecast_answer_rate``: shape, selection, skill, intervals, local hours."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

from genesys_pipelines.pacing_forecast import candidates as cand
from genesys_pipelines.pacing_forecast import evaluation, forecast_answer_rate, slots
from genesys_pipelines.pacing_forecast.forecast import AnswerRateForecast, skill_margin
from genesys_pipelines.pacing_forecast.model import ShortHistoryError

END = pd.Timestamp("2026-11-09T00:00:00Z")


def rate_at(local_hour: int) -> float:
    return 0.2 + 0.3 * (local_hour - 8) / 12


def series(days: int = 28, attempts: int = 60, seed: int = 3, tz: str = "UTC", closed: tuple[int, ...] = (),
           level: float = 1.0, shift_days: int | None = None, shift: float = 1.0, decay: float = 0.0,
           end: pd.Timestamp = END) -> pd.DataFrame:
    """Dialing 08-20 local; absent hours dropped (as the API omits them)."""
    rng = np.random.default_rng(seed)
    index = pd.date_range(end - pd.Timedelta(days=days), end, freq="h", inclusive="left", tz="UTC")
    local = index.tz_convert(tz)
    rows = {}
    for ts, lt in zip(index, local, strict=True):
        if not 8 <= lt.hour < 20 or lt.dayofweek in closed:
            continue
        age = (end - ts) / pd.Timedelta(days=1)
        mult = level * (shift if shift_days is not None and age <= shift_days else 1.0) * np.exp(-decay * (days - age))
        p = float(np.clip(rate_at(lt.hour) * mult, 0.01, 0.99))
        n = int(rng.poisson(attempts))
        if n:
            rows[ts] = (n, int(rng.binomial(n, p)))
    frame = pd.DataFrame.from_dict(rows, orient="index", columns=["attempted", "connected"])
    frame.index = pd.DatetimeIndex(frame.index, tz="UTC")
    return frame.astype("int64")


@pytest.fixture(scope="module")
def fitted() -> AnswerRateForecast:
    return forecast_answer_rate(series(), end=END, models=False)


def test_shape_and_index_are_the_next_24_utc_hours(fitted: AnswerRateForecast) -> None:
    hourly = series(days=10)
    default = forecast_answer_rate(hourly, models=False)  # no end: after the last history hour
    assert default.mean.index[0] == hourly.index[-1] + pd.Timedelta(hours=1) and len(default.mean) == 24
    expected = pd.date_range(END, periods=24, freq="h", tz="UTC")
    for part in (fitted.mean, fitted.lower, fitted.upper):
        assert isinstance(part, pd.Series) and part.index.equals(expected)
        assert ((part >= 0) & (part <= 1)).all()
    assert (fitted.lower <= fitted.mean).all() and (fitted.mean <= fitted.upper).all()
    assert isinstance(fitted.method, str) and fitted.method


def test_mean_follows_the_daily_profile(fitted: AnswerRateForecast) -> None:
    for hour in (9, 13, 18):
        assert fitted.mean.iloc[hour] == pytest.approx(rate_at(hour), abs=0.04)


def test_scores_at_least_seven_rolling_origins_and_beats_naive(fitted: AnswerRateForecast) -> None:
    assert fitted.origins >= 7
    assert fitted.mase is not None and fitted.mase < 0.9
    assert fitted.skilful(0.1) and not fitted.skilful(1 - fitted.mase + 0.01)
    assert set(fitted.candidates["mase"]) >= {"kalman_week", "kalman_dow", "median", "combo"}


def test_to_dict_is_json_safe_and_complete(fitted: AnswerRateForecast) -> None:
    data = json.loads(json.dumps(fitted.to_dict()))
    assert len(data["hours"]) == len(data["mean"]) == 24
    assert data["method"] == fitted.method and data["origins"] == fitted.origins
    assert data["candidates"]["origins"] == fitted.origins


def test_refuses_only_short_history() -> None:
    with pytest.raises(ShortHistoryError, match="hours with attempts"):
        forecast_answer_rate(series(days=5).iloc[:40], models=False)
    short_but_enough = forecast_answer_rate(series(days=9), models=False)
    assert short_but_enough.holdout_origins < 7 and not short_but_enough.skilful(0.0)
    assert "origins" in short_but_enough.skill_reason(0.1)


@pytest.mark.parametrize(("change", "message"), [
    (lambda f: f.drop(columns="connected"), "connected"),
    (lambda f: f.tz_localize(None), "tz-aware"),
    (lambda f: f.assign(connected=f["attempted"] + 1), "exceeds"),
])
def test_malformed_input_is_a_clear_value_error(change, message: str) -> None:  # noqa: ANN001
    with pytest.raises(ValueError, match=message):
        forecast_answer_rate(change(series(days=10)), models=False)


def test_a_connection_counted_in_the_hour_after_its_attempt_is_not_refused() -> None:
    """Genesys counts a call dialled at 10:59 and answered at 11:00 as attempted at 10 and connected at 11:
    real data has hours with more connections than attempts. They went back to the hour before; before,
    the library refused the whole history (and the pacing run failed on the real-clock sandbox)."""
    hourly = series(days=21)
    i = hourly.index.get_loc(hourly.index[hourly.index.hour == 11][-1])
    hourly.iloc[i - 1, 1] -= 2  # two of hour 10's connections were answered after 11:00
    hourly.iloc[i, 1] = hourly.iloc[i, 0] + 2
    assert (hourly["connected"] > hourly["attempted"]).sum() == 1
    result = forecast_answer_rate(hourly, models=False)
    assert ((result.mean >= 0) & (result.mean <= 1)).all()
    grid = slots.build(hourly, 24)
    assert (grid.con <= grid.att).all() and grid.con.sum() == hourly["connected"].sum()


def test_closed_sundays_forecasting_monday_is_not_skipped() -> None:
    hourly = series(closed=(6,), days=35)
    end = pd.Timestamp("2026-11-09T00:00:00Z")  # a Monday; the last history day (Sunday) has no attempts
    assert hourly.index[-1] < end - pd.Timedelta(hours=24)
    fc = forecast_answer_rate(hourly, end=end, models=False)
    assert fc.mean.index[0] == end and fc.origins >= 7
    grid = slots.build(hourly, 24, end=end)
    origins = evaluation.find_origins(grid, 24)
    assert all(grid.att[t0:t0 + 24].sum() > 0 for t0 in origins)  # closed days are skipped
    assert all(pd.Timestamp(grid.index[t0]).dayofweek != 6 for t0 in origins)


def test_level_shift_is_detected_and_followed() -> None:
    hourly = series(days=35, shift_days=8, shift=0.6, attempts=80)
    grid = slots.build(hourly, 24)
    rates = cand.profile_rates(grid, grid.n, 14.0, weekly=False)
    day, ratio, expected = cand.daily_factors(grid, grid.n, rates)
    first = cand.detect_shift(day, ratio, expected)
    assert first is not None and abs(int(day[-1]) - first - 7) <= 1
    fc = forecast_answer_rate(hourly, end=END, models=False)
    assert fc.mean.iloc[13] == pytest.approx(rate_at(13) * 0.6, abs=0.04)


def test_no_shift_detected_on_a_stable_series() -> None:
    grid = slots.build(series(days=28), 24)
    rates = cand.profile_rates(grid, grid.n, 14.0, weekly=False)
    assert cand.detect_shift(*cand.daily_factors(grid, grid.n, rates)) is None


def test_decay_is_followed_by_the_level() -> None:
    hourly = series(days=35, decay=0.03, attempts=80)
    fc = forecast_answer_rate(hourly, end=END, models=False)
    last_level = np.exp(-0.03 * 35)
    assert fc.mean.iloc[13] == pytest.approx(rate_at(13) * last_level, rel=0.15)
    assert fc.mean.iloc[13] < rate_at(13) * np.exp(-0.03 * 17)  # not the history's average level


def test_local_hours_follow_dst() -> None:
    # New York dials 08-20 local; after 2026-11-01 local 08:00 is 13:00 UTC, not 12:00.
    hourly = series(days=28, tz="America/New_York")
    fc = forecast_answer_rate(hourly, tz="America/New_York", end=END, models=False)
    utc = fc.mean.copy()
    assert utc[pd.Timestamp("2026-11-09T13:00Z")] == pytest.approx(rate_at(8), abs=0.05)
    assert utc[pd.Timestamp("2026-11-09T23:00Z")] == pytest.approx(rate_at(18), abs=0.06)
    grid = slots.build(hourly, 24, tz="America/New_York", end=END)
    assert grid.hod[grid.n + 13] == 8 and grid.hod[grid.index.get_loc(pd.Timestamp("2026-10-30T12:00Z"))] == 8


def test_low_volume_with_missing_hours_is_shrunk_toward_the_pooled_rate() -> None:
    rng = np.random.default_rng(5)
    hourly = series(days=28, attempts=3)
    hourly = hourly[rng.random(len(hourly)) > 0.3]
    fc = forecast_answer_rate(hourly, models=False)
    spread = fc.mean.iloc[8:20]
    assert spread.between(0.1, 0.6).all()
    assert (fc.upper - fc.lower).iloc[8:20].mean() > 0.2  # few attempts: wide intervals


def test_interval_coverage_is_calibrated_on_held_out_days() -> None:
    hourly = series(days=42, attempts=40, seed=9)
    hits = []
    for k in range(1, 8):
        origin = END - pd.Timedelta(days=k)
        fc = forecast_answer_rate(hourly[hourly.index < origin], end=origin, models=False)
        day = hourly[(hourly.index >= origin) & (hourly.index < origin + pd.Timedelta(hours=24))]
        actual = day["connected"] / day["attempted"]
        hits += list((actual >= fc.lower[day.index]) & (actual <= fc.upper[day.index]))
    assert 0.8 <= np.mean(hits) <= 0.98


def test_seasonal_naive_skips_closed_days() -> None:
    hourly = series(days=14, closed=(6,))
    end = pd.Timestamp("2026-11-09T00:00:00Z")
    grid = slots.build(hourly, 24, end=end)
    naive = cand.seasonal_naive(grid, grid.n, 24)
    saturday_noon = pd.Timestamp("2026-11-07T12:00Z")
    row = hourly.loc[saturday_noon]
    assert naive[12] == pytest.approx(row["connected"] / row["attempted"])


def test_combination_weights_are_inverse_errors() -> None:
    grid = slots.build(series(days=21), 24)
    ev = evaluation.evaluate(grid, cand.cheap_candidates(), 24, evaluation.find_origins(grid, 24))
    sel = evaluation.choose(ev, "x")
    assert sum(sel.weights.values()) == pytest.approx(1.0)
    best = min((n for n in sel.weights), key=sel.mae.__getitem__)
    assert sel.weights[best] == max(sel.weights.values())
    inverse_squares = {n: sel.mae[n] ** -2 for n in sel.weights}  # Bates-Granger: 1 / error^2
    for name, weight in sel.weights.items():
        assert weight == pytest.approx(inverse_squares[name] / sum(inverse_squares.values()))
    best = min(sel.mae, key=sel.mae.__getitem__)
    champion = evaluation.CHAMPION
    assert sel.method == (best if sel.mae[best] < (1 - evaluation.CHAMPION_MARGIN) * sel.mae[champion] else champion)
    if sel.method == "combo":
        assert sel.parts == list(sel.weights)
    elif sel.method == "median":
        assert len(sel.parts) == len(ev.forecasts)
    else:
        assert sel.parts == [sel.method]
    assert sel.used == list(range(len(ev.origins) - evaluation.ORIGINS, len(ev.origins)))  # the most recent


def test_kalman_level_gain_follows_volume_and_extrapolates_drift() -> None:
    rng = np.random.default_rng(5)
    days = np.arange(30)
    # A stable level with one day off at the end: a low-volume day (noisy) barely moves the forecast,
    # a high-volume day (its binomial variance small) moves it much more.
    y = np.r_[rng.normal(0, 0.02, 29), 0.3]
    quiet = cand.kalman_level(days, y, np.full(30, 0.2), np.array([30]))[0]
    loud = cand.kalman_level(days, y, np.full(30, 0.0004), np.array([30]))[0]
    assert abs(quiet) < 0.05 < loud
    # A steady decline (list exhaustion) is extrapolated, not lagged: the next day is below the last.
    decline = -0.03 * days + rng.normal(0, 0.005, 30)
    nxt = cand.kalman_level(days, decline, np.full(30, 0.0004), np.array([30]))[0]
    assert nxt < decline[-1] - 0.01
    # A closed day is a gap the state crosses (days 0..28, then 30): still one prediction per target.
    gapped = cand.kalman_level(np.r_[days[:29], 30], y, np.full(30, 0.01), np.array([31, 31]))
    assert gapped.shape == (2,) and np.isfinite(gapped).all()


def test_weekday_effects_read_a_saturday_not_a_trend() -> None:
    rng = np.random.default_rng(9)
    days = np.arange(20454, 20454 + 42)  # 2026-01-01 .. : local day numbers
    saturday = ((days + 3) % 7) == 5
    y = 0.5 * saturday - 0.02 * (days - days[0]) + rng.normal(0, 0.03, len(days))
    effect = cand.weekday_effects(days, y, np.ones(len(days)))
    assert effect[5] - np.delete(effect, 5).mean() == pytest.approx(0.5, abs=0.1)
    assert np.abs(np.delete(effect, 5) - np.delete(effect, 5).mean()).max() < 0.06  # the trend is no weekday
    flat = cand.weekday_effects(days, rng.normal(0, 0.03, len(days)), np.ones(len(days)))
    assert np.abs(flat).max() < 0.03  # no weekday effect: shrunk to (nearly) nothing


def _evaluation(errors: dict[str, float], actual: float = 0.3) -> evaluation.Evaluation:
    """Two origins of 24 hours; candidate ``name`` is off the actual rate by ``errors[name]`` everywhere."""
    hours = [np.full(24, actual), np.full(24, actual)]
    return evaluation.Evaluation(
        origins=[0, 24], forecasts={n: [h + e for h in hours] for n, e in errors.items()},
        naive=[h + 0.1 for h in hours], actual=hours, attempts=[np.full(24, 10.0)] * 2,
        expected_attempts=[np.full(24, 10.0)] * 2)


def test_the_champion_stays_unless_clearly_beaten() -> None:
    champion = evaluation.CHAMPION
    # A challenger 2 % better on the selection origins is partly luck: the champion is kept.
    kept = evaluation.select(_evaluation({champion: 0.050, "other": 0.049, "third": 0.08}), [0, 1], "x")
    assert kept.method == champion
    # Clearly better (10 %), the challenger (or a combination with it) is chosen.
    beaten = evaluation.select(_evaluation({champion: 0.050, "other": 0.045, "third": 0.08}), [0, 1], "x")
    assert beaten.method != champion and beaten.mae[beaten.method] < 0.95 * beaten.mae[champion]
    # Without the champion in the pool: the better combination, never a single candidate.
    plain = evaluation.select(_evaluation({"a": 0.05, "b": 0.04, "c": 0.08}), [0, 1], "x")
    assert plain.method in evaluation.COMBINATIONS


def test_joint_weekday_filter_reads_a_weekend_and_follows_the_level() -> None:
    rng = np.random.default_rng(4)
    days = np.arange(20454, 20454 + 56)
    weekday = (days + 3) % 7
    weekend = weekday >= 5
    # Weekends 0.4 lower, and a level drifting up 0.01 a day, plus noise: the Saturday after the
    # history gets both, a Monday only the level.
    y = -0.4 * weekend + 0.01 * (days - days[0]) + rng.normal(0, 0.04, len(days))
    v = np.full(len(days), 0.0016)
    nxt = days[-1] + 1 + np.arange(7)
    level = cand.kalman_week_level(days, y, v, nxt)
    sat, mon = nxt[((nxt + 3) % 7) == 5][0], nxt[((nxt + 3) % 7) == 0][0]
    assert level[nxt == sat][0] - level[nxt == mon][0] == pytest.approx(-0.4, abs=0.1)
    assert level[nxt == mon][0] == pytest.approx(0.01 * (mon - days[0]), abs=0.1)


def test_a_detected_shift_is_followed_at_once_a_steady_decay_is_no_shift() -> None:
    rng = np.random.default_rng(8)
    days = np.arange(40)
    step = np.where(days >= 34, -0.6, 0.0) + rng.normal(0, 0.05, 40)
    v = np.full(40, 0.0025)
    first = cand.detect_shift(days, np.exp(step), 1 / v, detrend=True)
    assert first == 34
    followed = cand.kalman_week_level(days, step, v, np.array([40]), shift_day=first)[0]
    lagged = cand.kalman_week_level(days, step, v, np.array([40]))[0]
    assert abs(followed + 0.6) < 0.06 and abs(followed + 0.6) < abs(lagged + 0.6)
    # A steady decline is a trend: the plain test reads it as a shift, the detrended one does not.
    decay = -0.02 * days + rng.normal(0, 0.05, 40)
    assert cand.detect_shift(days, np.exp(decay), 1 / v) is not None
    assert cand.detect_shift(days, np.exp(decay), 1 / v, detrend=True) is None


def test_smoothed_profile_pulls_a_thin_hour_toward_its_neighbours_not_a_busy_one() -> None:
    def grid_with(attempts: int, connected: int) -> slots.Grid:
        frame = series(days=14, attempts=60, seed=2)
        hour11 = frame.index.hour == 11
        frame.loc[hour11, "attempted"] = attempts  # 11:00 answers about 0.6, its neighbours about 0.27
        frame.loc[hour11, "connected"] = connected
        return slots.build(frame, 24)

    thin, busy = grid_with(3, 2), grid_with(400, 240)
    hour = int(np.flatnonzero(thin.hod == 11)[0])
    raw_thin = cand.profile_rates(thin, thin.n, 42.0, False)[hour]
    assert raw_thin > 0.45  # 42 calls in two weeks: the raw profile (prior 30 attempts) still chases them
    assert cand.smoothed_profile(thin, thin.n, 42.0)[hour] < raw_thin - 0.1
    raw_busy = cand.profile_rates(busy, busy.n, 42.0, False)[hour]
    assert cand.smoothed_profile(busy, busy.n, 42.0)[hour] == pytest.approx(raw_busy, abs=0.03)  # mostly its own


def test_kalman_candidate_moves_the_logit_not_the_rate() -> None:
    # After a large upward shift a multiplicative level would push the peak hours past their real rate
    # (and past 1); the logit shift keeps every hour in (0, 1).
    grid = slots.build(series(days=28, shift_days=6, shift=3.0), 24)
    out = cand.kalman_forecast(grid, grid.n, 24)
    assert ((out > 0) & (out < 1)).all()
    assert out.max() > 0.9  # the shift was followed (the pre-shift peak was 0.5)


def _snooping_pool() -> dict[str, cand.Candidate]:
    """Candidate ``window_m`` is right (it peeks at the actuals) on exactly the eight days before day
    ``m`` (days counted back from the history's end) and wrong (0.95) everywhere else, day ``m``
    included: being best over a selection window says nothing about the next day."""

    def make(m: int) -> cand.Candidate:
        def window(grid: slots.Grid, t0: int, h: int) -> np.ndarray:
            if m < (grid.n - t0) // 24 <= m + 8:
                att = grid.att[t0:t0 + h]
                return np.divide(grid.con[t0:t0 + h], att, out=np.zeros(h), where=att > 0)
            return np.full(h, 0.95)
        return window

    return {f"window_{m}": make(m) for m in range(8)}


def test_skill_is_judged_on_hold_out_origins_not_on_the_choice(monkeypatch: pytest.MonkeyPatch) -> None:
    # On the eight most recent origins "window_0" is perfect: judged where it was chosen (the old gate)
    # the forecast looks flawless. At each hold-out day the choice made on the days before it is wrong
    # on that day, and the skill gate must see that.
    monkeypatch.setattr(cand, "cheap_candidates", _snooping_pool)
    fc = forecast_answer_rate(series(days=28), end=END, models=False)
    assert fc.method.startswith("combo(window_0")
    assert fc.selection_mase is not None and fc.selection_mase < 0.01  # what the old gate read
    assert fc.holdout_origins >= 7 and fc.candidates["holdout"]["origins"] == fc.holdout_origins
    assert fc.mase is not None and fc.mase > 2 and not fc.skilful(0.1)
    assert "hold-out MASE" in fc.skill_reason(0.1)


def test_hold_out_choice_uses_only_earlier_origins() -> None:
    grid = slots.build(series(days=28), 24, end=END)
    ev = evaluation.evaluate(grid, cand.cheap_candidates(), 24, evaluation.find_origins(grid, 24))
    hold = evaluation.holdout(ev, "x")
    assert len(hold.origins) == evaluation.HOLDOUT and hold.origins[-1] == len(ev.origins) - 1
    for i, forecast in zip(hold.origins, hold.forecasts, strict=True):
        sel = evaluation.select(ev, list(range(max(0, i - evaluation.ORIGINS), i)), "x")
        assert max(sel.used) < i and ev.origins[max(sel.used)] + 24 <= ev.origins[i]  # its days end before i
        assert np.allclose(forecast, evaluation.at_origin(ev, sel, i))
    errors = np.concatenate([np.abs(f - ev.actual[i])[ev.attempts[i] > 0]
                             for i, f in zip(hold.origins, hold.forecasts, strict=True)])
    assert hold.mae == pytest.approx(errors.mean())


def test_decomposition_models_are_candidates_with_enough_history() -> None:
    fc = forecast_answer_rate(series(days=42), models=True)
    assert {"stl_ets", "mstl_ets"} <= set(fc.candidates["mae"])


def test_skill_margin_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("GENESYS_PACING_SKILL_MARGIN", raising=False)
    assert skill_margin() == 0.1
    monkeypatch.setenv("GENESYS_PACING_SKILL_MARGIN", "0.25")
    assert skill_margin() == 0.25
    monkeypatch.setenv("GENESYS_PACING_SKILL_MARGIN", "2")
    with pytest.raises(ValueError, match="GENESYS_PACING_SKILL_MARGIN"):
        skill_margin()


def test_package_import_stays_light() -> None:
    code = ("import sys, genesys_pipelines.pacing_forecast as p, genesys_pipelines.pacing_forecast.steps; "
            "print(any(m in sys.modules for m in ('pandas', 'statsmodels', 'scipy')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


@pytest.mark.parametrize(("margin", "acts"), [("0.1", True), ("0.9", False)])
def test_pacing_acts_only_on_skill(monkeypatch: pytest.MonkeyPatch, margin: str, acts: bool) -> None:
    from datetime import UTC, datetime, timedelta

    from genesys_pipelines.pacing_forecast import history, steps
    from genesys_pipelines.pacing_forecast.params import PacingParams
    from genesys_pipelines.windows import Window

    monkeypatch.setenv("GENESYS_PACING_SKILL_MARGIN", margin)
    end = datetime(2026, 11, 9, tzinfo=UTC)
    window = Window(end - timedelta(days=1), end, "UTC")
    params = PacingParams()
    span = history.history_window(window, params.history_days)
    hourly = series(days=params.history_days, attempts=40)
    counts = {ts.to_pydatetime(): (int(a), int(c)) for ts, a, c in hourly.itertuples()}
    campaign = {"id": "c1", "name": "c1", "version": 7, "dialingMode": "predictive", "abandonRate": 3.0,
                "maxCallsPerAgent": 2, "maxCallsPerAgentDecimal": 2.0}
    fetched = {"ref": {"id": "c1", "name": "c1", "dialing_mode": "predictive"},
               "history": history.counts_to_dense(counts, span), "campaign": campaign,
               "capacity": {"source": "wfm_intraday_schedule", "agents": [30.0] * 24}}
    result = steps.analyse(fetched, window, params)
    assert result["status"] == "forecast" and result["backtest_summary"]["origins"] >= 7
    assert result["backtest_summary"]["skilful"] is acts
    assert result["recommendation"]["should_apply"] is acts
    if acts:
        assert result["reason"] is None
    else:
        assert "not skilful enough" in result["reason"]
        assert result["recommendation"]["proposed_only"] == result["reason"]


def test_pipeline_view_is_deterministic() -> None:
    from datetime import UTC, datetime, timedelta

    from genesys_pipelines.pacing_forecast import history
    from genesys_pipelines.pacing_forecast.forecast import for_pipeline
    from genesys_pipelines.windows import Window

    end = datetime(2026, 11, 9, tzinfo=UTC)
    span = Window(end - timedelta(days=14), end, "UTC")
    counts = {ts.to_pydatetime(): (int(a), int(c)) for ts, a, c in series(days=14).itertuples()}
    grid = history.hourly_grid(counts, span)
    first, second = for_pipeline(grid, end, "UTC", 0.1), for_pipeline(grid, end, "UTC", 0.1)
    assert json.dumps(first, sort_keys=True) == json.dumps(second, sort_keys=True)  # re-runs publish the same bytes
