from __future__ import annotations

import pytest
from conversation_report_data import Q_SALES, Q_SUPPORT

from genesys_pipelines.conversation_report.params import validate_params
from genesys_pipelines.conversation_report.query import build_async_query, build_query
from genesys_pipelines.errors import InvalidParam

INTERVAL = "2026-06-10T00:00:00.000Z/2026-06-11T00:00:00.000Z"


def test_defaults() -> None:
    p = validate_params({})
    assert p.group_by == ("mediaType", "queueId")
    assert p.formats == ("csv", "json", "parquet")
    assert (p.url_expiry_hours, p.mode, p.media_type, p.queue_ids) == (24, "auto", None, ())


@pytest.mark.parametrize(
    ("raw", "param"),
    [
        ({"media_type": "fax"}, "media_type"),
        ({"queue_ids": ["sales"]}, "queue_ids"),
        ({"group_by": ["mediaType", "skill"]}, "group_by"),
        ({"group_by": []}, "group_by"),
        ({"formats": ["xlsx"]}, "formats"),
        ({"url_expiry_hours": 0}, "url_expiry_hours"),
        ({"url_expiry_hours": 24 * 8}, "url_expiry_hours"),
        ({"mode": "fast"}, "mode"),
        ({"timezone": "Mars/Olympus"}, "timezone"),
        ({"start": "yesterday", "end": "2026-06-11"}, "start"),
        ({"start": "2026-06-10"}, "start and end"),
        ({"filters": {"color": ["red"]}}, "filters"),
        ({"filters": {"wrapUpCode": []}}, "filters"),
    ],
)
def test_invalid_params_name_the_field(raw: dict, param: str) -> None:
    with pytest.raises(InvalidParam) as info:
        validate_params(raw)
    assert info.value.param == param
    assert str(info.value).startswith(f"{param}:")


def test_queue_ids_are_a_set() -> None:
    assert validate_params({"queue_ids": [Q_SUPPORT, Q_SALES, Q_SALES]}).queue_ids == (Q_SALES, Q_SUPPORT)


def test_query_in_is_an_or_clause_of_matches_under_and() -> None:
    p = validate_params({"media_type": "voice", "queue_ids": [Q_SUPPORT, Q_SALES]})
    body = build_query(p, INTERVAL).to_api()
    assert body == {
        "interval": INTERVAL,
        "order": "asc",
        "orderBy": "conversationStart",
        "paging": {"pageSize": 100, "pageNumber": 1},
        "conversationFilters": [
            {"type": "and", "predicates": [{"dimension": "conversationEnd", "operator": "exists"}]}
        ],
        "segmentFilters": [
            {
                "type": "and",
                "predicates": [{"dimension": "mediaType", "value": "voice"}],
                "clauses": [{"type": "or", "predicates": [
                    {"dimension": "queueId", "value": Q_SALES},
                    {"dimension": "queueId", "value": Q_SUPPORT},
                ]}],
            }
        ],
    }


def test_query_without_filters_has_no_segment_filters_and_extra_filters_are_added() -> None:
    assert "segmentFilters" not in build_query(validate_params({}), INTERVAL).to_api()
    p = validate_params({"filters": {"wrapUpCode": ["W1"], "direction": ["outbound", "inbound"]}})
    [seg] = build_query(p, INTERVAL).to_api()["segmentFilters"]
    assert seg["predicates"] == [{"dimension": "wrapUpCode", "value": "W1"}]
    assert seg["clauses"] == [{"type": "or", "predicates": [
        {"dimension": "direction", "value": "inbound"}, {"dimension": "direction", "value": "outbound"}]}]


def test_async_query_has_same_filters_and_no_paging() -> None:
    p = validate_params({"media_type": "chat", "queue_ids": [Q_SALES]})
    sync, job = build_query(p, INTERVAL).to_api(), build_async_query(p, INTERVAL).to_api()
    assert "paging" not in job
    assert {k: v for k, v in sync.items() if k != "paging"} == job
