"""Answer-rate forecasting with agent capacity and bounded pacing updates (genesys-api.md §3e).

Pure logic, no Airflow import. Modules, in pipeline order: ``params`` (run params), ``history``
(hourly aggregates query bodies, responses → a full hourly grid), ``model`` (STL/MSTL + damped ETS
forecast, backtest against seasonal naive), ``capacity`` (WFM planning group → agents per hour, or the
live ``idleAgents`` fallback), ``recommend`` (pacing fields, bounded), ``output`` (CSV, PNG chart,
webhook payload).
"""
