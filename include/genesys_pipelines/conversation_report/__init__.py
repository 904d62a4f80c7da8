"""Conversation-detail analytics report (pipeline 001): pure logic, no Airflow.

Modules, in pipeline order: ``params`` (validated run parameters), ``query`` (the details query body),
``flatten`` (conversations → session rows), ``chunks`` (sorted Parquet chunks, k-way merge, dedupe),
``aggregate`` (vectorised per-group report + the pure-Python reference), ``export`` (CSV/JSON/Parquet).
"""
