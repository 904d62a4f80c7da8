"""Queue and campaign names next to their ids in the report, from the campaign listing (one walk per run)."""

from __future__ import annotations

import csv
import io

import pyarrow.parquet as pq

from genesys_pipelines.conversation_report.export import render
from genesys_pipelines.conversation_report.names import names_from_campaigns, needs_names, report_columns
from genesys_pipelines.models.outbound import Campaign

Q1, Q2 = "00000000-0000-4000-8000-0000000000a1", "00000000-0000-4000-8000-0000000000a9"
C1 = "c0ffee00-0000-4000-8000-000000000001"
WINDOW = {"start": "2026-06-10T00:00:00+00:00", "end": "2026-06-11T00:00:00+00:00", "tz": "UTC"}


def row(media: str, queue: str | None, campaign: str | None) -> dict:
    return {"mediaType": media, "queueId": queue, "outboundCampaignId": campaign, "conversation_count": 1,
            "avg_duration_s": 1.0, "talk_ratio": 0.5, "hold_ratio": 0.0, "efficiency_score": 100.0,
            "wrapup_code_count": 0, "wrapup_codes": [], "total_talk_s": 1.0, "total_hold_s": 0.0, "total_acw_s": 0.0}


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
