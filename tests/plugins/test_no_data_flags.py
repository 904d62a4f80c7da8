"""The task side of a window without data: a WARNING naming the window and the sandbox hint, the opt-in failure."""

from __future__ import annotations

import logging
from datetime import UTC, datetime

import pytest

from genesys_cloud.no_data import check_no_data
from genesys_pipelines.windows import Window

WINDOW = Window(start=datetime(2026, 6, 12, tzinfo=UTC), end=datetime(2026, 6, 13, tzinfo=UTC), tz="UTC")


def test_no_flag_no_warning(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING):
        assert check_no_data("p", WINDOW, [], "zero rows", fail=True) is False
    assert not caplog.records


def test_no_data_warns_naming_the_window_and_the_sandbox_clock(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING):
        assert check_no_data("genesys_conversation_report", WINDOW, ["NO_DATA"], "zero conversations", fail=False)
    [record] = caplog.records
    text = record.getMessage()
    assert record.levelno == logging.WARNING
    assert "NO_DATA" in text and "zero conversations" in text
    assert "2026-06-12T00:00:00+00:00 to 2026-06-13T00:00:00+00:00 (UTC)" in text
    assert "sandbox" in text and "clock" in text and "make airflow" in text


def test_fail_on_no_data_raises_a_clear_failure() -> None:
    from airflow.sdk.exceptions import AirflowFailException

    with pytest.raises(AirflowFailException, match=r"fail_on_no_data: p found no data in the window 2026-06-12"):
        check_no_data("p", WINDOW, ["NO_DATA"], "zero rows", fail=True)
