"""Sort-and-sweep overlap detection: edge cases and a property check against brute force."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from genesys_pipelines.schedule_provisioning.intervals import Interval, expand_daily_window
from genesys_pipelines.schedule_provisioning.overlap import TaggedInterval, detect_conflicts, sweep_pairs

BASE = datetime(2026, 7, 1, tzinfo=UTC)


def iv(start_h: float, end_h: float) -> Interval:
    return Interval(BASE + timedelta(hours=start_h), BASE + timedelta(hours=end_h))


def req(start_h: float, end_h: float, cid: str = "A") -> TaggedInterval:
    return TaggedInterval(iv(start_h, end_h), cid, "requested")


def test_touching_is_not_overlap() -> None:
    assert detect_conflicts([req(9, 12), req(12, 15)]) == []
    assert detect_conflicts([req(9, 12), TaggedInterval(iv(12, 13), "B", "sibling")]) == []


def test_nested_and_identical_requested_windows_conflict_with_both_sides() -> None:
    nested = detect_conflicts([req(9, 17), req(10, 11)])
    assert [c.kind for c in nested] == ["self"]
    assert {nested[0].requested.interval, nested[0].other.interval} == {iv(9, 17), iv(10, 11)}
    assert nested[0].overlap == iv(10, 11)
    identical_requests = detect_conflicts([req(9, 12, "A"), req(9, 12, "B")])
    assert [c.kind for c in identical_requests] == ["request"]
    assert identical_requests[0].overlap == iv(9, 12)
    identical_sibling = detect_conflicts([req(9, 12), TaggedInterval(iv(9, 12), "B", "sibling")])
    assert [c.kind for c in identical_sibling] == ["sibling"]
    payload = identical_sibling[0].to_dict()
    assert payload["requested"]["campaign_id"] == "A" and payload["other"]["campaign_id"] == "B"
    assert payload["overlap"] == {"start": "2026-07-01T09:00:00.000Z", "end": "2026-07-01T12:00:00.000Z"}


def test_identical_current_window_is_noop_partial_current_overlap_conflicts() -> None:
    current_same = TaggedInterval(iv(9, 12), "A", "current")
    assert detect_conflicts([req(9, 12), current_same]) == []
    clash = detect_conflicts([req(11, 13), current_same])
    assert [c.kind for c in clash] == ["current"]


def test_cross_midnight_and_different_time_zones() -> None:
    # 22:00-06:00 Dublin night shift (UTC+1 in July) vs 20:00-23:00 New York (UTC-4) = 00:00-03:00Z.
    night = expand_daily_window(time(22), time(6), "Europe/Dublin", date(2026, 7, 1), date(2026, 7, 1))
    evening = expand_daily_window(time(20), time(23), "America/New_York", date(2026, 7, 1), date(2026, 7, 1))
    items = [TaggedInterval(night[0], "A", "requested"), TaggedInterval(evening[0], "B", "sibling")]
    conflicts = detect_conflicts(items)
    assert len(conflicts) == 1
    assert conflicts[0].overlap == Interval(
        datetime(2026, 7, 2, 0, tzinfo=UTC), datetime(2026, 7, 2, 3, tzinfo=UTC)
    )
    # Same local hours in a zone 5 h apart: 09-17 Dublin (08-16Z) vs 09-12 New York (13-16Z) overlap.
    dub = expand_daily_window(time(9), time(17), "Europe/Dublin", date(2026, 7, 1), date(2026, 7, 1))
    ny = expand_daily_window(time(9), time(12), "America/New_York", date(2026, 7, 1), date(2026, 7, 1))
    c = detect_conflicts([TaggedInterval(dub[0], "A", "requested"), TaggedInterval(ny[0], "B", "sibling")])
    assert c[0].overlap.start == datetime(2026, 7, 1, 13, tzinfo=UTC)


def test_unrelated_campaigns_and_existing_pairs_are_ignored() -> None:
    items = [
        req(9, 12),
        TaggedInterval(iv(10, 11), "B", "sibling"),
        TaggedInterval(iv(10, 11), "C", "sibling"),  # B vs C: pre-existing, not ours
    ]
    conflicts = detect_conflicts(items, related=lambda a, b: {a, b} == {"A", "B"})
    assert [(c.requested.campaign_id, c.other.campaign_id) for c in conflicts] == [("A", "B")]


def test_two_requested_campaigns_conflict_as_request() -> None:
    conflicts = detect_conflicts([req(9, 12, "A"), req(11, 14, "B")])
    assert [c.kind for c in conflicts] == ["request"]


interval_strategy = st.tuples(st.integers(0, 200), st.integers(1, 60)).map(lambda t: iv(t[0], t[0] + t[1]))


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(interval_strategy, st.sampled_from(["A", "B", "C"])), max_size=40))
def test_sweep_matches_brute_force(items: list[tuple[Interval, str]]) -> None:
    tagged = [TaggedInterval(i, cid, "requested") for i, cid in items]
    swept = {frozenset((id(a), id(b))) for a, b in sweep_pairs(tagged)}
    brute = {
        frozenset((id(a), id(b)))
        for n, a in enumerate(tagged)
        for b in tagged[n + 1 :]
        if a.interval.start < b.interval.end and b.interval.start < a.interval.end
    }
    assert swept == brute
    assert len(sweep_pairs(tagged)) == len(brute)  # each pair once
