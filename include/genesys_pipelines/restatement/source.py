"""Read a window's source facts (fingerprints per day, availability, finality) and the params to rebuild it.

Pure of Airflow: ``api`` has the hook's verbs ``details_probe`` (one raw details query page),
``details_job_availability`` and ``aggregates_query``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from genesys_pipelines.restatement import fingerprint
from genesys_pipelines.restatement.finality import is_final, settle_hours
from genesys_pipelines.windows import Window, format_interval, parse_instant, utc_days


def availability(api: Any) -> datetime | None:
    """The data lake's ``dataAvailabilityDate``, or None when this client may not read it (a 403 of a
    stats-only OAuth client must not fail a run over a fact it only records)."""
    try:
        return api.details_job_availability()
    except Exception as exc:  # the provider's API errors; the fact is optional
        if getattr(exc, "status", None) in (401, 403, 404):
            return None
        raise


def probe_days(window: Window) -> list[str]:
    """The keys of a window's details fingerprint: the UTC days it touches (ISO dates), in order."""
    return [piece[0].date().isoformat() for piece in utc_days((window.start, window.end))]


def probe_interval(day: str) -> str:
    """The interval the details fingerprint of UTC day ``day`` covers: always the WHOLE UTC day.

    The run's plan step (:func:`details_days`) and the sweep (:func:`probe_day`) both probe this, so the
    fingerprint recorded at publish time and the re-probe cover exactly the same piece, whatever the
    reporting zone, and a range run's day partition records what the day's own run records. (Probing only
    the part of the UTC day inside a non-UTC reporting day, as earlier versions did, agrees with this on
    Genesys Cloud, whose sync query matches whole UTC days, ``genesys-api.md`` §3b: a manifest recorded
    that way is read the same.) Late data on a UTC day therefore shows in each reporting day touching it."""
    start = parse_instant(f"{day}T00:00:00+00:00")
    return format_interval((start, start + timedelta(days=1)))


def details_days(api: Any, query: Mapping[str, Any], window: Window) -> dict[str, dict[str, Any]]:
    """Per UTC day the window touches: the 1-row probe's fingerprint of the whole UTC day (one request
    each; :func:`probe_interval`)."""
    return {day: fingerprint.details_fingerprint(
                api.details_probe(fingerprint.details_probe_body(query, probe_interval(day))))
            for day in probe_days(window)}


def window_key(window: Window) -> str:
    """The key of a one-probe window's fingerprint: its reporting day, else its interval."""
    return window.day().isoformat() if window.is_single_day() else window.interval()


def facts(kind: str, days: Mapping[str, Any], probe: Mapping[str, Any], window: Window,
          available: datetime | str | None, settle: float | None = None) -> dict[str, Any]:
    """The ``source`` facts of a restatement block (``available``: a datetime or its ISO text)."""
    settle = settle_hours() if settle is None else settle
    if isinstance(available, str):
        available = datetime.fromisoformat(available)
    if available is not None:
        # Floored to the hour: the date moves every minute, and two builds of the same content (a fresh
        # bucket, a demo digest) within the hour must write the same manifest bytes. Flooring is on the
        # safe side of the finality rule (a window becomes final later, never earlier).
        available = available.replace(minute=0, second=0, microsecond=0)
    return {"kind": kind, "days": dict(days), "probe": dict(probe),
            "data_availability_date": available.isoformat() if available else None,
            "final": is_final(window.end, available, settle), "settle_hours": settle}


def details_source(api: Any, query: Mapping[str, Any], window: Window) -> dict[str, Any]:
    """The conversation report's source facts: per-day details probes, then the availability date."""
    days = details_days(api, query, window)
    probe = {k: v for k, v in query.items() if k not in ("interval", "paging")}
    return facts(fingerprint.DETAILS, days, probe, window, availability(api))


def stats_source(rows: list[Mapping[str, Any]], window: Window, available: datetime | str | None) -> dict[str, Any]:
    """The campaign statistics' source facts: the counts the rows were built from (no extra request) and
    the one aggregates query that reads them again."""
    days = {window_key(window): fingerprint.stats_fingerprint_from_rows(rows)}
    probe = {k: v for k, v in fingerprint.stats_probe_body(window.interval(), window.tz).items() if k != "interval"}
    return facts(fingerprint.AGGREGATES, days, probe, window, available)


def probe_day(api: Any, found: Mapping[str, Any]) -> dict[str, Any]:
    """Re-read one candidate's fingerprints with its stored probe: one request per recorded day (details:
    each recorded UTC day, whole, as the run probed it (:func:`probe_interval`); campaign stats: the
    window's totals query, the window the run's own query read)."""
    source = found["source"]
    probe = dict(source["probe"])
    if source["kind"] == fingerprint.DETAILS:
        return {day: fingerprint.details_fingerprint(
                    api.details_probe(fingerprint.details_probe_body(probe, probe_interval(day))))
                for day in source["days"]}
    from genesys_pipelines.campaign_stats.aggregates import window_sums

    window = found["window"]
    interval = format_interval((parse_instant(window["start"]), parse_instant(window["end"])))
    [(key, recorded)] = source["days"].items()
    answer = api.aggregates_query({**probe, "interval": interval})
    return {key: fingerprint.stats_fingerprint_from_sums(window_sums(answer), recorded)}


class _SharedAnswers:
    """The probe verbs of ``api``, each distinct request sent once (the answers are only read)."""

    def __init__(self, api: Any) -> None:
        self._api, self._answers = api, {}

    def _once(self, verb: str, body: Mapping[str, Any]) -> Any:
        key = (verb, json.dumps(body, sort_keys=True, default=str))
        if key not in self._answers:
            self._answers[key] = getattr(self._api, verb)(body)
        return self._answers[key]

    def details_probe(self, body: Mapping[str, Any]) -> Any:
        return self._once("details_probe", body)

    def aggregates_query(self, body: Mapping[str, Any]) -> Any:
        return self._once("aggregates_query", body)


def probe_partitions(api: Any, partitions: list[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """:func:`probe_day` for each partition of one day (the day's own and narrower runs' ``selection=``
    sub-partitions), sending each distinct request once: the campaign-stats probe has no campaign filter,
    so every partition of the day shares one; report partitions share theirs when their queries match
    (a narrower filter is another request: its fingerprint is not the day's)."""
    shared = _SharedAnswers(api)
    return [probe_day(shared, found) for found in partitions]


def run_conf(params: Mapping[str, Any], window: Window) -> dict[str, Any]:
    """The params that rebuild the window's partition: the run's params with the window made explicit
    (a bare local date for one reporting day, as a user would type it)."""
    if window.is_single_day():
        start, end = window.local_start().date().isoformat(), window.local_end().date().isoformat()
    else:
        start, end = window.local_start().isoformat(), window.local_end().isoformat()
    return {**dict(params), "start": start, "end": end, "timezone": window.tz}
