"""Paginators of GenesysCloudHook: page-number listings, details body paging, job cursors (sync + async)."""

from __future__ import annotations

import asyncio
import json
import threading
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
import respx

from genesys_cloud.exceptions import GenesysCeilingError, GenesysPayloadError
from genesys_cloud.hooks import pagination, ratelimit
from genesys_cloud.hooks.auth import TOKENS
from genesys_cloud.hooks.genesys_cloud import GenesysCloudHook
from genesys_cloud.hooks.pagination import BoundedDedupe, format_instant, post_filter_interval

API = "https://api.pagetest.local"
CONN_ID = "genesys_pagetest"
DETAILS = "/api/v2/analytics/conversations/details/query"
CAMPAIGNS = "/api/v2/outbound/campaigns"


@pytest.fixture(autouse=True)
def _isolated(monkeypatch: pytest.MonkeyPatch):
    TOKENS.clear()
    ratelimit.reset_limiters()
    monkeypatch.setenv("GENESYS_RETRY_BACKOFF_BASE", "0.001")
    extra = {"api_base_url": API, "requests_per_minute": 600000, "sandbox": True}
    conn = {"conn_type": "genesys_cloud", "login": "client-p", "password": "secret-p", "extra": extra}
    monkeypatch.setenv(f"AIRFLOW_CONN_{CONN_ID.upper()}", json.dumps(conn))
    yield
    TOKENS.clear()
    ratelimit.reset_limiters()


@pytest.fixture
def router():
    # assert_all_called off: only the details tests read the limits route below.
    with respx.mock(assert_all_called=False) as mock:
        # api_base_url without "api." prefix swap target: the login base URL defaults to the API base URL
        mock.post("https://login.pagetest.local/oauth/token").mock(
            return_value=httpx.Response(200, json={"access_token": "tok", "expires_in": 86400})
        )
        # The details pager reads the analytics interval limits once; unpublished: documented defaults.
        mock.get(f"{API}/api/v2/organizations/limits/namespaces/analytics").mock(
            return_value=httpx.Response(200, json={"entities": []})
        )
        yield mock


def hook() -> GenesysCloudHook:
    return GenesysCloudHook(genesys_cloud_conn_id=CONN_ID)


def collect_async(agen_factory) -> list[Any]:
    async def run() -> list[Any]:
        return [item async for item in agen_factory()]

    return asyncio.run(run())


# ---------------------------------------------------------------- page-number listings
def listing_server(
    total: int, *, page_count: bool = True, delay: bool = False, in_flight: list[int] | None = None
):
    lock = threading.Lock()
    active = [0]

    def respond(request: httpx.Request) -> httpx.Response:
        size = int(request.url.params["pageSize"])
        page = int(request.url.params["pageNumber"])
        pages = max(1, -(-total // size))
        if in_flight is not None:
            with lock:
                active[0] += 1
                in_flight.append(active[0])
        if delay:  # later pages answer sooner, so completion order differs from page order
            time.sleep(0.002 * (pages - page))
        if in_flight is not None:
            with lock:
                active[0] -= 1
        entities = [{"id": f"e{i}"} for i in range((page - 1) * size, min(total, page * size))]
        body: dict[str, Any] = {"entities": entities, "pageSize": size, "pageNumber": page, "total": total}
        if page_count:
            body["pageCount"] = pages
        elif page < pages:
            body["nextUri"] = f"{CAMPAIGNS}?pageNumber={page + 1}"
        return httpx.Response(200, json=body)

    return respond


@pytest.mark.parametrize(("total", "calls"), [(0, 1), (3, 1), (10, 2), (11, 3)])
def test_paginate_pages_until_page_count(router: respx.MockRouter, total: int, calls: int) -> None:
    route = router.get(f"{API}{CAMPAIGNS}").mock(side_effect=listing_server(total))
    items = list(hook().paginate(CAMPAIGNS, {"name": "x"}, page_size=5))
    assert [e["id"] for e in items] == [f"e{i}" for i in range(total)]
    assert route.call_count == calls
    assert route.calls.last.request.url.params["name"] == "x"


def test_paginate_follows_next_uri_without_page_count(router: respx.MockRouter) -> None:
    route = router.get(f"{API}{CAMPAIGNS}").mock(side_effect=listing_server(12, page_count=False))
    assert len(list(hook().paginate(CAMPAIGNS, page_size=5))) == 12
    assert route.call_count == 3


def test_paginate_is_lazy(router: respx.MockRouter) -> None:
    route = router.get(f"{API}{CAMPAIGNS}").mock(side_effect=listing_server(50))
    iterator = hook().paginate(CAMPAIGNS, page_size=5)
    assert next(iterator)["id"] == "e0"
    assert route.call_count == 1


def test_unpaged_array_yields_once(router: respx.MockRouter) -> None:
    route = router.get(f"{API}/api/v2/outbound/schedules/campaigns").mock(
        return_value=httpx.Response(200, json=[{"id": "s1"}, {"id": "s2"}])
    )
    assert [s["id"] for s in hook().paginate("/api/v2/outbound/schedules/campaigns")] == ["s1", "s2"]
    assert route.call_count == 1


def test_concurrent_paginate_keeps_order_and_bounds_in_flight(router: respx.MockRouter) -> None:
    in_flight: list[int] = []
    route = router.get(f"{API}{CAMPAIGNS}").mock(
        side_effect=listing_server(97, delay=True, in_flight=in_flight)
    )
    items = list(hook().paginate(CAMPAIGNS, page_size=5, concurrency=4))
    assert [e["id"] for e in items] == [f"e{i}" for i in range(97)]
    assert route.call_count == 20
    assert max(in_flight) <= 4


def test_async_concurrent_paginate_keeps_order(router: respx.MockRouter) -> None:
    async def respond(request: httpx.Request) -> httpx.Response:
        page = int(request.url.params["pageNumber"])
        await asyncio.sleep(0.001 * (10 - page))
        return listing_server(48)(request)

    router.get(f"{API}{CAMPAIGNS}").mock(side_effect=respond)
    items = collect_async(lambda: hook().apaginate(CAMPAIGNS, page_size=5, concurrency=6))
    assert [e["id"] for e in items] == [f"e{i}" for i in range(48)]


# ---------------------------------------------------------------- details query
DAY = datetime(2024, 5, 1, tzinfo=UTC)


def conv(i: int, start: datetime) -> dict[str, Any]:
    return {"conversationId": f"c{i:05d}", "conversationStart": format_instant(start)}


def details_server(
    convs: list[dict[str, Any]],
    *,
    bodies: list[dict[str, Any]],
    extra_total: int = 0,
    repeat_last: bool = False,
):
    """Emulates the sync query: conversations *started on any day the interval touches*, sorted asc."""

    def respond(request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content)
        bodies.append(body)
        start, end = pagination.parse_interval(body["interval"])
        first_day = start.replace(hour=0, minute=0, second=0, microsecond=0)
        last_day = (end - timedelta(microseconds=1)).replace(
            hour=0, minute=0, second=0, microsecond=0
        ) + timedelta(days=1)
        matched = [
            c for c in convs if first_day <= pagination.parse_instant(c["conversationStart"]) < last_day
        ]
        size, number = body["paging"]["pageSize"], body["paging"]["pageNumber"]
        page = matched[(number - 1) * size : number * size]
        if repeat_last and number > 1:
            page = [matched[(number - 1) * size - 1], *page]  # a row shifted over the page boundary
        payload: dict[str, Any] = {"totalHits": len(matched) + extra_total}
        if page:
            payload["conversations"] = page
        return httpx.Response(200, json=payload)

    return respond


def interval(start: datetime, end: datetime) -> str:
    return f"{format_instant(start)}/{format_instant(end)}"


@pytest.mark.parametrize(("count", "calls"), [(0, 1), (4, 1), (10, 2), (11, 3)])
def test_details_paging_stops_on_total_hits(router: respx.MockRouter, count: int, calls: int) -> None:
    convs = [conv(i, DAY + timedelta(minutes=i)) for i in range(count)]
    bodies: list[dict[str, Any]] = []
    router.post(f"{API}{DETAILS}").mock(side_effect=details_server(convs, bodies=bodies))
    query = {
        "interval": interval(DAY, DAY + timedelta(days=1)),
        "order": "desc",
        "paging": {"pageSize": 1, "pageNumber": 9},
    }
    rows = list(hook().iter_conversation_details(query, page_size=5))
    assert rows == convs
    assert len(bodies) == calls
    assert all(b["order"] == "asc" and b["orderBy"] == "conversationStart" for b in bodies)
    assert [b["paging"]["pageNumber"] for b in bodies] == list(range(1, calls + 1))
    assert query["order"] == "desc"  # the caller's query is not modified


def test_details_duplicates_across_pages_are_dropped(router: respx.MockRouter) -> None:
    convs = [conv(i, DAY + timedelta(minutes=i)) for i in range(12)]
    bodies: list[dict[str, Any]] = []
    router.post(f"{API}{DETAILS}").mock(side_effect=details_server(convs, bodies=bodies, repeat_last=True))
    rows = list(
        hook().iter_conversation_details({"interval": interval(DAY, DAY + timedelta(days=1))}, page_size=5)
    )
    assert [r["conversationId"] for r in rows] == [c["conversationId"] for c in convs]


def test_dedupe_window_is_bounded() -> None:
    dedupe = BoundedDedupe(pages=2)
    assert len(dedupe.page([{"conversationId": "a"}, {"conversationId": "a"}])) == 1
    assert dedupe.page([{"conversationId": "a"}]) == []  # seen one page ago
    dedupe.page([{"conversationId": "b"}])
    dedupe.page([{"conversationId": "c"}])
    assert dedupe.page([{"conversationId": "a"}]) == [{"conversationId": "a"}]  # forgotten: memory is bounded


def test_details_rows_are_post_filtered_to_the_exact_interval(router: respx.MockRouter) -> None:
    convs = [conv(i, DAY + timedelta(hours=i)) for i in range(24)]
    router.post(f"{API}{DETAILS}").mock(side_effect=details_server(convs, bodies=[]))
    rows = list(
        hook().iter_conversation_details(
            {"interval": interval(DAY + timedelta(hours=6), DAY + timedelta(hours=9))}
        )
    )
    assert [r["conversationId"] for r in rows] == ["c00006", "c00007", "c00008"]


def test_details_over_ceiling_split_by_whole_utc_days(
    router: respx.MockRouter, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(pagination, "DETAILS_CEILING", 10)
    convs = [conv(d * 100 + i, DAY + timedelta(days=d, hours=i * 3)) for d in range(3) for i in range(8)]
    bodies: list[dict[str, Any]] = []
    router.post(f"{API}{DETAILS}").mock(side_effect=details_server(convs, bodies=bodies))
    start, end = DAY + timedelta(hours=4), DAY + timedelta(days=2, hours=10)
    rows = list(hook().iter_conversation_details({"interval": interval(start, end)}, page_size=5))
    expected = [c for c in convs if start <= pagination.parse_instant(c["conversationStart"]) < end]
    assert rows == expected
    split = [b["interval"] for b in bodies[1:] if b["paging"]["pageNumber"] == 1]
    assert split == [
        interval(start, DAY + timedelta(days=1)),
        interval(DAY + timedelta(days=1), DAY + timedelta(days=2)),
        interval(DAY + timedelta(days=2), end),
    ]
    for piece in split:  # every piece lies within one UTC day
        s, e = pagination.parse_interval(piece)
        assert s.date() == (e - timedelta(microseconds=1)).date()


def test_a_day_over_the_ceiling_raises_ceiling_error(
    router: respx.MockRouter, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(pagination, "DETAILS_CEILING", 10)
    convs = [conv(i, DAY + timedelta(minutes=i)) for i in range(11)]
    router.post(f"{API}{DETAILS}").mock(side_effect=details_server(convs, bodies=[]))
    with pytest.raises(GenesysCeilingError) as info:
        list(hook().iter_conversation_details({"interval": interval(DAY, DAY + timedelta(hours=12))}))
    assert info.value.day == "2024-05-01" and info.value.total_hits == 11
    assert "startOfDayIntervalMatching" in str(info.value)


def test_details_sync_and_async_give_the_same_rows(
    router: respx.MockRouter, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(pagination, "DETAILS_CEILING", 10)
    convs = [conv(d * 100 + i, DAY + timedelta(days=d, hours=i * 2)) for d in range(2) for i in range(9)]
    router.post(f"{API}{DETAILS}").mock(side_effect=details_server(convs, bodies=[], repeat_last=True))
    query = {"interval": interval(DAY + timedelta(hours=3), DAY + timedelta(days=1, hours=13))}
    sync_rows = list(hook().iter_conversation_details(query, page_size=4))
    async_rows = collect_async(lambda: hook().aiter_conversation_details(query, page_size=4))
    assert sync_rows == async_rows and len(sync_rows) == 14


def test_post_filter_interval_rejects_rows_without_start() -> None:
    rows = [{"conversationId": "a", "conversationStart": "2024-05-01T10:00:00Z"}, {"conversationId": "b"}]
    filtered = post_filter_interval(rows, "2024-05-01T00:00:00Z/2024-05-02T00:00:00Z")
    assert next(filtered)["conversationId"] == "a"
    with pytest.raises(GenesysPayloadError, match="'b'"):
        next(filtered)


def test_post_filter_interval_end_is_exclusive() -> None:
    rows = [
        {"conversationStart": "2024-05-01T00:00:00.000Z"},
        {"conversationStart": "2024-05-01T23:59:59.999Z"},
        {"conversationStart": "2024-05-02T00:00:00.000Z"},
    ]
    kept = list(post_filter_interval(rows, "2024-05-01T00:00:00Z/2024-05-02T00:00:00Z"))
    assert kept == rows[:2]


# ---------------------------------------------------------------- async job results (cursor)
def cursor_server(pages: list[list[dict[str, Any]]], key: str = "conversations"):
    def respond(request: httpx.Request) -> httpx.Response:
        cursor = request.url.params.get("cursor")
        index = int(cursor) if cursor else 0
        body: dict[str, Any] = {key: pages[index]}
        if index + 1 < len(pages):
            body["cursor"] = str(index + 1)
        return httpx.Response(200, json=body)

    return respond


def test_job_results_follow_the_cursor_to_its_end(router: respx.MockRouter) -> None:
    path = "/api/v2/analytics/conversations/details/jobs/j1/results"
    pages = [[{"conversationId": "a"}, {"conversationId": "b"}], [{"conversationId": "c"}], []]
    route = router.get(f"{API}{path}").mock(side_effect=cursor_server(pages))
    assert [r["conversationId"] for r in hook().iter_job_results(path, page_size=2)] == ["a", "b", "c"]
    assert route.call_count == 3
    assert "cursor" not in route.calls[0].request.url.params
    assert route.calls[1].request.url.params["cursor"] == "1"
    assert route.calls[1].request.url.params["pageSize"] == "2"


def test_aggregate_job_results_and_async_twin(router: respx.MockRouter) -> None:
    path = "/api/v2/analytics/conversations/aggregates/jobs/j2/results"
    pages = [[{"group": {"a": 1}}], [{"group": {"a": 2}}]]
    router.get(f"{API}{path}").mock(side_effect=cursor_server(pages, key="results"))
    assert len(list(hook().iter_job_results(path))) == 2
    assert len(collect_async(lambda: hook().aiter_job_results(path))) == 2


def test_repeated_cursor_is_an_error_not_a_loop(router: respx.MockRouter) -> None:
    path = "/api/v2/analytics/conversations/details/jobs/j3/results"
    router.get(f"{API}{path}").mock(
        return_value=httpx.Response(200, json={"conversations": [{}], "cursor": "same"})
    )
    with pytest.raises(GenesysPayloadError, match="repeated cursor"):
        list(hook().iter_job_results(path))


def test_token_expiry_mid_pagination_renews_the_token(router: respx.MockRouter) -> None:
    tokens = iter(["tok-a", "tok-b"])
    router.post("https://login.pagetest.local/oauth/token").mock(
        side_effect=lambda request: httpx.Response(
            200, json={"access_token": next(tokens), "expires_in": 100}
        )
    )
    seen: list[str] = []
    server = listing_server(10)
    key = (CONN_ID, "client-p", API)

    def respond(request: httpx.Request) -> httpx.Response:
        seen.append(request.headers["Authorization"])
        cached = TOKENS.peek(key)
        assert cached is not None
        # 95 of the token's 100 seconds pass while page 1 is processed: past the 90 % renewal point.
        TOKENS.store(key, type(cached)(cached.access_token, cached.expires_in, cached.obtained_at - 95))
        return server(request)

    router.get(f"{API}{CAMPAIGNS}").mock(side_effect=respond)
    assert len(list(hook().paginate(CAMPAIGNS, page_size=5))) == 10
    assert seen == ["Bearer tok-a", "Bearer tok-b"]


def test_ceiling_400_mid_stream_becomes_ceiling_error(router: respx.MockRouter) -> None:
    convs = [conv(i, DAY + timedelta(minutes=i)) for i in range(20)]
    server = details_server(convs, bodies=[])

    def respond(request: httpx.Request) -> httpx.Response:
        if json.loads(request.content)["paging"]["pageNumber"] == 2:
            return httpx.Response(
                400,
                json={
                    "status": 400,
                    "code": "bad.request",
                    "message": "Pagination may not exceed 100000 results.",
                },
            )
        return server(request)

    router.post(f"{API}{DETAILS}").mock(side_effect=respond)
    rows = hook().iter_conversation_details(
        {"interval": interval(DAY, DAY + timedelta(hours=12))}, page_size=5
    )
    assert len([next(rows) for _ in range(5)]) == 5
    with pytest.raises(GenesysCeilingError) as info:
        next(rows)
    assert info.value.day == "2024-05-01" and info.value.total_hits == 20


def test_routing_listings_walk_every_page_as_models(router: respx.MockRouter) -> None:
    """list_queues / list_wrapup_codes: 100 a page through the page-number pager, filters as the API spells
    them (divisionId repeated), each entity a model; an entity without an id fails naming the listing."""
    from genesys_cloud.hooks.routing import ROUTING_PAGE_SIZE
    from genesys_pipelines.models.routing import Queue, WrapupCode

    queues = router.get(f"{API}/api/v2/routing/queues").mock(side_effect=listing_server(230))
    listed = list(hook().list_queues(name="*sales*", division_ids=["d1", "d2"]))
    assert len(listed) == 230 and all(isinstance(q, Queue) for q in listed) and listed[0].id == "e0"
    assert queues.call_count == 3  # 230 at 100 a page
    params = queues.calls.last.request.url.params
    assert (params["pageSize"], params["pageNumber"], params["name"]) == (str(ROUTING_PAGE_SIZE), "3", "*sales*")
    assert params.get_list("divisionId") == ["d1", "d2"]
    codes = router.get(f"{API}/api/v2/routing/wrapupcodes").mock(side_effect=listing_server(7))
    assert [c.id for c in hook().list_wrapup_codes()] == [f"e{i}" for i in range(7)]
    assert all(isinstance(c, WrapupCode) for c in hook().list_wrapup_codes()) and codes.call_count == 2
    router.get(f"{API}/api/v2/routing/wrapupcodes").mock(return_value=httpx.Response(
        200, json={"entities": [{"name": "no id"}], "pageSize": 100, "pageNumber": 1, "pageCount": 1}))
    with pytest.raises(GenesysPayloadError, match="wrap-up code in the listing"):
        list(hook().list_wrapup_codes())
