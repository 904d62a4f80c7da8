"""Outbound campaign execution statistics (genesys-api.md §3a): pure logic, no Airflow import.

Modules, in pipeline order: ``params`` (run params), ``queries`` (aggregates query bodies),
``aggregates`` (responses → per-campaign sums, conversion codes), ``normalise`` (rows in seconds and
fractions), ``validate`` (consistency + z-score flags), ``output`` (Parquet/JSON bytes, summary, webhook).
"""
