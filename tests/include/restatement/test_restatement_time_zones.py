"""Late-arriving data in a non-UTC reporting zone: the fingerprint a run records and the sweep's re-probe
cover exactly the same pieces (whole UTC days), for day runs and range runs alike.

The fake details API below answers for exactly the interval it is sent (conversations that START in it),
stricter than Genesys Cloud's sync query (which matches whole UTC days, ``genesys-api.md`` §3b): a probe
of a piece of a UTC day and a probe of the whole day then differ, so any mismatch between what the plan
step fingerprinted and what the sweep re-probes shows as a change on every sweep.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from genesys_pipelines.conversation_report.ranges import day_source
from genesys_pipelines.restatement import source, sweep
from genesys_pipelines.windows import Window, day_start, format_instant, parse_instant

REPORT = "genesys_conversation_report"
QUERY = {"order": "asc", "orderBy": "conversationStart", "paging": {"pageSize": 100},
         "conversationFilters": [{"type": "and", "predicates": [{"dimension": "conversationEnd", "operator": "exists"}]}]}


class ExactBoundsApi:
    """Conversations every 20 minutes from 2026-06-01 to 2026-06-15, each 5 minutes long; the data lake
    holds data up to 2026-06-10 12:00Z (so no day from 2026-06-08 on is final)."""

    def __init__(self) -> None:
        first = datetime(2026, 6, 1, tzinfo=UTC)
        self.conversations = [first + timedelta(minutes=20 * n) for n in range(14 * 72)]
        self.bodies: list[dict[str, Any]] = []

    def land(self, at: datetime) -> None:
        """A conversation that started at ``at`` lands late."""
        self.conversations.append(at)

    def details_probe(self, body: dict[str, Any]) -> dict[str, Any]:
        self.bodies.append(body)
        start, end = (parse_instant(v) for v in body["interval"].split("/"))
        hits = sorted(s for s in self.conversations if start <= s < end)
        rows = [{"conversationEnd": format_instant(hits[-1] + timedelta(minutes=5))}] if hits else []
        return {"totalHits": len(hits), "conversations": rows}

    def details_job_availability(self) -> datetime:
        return datetime(2026, 6, 10, 12, tzinfo=UTC)


def local_day(day: date, tz: str, days: int = 1) -> Window:
    return Window(day_start(day, ZoneInfo(tz)), day_start(day + timedelta(days=days), ZoneInfo(tz)), tz)


def published(day: Window, facts: dict[str, Any]) -> tuple[str, date, dict[str, Any]]:
    block = {"version": 1, "content_digest": f"digest-{day.day()}", "source": facts,
             "run_conf": source.run_conf({}, day)}
    return (REPORT, day.day(), {"window": day.to_dict(), "partition": f"{REPORT}/date={day.day()}/",
                                "extra": {"restatement": block}})


def sweep_of(api: Any, manifests: list[tuple[str, date, dict[str, Any]]]) -> list[dict[str, Any]]:
    """The sweep's find, probe and changed steps: the re-runs it triggers."""
    days = sweep.by_day(sweep.candidates(manifests, None, 48))
    return sweep.triggers([sweep.day_outcome(d, source.probe_partitions(api, d["partitions"])) for d in days])


@pytest.mark.parametrize("tz", ["Europe/Berlin", "America/New_York", "UTC"])
def test_a_day_run_in_any_zone_is_unchanged_until_late_data_lands_on_it(tz: str) -> None:
    api = ExactBoundsApi()
    day = local_day(date(2026, 6, 9), tz)
    facts = source.details_source(api, {**QUERY, "interval": day.interval()}, day)
    recorded = [b["interval"] for b in api.bodies]
    assert len(recorded) == (1 if tz == "UTC" else 2)  # one probe per UTC day the reporting day touches

    api.bodies.clear()
    assert sweep_of(api, [published(day, facts)]) == []  # nothing late: nothing changed, no re-run
    assert [b["interval"] for b in api.bodies] == recorded  # the sweep re-probed exactly what was recorded

    api.land(day.start + timedelta(hours=12, minutes=7))
    [rerun] = sweep_of(api, [published(day, facts)])
    assert rerun["conf"]["start"] == "2026-06-09" and rerun["conf"]["timezone"] == tz
    assert "total_hits" in rerun["note"]


@pytest.mark.parametrize("tz", ["Europe/Berlin", "America/New_York"])
def test_the_day_partitions_of_a_range_run_reprobe_as_recorded_and_as_their_day_runs(tz: str) -> None:
    """A range run's plan probes the range once; each day partition keeps its UTC days' fingerprints: the
    sweep finds them unchanged, and they are exactly what the day's own run records."""
    api = ExactBoundsApi()
    span = local_day(date(2026, 6, 8), tz, days=4)
    facts = source.details_source(api, {**QUERY, "interval": span.interval()}, span)
    assert len(api.bodies) == 5  # one probe per UTC day of the range, not two per reporting day
    days = list(span.days())
    manifests = [published(d, day_source(facts, d)) for d in days]
    assert sweep_of(api, manifests) == []
    for d, (_, _, manifest) in zip(days, manifests, strict=True):
        own = source.details_source(ExactBoundsApi(), {**QUERY, "interval": d.interval()}, d)
        assert manifest["extra"]["restatement"]["source"]["days"] == own["days"], d.day()

    late = days[2].start + timedelta(hours=12, minutes=7)  # inside the third day, away from its edges
    api.land(late)
    # the probe's unit is the UTC day: each reporting day touching the late conversation's UTC day, once
    touching = [d.day().isoformat() for d in days if late.date().isoformat() in source.probe_days(d)]
    assert days[2].day().isoformat() in touching and len(touching) == 2
    assert [r["conf"]["start"] for r in sweep_of(api, manifests)] == touching


# -- against the sandbox (Genesys Cloud's semantics) -------------------------------------------------------
@pytest.mark.parametrize("tz", ["Europe/Berlin", "America/New_York"])
def test_a_manifest_recorded_from_part_of_a_utc_day_reads_the_same_as_the_whole_day(sandbox: Any, tz: str) -> None:
    """Runs before this rule probed only the part of each UTC day inside the reporting day. The sync
    details query matches whole UTC days, so those recorded fingerprints equal the whole-day probes the
    sweep sends: such manifests are neither flagged as changed nor re-published with new bytes."""
    from genesys_cloud.hooks.genesys_cloud import GenesysCloudHook
    from genesys_pipelines.restatement import fingerprint
    from genesys_pipelines.windows import format_interval, utc_days

    day = local_day(date(2026, 6, 9), tz)
    with GenesysCloudHook() as hook:
        old = {piece[0].date().isoformat(): fingerprint.details_fingerprint(
                   hook.details_probe(fingerprint.details_probe_body(QUERY, format_interval(piece))))
               for piece in utc_days((day.start, day.end))}
        assert source.details_source(hook, {**QUERY, "interval": day.interval()}, day)["days"] == old


def test_campaign_stats_fingerprints_and_probes_cover_the_same_local_day(sandbox: Any) -> None:
    """Campaign statistics record the counts of the reporting day's own window (a day run's query, or its
    ``P1D`` bucket of a range run's) and the sweep re-probes that same window in the same zone: equal, DST
    day included, in a zone behind UTC and one ahead of it."""
    from genesys_cloud.hooks.genesys_cloud import GenesysCloudHook
    from genesys_pipelines.campaign_stats import aggregates, queries
    from genesys_pipelines.campaign_stats.ranges import restrict
    from genesys_pipelines.restatement import fingerprint

    with GenesysCloudHook() as hook:
        for tz, first in (("America/New_York", date(2026, 3, 7)), ("Europe/Berlin", date(2026, 3, 28))):
            span = local_day(first, tz, days=3)
            days = list(span.days())
            probes = {d.day(): aggregates.window_sums(hook.aggregates_query(
                fingerprint.stats_probe_body(d.interval(), tz))) for d in days}
            ids = sorted({cid for sums in probes.values() for cid in sums})
            assert ids
            ranged = hook.aggregates_query(queries.window_totals_query(ids, span, granularity="P1D"))
            for d in days:
                own = aggregates.window_sums(hook.aggregates_query(queries.window_totals_query(ids, d)))
                cut = aggregates.window_sums(restrict(ranged, d.start, d.end))
                probed = fingerprint.stats_fingerprint_from_sums(probes[d.day()], ids)
                assert fingerprint.stats_fingerprint_from_sums(own, ids) == probed, (tz, d.day())
                assert fingerprint.stats_fingerprint_from_sums(cut, ids) == probed, (tz, d.day())
