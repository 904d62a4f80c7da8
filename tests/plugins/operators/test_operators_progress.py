"""Long extractions log their progress (count and rate) at least every 10 s, and the total at the end."""

from __future__ import annotations

import logging

import pytest

from genesys_cloud.operators.base import PROGRESS_INTERVAL_S, logged_progress


def test_progress_line_every_interval_with_count_and_rate(caplog: pytest.LogCaptureFixture) -> None:
    ticks = iter(float(t) for t in range(0, 1000))  # one second per item read
    log = logging.getLogger("progress-test")
    with caplog.at_level(logging.INFO, logger="progress-test"):
        out = list(logged_progress(range(25), log, "conversations", clock=lambda: next(ticks)))
    assert out == list(range(25))  # items pass through unchanged
    lines = [r.getMessage() for r in caplog.records]
    assert PROGRESS_INTERVAL_S == 10.0
    assert lines[:2] == ["Progress: 10 conversations so far in 10 s (1/s)",
                         "Progress: 20 conversations so far in 20 s (1/s)"]
    assert lines[-1].startswith("Done: 25 conversations in 26.0 s")
    assert len(lines) == 3
