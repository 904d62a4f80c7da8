"""Queue, campaign and wrap-up code names next to their ids in the report, from the org's listings (once per run)."""

from __future__ import annotations

import csv
import io
import json
import logging

import pyarrow.parquet as pq
import pytest

from genesys_pipelines.conversation_report.export import render
from genesys_pipelines.conversation_report.names import (
    metric_columns,
    names_from_campaigns,
    needs_names,
    report_columns,
    resolve_names,
)
from genesys_pipelines.models.outbound import Campaign
from genesys_pipelines.models.routing import Queue, WrapupCode

Q1, Q2 = "00000000-0000-4000-8000-0000000000a1", "00000000-0000-4000-8000-0000000000a9"
C1 = "c0ffee00-0000-4000-8000-000000000001"
WINDOW = {"start": "2026-06-10T00:00:00+00:00", "end": "2026-06-11T00:00:00+00:00", "tz": "UTC"}


W1, W2 = "00000000-0000-4000-8000-0000000000f1", "00000000-0000-4000-8000-0000000000f2"


def row(media: str, queue: str | None, campaign: str | None, codes: tuple[str, ...] = ()) -> dict:
    return {"mediaType": media, "queueId": queue, "outboundCampaignId": campaign, "conversation_count": 1,
            "avg_duration_s": 1.0, "talk_ratio": 0.5, "hold_ratio": 0.0, "efficiency_score": 100.0,
            "wrapup_code_count": len(codes), "wrapup_codes": list(codes), "total_talk_s": 1.0, "total_hold_s": 0.0,
            "total_acw_s": 0.0}


class Api:
    """The hook's listing verbs over fixed entities; a listing named in ``failing`` raises, as a 403 would."""

    def __init__(self, failing: tuple[str, ...] = ()) -> None:
        self.failing, self.calls = failing, []

    def _list(self, verb: str, entities: list) -> list:
        self.calls.append(verb)
        if verb in self.failing:
            raise PermissionError(f"403 missing.any.permissions ({verb})")
        return entities

    def list_queues(self) -> list:
        return self._list("list_queues", [Queue(id=Q1, name="Outbound sales"), Queue(id=Q2, name="Inbound support")])

    def list_campaigns(self) -> list:
        return self._list("list_campaigns", [Campaign.model_validate(
            {"id": C1, "name": "Renewals", "queue": {"id": Q1, "name": "Outbound sales (ref)"}})])

    def list_wrapup_codes(self) -> list:
        return self._list("list_wrapup_codes", [WrapupCode(id=W1, name="Sale"), WrapupCode(id=W2, name="Wrong Number")])


def test_names_come_from_the_campaign_listing() -> None:
    listing = [Campaign.model_validate({"id": C1, "name": "Renewals", "queue": {"id": Q1, "name": "Outbound sales"}}),
               Campaign.model_validate({"id": "c2", "name": "Win-back"})]
    assert names_from_campaigns(listing) == {"outboundCampaignId": {C1: "Renewals", "c2": "Win-back"},
                                             "queueId": {Q1: "Outbound sales"}}
    assert needs_names(["mediaType", "queueId"]) and not needs_names(["mediaType", "originatingDirection"])
    assert report_columns(["mediaType", "queueId", "outboundCampaignId"]) == [
        "mediaType", "queueId", "queueName", "outboundCampaignId", "outboundCampaignName"]


def test_every_format_carries_the_name_after_its_id() -> None:
    group_by = ["mediaType", "queueId", "outboundCampaignId"]
    names = {"queueId": {Q1: "Outbound sales"}, "outboundCampaignId": {C1: "Renewals"}}
    rows = [row("voice", Q1, C1), row("voice", Q2, None)]
    out = render(rows, group_by, WINDOW, ["csv", "json", "parquet"], names)
    parsed = list(csv.DictReader(io.StringIO(out["csv"].decode())))
    assert list(parsed[0])[:5] == report_columns(group_by)
    assert (parsed[0]["queueName"], parsed[0]["outboundCampaignName"]) == ("Outbound sales", "Renewals")
    assert (parsed[1]["queueName"], parsed[1]["outboundCampaignName"]) == ("", "")  # unknown id: no name
    table = pq.read_table(io.BytesIO(out["parquet"]))
    assert table.column("queueName").to_pylist() == ["Outbound sales", None]
    assert b'"queueName": "Outbound sales"' in out["json"]
    assert render(rows, group_by, WINDOW, ["csv"], names) == {"csv": out["csv"]}  # deterministic


def test_names_come_from_the_real_listings_once() -> None:
    api = Api()
    resolved = resolve_names(api, ["mediaType", "queueId", "outboundCampaignId", "wrapUpCode"])
    # a queue no campaign uses (Q2) is named: the queue listing, not the campaigns' references
    assert resolved == {"names": {"queueId": {Q1: "Outbound sales", Q2: "Inbound support"},
                                  "outboundCampaignId": {C1: "Renewals"},
                                  "wrapUpCode": {W1: "Sale", W2: "Wrong Number"}}, "missing": {}}
    assert sorted(api.calls) == ["list_campaigns", "list_queues", "list_wrapup_codes"]  # each listing once
    # only what the report needs: no campaign walk without a campaign dimension
    api = Api()
    assert resolve_names(api, ["mediaType"])["names"] == {"wrapUpCode": {W1: "Sale", W2: "Wrong Number"}}
    assert api.calls == ["list_wrapup_codes"]


def test_a_failed_listing_leaves_its_names_empty_with_a_warning(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING):
        resolved = resolve_names(Api(failing=("list_queues", "list_wrapup_codes")), ["queueId", "wrapUpCode"])
    # queue names fall back to the campaigns' queue references; wrap-up code names stay empty
    assert resolved["names"] == {"queueId": {Q1: "Outbound sales (ref)"}}
    assert set(resolved["missing"]) == {"queueId", "wrapUpCode"} and "403" in resolved["missing"]["queueId"]
    warned = " ".join(r.getMessage() for r in caplog.records if r.levelno == logging.WARNING)
    assert "GET /api/v2/routing/queues (routing:queue:view)" in warned
    assert "GET /api/v2/routing/wrapupcodes (routing:wrapupCode:view)" in warned
    # the campaign fallback failing too: still no failure, queueId names empty
    resolved = resolve_names(Api(failing=("list_queues", "list_campaigns")), ["queueId"])
    assert resolved["names"] == {"wrapUpCode": {W1: "Sale", W2: "Wrong Number"}} and set(resolved["missing"]) == {"queueId"}
    assert "routing/queues" in resolved["missing"]["queueId"] and "outbound/campaigns" in resolved["missing"]["queueId"]
    rows = [row("voice", Q1, None, (W1,))]
    out = render(rows, ["queueId"], WINDOW, ["csv"], resolved["names"])
    [parsed] = csv.DictReader(io.StringIO(out["csv"].decode()))
    assert (parsed["queueId"], parsed["queueName"], parsed["wrapup_code_names"]) == (Q1, "", "Sale")


def test_wrap_up_code_names_follow_the_codes_in_every_format() -> None:
    group_by = ["wrapUpCode", "queueId"]
    names = {"wrapUpCode": {W1: "Sale"}, "queueId": {Q1: "Outbound sales"}}
    rows = [row("voice", Q1, None, (W1,)) | {"wrapUpCode": W1}, row("voice", Q1, None, (W1, W2)) | {"wrapUpCode": W2}]
    out = render(rows, group_by, WINDOW, ["csv", "json", "parquet"], names)
    parsed = list(csv.DictReader(io.StringIO(out["csv"].decode())))
    assert list(parsed[0]) == [*report_columns(group_by), *metric_columns()]
    assert report_columns(group_by) == ["wrapUpCode", "wrapUpCodeName", "queueId", "queueName"]
    assert metric_columns()[metric_columns().index("wrapup_codes") + 1] == "wrapup_code_names"
    assert [(r["wrapUpCodeName"], r["wrapup_codes"], r["wrapup_code_names"]) for r in parsed] == [
        ("Sale", W1, "Sale"), ("", f"{W1}|{W2}", "Sale|")]  # an unnamed code keeps its slot, empty
    table = pq.read_table(io.BytesIO(out["parquet"]))
    assert table.column("wrapUpCodeName").to_pylist() == ["Sale", None]
    assert table.column("wrapup_code_names").to_pylist() == [["Sale"], ["Sale", None]]
    assert [r["wrapup_code_names"] for r in json.loads(out["json"])["rows"]] == [["Sale"], ["Sale", None]]


def test_missing_names_reach_the_webhook_and_audit_of_every_day() -> None:
    from datetime import UTC, datetime, timedelta
    from types import SimpleNamespace

    from genesys_pipelines.conversation_report.output import delivery
    from genesys_pipelines.conversation_report.params import validate_params
    from genesys_pipelines.conversation_report.ranges import day_plans
    from genesys_pipelines.windows import Window

    start = datetime(2026, 6, 9, tzinfo=UTC)
    days = [Window(start, start + timedelta(days=1)), Window(start + timedelta(days=1), start + timedelta(days=2))]
    missing = {"queueId": "GenesysForbiddenError: 403"}
    planned = {"mode": "sync", "day_hits": {}, "names_missing": missing}
    flat = {"conversations": 1, "rows": 1, "duplicates": 0, "extract_seconds": 0.1, "seconds": 0.1}
    published = SimpleNamespace(manifest={"objects": [], "bucket": "b", "manifest_key": "k"}, urls={},
                                partition="p", webhook=None)
    for plan in [planned, *day_plans(planned, days)]:
        what = delivery("genesys_conversation_report", validate_params({}), days[0], plan, flat,
                        {"groups": 1, "seconds": 0.1})
        assert what["payload"](published)["names_missing"] == missing
        assert what["audit"](published)[0]["details"]["names_missing"] == missing
    clean = delivery("genesys_conversation_report", validate_params({}), days[0], {**planned, "names_missing": {}},
                     flat, {"groups": 1, "seconds": 0.1})
    assert "names_missing" not in clean["payload"](published)  # nothing to say: the key is left out
