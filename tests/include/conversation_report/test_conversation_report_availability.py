"""The async details job only runs on a window the datalake already holds (genesys-api.md §3b step 1)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from genesys_cloud.exceptions import GenesysPayloadError
from genesys_cloud.hooks.analytics import AnalyticsVerbs
from genesys_cloud.hooks.paths import DETAILS_JOBS
from genesys_pipelines.conversation_report.steps import DataNotYetAvailable, check_data_availability

DETAILS_JOBS_PATH = DETAILS_JOBS


class FakeHook(AnalyticsVerbs):
    """The hook's real analytics verbs over a canned GET answer."""

    def __init__(self, body: object) -> None:
        self.body = body
        self.paths: list[str] = []

    def get(self, path: str, params: object = None) -> object:
        self.paths.append(path)
        return self.body


def test_window_inside_the_datalake_passes() -> None:
    hook = FakeHook({"dataAvailabilityDate": "2026-06-11T05:00:00.000Z"})
    assert check_data_availability(hook, datetime(2026, 6, 11, tzinfo=UTC)) == "2026-06-11T05:00:00+00:00"
    assert hook.paths == [f"{DETAILS_JOBS_PATH}/availability"]


def test_window_after_the_availability_date_is_refused_with_a_retryable_error() -> None:
    hook = FakeHook({"dataAvailabilityDate": "2026-06-10T20:00:00Z"})
    with pytest.raises(DataNotYetAvailable, match="available up to 2026-06-10T20:00:00"):
        check_data_availability(hook, datetime(2026, 6, 11, tzinfo=UTC))


@pytest.mark.parametrize("body", [{}, None, [], {"dataAvailabilityDate": ""}])
def test_malformed_availability_answer_names_the_field(body: object) -> None:
    with pytest.raises(GenesysPayloadError, match="dataAvailabilityDate"):
        check_data_availability(FakeHook(body), datetime(2026, 6, 11, tzinfo=UTC))
