"""Answer-rate forecasting with agent capacity and bounded pacing updates (genesys-api.md §3e).

Pure logic, no Airflow import. Modules, in pipeline order: ``params`` (run params), ``history``
(hourly aggregates query bodies, responses → a full hourly grid), ``forecast`` (the library entry point
:func:`forecast_answer_rate`: rolling-origin selection over ``candidates`` scored by ``evaluation``, on
the local-hour grid of ``slots``), ``model`` (the previous STL/MSTL + damped ETS forecast and its
one-day backtest), ``capacity`` (WFM planning group → agents per hour, or the live ``idleAgents``
fallback), ``recommend`` (pacing fields, bounded), ``output`` (CSV, PNG chart, webhook payload).

Imports stay lazy: importing this package (at DAG parse) loads neither pandas nor statsmodels.
"""

from __future__ import annotations

from typing import Any

__all__ = ["forecast_answer_rate"]


def __getattr__(name: str) -> Any:
    if name in ("forecast_answer_rate", "AnswerRateForecast"):
        from genesys_pipelines.pacing_forecast import forecast

        return getattr(forecast, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
