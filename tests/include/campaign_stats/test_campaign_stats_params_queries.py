"""Params validation (named errors) and the aggregates query bodies (valid against the API models)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from genesys_pipelines.campaign_stats.params import parse_params
from genesys_pipelines.campaign_stats.queries import batches, history_query, window_totals_query, wrapup_query
from genesys_pipelines.errors import InvalidParam
from genesys_pipelines.models.analytics import ConversationAggregationQuery
from genesys_pipelines.models.common import strict_validate
from genesys_pipelines.windows import Window

A = "c0ffee00-0000-4000-8000-000000000001"
B = "c0ffee00-0000-4000-8000-000000000002"


def test_defaults_and_canonical_ids() -> None:
    params = parse_params({"campaign_ids": [B.upper(), A, A]})
    assert params.campaign_ids == [A, B]
    assert params.zscore_threshold == 3.0 and params.deliver_webhook and not params.fail_on_flags


@pytest.mark.parametrize(
    ("raw", "param"),
    [
        ({"campaign_ids": ["not-a-uuid"]}, "campaign_ids"),
        ({"success_wrapup_codes": ["x"]}, "success_wrapup_codes"),
        ({"division_ids": [""]}, "division_ids"),
        ({"zscore_threshold": 0}, "zscore_threshold"),
        ({"status_filter": ["running"]}, "status_filter"),
        ({"timezone": "Mars/Olympus"}, "timezone"),
    ],
)
def test_bad_params_name_the_param(raw: dict, param: str) -> None:
    with pytest.raises(InvalidParam) as info:
        parse_params(raw)
    assert info.value.param == param
    assert str(info.value).startswith(f"{param}: ")


def test_query_bodies() -> None:
    window = Window(datetime(2026, 6, 10, tzinfo=UTC), datetime(2026, 6, 11, tzinfo=UTC), "UTC", "params")
    totals = window_totals_query([B, A], window)
    strict_validate(ConversationAggregationQuery, totals)
    assert totals["interval"] == "2026-06-10T00:00:00.000Z/2026-06-11T00:00:00.000Z"
    assert "granularity" not in totals
    ids = [p["value"] for p in totals["filter"]["clauses"][0]["predicates"]]
    assert ids == [A, B]
    assert {"nOutboundAttempted", "tHandle", "tAcw", "tHeld"} <= set(totals["metrics"])
    assert wrapup_query([A], window)["groupBy"] == ["outboundCampaignId", "wrapUpCode"]
    history = history_query([A], window)
    strict_validate(ConversationAggregationQuery, history)
    assert history["granularity"] == "P1D"
    assert history["interval"] == "2026-05-13T00:00:00.000Z/2026-06-10T00:00:00.000Z"


def test_history_follows_local_days() -> None:
    from zoneinfo import ZoneInfo

    ny = ZoneInfo("America/New_York")
    window = Window(datetime(2026, 3, 9, tzinfo=ny), datetime(2026, 3, 10, tzinfo=ny), "America/New_York")
    # 28 local days back crosses the DST change on 2026-03-08: the start is still local midnight.
    assert history_query([A], window)["interval"].startswith("2026-02-09T05:00:00.000Z/2026-03-09T04:00:00.000Z")


def test_batches() -> None:
    assert batches(list(range(5)), 2) == [[0, 1], [2, 3], [4]]
    assert batches([], 3) == []


def test_unknown_param_is_refused_by_name() -> None:
    with pytest.raises(InvalidParam, match=r"^campagin_ids: unknown param") as exc:
        parse_params({"campagin_ids": ["c0ffee00-0000-4000-8000-000000000001"]})
    assert exc.value.param == "campagin_ids"


def test_every_aggregates_query_attributes_by_event_time() -> None:
    """Day totals and the history count each metric in the day its event happened (issue 18)."""
    from genesys_pipelines.campaign_stats import queries
    from genesys_pipelines.pacing_forecast.history import hourly_query
    from genesys_pipelines.windows import Window

    day = Window(datetime(2026, 5, 13, tzinfo=UTC), datetime(2026, 5, 14, tzinfo=UTC))
    bodies = [queries.window_totals_query(["c1"], day), queries.wrapup_query(["c1"], day),
              queries.history_query(["c1"], day), hourly_query(["c1"], day)]
    assert [b.get("alternateTimeDimension") for b in bodies] == ["eventTime"] * 4
