"""Request building and validation for reporting exports: every bad field fails before submission, named."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from genesys_pipelines.errors import InvalidParam
from genesys_pipelines.models.exports import ReportingExportJobRequest
from genesys_pipelines.reporting_export.config import load_config
from genesys_pipelines.reporting_export.params import ExportSpec, validate_params
from genesys_pipelines.reporting_export.request import (
    RequestValidationError,
    build_request,
    check_against_metadata,
    check_filter,
    iso_duration,
    parse_period,
    validate_request,
)
from genesys_pipelines.windows import Window

PIPE = "genesys_reporting_export"
DAY = Window(datetime(2026, 6, 10, tzinfo=timezone.utc), datetime(2026, 6, 11, tzinfo=timezone.utc))
CONFIG = load_config()


def build(spec: dict, window: Window = DAY, tz: str = "UTC") -> dict:
    return build_request(ExportSpec(**spec), interval=window.interval(), time_zone=tz, pipeline=PIPE, config=CONFIG)


def fields_of(exc: pytest.ExceptionInfo) -> list[str]:
    return [f for f, _ in exc.value.problems]


def test_built_body_is_a_valid_sdk_request_with_window_interval() -> None:
    body = build({"view_type": "QUEUE_PERFORMANCE_SUMMARY_VIEW", "filter": {"queueIds": ["q2", "q1"]}})
    request = ReportingExportJobRequest.model_validate(body)
    assert request.interval == "2026-06-10T00:00:00.000Z/2026-06-11T00:00:00.000Z"
    assert request.export_format == "CSV" and request.period == "P1D" and request.time_zone == "UTC"
    assert body["filter"] == {"queueIds": ["q1", "q2"]}  # sorted: a stable name for the same set
    assert validate_request(body, CONFIG) == []


def test_export_name_is_deterministic_and_depends_on_view_window_and_content() -> None:
    spec = {"view_type": "QUEUE_PERFORMANCE_SUMMARY_VIEW", "filter": {"queueIds": ["a", "b"]}}
    first, again = build(spec), build({**spec, "filter": {"queueIds": ["b", "a"]}})
    assert first["name"] == again["name"]
    assert first["name"].startswith(f"{PIPE}.QUEUE_PERFORMANCE_SUMMARY_VIEW.20260610T000000Z_20260611T000000Z.")
    other_day = Window(DAY.start + timedelta(days=1), DAY.end + timedelta(days=1))
    assert build(spec, other_day)["name"] != first["name"]
    assert build({**spec, "filter": {"queueIds": ["a"]}})["name"] != first["name"]
    assert build({**spec, "view_type": "AGENT_PERFORMANCE_SUMMARY_VIEW"})["name"] != first["name"]


def test_short_window_caps_the_default_period() -> None:
    window = Window(DAY.start, DAY.start + timedelta(hours=6))
    assert build({"view_type": "QUEUE_PERFORMANCE_SUMMARY_VIEW"}, window)["period"] == "PT6H"


@pytest.mark.parametrize(
    ("spec", "field"),
    [
        ({"view_type": "QUEUE_PERFORMANCE_SUMMARY_VIEW", "filter": {"queueIdz": ["q"]}}, "exports[0].filter.queueIdz"),
        ({"view_type": "QUEUE_PERFORMANCE_SUMMARY_VIEW", "filter": {"mediaTypes": ["fax"]}}, "exports[0].filter.mediaTypes.0"),
        ({"view_type": "QUEUE_PERFORMANCE_SUMMARY_VIEW", "filter": {"queueIds": "q1"}}, "exports[0].filter.queueIds"),
        ({"view_type": "QUEUE_PERFORMANCE_SUMMARY_VIEW", "filter": {"isCampaign": "yes"}}, "exports[0].filter.isCampaign"),
        ({"view_type": "QUEUE_PERFORMANCE_SUMMARY_VIEW", "filter": {"durationsMilliseconds": [{"eq": 1}]}}, "exports[0].filter.durationsMilliseconds"),
        ({"view_type": "QUEUE_PERFORMANCE_SUMMARY_VIEW", "period": "P1M"}, "exports[0].period"),
        ({"view_type": "QUEUE_PERFORMANCE_SUMMARY_VIEW", "period": "1 day"}, "exports[0].period"),
        ({"view_type": "QUEUE_PERFORMANCE_SUMMARY_VIEW", "period": "P2D"}, "exports[0].period"),
        ({"view_type": "INTERACTION_SEARCH_VIEW"}, "exports[0].viewType"),  # real, but no mapping configured
    ],
)
def test_bad_requests_fail_naming_the_field(spec: dict, field: str) -> None:
    with pytest.raises(RequestValidationError) as exc:
        build(spec)
    assert field in fields_of(exc), exc.value.problems


def test_unknown_filter_key_suggests_the_real_one() -> None:
    with pytest.raises(RequestValidationError, match="did you mean queueIds"):
        build({"view_type": "QUEUE_PERFORMANCE_SUMMARY_VIEW", "filter": {"queueID": ["q"]}})


def test_snake_case_filter_keys_are_accepted_as_their_json_names() -> None:
    clean, problems = check_filter({"outbound_campaign_ids": ["c1"], "is_campaign": True}, "filter")
    assert problems == [] and clean == {"isCampaign": True, "outboundCampaignIds": ["c1"]}


def test_non_iana_time_zone_and_pdf_format_rejected() -> None:
    body = build({"view_type": "QUEUE_PERFORMANCE_SUMMARY_VIEW"})
    problems = dict(validate_request({**body, "timeZone": "CEST", "exportFormat": "PDF"}, CONFIG))
    assert "timeZone" in problems and "exportFormat" in problems
    assert validate_request({**body, "timeZone": "Europe/Berlin"}, CONFIG) == []


def test_missing_required_fields_are_named() -> None:
    body = build({"view_type": "QUEUE_PERFORMANCE_SUMMARY_VIEW"})
    del body["locale"], body["interval"]
    fields = [f for f, _ in validate_request(body, CONFIG)]
    assert "locale" in fields and "interval" in fields


def test_our_complexity_limits_are_enforced_by_name() -> None:
    many = [f"q{i}" for i in range(CONFIG.limits.max_filter_values_per_key + 1)]
    with pytest.raises(RequestValidationError, match="max_filter_values_per_key"):
        build({"view_type": "QUEUE_PERFORMANCE_SUMMARY_VIEW", "filter": {"queueIds": many}})
    long_window = Window(DAY.start, DAY.start + timedelta(days=CONFIG.limits.max_interval_days + 1))
    with pytest.raises(RequestValidationError, match="max_interval_days"):
        build({"view_type": "QUEUE_PERFORMANCE_SUMMARY_VIEW"}, long_window)


METADATA = [
    {
        "id": "m1", "viewType": "QUEUE_PERFORMANCE_SUMMARY_VIEW", "dateLimitations": "P7D",
        "requiredFilters": ["mediaTypes"], "supportedFilters": ["mediaTypes", "queueIds"],
        "requiredColumnIds": ["Queue ID"], "availableColumnIds": ["Queue ID", "Offered", "Handled"],
    },
    {"id": "m2", "viewType": "AGENT_PERFORMANCE_SUMMARY_VIEW", "dateLimitations": "last 31 days"},
]


def test_metadata_required_and_supported_filters_and_date_limits() -> None:
    ok = build({"view_type": "QUEUE_PERFORMANCE_SUMMARY_VIEW", "filter": {"mediaTypes": ["voice"]}})
    assert check_against_metadata(ok, METADATA) == ([], [])

    no_media = build({"view_type": "QUEUE_PERFORMANCE_SUMMARY_VIEW", "filter": {"userIds": ["u"]}})
    problems, _ = check_against_metadata(no_media, METADATA)
    assert {f for f, _ in problems} == {"filter.mediaTypes", "filter.userIds"}

    eight_days = Window(DAY.start, DAY.start + timedelta(days=8))
    long = build({"view_type": "QUEUE_PERFORMANCE_SUMMARY_VIEW", "filter": {"mediaTypes": ["voice"]}}, eight_days)
    assert [f for f, _ in check_against_metadata(long, METADATA)[0]] == ["interval"]


def test_metadata_columns_unlisted_view_and_unparseable_date_limit() -> None:
    cols = build({"view_type": "QUEUE_PERFORMANCE_SUMMARY_VIEW", "filter": {"mediaTypes": ["voice"]},
                  "selected_columns": ["Offered", "Nope"]})
    messages = " ".join(m for _, m in check_against_metadata(cols, METADATA)[0])
    assert "'Nope' is not an available column" in messages and "'Queue ID' is required" in messages

    problems, notes = check_against_metadata(build({"view_type": "AGENT_PERFORMANCE_SUMMARY_VIEW"}), METADATA)
    assert problems == [] and "not enforced" in notes[0]
    unlisted = build({"view_type": "CAMPAIGN_PERFORMANCE_SUMMARY_VIEW"})
    assert [f for f, _ in check_against_metadata(unlisted, METADATA)[0]] == ["viewType"]


def test_date_limitations_with_years_and_months_bound_generously() -> None:
    year_meta = [{"viewType": "QUEUE_PERFORMANCE_SUMMARY_VIEW", "dateLimitations": "P1Y"}]
    leap_year = Window(datetime(2024, 1, 1, tzinfo=timezone.utc), datetime(2024, 12, 31, tzinfo=timezone.utc))
    config = CONFIG.model_copy(update={"limits": CONFIG.limits.model_copy(update={"max_interval_days": 400})})
    body = build_request(ExportSpec(view_type="QUEUE_PERFORMANCE_SUMMARY_VIEW"), interval=leap_year.interval(),
                         time_zone="UTC", pipeline=PIPE, config=config)
    assert check_against_metadata(body, year_meta) == ([], [])
    month_meta = [{"viewType": "QUEUE_PERFORMANCE_SUMMARY_VIEW", "dateLimitations": "P1M"}]
    assert [f for f, _ in check_against_metadata(body, month_meta)[0]] == ["interval"]


def test_iso_duration_round_trip() -> None:
    for text in ("P1D", "PT6H", "PT1H30M", "P2DT3H"):
        assert iso_duration(parse_period(text)) == text


def test_params_defaults_and_errors_name_the_param() -> None:
    params = validate_params({})
    assert [e.view_type for e in params.exports] == ["CAMPAIGN_PERFORMANCE_SUMMARY_VIEW", "QUEUE_PERFORMANCE_SUMMARY_VIEW"]
    with pytest.raises(InvalidParam) as exc:
        validate_params({"exports": [{"view_type": "QUEUE_PERFORMANCE_SUMMARY_VIEW"}, {"view_type": "QUEUE_PERF"}]})
    assert exc.value.param == "exports[1].view_type" and "did you mean QUEUE_PERFORMANCE_" in str(exc.value)
    with pytest.raises(InvalidParam, match="did you mean QUEUE_PERFORMANCE_SUMMARY_VIEW"):
        validate_params({"exports": [{"view_type": "QUEUE_PERFORMNCE_SUMMARY_VIEW"}]})
    with pytest.raises(InvalidParam) as exc:
        validate_params({"max_dropped_share": 1.5})
    assert exc.value.param == "max_dropped_share"
    with pytest.raises(InvalidParam) as exc:
        validate_params({"exports": []})
    assert exc.value.param == "exports"


def test_view_filter_keys_match_the_official_sdk() -> None:
    """The table the pipeline validates filters with is exactly the SDK 269.0.0 ViewFilter."""
    from PureCloudPlatformClientV2.models.view_filter import ViewFilter

    from genesys_pipelines.reporting_export.view_filter_keys import VIEW_FILTER_KEYS

    assert set(VIEW_FILTER_KEYS) == set(ViewFilter().attribute_map.values())


def test_unknown_param_is_refused_by_name() -> None:
    with pytest.raises(InvalidParam, match=r"^exportz: Extra inputs are not permitted") as exc:
        validate_params({"exportz": []})
    assert exc.value.param == "exportz"
