"""Property-based tests (hypothesis) of the pure logic the resilience suite leans on.

Complements the existing properties (sweep_pairs vs brute force, daily-window and weekly-recurrence
expansion, reporting-day windows) with: conflict classification, the API interval round trip, unit
normalisation, explicit-bounds windows and the pacing bounds.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from genesys_pipelines.campaign_stats.normalise import average_seconds, ratio, seconds
from genesys_pipelines.pacing_forecast.recommend import bound, expected_abandon_pct, max_ratio_for_target
from genesys_pipelines.schedule_provisioning.intervals import Interval
from genesys_pipelines.schedule_provisioning.overlap import TaggedInterval, detect_conflicts
from genesys_pipelines.windows import Window, WindowError, resolve_window

BASE = datetime(2026, 6, 1, tzinfo=UTC)
ZONES = ["UTC", "America/New_York", "Europe/Dublin", "Australia/Lord_Howe", "Asia/Kathmandu"]


# -- overlap detection --------------------------------------------------------------------------------

tagged = st.builds(
    lambda start, length, cid, source: TaggedInterval(
        Interval(BASE + timedelta(minutes=start), BASE + timedelta(minutes=start + length)), cid, source),
    st.integers(0, 600), st.integers(1, 120), st.sampled_from("ABC"), st.sampled_from(["requested", "current"]),
)


@settings(max_examples=150, deadline=None)
@given(st.lists(tagged, max_size=25), st.sets(st.frozensets(st.sampled_from("ABC"), min_size=2, max_size=2)))
def test_conflicts_are_exactly_the_overlaps_involving_a_request(items: list[TaggedInterval],
                                                               related_pairs: set[frozenset[str]]) -> None:
    def related(a: str, b: str) -> bool:
        return frozenset((a, b)) in related_pairs

    conflicts = detect_conflicts(items, related)
    for c in conflicts:
        assert c.requested.source == "requested"
        assert c.requested.interval.overlaps(c.other.interval)
        overlap = c.overlap
        assert overlap.start >= max(c.requested.interval.start, c.other.interval.start)
        assert overlap.end <= min(c.requested.interval.end, c.other.interval.end)
        if c.requested.campaign_id != c.other.campaign_id:
            assert related(c.requested.campaign_id, c.other.campaign_id)
    # Completeness: every overlapping pair with a request, between related campaigns, is reported.
    reported = {frozenset((id(c.requested), id(c.other))) for c in conflicts}
    for n, a in enumerate(items):
        for b in items[n + 1:]:
            if not a.interval.overlaps(b.interval) or "requested" not in (a.source, b.source):
                continue
            if a.campaign_id != b.campaign_id and related(a.campaign_id, b.campaign_id):
                assert frozenset((id(a), id(b))) in reported
    # Touching intervals never conflict (half-open).
    assert all(c.overlap.end > c.overlap.start for c in conflicts)


# -- interval expansion: the API round trip -------------------------------------------------------------

@settings(max_examples=200, deadline=None)
@given(st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2090, 1, 1), timezones=st.just(UTC)),
       st.integers(1, 10**9))
def test_interval_api_round_trip_is_exact_to_the_millisecond(start: datetime, micros: int) -> None:
    interval_end = start + timedelta(microseconds=micros)
    assume(interval_end.replace(microsecond=interval_end.microsecond // 1000 * 1000)
           > start.replace(microsecond=start.microsecond // 1000 * 1000))
    item = Interval(start, interval_end)
    api = item.to_api()
    assert api["start"].endswith("Z") and api["end"].endswith("Z")
    assert Interval.from_api(api) == item
    assert Interval.from_api(api).to_api() == api


# -- unit normalisation ---------------------------------------------------------------------------------

@given(st.integers(0, 10**12))
def test_seconds_are_milliseconds_over_1000_at_ms_precision(ms: int) -> None:
    assert seconds(ms) == pytest.approx(ms / 1000, abs=5e-4)
    assert seconds(ms) * 1000 == pytest.approx(ms, abs=0.5)


@given(st.integers(0, 10**6), st.integers(0, 10**6))
def test_ratio_is_a_share_when_the_part_is_within_the_whole(part: int, extra: int) -> None:
    whole = part + extra
    value = ratio(part, whole)
    assert 0.0 <= value <= 1.0
    assert value == (0.0 if whole == 0 else pytest.approx(part / whole, abs=5e-7))


@given(st.floats(0, 1e12, allow_nan=False), st.integers(0, 10**6))
def test_average_seconds_is_sum_over_count_in_seconds(total_ms: float, count: int) -> None:
    value = average_seconds({"tHandle.sum": total_ms, "tHandle.count": count}, "tHandle")
    assert value == (0.0 if count == 0 else pytest.approx(total_ms / count / 1000, abs=5e-4, rel=1e-9))


# -- window helper: explicit bounds ---------------------------------------------------------------------

@settings(max_examples=200, deadline=None)
@given(st.integers(0, 400), st.integers(-5, 40), st.integers(0, 60), st.sampled_from(ZONES))
def test_explicit_window_is_refused_or_ends_by_run_after(start_day: int, days: int, run_day: int, tz: str) -> None:
    start = (BASE + timedelta(days=start_day)).date()
    end = start + timedelta(days=days)
    run_after = datetime.combine(start + timedelta(days=run_day), datetime.min.time(), UTC)
    try:
        window = resolve_window(start=start.isoformat(), end=end.isoformat(), run_after=run_after, tz=tz)
    except WindowError as exc:
        assert exc.args[0] in ("end", "start") or str(exc).startswith(("end", "start"))
        assert days <= 0 or window_end_local(end, tz) > run_after
        return
    assert days > 0 and window.start < window.end <= run_after
    assert Window.from_dict(window.to_dict()) == window
    assert window.is_single_day() == (days == 1)


def window_end_local(end: object, tz: str) -> datetime:
    from zoneinfo import ZoneInfo

    return datetime.combine(end, datetime.min.time(), ZoneInfo(tz)).astimezone(UTC)  # type: ignore[arg-type]


# -- pacing bounds --------------------------------------------------------------------------------------

@given(st.one_of(st.none(), st.floats(0.01, 50)), st.floats(0, 100), st.floats(0.01, 0.9),
       st.floats(0.1, 10), st.floats(0.1, 10))
def test_bound_never_leaves_the_limits_nor_steps_too_far(current: float | None, target: float, step: float,
                                                         a: float, b: float) -> None:
    low, high = min(a, b), max(a, b)
    value, notes = bound(current, target, step, low, high)
    assert value <= high  # never above the ceiling, even when the current value is (issue 17)
    if current is not None and current < low:  # toward the floor: more aggressive, by at most the step
        assert min(low, current * (1 + step)) - 1e-9 <= value <= current * (1 + step) + 1e-9
    else:
        assert low <= value
    if current is not None and current > high:
        assert value == high  # less aggressive: straight to the bound
    if current is not None and low <= current * (1 - step) and current * (1 + step) <= high:
        assert current * (1 - step) - 1e-9 <= value <= current * (1 + step) + 1e-9
    assert (value == target) == (not notes) or value == target


@settings(max_examples=40, deadline=None)
@given(st.integers(1, 30), st.floats(0.05, 0.9), st.floats(0.5, 10))
def test_max_ratio_meets_the_abandon_target_inside_the_limits(agents: int, p: float, target: float) -> None:
    low, high = 1.0, 4.0
    chosen = max_ratio_for_target(agents, p, target, low, high)
    assert low <= chosen <= high
    if chosen > low:
        assert expected_abandon_pct(agents * chosen, agents, p) <= target + 1e-9
    if chosen < high:  # bisection: a little more would exceed the target
        assert expected_abandon_pct(agents * min(high, chosen + 1e-3), agents, p) > target - 1e-6


@settings(max_examples=40, deadline=None)
@given(st.integers(1, 20), st.floats(0.05, 0.9), st.floats(0.5, 3.5))
def test_expected_abandon_grows_with_lines_and_is_a_percentage(agents: int, p: float, ratio_: float) -> None:
    few = expected_abandon_pct(agents * ratio_, agents, p)
    more = expected_abandon_pct(agents * (ratio_ + 0.5), agents, p)
    assert 0.0 <= few <= more + 1e-9 <= 100.0 + 1e-9
