"""Every request body the pipelines build, held against the official SDK's request model
(PureCloudPlatformClientV2 269.0.0): a key, a JSON type or an enum value the SDK does not know fails.

The sandbox's answers are held against the SDK's response models elsewhere (``assert_sdk_compatible`` in
the sandbox tests); this is the other direction, on the pure builders in ``include/genesys_pipelines``.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from sdk_check import sdk_problems

from genesys_pipelines.campaign_stats import queries as stats_queries
from genesys_pipelines.conversation_report.params import validate_params as report_params
from genesys_pipelines.conversation_report.query import build_async_query, build_query
from genesys_pipelines.pacing_forecast.history import hourly_query
from genesys_pipelines.reporting_export.config import load_config
from genesys_pipelines.reporting_export.params import validate_params as export_params
from genesys_pipelines.reporting_export.request import build_request
from genesys_pipelines.windows import Window

DAY = Window(datetime(2026, 5, 13, tzinfo=UTC), datetime(2026, 5, 14, tzinfo=UTC))
CAMPAIGNS = ["c0ffee00-0000-4000-8000-000000000001", "c0ffee00-0000-4000-8000-000000000002"]
QUEUE = "c0ffee00-0000-4000-8000-0000000000a1"


def report_bodies() -> list[tuple[str, dict[str, Any]]]:
    params = report_params({"media_type": "voice", "queue_ids": [QUEUE], "group_by": ["queueId"]})
    plain = report_params({})
    return [
        ("ConversationQuery", build_query(params, DAY.interval()).to_api()),
        ("ConversationQuery", build_query(plain, DAY.interval()).to_api()),
        ("AsyncConversationQuery", build_async_query(params, DAY.interval()).to_api()),
    ]


def aggregate_bodies() -> list[tuple[str, dict[str, Any]]]:
    return [
        ("ConversationAggregationQuery", stats_queries.window_totals_query(CAMPAIGNS, DAY)),
        ("ConversationAggregationQuery", stats_queries.wrapup_query(CAMPAIGNS, DAY)),
        ("ConversationAggregationQuery", stats_queries.history_query(CAMPAIGNS, DAY)),
        ("ConversationAggregationQuery", hourly_query(CAMPAIGNS, DAY)),
    ]


def export_bodies() -> list[tuple[str, dict[str, Any]]]:
    config = load_config()
    params = export_params({})  # the default exports (campaign and queue performance summaries)
    specs = list(params.exports) + list(export_params({"exports": [
        {"view_type": "AGENT_PERFORMANCE_SUMMARY_VIEW", "filter": {"mediaTypes": ["voice"], "queueIds": [QUEUE],
                                                            "directions": ["outbound"]}},
    ]}).exports)
    return [("ReportingExportJobRequest", build_request(spec, interval=DAY.interval(), time_zone="UTC",
                                                       pipeline="genesys_reporting_export", config=config))
            for spec in specs]


@pytest.mark.parametrize(("model", "body"), report_bodies() + aggregate_bodies() + export_bodies())
def test_the_body_fits_the_sdk_request_model(model: str, body: dict[str, Any]) -> None:
    assert sdk_problems(body, model) == []


def test_the_check_catches_what_the_sdk_does_not_know() -> None:
    """The check is not vacuous: an invented key, a wrong type and an unknown enum value all fail."""
    [(_, body), *_] = aggregate_bodies()
    assert sdk_problems({**body, "timeRange": "P1D"}, "ConversationAggregationQuery")
    assert sdk_problems({**body, "metrics": "nOutboundAttempted"}, "ConversationAggregationQuery")
    assert sdk_problems({**body, "alternateTimeDimension": "startTime"}, "ConversationAggregationQuery")
    [(_, export), *_] = export_bodies()
    assert sdk_problems({**export, "filter": {**export["filter"], "campaignIds": CAMPAIGNS}},
                        "ReportingExportJobRequest")
