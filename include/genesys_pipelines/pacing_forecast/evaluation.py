"""Rolling-origin evaluation: score every candidate at several recent origins, choose, calibrate.

Origins are the history's end moved back by whole days (so each mimics the real task: the ``horizon``
hours after a day boundary of the same clock time), skipping origins whose next day had no attempts (a
campaign closed on Sundays simply contributes no Sunday origin), until ``ORIGINS`` are found or the
history runs out. At each origin every candidate forecasts from the hours before it only.

Scores: MAE over the evaluated hours with attempts, pooled over origins; MASE = that ÷ the MAE of
seasonal naive over the same hours. Two combinations are scored too: the median of the candidates and
the inverse-MAE weighted mean of the best three. The lowest MAE wins (the choice is per campaign).

Intervals: the chosen method's residuals at the origins, standardised by the binomial noise expected at
each hour (rate x (1 - rate) ÷ typical attempts of that local hour) plus a model variance, give empirical
quantiles (the conformal ``ceil((n + 1) q)``-th order statistic, so a small sample errs wide).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from genesys_pipelines.pacing_forecast import candidates as cand

if TYPE_CHECKING:
    import numpy as np

    from genesys_pipelines.pacing_forecast.slots import Grid

DAY = 24
#: Origins scored per campaign (days with attempts after them).
ORIGINS = 8
#: Hours of history an origin needs before it (three days: a daily profile and a level).
MIN_TRAIN_HOURS = 3 * DAY
#: How far back origins are searched (closed days and outages skip origins).
MAX_LOOKBACK_DAYS = 21
#: Best-k candidates in the inverse-error combination.
TOP_K = 3


@dataclass
class Evaluation:
    """Per-origin forecasts of every candidate and the actuals (only hours with attempts count)."""

    origins: list[int]
    forecasts: dict[str, list[np.ndarray]]
    naive: list[np.ndarray]
    actual: list[np.ndarray]
    attempts: list[np.ndarray]
    expected_attempts: list[np.ndarray]
    mae: dict[str, float] = field(default_factory=dict)
    naive_mae: float | None = None
    weights: dict[str, float] = field(default_factory=dict)

    def mase(self, name: str) -> float | None:
        if self.naive_mae is None or self.naive_mae <= 0 or name not in self.mae:
            return None
        return self.mae[name] / self.naive_mae


def find_origins(grid: Grid, horizon: int, count: int = ORIGINS) -> list[int]:
    """Recent origins (hour positions, newest first) whose next ``horizon`` hours had attempts."""
    out = []
    for k in range(1, MAX_LOOKBACK_DAYS + 1):
        t0 = grid.n - k * DAY
        if t0 < MIN_TRAIN_HOURS:
            break
        if (grid.att[t0:min(t0 + horizon, grid.n)] > 0).any() and (grid.att[:t0] > 0).sum() >= MIN_TRAIN_HOURS // 2:
            out.append(t0)
            if len(out) == count:
                break
    return out


def expected_attempts(grid: Grid, t0: int, horizon: int) -> np.ndarray:
    """Typical attempts of each target hour: recency-weighted mean per local hour of day (open days)."""
    import numpy as np

    lo = max(0, t0 - 14 * DAY)
    hod = grid.hod[lo:t0]
    att = grid.att[lo:t0]
    sums = np.bincount(hod, weights=att, minlength=DAY)
    counts = np.bincount(hod, weights=(att > 0).astype(float), minlength=DAY)
    typical = np.divide(sums, counts, out=np.zeros(DAY), where=counts > 0)
    return np.maximum(typical[grid.hod[t0:t0 + horizon]], 1.0)


def evaluate(grid: Grid, candidates: dict[str, cand.Candidate], horizon: int, origins: list[int]) -> Evaluation:
    import numpy as np

    origins = sorted(origins)
    ev = Evaluation(origins=origins, forecasts={name: [] for name in candidates}, naive=[], actual=[],
                    attempts=[], expected_attempts=[])
    for t0 in sorted(origins):  # earliest first: decomposition candidates fit their parameters there
        h = min(horizon, grid.n - t0)
        att = grid.att[t0:t0 + h]
        ev.attempts.append(att)
        ev.actual.append(np.divide(grid.con[t0:t0 + h], att, out=np.zeros(h), where=att > 0))
        ev.naive.append(cand.seasonal_naive(grid, t0, h))
        ev.expected_attempts.append(expected_attempts(grid, t0, h))
        for name, fn in candidates.items():
            ev.forecasts[name].append(np.asarray(fn(grid, t0, h), float))
    add_combinations(ev)
    ev.naive_mae = _mae(ev, ev.naive)
    return ev


def _mae(ev: Evaluation, forecasts: list[np.ndarray]) -> float | None:
    import numpy as np

    errors = [np.abs(f - a)[n > 0] for f, a, n in zip(forecasts, ev.actual, ev.attempts, strict=True)]
    flat = np.concatenate(errors) if errors else np.array([])
    return float(flat.mean()) if flat.size else None


def add_combinations(ev: Evaluation) -> None:
    """Score the candidates, then the median and inverse-MAE combinations (added to ``forecasts``)."""
    import numpy as np

    singles = list(ev.forecasts)
    ev.mae = {name: m for name in singles if (m := _mae(ev, ev.forecasts[name])) is not None}
    if len(ev.mae) < 2:
        return
    ev.forecasts["median"] = [np.median(np.vstack([ev.forecasts[n][i] for n in singles]), axis=0)
                              for i in range(len(ev.origins))]
    best = sorted(ev.mae, key=ev.mae.__getitem__)[:TOP_K]
    inv = {n: 1.0 / max(ev.mae[n], 1e-6) for n in best}
    total = sum(inv.values())
    ev.weights = {n: v / total for n, v in inv.items()}
    ev.forecasts["combo"] = [sum(ev.weights[n] * ev.forecasts[n][i] for n in best) for i in range(len(ev.origins))]
    for name in ("median", "combo"):
        m = _mae(ev, ev.forecasts[name])
        if m is not None:
            ev.mae[name] = m


def choose(ev: Evaluation, default: str) -> str:
    """The method with the lowest rolling-origin MAE (ties: the combination, then by name)."""
    if not ev.mae:
        return default
    order = {"combo": 0, "median": 1}
    return min(ev.mae, key=lambda n: (round(ev.mae[n], 9), order.get(n, 2), n))


def noise_scale(rate: np.ndarray, attempts: np.ndarray, model_var: float) -> np.ndarray:
    import numpy as np

    p = np.clip(rate, 0.02, 0.98)
    return np.sqrt(p * (1 - p) / np.maximum(attempts, 1.0) + model_var)


@dataclass(frozen=True)
class Calibration:
    """Standardised-residual quantiles of the chosen method and the model variance they assume."""

    low: float
    high: float
    model_var: float
    residuals: int
    coverage: float | None  # in-sample coverage of the calibrated interval on the origins

    def bounds(self, mean: np.ndarray, attempts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        import numpy as np

        scale = noise_scale(mean, attempts, self.model_var)
        return np.clip(mean + self.low * scale, 0.0, 1.0), np.clip(mean + self.high * scale, 0.0, 1.0)


def calibrate(ev: Evaluation, method: str, level: float) -> Calibration:
    """Empirical interval from the chosen method's rolling-origin residuals (normal fallback if few)."""
    import numpy as np
    from scipy.stats import norm

    alpha = 1 - level
    pairs = [(f[n > 0], a[n > 0], e[n > 0]) for f, a, n, e in
             zip(ev.forecasts.get(method, []), ev.actual, ev.attempts, ev.expected_attempts, strict=False)]
    if not pairs:
        z = float(norm.ppf(1 - alpha / 2))
        return Calibration(-z, z, 0.0004, 0, None)
    fc = np.concatenate([p[0] for p in pairs])
    act = np.concatenate([p[1] for p in pairs])
    exp_att = np.concatenate([p[2] for p in pairs])
    resid = act - fc
    binomial = np.clip(fc, 0.02, 0.98) * (1 - np.clip(fc, 0.02, 0.98)) / exp_att
    model_var = max(float(np.mean(resid**2) - np.mean(binomial)), 0.0001)
    u = np.sort(resid / noise_scale(fc, exp_att, model_var))
    n = len(u)
    if n < 20:
        z = float(norm.ppf(1 - alpha / 2))
        low, high = -z, z
    else:
        k_hi = min(math.ceil((n + 1) * (1 - alpha / 2)), n) - 1
        k_lo = max(math.floor((n + 1) * (alpha / 2)), 1) - 1
        low, high = float(min(u[k_lo], 0.0)), float(max(u[k_hi], 0.0))
    coverage = float(np.mean((u >= low) & (u <= high)))
    return Calibration(low, high, model_var, n, round(coverage, 4))


def summary(ev: Evaluation) -> dict[str, Any]:
    return {
        "origins": len(ev.origins),
        "hours_evaluated": int(sum(int((n > 0).sum()) for n in ev.attempts)),
        "naive_mae": None if ev.naive_mae is None else round(ev.naive_mae, 6),
        "mae": {k: round(v, 6) for k, v in sorted(ev.mae.items())},
        "mase": {k: round(m, 6) for k in sorted(ev.mae) if (m := ev.mase(k)) is not None},
        "combo_weights": {k: round(v, 4) for k, v in ev.weights.items()},
    }
