"""Late-arriving data, pure parts: fingerprints, the finality rule, versions and the sweep's decisions."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from genesys_pipelines.restatement import finality, fingerprint, source, sweep, versions
from genesys_pipelines.windows import Window

DAY = Window(datetime(2026, 3, 14, tzinfo=UTC), datetime(2026, 3, 15, tzinfo=UTC), "UTC")
OBJECTS = [{"name": "a.csv", "sha256": "aa"}, {"name": "b.json", "sha256": "bb"}]


def manifest(block: dict[str, Any] | None, objects: list[dict[str, Any]] = OBJECTS) -> dict[str, Any]:
    extra: dict[str, Any] = {"groups": 3}
    if block is not None:
        extra["restatement"] = block
    return {"objects": objects, "extra": extra, "partition": "p/date=2026-03-14/",
            "window": {"start": DAY.start.isoformat(), "end": DAY.end.isoformat()}}


def src(total: int = 10, end: str | None = "2026-03-14T23:10:00.000Z", final: bool = False) -> dict[str, Any]:
    return {"kind": "details", "days": {"2026-03-14": {"total_hits": total, "latest_end": end}},
            "probe": {"order": "asc"}, "data_availability_date": "2026-03-15T05:00:00+00:00", "final": final,
            "settle_hours": 48.0}


# -- fingerprints --------------------------------------------------------------------------------------
def test_the_details_probe_is_one_row_latest_end_first_and_keeps_the_filters() -> None:
    query = {"interval": "x/y", "order": "asc", "orderBy": "conversationStart", "segmentFilters": [{"type": "or"}],
             "paging": {"pageSize": 100, "pageNumber": 3}}
    body = fingerprint.details_probe_body(query, "2026-03-14T00:00:00.000Z/2026-03-15T00:00:00.000Z")
    assert body["paging"] == {"pageSize": 1, "pageNumber": 1}
    assert (body["order"], body["orderBy"]) == ("desc", "conversationEnd")
    assert body["segmentFilters"] == [{"type": "or"}] and body["interval"].startswith("2026-03-14")
    assert query["paging"]["pageSize"] == 100  # the report's own query is not modified


def test_the_details_fingerprint_reads_total_hits_and_the_latest_end() -> None:
    answer = {"totalHits": 1234, "conversations": [{"conversationId": "c", "conversationEnd": "2026-03-14T23:59:00Z"}]}
    assert fingerprint.details_fingerprint(answer) == {"total_hits": 1234, "latest_end": "2026-03-14T23:59:00Z"}
    # An in-progress conversation sorts first and has no end; an empty day has no rows.
    assert fingerprint.details_fingerprint({"totalHits": 5, "conversations": [{"conversationId": "c"}]})["latest_end"] is None
    assert fingerprint.details_fingerprint({"totalHits": 0}) == {"total_hits": 0, "latest_end": None}


def test_stats_fingerprints_from_rows_and_from_the_probe_agree() -> None:
    rows = [{"campaign_id": "b", "attempted": 5, "connected": 2, "abandoned": 0, "handled": 2},
            {"campaign_id": "a", "attempted": 0, "connected": 0, "abandoned": 0, "handled": 0}]
    sums = {"b": {"nOutboundAttempted": 5.0, "nOutboundConnected": 2.0, "tHandle.count": 2.0, "tHandle.sum": 9.0},
            "z": {"nOutboundAttempted": 99.0}}  # a campaign the partition does not report on is ignored
    from_rows = fingerprint.stats_fingerprint_from_rows(rows)
    assert list(from_rows) == ["a", "b"]
    assert fingerprint.stats_fingerprint_from_sums(sums, ["b", "a"]) == from_rows
    sums["b"]["nOutboundAttempted"] = 6.0
    assert fingerprint.stats_fingerprint_from_sums(sums, ["a", "b"]) != from_rows


def test_the_stats_probe_is_one_query_for_every_campaign() -> None:
    body = fingerprint.stats_probe_body(DAY.interval(), "UTC")
    assert body["groupBy"] == ["outboundCampaignId"] and "granularity" not in body
    assert "outboundCampaignId" not in str(body["filter"])  # no campaign list: size independent of campaigns


# -- finality ------------------------------------------------------------------------------------------
def test_final_once_the_data_lake_is_settle_hours_past_the_end() -> None:
    end = DAY.end
    assert not finality.is_final(end, None, 48)
    assert not finality.is_final(end, end + timedelta(hours=47, minutes=59), 48)
    assert finality.is_final(end, end + timedelta(hours=48), 48)
    assert not finality.is_final(end, end - timedelta(hours=1), 0)  # before the availability date


def test_settings_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("GENESYS_SETTLE_HOURS", raising=False)
    monkeypatch.delenv("GENESYS_RESTATE_DAYS", raising=False)
    assert (finality.settle_hours(), finality.restate_days()) == (48.0, 7)
    monkeypatch.setenv("GENESYS_SETTLE_HOURS", "6")
    monkeypatch.setenv("GENESYS_RESTATE_DAYS", "3")
    assert (finality.settle_hours(), finality.restate_days()) == (6.0, 3)
    monkeypatch.setenv("GENESYS_RESTATE_DAYS", "0")
    with pytest.raises(ValueError, match="GENESYS_RESTATE_DAYS"):
        finality.restate_days()


# -- versions ------------------------------------------------------------------------------------------
def test_the_content_digest_ignores_order_and_the_block_itself() -> None:
    one = versions.content_digest(OBJECTS, {"groups": 3})
    assert one == versions.content_digest(list(reversed(OBJECTS)), {"groups": 3, "restatement": {"version": 9}})
    assert one != versions.content_digest([{"name": "a.csv", "sha256": "ab"}, OBJECTS[1]], {"groups": 3})
    assert one != versions.content_digest(OBJECTS, {"groups": 4})


def test_first_publish_is_version_one() -> None:
    block, outcome = versions.next_block(None, "d1", src(), {"start": "2026-03-14"})
    assert outcome == "first" and block["version"] == 1 and block["restated_from"] is None
    assert block["run_conf"] == {"start": "2026-03-14"}


def test_same_content_and_fingerprint_keeps_the_block_byte_for_byte() -> None:
    digest = versions.content_digest(OBJECTS, {"groups": 3})
    first, _ = versions.next_block(None, digest, src(), {})
    later_source = {**src(), "data_availability_date": "2026-03-16T09:00:00+00:00"}  # read later
    block, outcome = versions.next_block(manifest(first), digest, later_source, {})
    assert outcome == "unchanged" and block == first


def test_same_content_new_fingerprint_refreshes_without_a_new_version() -> None:
    digest = versions.content_digest(OBJECTS, {"groups": 3})
    first, _ = versions.next_block(None, digest, src(), {})
    block, outcome = versions.next_block(manifest(first), digest, src(end=None), {})
    assert outcome == "refreshed" and block["version"] == 1 and block["source"]["days"]["2026-03-14"]["latest_end"] is None


def test_new_content_is_a_restatement_with_the_previous_digest_and_the_reason() -> None:
    old_digest = versions.content_digest(OBJECTS, {"groups": 3})
    first, _ = versions.next_block(None, old_digest, src(), {})
    block, outcome = versions.next_block(manifest(first), "new", src(total=12), {})
    assert outcome == "restated" and block["version"] == 2 and block["restated_from"] == old_digest
    assert block["content_digest"] == "new"
    assert "2026-03-14: total_hits 10 -> 12" in block["reason"]
    third, outcome = versions.next_block(manifest(block, objects=[{"name": "a.csv", "sha256": "zz"}]), "newer",
                                         src(total=13), {})
    assert outcome == "restated" and third["version"] == 3


def test_a_partition_published_before_restatement_existed_counts_as_version_one() -> None:
    block, outcome = versions.next_block(manifest(None), "new", src(), {})
    assert outcome == "restated" and block["version"] == 2
    assert block["restated_from"] == versions.content_digest(OBJECTS, {"groups": 3})


# -- sweep decisions -----------------------------------------------------------------------------------
def test_the_swept_days_are_the_last_n_before_the_run_or_the_explicit_window() -> None:
    scheduled = Window(datetime(2026, 3, 20, tzinfo=UTC), datetime(2026, 3, 21, tzinfo=UTC), "UTC", "logical_date")
    assert sweep.days_of(scheduled.to_dict(), 3) == [date(2026, 3, 18), date(2026, 3, 19), date(2026, 3, 20)]
    forced = Window(datetime(2026, 3, 1, tzinfo=UTC), datetime(2026, 3, 3, tzinfo=UTC), "UTC", "params")
    assert sweep.days_of(forced.to_dict(), 7) == [date(2026, 3, 1), date(2026, 3, 2)]


def test_candidates_skip_missing_unfingerprinted_and_final_days() -> None:
    block, _ = versions.next_block(None, "d", src(), {"start": "2026-03-14", "end": "2026-03-15"})
    final_block = {**block, "source": src(final=True)}
    found = sweep.candidates([("p", date(2026, 3, 14), manifest(block)), ("p", date(2026, 3, 13), None),
                              ("p", date(2026, 3, 12), manifest(None)), ("p", date(2026, 3, 11), manifest(final_block))],
                             available=DAY.end + timedelta(hours=1), settle=48)
    assert [(f["pipeline"], f["day"]) for f in found] == [("p", "2026-03-14")]
    # Once the data lake is past the settle period, the day is final now: not probed.
    assert sweep.candidates([("p", date(2026, 3, 14), manifest(block))], DAY.end + timedelta(hours=48), 48) == []


def test_triggers_are_exactly_the_changed_days_with_deterministic_run_ids() -> None:
    block, _ = versions.next_block(None, "digest-of-day", src(), {"start": "2026-03-14", "end": "2026-03-15"})
    [found] = sweep.candidates([("p", date(2026, 3, 14), manifest(block))], None, 48)
    same = sweep.outcome(found, {"2026-03-14": {"total_hits": 10, "latest_end": "2026-03-14T23:10:00.000Z"}})
    moved = sweep.outcome({**found, "day": "2026-03-13"}, {"2026-03-14": {"total_hits": 11, "latest_end": None}})
    assert same["changes"] == [] and len(moved["changes"]) == 2
    [kwargs] = sweep.triggers([same, moved])
    assert kwargs["trigger_dag_id"] == "p" and kwargs["conf"] == {"start": "2026-03-14", "end": "2026-03-15"}
    assert kwargs["trigger_run_id"] == "restate__p__2026-03-13__digest-of-day"
    assert kwargs["trigger_run_id"] == sweep.triggers([moved])[0]["trigger_run_id"]  # same decision, same id
    assert sweep.triggers([same, moved], dry_run=True) == []


def test_run_conf_names_the_reporting_day_as_a_user_would() -> None:
    assert source.run_conf({"formats": ["csv"], "start": None}, DAY) == {
        "formats": ["csv"], "start": "2026-03-14", "end": "2026-03-15", "timezone": "UTC"}
    berlin = Window(datetime(2026, 3, 13, 23, tzinfo=UTC), datetime(2026, 3, 14, 23, tzinfo=UTC), "Europe/Berlin")
    assert source.run_conf({}, berlin)["start"] == "2026-03-14"


class FakeApi:
    def __init__(self, total: int = 7) -> None:
        self.bodies: list[dict[str, Any]] = []
        self.total = total

    def details_probe(self, body: dict[str, Any]) -> dict[str, Any]:
        self.bodies.append(body)
        return {"totalHits": self.total, "conversations": [{"conversationEnd": "2026-03-14T22:00:00.000Z"}]}

    def details_job_availability(self) -> datetime:
        return datetime(2026, 3, 20, tzinfo=UTC)


def test_the_details_source_costs_one_request_per_utc_day_and_reprobes_the_same_way() -> None:
    api = FakeApi()
    query = {"interval": DAY.interval(), "order": "asc", "orderBy": "conversationStart", "paging": {"pageSize": 100}}
    facts = source.details_source(api, query, DAY)
    assert len(api.bodies) == 1 and facts["final"] is True  # 2026-03-20 is > 48 h past the end
    assert facts["days"] == {"2026-03-14": {"total_hits": 7, "latest_end": "2026-03-14T22:00:00.000Z"}}
    assert "interval" not in facts["probe"] and "paging" not in facts["probe"]
    again = FakeApi(total=8)
    probed = source.probe_day(again, {"source": facts, "window": {"start": DAY.start.isoformat(), "end": DAY.end.isoformat()}})
    assert again.bodies == api.bodies  # the sweep sends exactly the request the run fingerprinted with
    assert probed == {"2026-03-14": {"total_hits": 8, "latest_end": "2026-03-14T22:00:00.000Z"}}


def test_the_recorded_availability_is_floored_to_the_hour() -> None:
    facts = source.facts("details", {}, {}, DAY, "2026-03-17T00:59:59.999+00:00", settle=48)
    assert facts["data_availability_date"] == "2026-03-17T00:00:00+00:00" and facts["final"] is True
    assert source.facts("details", {}, {}, DAY, None, settle=48)["final"] is False


def test_a_watermark_reset_sweeps_every_day_from_the_date_final_ones_included() -> None:
    from genesys_pipelines.errors import InvalidParam

    scheduled = Window(datetime(2026, 3, 20, tzinfo=UTC), datetime(2026, 3, 21, tzinfo=UTC), "UTC", "logical_date")
    assert sweep.days_of(scheduled.to_dict(), 3, "2026-03-17") == [date(2026, 3, d) for d in (17, 18, 19, 20)]
    with pytest.raises(InvalidParam, match="reset_from"):
        sweep.days_of(scheduled.to_dict(), 3, "2026-03-22")
    window = {"start": "2026-03-14T00:00:00+00:00", "end": "2026-03-15T00:00:00+00:00"}
    final = ("genesys_conversation_report", date(2026, 3, 14),
             {"window": window, "partition": "p", "extra": {"restatement": {"version": 1, "source": src(final=True)}}})
    available = datetime(2026, 3, 30, tzinfo=UTC)
    assert sweep.candidates([final], available, 48) == []
    [found] = sweep.candidates([final], available, 48, reset=True)
    assert found["day"] == "2026-03-14"


# -- a day with the day's partition and a narrower run's selection= sub-partition ---------------------------
STATS = "genesys_campaign_execution_stats"
COUNTS = {"attempted": 5, "connected": 2, "abandoned": 0, "handled": 2}


def stats_manifest(partition: str, campaigns: list[str], content_digest: str, conf: dict[str, Any]) -> dict[str, Any]:
    facts = source.stats_source([{"campaign_id": c, **COUNTS} for c in campaigns], DAY, None)
    block = {"version": 1, "content_digest": content_digest, "source": facts, "run_conf": conf}
    return {"objects": OBJECTS, "extra": {"restatement": block}, "partition": partition,
            "window": {"start": DAY.start.isoformat(), "end": DAY.end.isoformat()}}


class FakeAggregates:
    """The stats probe's aggregates query: every campaign's attempts went up by one (late data)."""

    def __init__(self) -> None:
        self.bodies: list[dict[str, Any]] = []

    def aggregates_query(self, body: dict[str, Any]) -> dict[str, Any]:
        self.bodies.append(body)
        stats = {"nOutboundAttempted": 6, "nOutboundConnected": 2, "nOutboundAbandoned": 0}
        return {"results": [{"group": {"outboundCampaignId": c}, "data": [{"interval": body["interval"], "metrics": [
            *({"metric": m, "stats": {"count": v}} for m, v in stats.items()),
            {"metric": "tHandle", "stats": {"count": 2, "sum": 9.0}}]}]} for c in ("a", "b")]}


def two_partitions_of_one_day(same_content: bool = False) -> list[tuple[str, date, dict[str, Any]]]:
    day_conf = {"start": "2026-03-14", "end": "2026-03-15"}
    return [(STATS, date(2026, 3, 14), stats_manifest(f"{STATS}/date=2026-03-14/", ["a", "b"], "full-digest", day_conf)),
            (STATS, date(2026, 3, 14), stats_manifest(f"{STATS}/date=2026-03-14/selection=0123456789ab/", ["a"],
                                                      "full-digest" if same_content else "narrow-digest",
                                                      {**day_conf, "campaign_ids": ["a"]}))]


def test_a_day_with_a_selection_sub_partition_is_probed_once_and_each_partition_restated_once() -> None:
    """The day's partition and a narrower run's ``selection=`` sub-partition: one probe task for the day,
    the one aggregates request shared (the stats probe has no campaign filter), one re-run per changed
    partition (each with its own params), and the sweep's report lists the day once with its partitions."""
    days = sweep.by_day(sweep.candidates(two_partitions_of_one_day(), None, 48))
    assert [(d["pipeline"], d["day"], len(d["partitions"])) for d in days] == [(STATS, "2026-03-14", 2)]
    api = FakeAggregates()
    [probed] = [sweep.day_outcome(d, source.probe_partitions(api, d["partitions"])) for d in days]
    assert len(api.bodies) == 1  # one request for the day, not one per partition
    # each partition compared with its own campaigns: the day's two (a, b), the one-campaign run's one (a)
    assert [[c.split(" ")[1] for c in p["changes"]] for p in probed["partitions"]] == [["a", "b"], ["a"]]
    reruns = sweep.triggers([probed])
    assert [r["conf"].get("campaign_ids") for r in reruns] == [None, ["a"]]
    assert len({r["trigger_run_id"] for r in reruns}) == 2
    entry = sweep.audit_entry([probed], reruns)
    assert entry["details"]["probed"] == entry["details"]["changed"] == [f"{STATS}:2026-03-14"]
    assert entry["details"]["partitions"] == {f"{STATS}:2026-03-14": ["date=2026-03-14/",
                                                                     "date=2026-03-14/selection=0123456789ab/"]}
    assert entry["record_count"] == 2  # partitions checked


def test_the_sweep_report_lists_a_day_once_whatever_its_partitions() -> None:
    found = sweep.candidates(two_partitions_of_one_day(), None, 48)
    outcomes = [sweep.outcome(f, {"2026-03-14": {"a": {**COUNTS, "attempted": 6}}}) for f in found]
    entry = sweep.audit_entry(outcomes, sweep.triggers(outcomes))
    assert entry["details"]["probed"] == entry["details"]["changed"] == [f"{STATS}:2026-03-14"]


def test_two_partitions_of_a_day_with_the_same_content_never_share_a_rerun() -> None:
    """Same content digest (a selection listing every campaign): distinct run ids, or the second trigger
    (``reset_dag_run``) would only reset the first's run and the sub-partition would never be restated."""
    found = sweep.candidates(two_partitions_of_one_day(same_content=True), None, 48)
    outcomes = [sweep.outcome(f, {"2026-03-14": {"a": {**COUNTS, "attempted": 6}}}) for f in found]
    reruns = sweep.triggers(outcomes)
    assert len(reruns) == 2 and len({r["trigger_run_id"] for r in reruns}) == 2
    assert reruns[0]["trigger_run_id"] == "restate__genesys_campaign_execution_stats__2026-03-14__full-digest"
