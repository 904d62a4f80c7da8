"""Broken API answers are refused before anything is planned or written (sandbox ``malformed`` faults)."""

from __future__ import annotations

from typing import Any

import pytest

from genesys_cloud.exceptions import GenesysPayloadError
from genesys_cloud.hooks.genesys_cloud import GenesysCloudHook
from genesys_cloud.hooks.policy import as_model
from genesys_pipelines.campaign_stats import steps as campaign_stats
from genesys_pipelines.campaign_stats.params import CampaignStatsParams
from genesys_pipelines.models.outbound import Campaign, CampaignSchedule
from genesys_pipelines.schedule_provisioning import steps as schedule_provisioning


def test_checked_names_the_broken_field() -> None:
    with pytest.raises(GenesysPayloadError, match=r"malformed campaign c: version: Input should be a valid integer"):
        as_model(Campaign, {"id": "c", "version": "not-a-number-3"}, "campaign c", require=("id",))
    with pytest.raises(GenesysPayloadError, match="missing required field id"):
        as_model(Campaign, {"name": "x", "version": 1}, "campaign c", require=("id",))
    body = {"intervals": [{"start": "2026-06-20T10:00:00.000Z", "end": "2026-06-20T11:00:00.000Z"}], "version": 2}
    assert as_model(CampaignSchedule, body, "schedule").to_api() == body


def test_listing_campaign_without_id_fails_instead_of_being_dropped(sandbox: Any) -> None:
    sandbox.set_faults("malformed=missing_field:1.0")
    with pytest.raises(GenesysPayloadError, match="missing required field id"):
        campaign_stats.campaign_batches(GenesysCloudHook(), CampaignStatsParams())
    assert sandbox.writes() == []


@pytest.mark.parametrize("kind", ["wrong_type", "unknown_enum", "missing_field"])
def test_provisioning_facts_refuse_broken_answers(sandbox: Any, kind: str) -> None:
    sandbox.set_faults(f"malformed={kind}:1.0")
    with pytest.raises(GenesysPayloadError, match="malformed"):
        schedule_provisioning.read_facts(GenesysCloudHook(), [sandbox.fixtures["normal_campaign"]])
    assert sandbox.writes() == []
