"""Candidate forecasters: each maps (grid, origin t0, horizon) → mean answer rate of hours t0..t0+h-1.

A candidate sees only the hours before ``t0`` (the rolling-origin evaluation calls it at past origins).

* ``profile*``: the pooled answer rate (Σconnected ÷ Σattempted, so an hour's weight is its attempts)
  per LOCAL hour of day, or per hour of week shrunk toward the hour of day, with recency weights
  (half-life in days), shrunk toward the overall rate by a prior of ``PRIOR_ATTEMPTS`` (low volume and
  missing hours borrow from the pooled rate instead of chasing a handful of calls);
* ``level*``: that profile times a recent LEVEL factor (the last days' connected ÷ what the profile
  expected of their attempts). A level shift is detected on the daily factors (largest two-sample
  statistic over the candidate break days) and the history before it down-weighted; ``trend`` adds
  a damped trend on the daily log factor (decay over a campaign's life, list exhaustion);
* ``kalman*``: that profile's LOGIT moved by a daily level from a Kalman filter whose observations are
  the days' logit shifts with their binomial variance (low volume: small gain, shrinkage toward the
  long-run level), averaged by likelihood over mean-reverting, random-walk and drifting models
  (:func:`kalman_level`);
* ``stl_ets`` / ``mstl_ets``: the previous models (statsmodels STL/MSTL, robust, + damped ETS) on the
  hourly series filled from the profile (leak-free: the fill uses the hours before ``t0`` only).

The profile family is hand-written numpy because it is a few weighted sums and needs to run at many
origins in milliseconds; the decomposition models are statsmodels'.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import numpy as np

    from genesys_pipelines.pacing_forecast.slots import Grid

DAY = 24
WEEK = 168
#: Prior strength (attempts) pulling a slot's rate toward its parent rate.
PRIOR_ATTEMPTS = 30.0
#: Break statistic above which a level shift is taken as real.
SHIFT_T = 4.0
#: Daily damping of the level trend.
TREND_DAMPING = 0.9
#: History the decomposition models fit on (fit time grows with it; older hours add little).
STL_HOURS = 28 * DAY
MSTL_HOURS = 28 * DAY

Candidate = Callable[["Grid", int, int], "np.ndarray"]


def _weights(t0: int, half_life_days: float) -> np.ndarray:
    import numpy as np

    age = (t0 - np.arange(t0)) / DAY
    return 0.5 ** (age / half_life_days)


def _pooled(att: np.ndarray, con: np.ndarray, slot: np.ndarray, size: int, parent: np.ndarray | float,
            prior: float = PRIOR_ATTEMPTS) -> np.ndarray:
    import numpy as np

    a = np.bincount(slot, weights=att, minlength=size)
    c = np.bincount(slot, weights=con, minlength=size)
    return (c + prior * parent) / (a + prior)


def profile_rates(grid: Grid, t0: int, half_life: float, weekly: bool, weights: np.ndarray | None = None,
                  dow: bool = False) -> np.ndarray:
    """Profile rate of EVERY grid hour (history and horizon) from the hours before ``t0``.

    ``dow``: times a factor per local day of week (:func:`dow_factors`): a weekend or Saturday effect
    learnt from every hour of those days (7 parameters, not 168). ``weekly``: the hour of week, shrunk
    toward that parent.
    """
    import numpy as np

    w = _weights(t0, half_life) if weights is None else weights
    att, con = grid.att[:t0] * w, grid.con[:t0] * w
    total = att.sum()
    overall = float(con.sum() / total) if total > 0 else 0.0
    hod = _pooled(att, con, grid.hod[:t0], DAY, overall)
    rates = hod[grid.hod]
    parent = hod[np.arange(WEEK) % DAY]
    if dow:
        factor = dow_factors(grid, t0, w, rates)
        rates = rates * factor[grid.how // DAY]
        parent = parent * factor[np.arange(WEEK) // DAY]
    if weekly:
        how = _pooled(att, con, grid.how[:t0], WEEK, parent)
        rates = how[grid.how]
    return np.clip(rates, 0.0, 1.0)


def dow_factors(grid: Grid, t0: int, w: np.ndarray, rates: np.ndarray) -> np.ndarray:
    """Multiplicative factor per local weekday (Monday = 0), empirical Bayes.

    Each day's log ratio (connected ÷ what the hour-of-day profile expected of its attempts) minus the
    mean of the days around it (up to three either side: a trend or a level shift is not a weekday
    effect); per weekday the recency-weighted mean of those, shrunk toward 0 by how noisy it is
    against how much the weekdays really differ (tau^2 / (tau^2 + se^2)). With no real weekday effect
    the factors stay at 1; a Saturday or weekend effect seen every week is kept.
    """
    import numpy as np

    day = grid.day[:t0]
    uniq, inv = np.unique(day, return_inverse=True)
    e = np.bincount(inv, weights=grid.att[:t0] * rates[:t0], minlength=len(uniq))
    c = np.bincount(inv, weights=grid.con[:t0], minlength=len(uniq))
    wd = np.bincount(inv, weights=w, minlength=len(uniq)) / np.maximum(np.bincount(inv, minlength=len(uniq)), 1)
    keep = e > 0
    if keep.sum() < 8:
        return np.ones(7)
    uniq, e, c, wd = uniq[keep], e[keep], c[keep], wd[keep]
    y = np.log((c + 0.5) / (e + 0.5))
    return np.exp(weekday_effects(uniq, y, wd))


def weekday_effects(uniq: np.ndarray, y: np.ndarray, wd: np.ndarray) -> np.ndarray:
    """The empirical-Bayes weekday effect (Monday = 0) of per-day values ``y`` on local days ``uniq``
    with recency weights ``wd`` (see :func:`dow_factors`); zeros where it cannot be learnt."""
    import numpy as np

    out = np.zeros(7)
    if len(uniq) < 8:
        return out
    local = np.array([y[np.abs(uniq - d) <= 3].mean() for d in uniq])
    z = y - local
    weekday = ((uniq + 3) % 7).astype(int)  # day 0 (1970-01-01) was a Thursday
    mean = np.zeros(7)
    se2 = np.full(7, np.inf)
    for d in range(7):
        sel = weekday == d
        if sel.sum() >= 2:
            ww = wd[sel]
            mean[d] = float(np.sum(ww * z[sel]) / ww.sum())
            n_eff = ww.sum() ** 2 / np.sum(ww**2)
            se2[d] = float(np.var(z[sel], ddof=1)) / n_eff + 1e-6
    seen = np.isfinite(se2)
    if seen.sum() < 2:
        return out
    tau2 = max(float(np.var(mean[seen]) - np.mean(se2[seen])), 0.0)
    out[seen] = mean[seen] * tau2 / (tau2 + se2[seen])
    return out


def daily_factors(grid: Grid, t0: int, expected: np.ndarray, lookback_days: int = 28,
                  ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per local day before ``t0`` (with attempts): day number, connected ÷ expected, expected count."""
    import numpy as np

    lo = max(0, t0 - lookback_days * DAY)
    days = grid.day[lo:t0]
    exp_c = expected[lo:t0] * grid.att[lo:t0]
    uniq, inv = np.unique(days, return_inverse=True)
    e = np.bincount(inv, weights=exp_c, minlength=len(uniq))
    c = np.bincount(inv, weights=grid.con[lo:t0], minlength=len(uniq))
    keep = e > 0
    return uniq[keep], c[keep] / e[keep], e[keep]


def detect_shift(day: np.ndarray, ratio: np.ndarray, weight: np.ndarray, min_side: int = 3,
                 detrend: bool = False) -> int | None:
    """The first local day after a level shift in ``ratio`` (None when no break is clear).

    The statistic is the difference of the weighted means of the log factors before and after each
    candidate day over its standard error; at least ``min_side`` days each side. ``detrend``: tested on
    what a weighted straight line leaves (a steady decay is a trend, not a shift; a step survives it).
    """
    import numpy as np

    if len(day) < 2 * min_side:
        return None
    y = np.log(np.clip(ratio, 0.05, 20.0))
    if detrend:
        x = day.astype(float) - day[-1]
        y = y - np.polyval(np.polyfit(x, y, 1, w=np.sqrt(weight)), x)
    resid_sd = max(float(np.std(np.diff(y)) / np.sqrt(2)), 0.02)
    n = len(day)
    k = np.arange(min_side, n - min_side + 1)
    cw, cwy = np.cumsum(weight), np.cumsum(weight * y)
    before = cwy[k - 1] / cw[k - 1]
    after = (cwy[-1] - cwy[k - 1]) / (cw[-1] - cw[k - 1])
    t = np.abs(after - before) / (resid_sd * np.sqrt(1 / k + 1 / (n - k)))
    best = int(np.argmax(t))
    return int(day[k[best]]) if t[best] > SHIFT_T else None


def level_forecast(grid: Grid, t0: int, horizon: int, weekly: bool = False, shape_half_life: float = 14.0,
                   level_half_life: float = 3.0, trend: bool = False, shift: bool = True, dow: bool = False,
                   ) -> np.ndarray:
    """Profile x recent level (x damped trend), with the history before a detected shift down-weighted."""
    import numpy as np

    weights = _weights(t0, shape_half_life)
    rates = profile_rates(grid, t0, shape_half_life, weekly, weights, dow)
    day, ratio, expected = daily_factors(grid, t0, rates)
    if len(day) == 0:
        return rates[t0:t0 + horizon]
    if shift:
        first = detect_shift(day, ratio, expected)
        if first is not None:
            weights = weights * np.where(grid.day[:t0] >= first, 1.0, 0.1)
            rates = profile_rates(grid, t0, shape_half_life, weekly, weights, dow)
            day, ratio, expected = daily_factors(grid, t0, rates)
            keep = day >= first
            day, ratio, expected = day[keep], ratio[keep], expected[keep]
    age = (day[-1] - day).astype(float)
    w = expected * 0.5 ** (age / level_half_life)
    # Shrink the level toward 1 (the profile) by a prior of PRIOR_ATTEMPTS expected connects.
    level = (np.sum(w * ratio) + PRIOR_ATTEMPTS * 0.2) / (np.sum(w) + PRIOR_ATTEMPTS * 0.2)
    target_day = grid.day[t0:t0 + horizon]
    if trend and len(day) >= 7:
        x = day.astype(float)
        y = np.log(np.clip(ratio, 0.05, 20.0))
        wt = expected * 0.5 ** (age / 14.0)
        slope = np.polyfit(x - x[-1], y, 1, w=np.sqrt(wt))[0]
        steps = np.maximum(target_day - day[-1], 0)
        # Level at the last day plus the damped sum of the slope over the days ahead.
        damped = np.array([sum(TREND_DAMPING ** i for i in range(1, int(s) + 1)) for s in steps])
        return np.clip(rates[t0:t0 + horizon] * level * np.exp(slope * damped), 0.0, 1.0)
    return np.clip(rates[t0:t0 + horizon] * level, 0.0, 1.0)


def filled_series(grid: Grid, t0: int, hours: int) -> np.ndarray:
    """The last ``hours`` hourly rates before ``t0``, hours without attempts filled from the profile."""
    import numpy as np

    lo = max(0, t0 - hours)
    profile = profile_rates(grid, t0, 7.0, weekly=False)[lo:t0]
    att = grid.att[lo:t0]
    rate = np.divide(grid.con[lo:t0], att, out=np.zeros_like(att), where=att > 0)
    return np.where(att > 0, rate, profile)


def _fit_quietly(fn: Callable[[], Any]) -> Any:
    # ETS/STL warn about convergence on short flat series; the rolling-origin score judges the fit.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return fn()


def _ets_kwargs() -> dict[str, Any]:
    return {"error": "add", "trend": "add", "damped_trend": True}


class DecompositionETS:
    """STL (period 24) or MSTL (24, 168) decomposition, robust, + damped additive-trend ETS on the
    seasonally adjusted series; the seasonal components are carried forward from their last cycle.

    The ETS parameters are estimated ONCE, at the first (earliest) origin this object is called at, and
    reused at later origins (the state is still filtered through each origin's own data). That keeps
    the rolling-origin evaluation honest (no origin uses parameters fitted on its future) and makes a
    whole evaluation cost one optimisation instead of one per origin. MSTL runs one iteration, not
    robust, on four weeks: the robust second iteration cost ~10x more time (seconds per origin); the
    candidate STL is not robust either (7x cheaper; the previous model, ``stl_ets``, still is).
    """

    def __init__(self, weekly: bool, robust: bool = False) -> None:
        self.weekly, self.robust = weekly, robust
        self.params: Any = None

    def __call__(self, grid: Grid, t0: int, horizon: int) -> np.ndarray:
        import numpy as np
        import pandas as pd
        from statsmodels.tsa.exponential_smoothing.ets import ETSModel
        from statsmodels.tsa.seasonal import MSTL, STL

        weekly = self.weekly and t0 >= 4 * WEEK
        values = filled_series(grid, t0, MSTL_HOURS if weekly else STL_HOURS)
        if weekly:
            periods: tuple[int, ...] = (DAY, WEEK)
            fit = _fit_quietly(lambda: MSTL(values, periods=periods, windows=(13, 13), iterate=1,
                                            stl_kwargs={"seasonal_deg": 0}).fit())
        else:
            periods = (DAY,)
            fit = _fit_quietly(lambda: STL(values, period=DAY, seasonal=13, seasonal_deg=0, robust=self.robust).fit())
        seasonal = np.asarray(fit.seasonal).reshape(len(values), -1)
        model = ETSModel(pd.Series(values - seasonal.sum(axis=1)), **_ets_kwargs())
        if self.params is None:
            self.params = _fit_quietly(lambda: model.fit(disp=False)).params
        smoothed = _fit_quietly(lambda: model.smooth(self.params))
        mean = np.asarray(smoothed.forecast(horizon), float)
        for column, period in enumerate(periods):
            mean = mean + seasonal[-period:, column][np.arange(horizon) % period]
        return np.clip(mean, 0.0, 1.0)


def stl_ets(grid: Grid, t0: int, horizon: int) -> np.ndarray:
    """The previous daily model (robust STL + damped ETS), parameters fitted at this origin."""
    return DecompositionETS(weekly=False, robust=True)(grid, t0, horizon)


def mstl_ets(grid: Grid, t0: int, horizon: int) -> np.ndarray:
    """MSTL (24, 168) + damped ETS, parameters fitted at this origin (STL below four weeks)."""
    return DecompositionETS(weekly=True)(grid, t0, horizon)


def seasonal_naive(grid: Grid, t0: int, horizon: int) -> np.ndarray:
    """The same hour a day earlier (MASE's yardstick); a day without attempts there: the day before, ..."""
    import numpy as np

    fallback = profile_rates(grid, t0, 7.0, weekly=False)
    out = np.empty(horizon)
    for i in range(horizon):
        t = t0 + i - DAY
        while t >= t0:
            t -= DAY
        while t >= 0 and grid.att[t] <= 0:
            t -= DAY
        out[i] = grid.con[t] / grid.att[t] if t >= 0 else fallback[t0 + i]
    return out


def profile_baseline(grid: Grid, t0: int, horizon: int) -> np.ndarray:
    """A planner's baseline: pooled rate per local hour of day over the last seven days (no weighting)."""
    import numpy as np

    w = np.where(np.arange(t0) >= t0 - 7 * DAY, 1.0, 0.0)
    return profile_rates(grid, t0, 7.0, weekly=False, weights=w)[t0:t0 + horizon]


def cheap_candidates() -> dict[str, Candidate]:
    """The default pool: the champion (``kalman_week``: level and weekday effects filtered jointly, a
    shift as an intervention, a smoothed hour-of-day profile) and three challengers (the weekday
    effect estimated before the filter; no weekday effect; the multiplicative level with weekday
    factors). The plain profiles (``profile_hod_h7``, ``level_hod``, ``level_how``) left the pool: they
    scored 0.79-0.87 alone and only diluted the median and the combination."""
    return {
        "kalman_week": kalman_week_forecast,
        "kalman_dow": lambda g, t, h: kalman_forecast(g, t, h),
        "kalman_hod": lambda g, t, h: kalman_forecast(g, t, h, dow=False, shape_half_life=14.0),
        "level_dow": lambda g, t, h: level_forecast(g, t, h, dow=True, shape_half_life=21.0),
    }


def model_candidates(history_hours: int) -> dict[str, Candidate]:
    """Fresh decomposition candidates (each caches its ETS parameters: one object per forecast)."""
    out: dict[str, Candidate] = {"stl_ets": DecompositionETS(weekly=False)}
    if history_hours >= 5 * WEEK:
        out["mstl_ets"] = DecompositionETS(weekly=True)
    return out


#: Autoregression of the daily level around its long-run mean (1.0: a random walk, no reversion).
KF_PHI = (1.0, 0.8, 0.6, 0.4, 0.2)
#: Day-to-day variance of the daily log level (logit-like units), log-spaced.
KF_Q = (1e-4, 4e-4, 1.6e-3, 6.4e-3, 2.56e-2, 0.1)
#: Prior variances of the long-run log level (relative to the profile) and of the departure from it.
KF_PRIOR_MEAN = 0.25
KF_PRIOR_DEPARTURE = 0.04
#: Prior variance of the daily drift of the log level (sd 0.05: 5 % a day).
KF_PRIOR_DRIFT = 0.0025


def kalman_level(day: np.ndarray, y: np.ndarray, v: np.ndarray, target_days: np.ndarray) -> np.ndarray:
    """Predicted daily log level at ``target_days`` from noisy daily log factors, by Kalman filters.

    Two model families, each a state (x, z) with x the day's log level, observed as y_d = x_d + e with
    var(e) = v_d, the binomial noise of that day (a low-volume day says little about the level):

    * mean-reverting: x_d = m + phi (x_{d-1} - m) + w, z = m the long-run mean (phi = 1: a random walk);
    * drifting: x_d = x_{d-1} + b + w, z = b a constant daily drift (decay over a campaign's life,
      list exhaustion, a slow trend), extrapolated with the damping ``TREND_DAMPING``.

    var(w) = q. Closed days are gaps: the state moves ``gap`` days at once. The parameters are not
    picked but averaged over the grid (``KF_PHI`` x ``KF_Q``, and the drift family over ``KF_Q``) by
    their likelihood (Bayesian model averaging, flat prior): a level that wanders (noisy days, a shift)
    gets a fast gain, a quiet or low-volume one a slow gain and shrinkage toward its long-run mean.
    """
    return kalman_week_level(day, y, v, target_days, weekdays=False)


def daily_logit_levels(grid: Grid, t0: int, rates: np.ndarray, lookback_days: int = 42,
                       ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per local day before ``t0`` (with attempts): day number, the day's LOGIT shift from the profile
    ``rates`` (the delta with Σ attempts x expit(logit(rate) + delta) = Σ connected, two Newton steps
    from 0) and its variance (1 ÷ the binomial information Σ attempts x rate x (1 - rate)).

    A level moves the logit of every hour's rate by the same amount: a multiplicative factor would
    overshoot the peak hours (and could pass 1).
    """
    import numpy as np

    lo = max(0, t0 - lookback_days * DAY)
    att, con = grid.att[lo:t0], grid.con[lo:t0]
    has = att > 0
    if not has.any():
        return np.array([], int), np.array([]), np.array([])
    uniq, inv = np.unique(grid.day[lo:t0][has], return_inverse=True)
    att, con = att[has], con[has]
    base = _logit_arr(rates[lo:t0][has])
    delta = np.zeros(len(uniq))
    for _ in range(2):
        p = 1 / (1 + np.exp(-(base + delta[inv])))
        info = np.bincount(inv, weights=att * p * (1 - p), minlength=len(uniq))
        resid = np.bincount(inv, weights=con - att * p, minlength=len(uniq))
        delta = np.clip(delta + resid / np.maximum(info, 1e-9), -3.0, 3.0)
    return uniq, delta, 1.0 / np.maximum(info, 0.25)


def _logit_arr(p: np.ndarray) -> np.ndarray:
    import numpy as np

    q = np.clip(p, 1e-3, 1 - 1e-3)
    return np.log(q / (1 - q))


def kalman_forecast(grid: Grid, t0: int, horizon: int, dow: bool = True, shape_half_life: float = 21.0,
                    lookback_days: int = 42) -> np.ndarray:
    """Hour-of-day profile, its logit moved by a weekday effect (``dow``) and by the daily level
    :func:`kalman_level` predicts.

    The weekday effect is learnt in the same logit units as the level, from the days' logit shifts
    (:func:`weekday_effects`: empirical Bayes, a trend or a shift is not read as a weekday effect), and
    taken out of those shifts before the filter, so the filter sees only the level's own movement.
    """
    import numpy as np

    weights = _weights(t0, shape_half_life)
    rates = profile_rates(grid, t0, shape_half_life, False, weights)
    day, delta, var = daily_logit_levels(grid, t0, rates, lookback_days)
    if len(day) < 4:
        return rates[t0:t0 + horizon]
    target = grid.day[t0:t0 + horizon]
    effect = np.zeros(7)
    if dow:
        effect = weekday_effects(day, delta, 0.5 ** ((day[-1] - day) / shape_half_life))
    level = kalman_level(day, delta - effect[_weekday(day)], var, target)
    return 1 / (1 + np.exp(-(_logit_arr(rates[t0:t0 + horizon]) + effect[_weekday(target)] + level)))


def _weekday(day: np.ndarray) -> np.ndarray:
    return ((day + 3) % 7).astype(int)  # day 0 (1970-01-01) was a Thursday


#: Prior standard deviations of a weekday's logit effect, averaged over like the level's parameters.
KF_WEEKDAY_TAU = (0.05, 0.15, 0.4)
#: Variance added to the level (and its long-run mean) on the day a level shift is detected.
KF_SHIFT_VAR = 0.5
#: Strength (binomial information, ~ attempts x rate x (1 - rate)) with which an hour's profile logit
#: is pulled toward the mean of its neighbouring hours: a few hundred attempts' worth, so a low-volume
#: hour borrows from its neighbours and a busy one keeps its own value.
SMOOTH_INFO = 100.0


def smoothed_profile(grid: Grid, t0: int, half_life: float, strength: float = SMOOTH_INFO) -> np.ndarray:
    """The hour-of-day profile (:func:`profile_rates`) of every grid hour, each local hour's logit
    shrunk toward the mean of its neighbouring hours (those with attempts) in proportion to how little
    it knows: (info x own + strength x neighbours) / (info + strength). Dialing curves are smooth over
    the day; a handful of calls in one hour is not a peak."""
    import numpy as np

    w = _weights(t0, half_life)
    rates = profile_rates(grid, t0, half_life, False, w)
    hod_rate = np.zeros(DAY)
    hod_rate[grid.hod] = rates  # one value per local hour of day
    att = np.bincount(grid.hod[:t0], weights=grid.att[:t0] * w, minlength=DAY)
    logit = _logit_arr(hod_rate)
    p = 1 / (1 + np.exp(-logit))
    info = att * p * (1 - p)
    has = att > 0
    nb_sum = np.zeros(DAY)
    nb_n = np.zeros(DAY)
    for step in (-1, 1):
        idx = np.arange(DAY) + step
        ok = (idx >= 0) & (idx < DAY)
        src = np.clip(idx, 0, DAY - 1)
        use = ok & has[src]
        nb_sum += np.where(use, logit[src], 0.0)
        nb_n += use
    pulled = (info * logit + strength * nb_sum / np.maximum(nb_n, 1)) / (info + strength)
    out = np.where(has & (nb_n > 0), pulled, logit)
    return np.where(has[grid.hod], 1 / (1 + np.exp(-out[grid.hod])), rates)


def _level_models(taus: tuple[float, ...]) -> tuple[np.ndarray, ...]:
    """The averaged grid: (phi, q, drift?, tau) for every mean-reverting, random-walk and drifting
    level model (:data:`KF_PHI` x :data:`KF_Q`, drift x :data:`KF_Q`) times every weekday prior."""
    import numpy as np

    phi, q, drift, tau = [], [], [], []
    for t in taus:
        for ph in KF_PHI:
            for qq in KF_Q:
                phi.append(ph), q.append(qq), drift.append(False), tau.append(t)
        for qq in KF_Q:
            phi.append(1.0), q.append(qq), drift.append(True), tau.append(t)
    return np.array(phi), np.array(q), np.array(drift), np.array(tau)


def kalman_week_level(day: np.ndarray, y: np.ndarray, v: np.ndarray, target_days: np.ndarray,
                      shift_day: int | None = None, taus: tuple[float, ...] = KF_WEEKDAY_TAU,
                      weekdays: bool = True) -> np.ndarray:
    """Predicted daily logit level at ``target_days``: the level of :func:`kalman_level` and seven
    weekday effects, filtered JOINTLY (state: level, its long-run mean or drift, and one static effect
    per local weekday with prior N(0, tau^2)), averaged by likelihood over the level grid and ``taus``.

    Filtering the weekday effects with the level (rather than estimating them first and taking them
    out) lets each day's observation update both by how much it says about each: a level moving during
    a weekend is not read as a weekend effect, and how strongly weekdays differ (tau) is learnt from the
    likelihood. ``shift_day``: a detected level shift; the level (and the long-run mean it reverts to)
    gets the variance :data:`KF_SHIFT_VAR` that day, so the filter moves to the new level at once
    instead of at the pace of its day-to-day variance (intervention analysis). ``weekdays=False``: the
    level alone (:func:`kalman_level`), no weekday states and no average over ``taus``.
    """
    import numpy as np

    phi, q, drift, tau = _level_models(taus if weekdays else (0.0,))
    m, size = len(phi), 9 if weekdays else 2
    state = np.zeros((m, size))
    cov = np.zeros((m, size, size))
    cov[:, 0, 0] = np.where(drift, KF_PRIOR_MEAN, KF_PRIOR_MEAN + KF_PRIOR_DEPARTURE)
    cov[:, 1, 1] = np.where(drift, KF_PRIOR_DRIFT, KF_PRIOR_MEAN)
    cov[:, 0, 1] = cov[:, 1, 0] = np.where(drift, 0.0, KF_PRIOR_MEAN)
    for k in range(size - 2):
        cov[:, 2 + k, 2 + k] = tau**2
    weekday = _weekday(np.asarray(day))
    loglik = np.zeros(m)
    for k in range(len(day)):
        if k:
            gap = int(day[k] - day[k - 1])
            f = phi**gap
            g = np.where(drift, float(gap), 1 - f)  # x' = f x + g z; everything else stays
            # T cov T' for T = identity but row 0 = (f, g, 0, ...): only row and column 0 change.
            state[:, 0] = f * state[:, 0] + g * state[:, 1]
            cov[:, 0, :] = f[:, None] * cov[:, 0, :] + g[:, None] * cov[:, 1, :]
            cov[:, :, 0] = f[:, None] * cov[:, :, 0] + g[:, None] * cov[:, :, 1]
            cov[:, 0, 0] += np.where(phi < 1, q * (1 - phi ** (2 * gap)) / np.maximum(1 - phi**2, 1e-12), q * gap)
        if shift_day is not None and day[k] == shift_day:
            cov[:, 0, 0] += KF_SHIFT_VAR
            rev = ~drift
            cov[rev, 1, 1] += KF_SHIFT_VAR
            cov[rev, 0, 1] += KF_SHIFT_VAR
            cov[rev, 1, 0] += KF_SHIFT_VAR
        obs = np.zeros(size)
        obs[0] = 1.0
        if weekdays:
            obs[2 + weekday[k]] = 1.0
        ph = cov @ obs
        s = ph @ obs + v[k]
        resid = y[k] - state @ obs
        if k >= 2:  # the first two only set the state
            loglik += -0.5 * (np.log(2 * np.pi * s) + resid**2 / s)
        gain = ph / s[:, None]
        state = state + gain * resid[:, None]
        cov = cov - gain[:, :, None] * ph[:, None, :]
    w = np.exp(loglik - loglik.max())
    w /= w.sum()
    target = np.asarray(target_days)
    steps = np.maximum(target - day[-1], 0)[:, None]
    damped = TREND_DAMPING * (1 - TREND_DAMPING**steps) / (1 - TREND_DAMPING)
    x, z = state[None, :, 0], state[None, :, 1]
    level = np.where(drift[None, :], x + damped * z, z + phi[None, :] ** steps * (x - z))
    if weekdays:
        level = level + state[:, 2:][:, _weekday(target)].T
    return level @ w


def kalman_week_forecast(grid: Grid, t0: int, horizon: int, shape_half_life: float = 42.0,
                         lookback_days: int = 56) -> np.ndarray:
    """Hour-of-day profile, its logit moved by :func:`kalman_week_level` (level and weekday effects
    filtered jointly, a detected shift as an intervention; the shift test runs on the detrended daily
    shifts, so a campaign's steady decay is not taken for a shift)."""
    import numpy as np

    rates = smoothed_profile(grid, t0, shape_half_life)
    day, delta, var = daily_logit_levels(grid, t0, rates, lookback_days)
    if len(day) < 4:
        return rates[t0:t0 + horizon]
    shift = detect_shift(day, np.exp(delta), 1 / var, detrend=True)
    level = kalman_week_level(day, delta, var, grid.day[t0:t0 + horizon], shift_day=shift)
    return 1 / (1 + np.exp(-(_logit_arr(rates[t0:t0 + horizon]) + level)))
