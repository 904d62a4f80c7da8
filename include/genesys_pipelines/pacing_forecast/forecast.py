"""The library entry point: ``forecast_answer_rate(hourly, horizon=24, level=0.9)``.

Usable without Airflow or the sandbox::

    from genesys_pipelines.pacing_forecast import forecast_answer_rate

    fc = forecast_answer_rate(hourly)        # hourly: attempted/connected on a UTC hourly index
    fc.mean, fc.lower, fc.upper, fc.method   # Series of answer rates indexed by the next 24 UTC hours
    fc.skilful(0.1)                          # beat seasonal naive by 10 % on hold-out origins?
    fc.to_dict()                             # everything for an audit row

It does its own model selection (rolling-origin evaluation, see :mod:`.evaluation`, over the candidates
of :mod:`.candidates`) and refuses, with :class:`ShortHistoryError`, only when the history is too short.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from genesys_pipelines.pacing_forecast import candidates as cand
from genesys_pipelines.pacing_forecast import evaluation as ev_mod
from genesys_pipelines.pacing_forecast.model import ShortHistoryError
from genesys_pipelines.pacing_forecast.params import MIN_USABLE_HOURS

if TYPE_CHECKING:
    import pandas as pd

log = logging.getLogger(__name__)

#: Fewer HOLD-OUT origins than this and the skill is not trusted (``skilful`` is False whatever the margin).
MIN_SKILL_ORIGINS = 7
#: Method used when no origin could be scored (history long enough to forecast, too short to evaluate).
DEFAULT_METHOD = "kalman_week"
#: Days with attempts a forecast needs (a daily profile and a level).
MIN_DAYS = 3


@dataclass
class AnswerRateForecast:
    """A forecast of the answer rate: ``mean``/``lower``/``upper`` in [0, 1] on the horizon's UTC hours."""

    mean: pd.Series
    lower: pd.Series
    upper: pd.Series
    method: str
    level: float
    tz: str
    origins: int  # rolling origins scored (selection and hold-out)
    holdout_origins: int  # origins the skill is judged on (the choice made on earlier origins only)
    mae: float | None  # hold-out: the procedure's MAE on the hold-out origins
    naive_mae: float | None  # seasonal naive's on the same hours
    mase: float | None  # mae / naive_mae: what skilful() reads
    selection_mase: float | None  # the chosen method's MASE on the origins it was chosen on (optimistic)
    coverage: float | None
    candidates: dict[str, Any] = field(default_factory=dict)
    fit_seconds: float = 0.0
    fit_cpu_seconds: float = 0.0  # this process's CPU time (wall time inflates on a shared machine)

    def skilful(self, margin: float = 0.1) -> bool:
        """Whether the forecasting procedure beat seasonal naive by ``margin`` (0.1 = MASE <= 0.9) on at
        least ``MIN_SKILL_ORIGINS`` HOLD-OUT origins: at each, the method was chosen on earlier origins
        only, so the luck of the choice does not count as skill."""
        return (self.mase is not None and self.holdout_origins >= MIN_SKILL_ORIGINS
                and self.mase <= 1 - margin)

    def skill_reason(self, margin: float = 0.1) -> str:
        if self.skilful(margin):
            return f"hold-out MASE {self.mase:.3f} <= {1 - margin:.2f} over {self.holdout_origins} origins"
        if self.holdout_origins < MIN_SKILL_ORIGINS:
            return (f"only {self.holdout_origins} hold-out origins (at least {MIN_SKILL_ORIGINS} needed to trust "
                    f"the skill; {self.origins} rolling origins in the history)")
        if self.mase is None:
            return f"skill unknown ({self.holdout_origins} hold-out origins could not be scored)"
        return (f"forecast not skilful enough to act on: hold-out MASE {self.mase:.3f} > {1 - margin:.2f} "
                f"(seasonal naive beaten by less than {margin:.0%})")

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe: the forecast, the choice and its evidence (for the audit trail)."""
        return {
            "hours": [ts.isoformat() for ts in self.mean.index],
            "mean": [round(float(v), 6) for v in self.mean],
            "lower": [round(float(v), 6) for v in self.lower],
            "upper": [round(float(v), 6) for v in self.upper],
            "method": self.method,
            "level": self.level,
            "tz": self.tz,
            "origins": self.origins,
            "holdout_origins": self.holdout_origins,
            "mae": _round(self.mae),
            "naive_mae": _round(self.naive_mae),
            "mase": _round(self.mase),
            "selection_mase": _round(self.selection_mase),
            "coverage": self.coverage,
            "candidates": self.candidates,
            "fit_seconds": round(self.fit_seconds, 3),
            "fit_cpu_seconds": round(self.fit_cpu_seconds, 3),
        }


def _round(value: float | None) -> float | None:
    return None if value is None else round(float(value), 6)


def check_history(grid: Any) -> None:
    import numpy as np

    usable = int((grid.att[:grid.n] > 0).sum())
    if usable < MIN_USABLE_HOURS:
        raise ShortHistoryError(f"only {usable} hours with attempts in the history "
                                f"(at least {MIN_USABLE_HOURS} needed to learn a daily pattern)")
    days = len(np.unique(grid.day[:grid.n][grid.att[:grid.n] > 0]))
    if days < MIN_DAYS:
        raise ShortHistoryError(f"attempts on only {days} days of history (at least {MIN_DAYS} needed)")


def forecast_answer_rate(hourly: pd.DataFrame, horizon: int = 24, level: float = 0.9, *, tz: str = "UTC",
                         end: Any = None, models: bool = False) -> AnswerRateForecast:
    """Forecast the answer rate (connected ÷ attempted) of the ``horizon`` hours after the history.

    ``hourly``: integer columns ``attempted`` and ``connected`` on a tz-aware DatetimeIndex of UTC hour
    starts (hours without attempts may be absent). ``tz``: the campaign's IANA zone (its daily pattern
    repeats in local hours; DST handled). ``end``: the instant the history ends (default: one hour after
    the last row). ``models``: also consider the statsmodels decompositions (STL/MSTL + damped ETS). Off by
    default: scored at the 15 origins the hold-out skill needs they cost 2-4 CPU-seconds a campaign
    (the budget is 3 s) against 0.25 without them, for no better benchmark MASE (docs/forecast.md).
    Raises :class:`ShortHistoryError` when the history is too short; ``ValueError`` on malformed input.
    """
    import numpy as np
    import pandas as pd

    from genesys_pipelines.pacing_forecast import slots

    if not 0 < level < 1:
        raise ValueError("level must be in (0, 1)")
    if horizon < 1:
        raise ValueError("horizon must be >= 1")
    started, cpu_started = time.monotonic(), time.process_time()
    grid = slots.build(hourly, horizon, tz=tz, end=end)
    check_history(grid)
    pool = cand.cheap_candidates()
    if models:
        pool.update(cand.model_candidates(grid.n))
    origins = ev_mod.find_origins(grid, horizon)
    evaluation = ev_mod.evaluate(grid, pool, horizon, origins)
    selection = ev_mod.choose(evaluation, DEFAULT_METHOD)
    hold = ev_mod.holdout(evaluation, DEFAULT_METHOD)
    method, parts = selection.method, selection.parts
    mean = selection.combine({name: np.asarray(pool[name](grid, grid.n, horizon), float) for name in parts})
    mean = np.clip(np.nan_to_num(mean, nan=float(grid.con[:grid.n].sum() / grid.att[:grid.n].sum())), 0, 1)
    residuals = dict(zip(hold.origins, hold.forecasts, strict=True))
    if sum(int((evaluation.attempts[i] > 0).sum()) for i in residuals) < ev_mod.MIN_RESIDUALS:
        residuals = {i: ev_mod.at_origin(evaluation, selection, i) for i in selection.used}
    calibration = ev_mod.calibrate(evaluation, residuals, level)
    lower, upper = calibration.bounds(mean, ev_mod.expected_attempts(grid, grid.n, horizon))
    index = grid.index[grid.n:]
    label = method if method not in ev_mod.COMBINATIONS else f"{method}({'+'.join(parts)})"
    result = AnswerRateForecast(
        mean=pd.Series(mean, index=index, name="mean"),
        lower=pd.Series(np.minimum(lower, mean), index=index, name="lower"),
        upper=pd.Series(np.maximum(upper, mean), index=index, name="upper"),
        method=label,
        level=level,
        tz=tz,
        origins=len(origins),
        holdout_origins=len(hold.origins),
        mae=hold.mae,
        naive_mae=hold.naive_mae,
        mase=hold.mase,
        selection_mase=selection.mase(method),
        coverage=calibration.coverage,
        candidates=ev_mod.summary(evaluation, selection, hold),
        fit_seconds=time.monotonic() - started,
        fit_cpu_seconds=time.process_time() - cpu_started,
    )
    log.info("answer-rate forecast: method=%s origins=%d holdout=%d mase=%s (on the selection origins %s) "
             "coverage=%s in %.2fs", label, len(origins), len(hold.origins), _round(result.mase),
             _round(result.selection_mase), result.coverage, result.fit_seconds)
    return result


#: Environment setting: how much better than seasonal naive (relative MAE) a forecast must be to act on.
SKILL_MARGIN_ENV = "GENESYS_PACING_SKILL_MARGIN"
DEFAULT_SKILL_MARGIN = 0.1


def skill_margin() -> float:
    """The skill margin (``GENESYS_PACING_SKILL_MARGIN``, default 0.1), read at call time."""
    import os

    raw = os.environ.get(SKILL_MARGIN_ENV, "").strip()
    value = float(raw) if raw else DEFAULT_SKILL_MARGIN
    if not 0 <= value < 1:
        raise ValueError(f"{SKILL_MARGIN_ENV} must be in [0, 1) (got {raw!r})")
    return value


def for_pipeline(grid: pd.DataFrame, end: Any, tz: str, margin: float) -> tuple[dict[str, Any], dict[str, Any]]:
    """The pipeline's view of a forecast of ``grid`` (``history.hourly_grid``) ending at ``end``.

    Returns the forecast dict the recommendation reads (hours, mean, lower, upper, method, level) and the
    skill summary for the output and audit (MAE/MASE on the rolling origins, the choice, coverage, and
    whether it is ``skilful`` at ``margin``, with the reason).
    """
    from genesys_pipelines.pacing_forecast.model import check_history as check_grid

    check_grid(grid)  # the skip reasons the pipeline has always audited ("only N hours with attempts ...")
    observed = grid.loc[grid["attempted"] > 0, ["attempted", "connected"]]
    fc = forecast_answer_rate(observed, 24, tz=tz, end=end)
    data = fc.to_dict()
    forecast = {k: data[k] for k in ("hours", "mean", "lower", "upper", "method", "level")}
    # No fit times here: they are published, and a re-run of a window must publish byte-identical objects.
    skill = {k: data[k] for k in ("method", "origins", "holdout_origins", "mae", "naive_mae", "mase", "selection_mase",
                                  "coverage", "tz")}
    skill.update(hours_evaluated=data["candidates"]["hours_evaluated"], candidates=data["candidates"], margin=margin, skilful=fc.skilful(margin),
                 skill_reason=fc.skill_reason(margin))
    return forecast, skill
