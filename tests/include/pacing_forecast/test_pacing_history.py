"""History: chunked PT1H query bodies, response parsing, and the full hourly grid."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta

import pytest

from genesys_pipelines.pacing_forecast import history
from genesys_pipelines.windows import Window


def test_history_queries_are_chunked_hourly_with_explicit_zone() -> None:
    window = Window(datetime(2026, 6, 10, 4, tzinfo=UTC), datetime(2026, 6, 11, 4, tzinfo=UTC), "America/New_York")
    bodies = history.history_queries(["c1"], window, history_days=14, chunk_days=7)
    assert [b["interval"] for b in bodies] == [
        "2026-05-28T04:00:00.000Z/2026-06-04T04:00:00.000Z",
        "2026-06-04T04:00:00.000Z/2026-06-11T04:00:00.000Z",
    ]
    for body in bodies:
        assert body["granularity"] == "PT1H"
        assert body["timeZone"] == "America/New_York"
        assert body["metrics"] == ["nOutboundAttempted", "nOutboundConnected"]
        assert body["groupBy"] == ["outboundCampaignId"]
        predicates = body["filter"]["clauses"][0]["predicates"]
        assert predicates == [{"type": "dimension", "dimension": "outboundCampaignId", "operator": "matches", "value": "c1"}]
    # Day chunks: 14 bodies that tile the span exactly.
    daily = history.history_queries(["c1"], window, history_days=14, chunk_days=1)
    assert len(daily) == 14
    assert all(a["interval"].split("/")[1] == b["interval"].split("/")[0] for a, b in zip(daily, daily[1:], strict=False))


def _bucket(start: str, attempted: int | None, connected: int | None) -> dict:
    metrics = []
    if attempted is not None:
        metrics.append({"metric": "nOutboundAttempted", "stats": {"count": attempted}})
    if connected is not None:
        metrics.append({"metric": "nOutboundConnected", "stats": {"count": connected}})
    end = (datetime.fromisoformat(start.replace("Z", "+00:00")) + timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%S.000Z")
    return {"interval": f"{start}/{end}", "metrics": metrics}


def test_hourly_counts_sum_chunks_and_read_missing_metric_as_zero() -> None:
    first = {"results": [{"group": {"outboundCampaignId": "c1"}, "data": [
        _bucket("2026-06-10T08:00:00.000Z", 10, 4), _bucket("2026-06-10T09:00:00.000Z", 5, None)]}]}
    second = {"results": [{"group": {"outboundCampaignId": "c1"}, "data": [_bucket("2026-06-10T10:00:00.000Z", 8, 8)]},
                          {"group": {"outboundCampaignId": "c2"}, "data": [_bucket("2026-06-10T10:00:00.000Z", 3, 1)]}]}
    counts = history.hourly_counts([first, second, {}])
    c1 = counts["c1"]
    assert c1[datetime(2026, 6, 10, 8, tzinfo=UTC)] == (10, 4)
    assert c1[datetime(2026, 6, 10, 9, tzinfo=UTC)] == (5, 0)
    assert c1[datetime(2026, 6, 10, 10, tzinfo=UTC)] == (8, 8)
    assert counts["c2"] == {datetime(2026, 6, 10, 10, tzinfo=UTC): (3, 1)}
    assert history.records_to_counts(history.counts_to_records(c1)) == c1


def test_grid_reindexes_missing_hours_without_dividing_by_zero() -> None:
    span = Window(datetime(2026, 6, 9, tzinfo=UTC), datetime(2026, 6, 11, tzinfo=UTC))
    counts = {
        datetime(2026, 6, 9, 9, tzinfo=UTC): (10, 3),
        datetime(2026, 6, 10, 9, tzinfo=UTC): (30, 15),
        datetime(2026, 6, 10, 10, tzinfo=UTC): (20, 4),
        datetime(2026, 6, 10, 11, tzinfo=UTC): (0, 0),  # an explicit zero bucket is still "no attempts"
    }
    grid = history.hourly_grid(counts, span)
    assert len(grid) == 48 and grid.index[0].hour == 0 and grid.index[-1] == span.end - timedelta(hours=1)
    assert int(grid["attempted"].sum()) == 60 and int(grid["connected"].sum()) == 22
    at = grid.loc[datetime(2026, 6, 10, 10, tzinfo=UTC)]
    assert at["rate"] == pytest.approx(0.2) and not at["filled"]
    # Missing hour: 0 attempts, undefined rate (NaN, not 0), flagged.
    missing = grid.loc[datetime(2026, 6, 9, 10, tzinfo=UTC)]
    assert missing["attempted"] == 0 and math.isnan(missing["rate"]) and missing["filled"]
    # Filled from the pooled rate of the same hour of day: (3+15)/(10+30) at 09:00, 4/20 at 10:00 ...
    assert missing["rate_filled"] == pytest.approx(0.2)
    assert grid.loc[datetime(2026, 6, 9, 9, tzinfo=UTC), "rate_filled"] == pytest.approx(0.3)  # observed: kept
    # ... and hours never dialed get the pooled overall rate 22/60.
    assert grid.loc[datetime(2026, 6, 9, 3, tzinfo=UTC), "rate_filled"] == pytest.approx(22 / 60)
    assert history.usable_hours(grid) == 3
    assert not grid["rate_filled"].isna().any()


def test_grid_of_nothing_is_all_filled_and_nan() -> None:
    span = Window(datetime(2026, 6, 10, tzinfo=UTC), datetime(2026, 6, 11, tzinfo=UTC))
    grid = history.hourly_grid({}, span)
    assert grid["filled"].all() and grid["rate"].isna().all() and history.usable_hours(grid) == 0
