"""Rolling-origin evaluation: score every candidate at several recent origins, choose, judge, calibrate.

Origins are the history's end moved back by whole days (so each mimics the real task: the ``horizon``
hours after a day boundary of the same clock time), skipping origins whose next day had no attempts (a
campaign closed on Sundays simply contributes no Sunday origin), up to ``ORIGINS + HOLDOUT`` within
``MAX_LOOKBACK_DAYS``. At each origin every candidate forecasts from the hours before it only.

Choice (:func:`select`): MAE over the evaluated hours with attempts, pooled over the selection origins;
two combinations are scored too (the median of the candidates, the mean of the best three weighted
by 1 / MAE^2); the combination with the lower MAE is chosen (a single candidate chosen on eight days is
partly the luckiest one). The real forecast's choice is made on the ``ORIGINS`` most recent.

Skill (:func:`holdout`): a MASE measured on the origins the choice was made on is optimistic (the winner
of several is partly the luckiest). So the whole procedure is scored on ``HOLDOUT`` hold-out origins: at
each, the choice is made on the origins before it only (their forecast days end before it), and the
chosen method's forecast there is scored. MASE = that MAE ÷ seasonal naive's over the same hours.

Intervals: the procedure's hold-out residuals (the chosen method's selection residuals when there are
too few), standardised by the binomial noise expected at each hour (rate x (1 - rate) ÷ typical
attempts of that local hour) plus a model variance, give empirical quantiles (the conformal
``ceil((n + 1) q)``-th order statistic, so a small sample errs wide).
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
#: Origins the choice is made on (the most recent ones before the point it is made for).
ORIGINS = 8
#: Hold-out origins the skill is judged on: at each, the choice is made on the origins BEFORE it only.
HOLDOUT = 7
#: Selection origins a hold-out origin needs before it.
MIN_SELECT = 2
#: Hours of history an origin needs before it (three days: a daily profile and a level).
MIN_TRAIN_HOURS = 3 * DAY
#: How far back origins are searched (closed days and outages skip origins).
MAX_LOOKBACK_DAYS = 28
#: Best-k candidates in the inverse-error combination.
TOP_K = 3
#: The default choice: kept unless a candidate or a combination has an MAE at least CHAMPION_MARGIN
#: lower on the selection origins (eight days of errors are noisy: the winner of several options is
#: partly the luckiest, and the champion was the best single model on the benchmark's held-out days).
CHAMPION = "kalman_week"
CHAMPION_MARGIN = 0.05
COMBINATIONS = ("combo", "median")
#: Residuals below which the interval uses normal quantiles instead of empirical ones.
MIN_RESIDUALS = 20


@dataclass
class Evaluation:
    """Per-origin forecasts of every candidate and the actuals (only hours with attempts count).

    ``origins`` are ascending; index ``i`` of every list is origin ``origins[i]``.
    """

    origins: list[int]
    forecasts: dict[str, list[np.ndarray]]
    naive: list[np.ndarray]
    actual: list[np.ndarray]
    attempts: list[np.ndarray]
    expected_attempts: list[np.ndarray]


@dataclass
class Selection:
    """A choice made on the origins ``used`` (indices): every option's MAE there and the winner."""

    method: str
    used: list[int]
    mae: dict[str, float] = field(default_factory=dict)
    naive_mae: float | None = None
    weights: dict[str, float] = field(default_factory=dict)  # of the inverse-error combination

    def mase(self, name: str) -> float | None:
        if self.naive_mae is None or self.naive_mae <= 0 or name not in self.mae:
            return None
        return self.mae[name] / self.naive_mae

    @property
    def parts(self) -> list[str]:
        """The single candidates the chosen method needs."""
        if self.method == "combo":
            return list(self.weights)
        if self.method == "median":
            return [n for n in self.mae if n not in COMBINATIONS]
        return [self.method]

    def combine(self, forecasts: dict[str, np.ndarray]) -> np.ndarray:
        """The chosen method's forecast from its parts' forecasts (at one origin or the real one)."""
        import numpy as np

        if self.method == "combo":
            return sum(self.weights[n] * np.asarray(forecasts[n], float) for n in self.weights)
        if self.method == "median":
            return np.median(np.vstack([forecasts[n] for n in self.parts]), axis=0)
        return np.asarray(forecasts[self.method], float)


@dataclass
class Holdout:
    """The whole procedure scored on hold-out origins: at each, chosen on the origins before it only."""

    origins: list[int]  # indices into Evaluation.origins
    methods: list[str]
    forecasts: list[np.ndarray]
    mae: float | None = None
    naive_mae: float | None = None

    @property
    def mase(self) -> float | None:
        if self.mae is None or not self.naive_mae:
            return None
        return self.mae / self.naive_mae


def find_origins(grid: Grid, horizon: int, count: int = ORIGINS + HOLDOUT) -> list[int]:
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
    for t0 in origins:  # earliest first: decomposition candidates fit their parameters there
        h = min(horizon, grid.n - t0)
        att = grid.att[t0:t0 + h]
        ev.attempts.append(att)
        ev.actual.append(np.divide(grid.con[t0:t0 + h], att, out=np.zeros(h), where=att > 0))
        ev.naive.append(cand.seasonal_naive(grid, t0, h))
        ev.expected_attempts.append(expected_attempts(grid, t0, h))
        for name, fn in candidates.items():
            ev.forecasts[name].append(np.asarray(fn(grid, t0, h), float))
    return ev


def _mae(ev: Evaluation, forecasts: dict[int, np.ndarray] | list[np.ndarray], idx: list[int]) -> float | None:
    import numpy as np

    errors = [np.abs(forecasts[i] - ev.actual[i])[ev.attempts[i] > 0] for i in idx]
    flat = np.concatenate(errors) if errors else np.array([])
    return float(flat.mean()) if flat.size else None


def select(ev: Evaluation, idx: list[int], default: str) -> Selection:
    """Score the candidates on the origins ``idx``, then the median of all and the inverse-MAE weighted
    mean of the best ``TOP_K``. The :data:`CHAMPION` is chosen unless the best option (a candidate or a
    combination) has a ``CHAMPION_MARGIN`` lower MAE; without it in the pool, the combination with the
    lower MAE wins (ties: ``combo``)."""
    import numpy as np

    sel = Selection(method=default, used=list(idx), naive_mae=_mae(ev, ev.naive, idx))
    singles = list(ev.forecasts)
    sel.mae = {name: m for name in singles if (m := _mae(ev, ev.forecasts[name], idx)) is not None}
    if len(sel.mae) >= 2:
        median = {i: np.median(np.vstack([ev.forecasts[n][i] for n in sel.mae]), axis=0) for i in idx}
        best = sorted(sel.mae, key=sel.mae.__getitem__)[:TOP_K]
        # Bates-Granger: weights inversely proportional to the squared error (MAE^2 here), not the error.
        inv = {n: 1.0 / max(sel.mae[n], 1e-6) ** 2 for n in best}
        total = sum(inv.values())
        sel.weights = {n: v / total for n, v in inv.items()}
        combo = {i: sum(sel.weights[n] * ev.forecasts[n][i] for n in best) for i in idx}
        for name, values in (("median", median), ("combo", combo)):
            m = _mae(ev, values, idx)
            if m is not None:
                sel.mae[name] = m
    if sel.mae:
        # Without the champion in the pool: a combination when there is one (on eight days the best
        # single candidate is partly the luckiest).
        order = {"combo": 0, "median": 1}

        def rank(name: str) -> tuple[float, int, str]:
            return round(sel.mae[name], 9), order.get(name, 2), name

        if CHAMPION in sel.mae:
            # The structural model stays unless another option beats it clearly on these origins.
            best = min(sel.mae, key=rank)
            sel.method = best if sel.mae[best] < (1 - CHAMPION_MARGIN) * sel.mae[CHAMPION] else CHAMPION
        else:
            sel.method = min([n for n in sel.mae if n in COMBINATIONS] or list(sel.mae), key=rank)
    return sel


def at_origin(ev: Evaluation, sel: Selection, i: int) -> np.ndarray:
    """The selected method's forecast at origin index ``i``."""
    return sel.combine({n: ev.forecasts[n][i] for n in sel.parts})


def choose(ev: Evaluation, default: str, depth: int = ORIGINS) -> Selection:
    """The choice for the real forecast: made on the ``depth`` most recent origins."""
    n = len(ev.origins)
    return select(ev, list(range(max(0, n - depth), n)), default)


def holdout(ev: Evaluation, default: str, count: int = HOLDOUT, depth: int = ORIGINS,
            min_select: int = MIN_SELECT) -> Holdout:
    """Score the whole procedure on the ``count`` most recent origins that have ``min_select`` before them:
    at each, the choice (and the combination's weights) is made on up to ``depth`` origins BEFORE it,
    whose forecast days all end before it, so the skill is judged on days the choice never saw."""
    n = len(ev.origins)
    held = [i for i in range(max(min_select, n - count), n)]
    out = Holdout(origins=held, methods=[], forecasts=[])
    for i in held:
        sel = select(ev, list(range(max(0, i - depth), i)), default)
        out.methods.append(sel.method)
        out.forecasts.append(at_origin(ev, sel, i))
    forecasts = dict(zip(held, out.forecasts, strict=True))
    out.mae = _mae(ev, forecasts, held)
    out.naive_mae = _mae(ev, ev.naive, held)
    return out


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


def calibrate(ev: Evaluation, forecasts: dict[int, np.ndarray], level: float) -> Calibration:
    """Empirical interval from rolling-origin residuals (``forecasts`` by origin index; normal if few)."""
    import numpy as np
    from scipy.stats import norm

    alpha = 1 - level
    pairs = [(f[n > 0], a[n > 0], e[n > 0]) for f, a, n, e in
             ((f, ev.actual[i], ev.attempts[i], ev.expected_attempts[i]) for i, f in forecasts.items())]
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
    if n < MIN_RESIDUALS:
        z = float(norm.ppf(1 - alpha / 2))
        low, high = -z, z
    else:
        k_hi = min(math.ceil((n + 1) * (1 - alpha / 2)), n) - 1
        k_lo = max(math.floor((n + 1) * (alpha / 2)), 1) - 1
        low, high = float(min(u[k_lo], 0.0)), float(max(u[k_hi], 0.0))
    coverage = float(np.mean((u >= low) & (u <= high)))
    return Calibration(low, high, model_var, n, round(coverage, 4))


def summary(ev: Evaluation, sel: Selection, hold: Holdout) -> dict[str, Any]:
    return {
        "origins": len(ev.origins),
        "hours_evaluated": int(sum(int((ev.attempts[i] > 0).sum()) for i in sel.used)),
        "naive_mae": None if sel.naive_mae is None else round(sel.naive_mae, 6),
        "mae": {k: round(v, 6) for k, v in sorted(sel.mae.items())},
        "mase": {k: round(m, 6) for k in sorted(sel.mae) if (m := sel.mase(k)) is not None},
        "combo_weights": {k: round(v, 4) for k, v in sel.weights.items()},
        "selection_origins": len(sel.used),
        "holdout": {
            "origins": len(hold.origins),
            "hours": int(sum(int((ev.attempts[i] > 0).sum()) for i in hold.origins)),
            "mae": None if hold.mae is None else round(hold.mae, 6),
            "naive_mae": None if hold.naive_mae is None else round(hold.naive_mae, 6),
            "mase": None if hold.mase is None else round(hold.mase, 6),
            "methods": hold.methods,
        },
    }
