"""Capacity reading, param validation and deterministic outputs."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from genesys_pipelines.errors import InvalidParam
from genesys_pipelines.pacing_forecast import capacity as cap
from genesys_pipelines.pacing_forecast import output as out
from genesys_pipelines.pacing_forecast.params import parse_params

HOURS = [f"2026-06-11T{h:02d}:00:00+00:00" for h in range(24)]


def test_planning_group_is_found_by_queue() -> None:
    groups = [
        {"id": "pg2", "name": "B", "routePaths": [{"queue": {"id": "q2"}, "mediaType": "Voice"}]},
        {"id": "pg1", "name": "A", "routePaths": [{"queue": {"id": "q1"}, "mediaType": "Voice"},
                                                  {"queue": {"id": "q3"}, "mediaType": "Voice"}]},
    ]
    assert cap.planning_group_for_queue(groups, "q3") == {"id": "pg1", "name": "A"}
    assert cap.planning_group_for_queue(groups, "q9") is None
    assert cap.planning_group_for_queue(groups, None) is None


def test_business_unit_dates_use_the_units_zone() -> None:
    # 00:00-23:00 UTC on 11 June is 20:00 on the 10th to 19:00 on the 11th in New York.
    assert cap.business_unit_dates(HOURS, "America/New_York") == [date(2026, 6, 10), date(2026, 6, 11)]
    assert cap.business_unit_dates(HOURS, "UTC") == [date(2026, 6, 11)]
    assert cap.business_unit_zone({"id": "bu", "settings": {"timeZone": "Europe/Paris"}}) == "Europe/Paris"
    from genesys_cloud.hooks.wfm import WfmVerbs

    class Recorder(WfmVerbs):
        def query(self, path: str, body: dict) -> dict:
            self.sent = (path, body)
            return {"status": "Processing"}

    recorder = Recorder()
    recorder.intraday("bu", date(2026, 6, 10), "pg1", cap.INTERVAL_MINUTES)
    assert recorder.sent == ("/api/v2/workforcemanagement/businessunits/bu/intraday", {
        "businessUnitDate": "2026-06-10", "categories": ["ScheduleData"], "planningGroupIds": ["pg1"],
        "intervalLengthMinutes": 60})


def _intraday(start: str, length: int, seconds: list[int], status: str = "Complete") -> dict:
    return {"status": status, "operationId": "op", "result": {
        "startDate": start, "intervalLengthMinutes": length,
        "intradayDataGroupings": [{"mediaType": "Voice",
                                   "scheduleDataPerInterval": [{"onQueueTimeSeconds": s} for s in seconds]}]}}


def test_agents_are_on_queue_seconds_over_interval_seconds() -> None:
    intervals = cap.agents_per_interval(_intraday("2026-06-11T04:00:00.000Z", 30, [1800, 5400, 3600]))
    assert intervals == {datetime(2026, 6, 11, 4, 0, tzinfo=UTC): 1.0, datetime(2026, 6, 11, 4, 30, tzinfo=UTC): 3.0,
                         datetime(2026, 6, 11, 5, 0, tzinfo=UTC): 2.0}
    hourly = cap.hourly_agents(intervals, HOURS)
    assert hourly[4] == 2.0 and hourly[5] == 2.0 and hourly[3] is None
    assert cap.agents_per_interval({"status": "Processing", "operationId": "op"}) == {}
    found = cap.capacity_from_wfm(HOURS, [_intraday("2026-06-11T04:00:00.000Z", 60, [7200] * 24)], {"id": "pg"}, "UTC")
    assert found["source"] == cap.SOURCE_WFM and found["agents"][:4] == [0.0] * 4 and found["agents"][4] == 2.0
    assert cap.capacity_from_wfm(HOURS, [{"status": "Processing"}], {"id": "pg"}, "UTC") is None


def test_idle_agent_fallback_records_its_source() -> None:
    fallback = cap.capacity_from_idle_agents(HOURS, {"idleAgents": 4}, "queue q is in no planning group")
    assert fallback["source"] == cap.SOURCE_IDLE and fallback["agents"] == [4.0] * 24
    assert "no planning group" in fallback["reason"]
    assert cap.capacity_from_idle_agents(HOURS, {}, "x")["source"] == cap.SOURCE_NONE


@pytest.mark.parametrize(
    ("raw", "param"),
    [
        ({"campaign_ids": ["nope"]}, "campaign_ids"),
        ({"history_days": 2}, "history_days"),
        ({"abandon_rate_target": 0.03}, "abandon_rate_target"),
        ({"timezone": "Mars/Base"}, "timezone"),
        ({"max_calls_per_agent_min": 3, "max_calls_per_agent_max": 2}, "max_calls_per_agent_max"),
    ],
)
def test_bad_params_fail_by_name(raw: dict, param: str) -> None:
    with pytest.raises(InvalidParam) as info:
        parse_params(raw)
    assert info.value.param == param and str(info.value).startswith(f"{param}:")


def test_params_defaults_and_canonical_ids() -> None:
    params = parse_params({"campaign_ids": ["C0FFEE00-0000-4000-8000-000000000002", "c0ffee00-0000-4000-8000-000000000001"]})
    assert params.campaign_ids == ["c0ffee00-0000-4000-8000-000000000001", "c0ffee00-0000-4000-8000-000000000002"]
    assert (params.history_days, params.abandon_rate_target, params.max_relative_step, params.apply) == (14, 3.0, 0.2, False)


def test_csv_is_sorted_and_deterministic() -> None:
    def result(cid: str) -> dict:
        return {"campaign_id": cid, "forecast": {"hours": HOURS[:2], "mean": [0.4, 0.5], "lower": [0.3, 0.4],
                                                 "upper": [0.5, 0.6]},
                "typical_attempts": [0.0, 10.0], "capacity": {"source": "live_idle_agents", "agents": [3.0, 3.0]}}
    skipped = {"campaign_id": "a", "status": "skipped"}
    first, rows = out.forecast_csv([result("b"), skipped, result("a")])
    second, _ = out.forecast_csv([result("a"), result("b")])
    assert first == second and rows == 4
    lines = first.decode().splitlines()
    assert lines[0].split(",")[0] == "campaign_id" and lines[1].startswith("a,2026-06-11T00:00:00+00:00,0.400000")


def test_chart_is_a_png_and_byte_stable() -> None:
    import pandas as pd

    from genesys_pipelines.pacing_forecast.history import hourly_grid
    from genesys_pipelines.windows import Window

    span = Window(datetime(2026, 6, 4, tzinfo=UTC), datetime(2026, 6, 11, tzinfo=UTC))
    grid = hourly_grid({datetime(2026, 6, 10, 9, tzinfo=UTC): (10, 4)}, span)
    fc = {"hours": HOURS, "mean": [0.4] * 24, "lower": [0.3] * 24, "upper": [0.5] * 24, "level": 0.9}
    one = out.chart_png("t", grid, fc, [3.0] * 24, "live_idle_agents")
    two = out.chart_png("t", grid, fc, [3.0] * 24, "live_idle_agents")
    assert one[:8] == b"\x89PNG\r\n\x1a\n" and one == two
    assert isinstance(pd.Timestamp(HOURS[0]), pd.Timestamp)
