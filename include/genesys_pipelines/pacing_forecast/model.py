"""The answer-rate forecast (statsmodels) and its backtest against a seasonal-naive forecast.

Model: a robust seasonal-trend decomposition, then the seasonally adjusted series' level and trend
extrapolated by a damped additive-trend ETS model (a damped trend stops a short-lived drift from being
projected indefinitely), with the seasonal components carried forward:

* daily: ``STLForecast`` (STL, period 24, robust) + ``ETSModel``;
* weekly, where history allows (``WEEKLY_MIN_HOURS``: four weekly cycles in the training part):
  ``MSTL`` with periods (24, 168), robust, and the same ETS model on the adjusted series; each
  seasonal component is carried forward from its last cycle. With two or three cycles the weekly
  component is mostly noise (each hour of the week is an average of 2–3 noisy hours) and measurably
  hurts (sandbox and synthetic backtests), so it needs four; and even then it is kept only when its
  backtest MAE beats the daily model's (both are reported).

Prediction intervals come from the ETS model (the seasonal components are treated as known), and
everything is clamped to [0, 1] (a rate). The series fed to the model is the grid's ``rate_filled``
(see :func:`genesys_pipelines.pacing_forecast.history.hourly_grid`).

Backtest: hold out the last 24 hours, fit on the rest, forecast the held-out day; MAE over the held-out
hours that had attempts; MASE = that MAE ÷ the MAE of the seasonal-naive forecast (the same hour a day
earlier, from the filled series) over the same hours. MASE < 1 means the model beats seasonal naive.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

from genesys_pipelines.pacing_forecast.params import MIN_USABLE_HOURS

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd

DAY = 24
WEEK = 168
HORIZON = 24
#: Weekly seasonality needs four weekly cycles (see the module doc; statsmodels' MSTL itself drops a
#: period that is not shorter than half the series).
WEEKLY_MIN_HOURS = 4 * WEEK
#: Nominal coverage of the prediction interval.
INTERVAL_LEVEL = 0.9
#: STL's seasonal smoother (odd, in cycles). Hourly answer rates are noisy (a binomial over a dozen
#: attempts per hour), and the default 7 lets the daily profile chase that noise; a longer window keeps
#: the profile nearly fixed over the history, which is what a dialer's daily pattern is.
SEASONAL_SMOOTHER = 13
# Locally CONSTANT seasonal smoothing: the forecast carries the LAST cycle forward, and a locally linear
# fit at the series' end extrapolates one-sided noise (a forecast as noisy as a single day).


class ShortHistoryError(ValueError):
    """Too little usable history to forecast; the message is the audited skip reason."""


@dataclass(frozen=True)
class Forecast:
    """A 24-hour forecast: hour starts (UTC ISO), mean and interval bounds, all in [0, 1]."""

    hours: list[str]
    mean: list[float]
    lower: list[float]
    upper: list[float]
    method: str
    level: float = INTERVAL_LEVEL


@dataclass(frozen=True)
class Backtest:
    """Skill on the held-out last day: ``mase`` is None when seasonal naive is perfect (MAE 0)."""

    hours_evaluated: int
    mae: float
    naive_mae: float
    mase: float | None
    method: str
    weekly: bool = False
    candidates: dict[str, float] = field(default_factory=dict)
    held_out: list[dict[str, Any]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _clip(values: np.ndarray) -> list[float]:
    import numpy as np

    return [round(float(v), 6) for v in np.clip(np.nan_to_num(values, nan=0.0), 0.0, 1.0)]


def _ets_kwargs() -> dict[str, Any]:
    return {"error": "add", "trend": "add", "damped_trend": True}


def _fit_quietly(fn: Any) -> Any:
    # ETS/STL emit convergence and frequency warnings on short, flat series: the fit is still usable,
    # and the backtest is what tells whether it is any good.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return fn()


def weekly_allowed(hours: int) -> bool:
    return hours >= WEEKLY_MIN_HOURS


def _forecast_values(
    values: np.ndarray, horizon: int, alpha: float, weekly: bool
) -> tuple[np.ndarray, np.ndarray, np.ndarray, str]:
    import numpy as np
    import pandas as pd
    from statsmodels.tsa.exponential_smoothing.ets import ETSModel

    # ETS prediction results need a pandas index; a RangeIndex keeps statsmodels off frequency guessing.
    values = np.asarray(values, float)
    if weekly and weekly_allowed(len(values)):
        from statsmodels.tsa.seasonal import MSTL

        windows = (SEASONAL_SMOOTHER, SEASONAL_SMOOTHER)
        stl_kwargs = {"robust": True, "seasonal_deg": 0}
        decomposition = _fit_quietly(
            lambda: MSTL(values, periods=(DAY, WEEK), windows=windows, stl_kwargs=stl_kwargs).fit()
        )
        seasonal = np.asarray(decomposition.seasonal).reshape(len(values), -1)
        adjusted = values - seasonal.sum(axis=1)
        ets = _fit_quietly(lambda: ETSModel(pd.Series(adjusted), **_ets_kwargs()).fit(disp=False))
        frame = ets.get_prediction(start=len(values), end=len(values) + horizon - 1).summary_frame(alpha=alpha)
        carried = np.zeros(horizon)
        for column, period in enumerate((DAY, WEEK)):
            last_cycle = seasonal[-period:, column]
            carried += np.array([last_cycle[i % period] for i in range(horizon)])
        method = "MSTL(24,168,robust)+ETS(A,Ad,N)"
    else:
        from statsmodels.tsa.forecasting.stl import STLForecast

        model = STLForecast(pd.Series(values), ETSModel, model_kwargs=_ets_kwargs(), period=DAY,
                            seasonal=SEASONAL_SMOOTHER, seasonal_deg=0, robust=True)
        fitted = _fit_quietly(lambda: model.fit(fit_kwargs={"disp": False}))
        frame = fitted.get_prediction(start=len(values), end=len(values) + horizon - 1).summary_frame(alpha=alpha)
        carried = np.zeros(horizon)
        method = "STL(24,robust)+ETS(A,Ad,N)"
    mean = np.asarray(frame["mean"], float) + carried
    # ETS names its prediction interval pi_*; STLForecast's wrapper names the same interval mean_ci_*.
    low_col, high_col = ("pi_lower", "pi_upper") if "pi_lower" in frame else ("mean_ci_lower", "mean_ci_upper")
    lower = np.asarray(frame[low_col], float) + carried
    upper = np.asarray(frame[high_col], float) + carried
    return mean, lower, upper, method


def forecast(
    grid: pd.DataFrame, horizon: int = HORIZON, level: float = INTERVAL_LEVEL, weekly: bool = False
) -> Forecast:
    """Forecast the ``horizon`` hours after the grid's last hour (``grid`` from ``hourly_grid``).

    ``weekly``: use the weekly model where history allows (pass the backtest's ``weekly`` choice).
    """
    import numpy as np

    check_history(grid)
    values = grid["rate_filled"].to_numpy(dtype=float)
    mean, lower, upper, method = _forecast_values(values, horizon, 1 - level, weekly)
    hours = forecast_hours(grid, horizon)
    return Forecast(hours=hours, mean=_clip(mean), lower=_clip(np.minimum(lower, mean)),
                    upper=_clip(np.maximum(upper, mean)), method=method, level=level)


def forecast_hours(grid: pd.DataFrame, horizon: int = HORIZON) -> list[str]:
    """The ISO hours a forecast of ``grid`` covers (known before fitting: capacity is read for them)."""
    import pandas as pd

    start = grid.index[-1] + pd.Timedelta(hours=1)
    return [ts.isoformat() for ts in pd.date_range(start, periods=horizon, freq="h")]


def check_backtestable(grid: pd.DataFrame, horizon: int = HORIZON) -> None:
    """Every cheap check :func:`backtest` makes before fitting (raises :class:`ShortHistoryError`)."""
    check_history(grid)
    if not (grid["attempted"].iloc[-horizon:].to_numpy() > 0).any():
        raise ShortHistoryError("no attempts in the held-out last 24 hours: nothing to measure skill on")


def check_history(grid: pd.DataFrame, min_usable_hours: int = MIN_USABLE_HOURS) -> None:
    """Raise :class:`ShortHistoryError` (with the reason) when the grid cannot support a forecast."""
    usable = int((grid["attempted"] > 0).sum())
    if usable < min_usable_hours:
        raise ShortHistoryError(
            f"only {usable} hours with attempts in the {len(grid)}-hour history "
            f"(at least {min_usable_hours} needed to learn a daily pattern)"
        )
    if len(grid) < 2 * DAY + HORIZON:
        raise ShortHistoryError(f"history of {len(grid)} hours is shorter than {2 * DAY + HORIZON}")


def backtest(grid: pd.DataFrame, horizon: int = HORIZON) -> Backtest:
    """Fit on all but the last ``horizon`` hours, forecast them, compare with seasonal naive.

    Where the training part allows the weekly model, both are backtested and the one with the lower
    MAE is kept (``weekly`` says which; ``candidates`` has both MAEs). Choosing on the held-out day
    makes that day's MASE slightly optimistic, which is why the daily model stays the default.
    """
    import numpy as np

    check_backtestable(grid, horizon)
    train, test = grid.iloc[:-horizon], grid.iloc[-horizon:]
    values = train["rate_filled"].to_numpy(dtype=float)
    naive = values[-DAY:][np.arange(horizon) % DAY]
    actual = test["rate"].to_numpy(dtype=float)
    mask = test["attempted"].to_numpy() > 0
    if not mask.any():
        raise ShortHistoryError("no attempts in the held-out last 24 hours: nothing to measure skill on")

    def score(weekly: bool) -> tuple[float, np.ndarray, str]:
        mean, _, _, method = _forecast_values(values, horizon, 1 - INTERVAL_LEVEL, weekly)
        predicted = np.clip(mean, 0.0, 1.0)
        return float(np.mean(np.abs(predicted[mask] - actual[mask]))), predicted, method

    options = [False, True] if weekly_allowed(len(values)) else [False]
    scored = {weekly: score(weekly) for weekly in options}
    weekly = min(options, key=lambda w: (scored[w][0], w))
    mae, predicted, method = scored[weekly]
    naive_mae = float(np.mean(np.abs(naive[mask] - actual[mask])))
    held_out = [
        {"hour": ts.isoformat(), "actual": round(float(a), 6), "forecast": round(float(p), 6),
         "naive": round(float(n), 6), "attempted": int(att)}
        for ts, a, p, n, att, m in zip(test.index, actual, predicted, naive, test["attempted"], mask, strict=True)
        if m
    ]
    return Backtest(
        hours_evaluated=int(mask.sum()),
        mae=round(mae, 6),
        naive_mae=round(naive_mae, 6),
        mase=round(mae / naive_mae, 6) if naive_mae > 0 else None,
        method=method,
        weekly=weekly,
        candidates={m: round(v[0], 6) for m, v in ((scored[w][2], scored[w]) for w in options)},
        held_out=held_out,
    )


def typical_attempts(grid: pd.DataFrame, hours: Sequence[str]) -> list[float]:
    """Mean attempts per hour of day over the history, for each forecast hour (where dialing happens)."""
    import pandas as pd

    by_hour = grid["attempted"].groupby(grid.index.hour).mean()
    return [round(float(by_hour.get(pd.Timestamp(h).hour, 0.0)), 3) for h in hours]
