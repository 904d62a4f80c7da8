"""Unknown trigger keys are refused by name, never silently replaced by defaults."""

from __future__ import annotations

import pytest

from genesys_pipelines.conversation_report.params import validate_params
from genesys_pipelines.errors import InvalidParam
from genesys_pipelines.pacing_forecast.params import parse_params


def test_report_refuses_a_misspelt_param() -> None:
    with pytest.raises(InvalidParam) as err:
        validate_params({"queue_idz": []})
    assert err.value.param == "queue_idz"


def test_pacing_refuses_a_misspelt_apply() -> None:
    with pytest.raises(InvalidParam) as err:
        parse_params({"aply": True})
    assert err.value.param == "aply"
