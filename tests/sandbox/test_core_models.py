"""Shared models, strict validation and the SDK checker itself."""

from __future__ import annotations

import pytest
from pydantic import ValidationError
from sdk_check import assert_sdk_compatible, sdk_problems

from genesys_pipelines.models.common import ErrorBody, StrictValidationError, strict_validate
from genesys_pipelines.models.limits import LimitsEntityListing
from genesys_pipelines.models.outbound import Campaign, CampaignEntityListing, WrapUpCodeMapping


def test_models_read_camel_case_and_keep_unknown_fields() -> None:
    campaign = Campaign.model_validate({"id": "x", "dialingMode": "power", "newApiField": 1})
    assert campaign.dialing_mode == "power"
    assert campaign.model_extra == {"newApiField": 1}
    assert campaign.to_api() == {"id": "x", "dialingMode": "power", "newApiField": 1}


def test_strict_validate_rejects_undeclared_keys_at_any_depth() -> None:
    payload = {"entities": [{"id": "a", "contactList": {"id": "c", "bogus": 1}}], "pageCount": 1}
    with pytest.raises(StrictValidationError) as caught:
        strict_validate(CampaignEntityListing, payload)
    assert caught.value.paths == ["entities[0].contactList.bogus"]
    ok = strict_validate(CampaignEntityListing, {"entities": [{"id": "a"}], "pageCount": 1})
    assert ok.entities[0].id == "a"


def test_strict_validate_rejects_unknown_enum_values_and_wrong_types() -> None:
    with pytest.raises(ValidationError):
        strict_validate(Campaign, {"dialingMode": "robocall"})
    with pytest.raises(ValidationError):
        strict_validate(WrapUpCodeMapping, {"mapping": {"code": ["BUSINESS_WIN"]}})
    with pytest.raises(ValidationError):
        strict_validate(ErrorBody, {"status": "teapot"})


def test_limits_listing_value_lookup() -> None:
    listing = LimitsEntityListing.model_validate({"entities": [{"key": "a", "namespace": "platform.api", "value": 7}]})
    assert listing.value_of("a") == 7 and listing.value_of("b") is None


def test_sdk_check_flags_unknown_keys_types_and_enums() -> None:
    assert_sdk_compatible({"id": "x", "dialingMode": "power", "version": 3}, "Campaign")
    problems = sdk_problems(
        {"id": 1, "dialingMode": "robocall", "predictive": {}, "contactList": {"id": "c", "x": 1}}, "Campaign"
    )
    assert any("$.id" in p for p in problems)
    assert any("robocall" in p for p in problems)
    assert any("predictive" in p for p in problems)
    assert any("contactList.x" in p for p in problems)
    with pytest.raises(AssertionError):
        assert_sdk_compatible([{"version": "2"}], "CampaignSchedule")
