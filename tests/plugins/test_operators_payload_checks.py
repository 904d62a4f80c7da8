"""Broken API answers are refused before anything is planned or written (sandbox ``malformed`` faults)."""

from __future__ import annotations

from typing import Any

import pytest

from genesys_cloud.exceptions import GenesysPayloadError
from genesys_cloud.hooks.genesys_cloud import GenesysCloudHook
from genesys_cloud.operators import campaign_stats, schedule_provisioning
from genesys_pipelines.campaign_stats.params import CampaignStatsParams
from genesys_pipelines.models.outbound import Campaign, CampaignSchedule


def test_checked_names_the_broken_field() -> None:
    with pytest.raises(GenesysPayloadError, match=r"malformed campaign c: version: Input should be a valid integer"):
        schedule_provisioning.checked(Campaign, {"id": "c", "version": "not-a-number-3"}, "campaign c")
    with pytest.raises(GenesysPayloadError, match="missing required field id"):
        schedule_provisioning.checked(Campaign, {"name": "x", "version": 1}, "campaign c")
    body = {"intervals": [{"start": "2026-06-20T10:00:00.000Z", "end": "2026-06-20T11:00:00.000Z"}], "version": 2}
    assert schedule_provisioning.checked(CampaignSchedule, body, "schedule", needs_id=False) is body


def test_listing_campaign_without_id_fails_instead_of_being_dropped(sandbox: Any) -> None:
    sandbox.set_faults("malformed=missing_field:1.0")
    with pytest.raises(GenesysPayloadError, match="missing required field id"):
        campaign_stats.select_campaigns(GenesysCloudHook(), CampaignStatsParams())
    assert sandbox.writes() == []


@pytest.mark.parametrize("kind", ["wrong_type", "unknown_enum", "missing_field"])
def test_provisioning_facts_refuse_broken_answers(sandbox: Any, kind: str) -> None:
    sandbox.set_faults(f"malformed={kind}:1.0")
    with pytest.raises(GenesysPayloadError, match="malformed"):
        schedule_provisioning.read_facts(GenesysCloudHook(), [sandbox.fixtures["normal_campaign"]])
    assert sandbox.writes() == []
