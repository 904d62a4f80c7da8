"""The hostile-answer write suite (issue 17, proof): every read the two writers make answers valid JSON
that is wrong; no case may end with an unintended write, and every landed write must be audited. On old
main a schedule read without ``intervals`` made merge mode drop every window (unintended), a negative
``abandonRate`` counted as within target, and a huge ``idleAgents`` exhausted memory."""

from __future__ import annotations

import logging
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
import hostile_writes as hw  # noqa: E402

CASES = hw.cases()


def test_the_suite_covers_enough_read_positions_and_cases() -> None:
    assert len({c.position for c in CASES}) >= 10
    assert len(CASES) >= 50


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_no_unintended_write_and_every_landed_write_audited(case: hw.Case, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.CRITICAL)
    result = case.run()
    assert result.unintended == [], result
    assert result.landed == result.audited, result


def test_a_malformed_read_before_the_put_writes_nothing() -> None:
    org = hw.Org(position="schedule", nth=2, answer={"version": 3, "timeZone": "UTC", "campaign": {"id": hw.C}})
    journal, outcome = hw.run_provisioning(org)
    assert org.landed == [] and outcome == "FAILED"
    assert "intervals is missing" in journal.rows[hw.C]["error"]
    assert org.schedules[hw.C]["intervals"] == hw.TRUE_WINDOWS


def test_a_clean_run_merges_and_reports_removed_from_the_reads() -> None:
    org = hw.Org()
    journal, outcome = hw.run_provisioning(org)
    assert outcome == "SUCCESS" and len(org.landed) == 1
    assert journal.rows[hw.C]["removed"] == [] and len(journal.rows[hw.C]["added"]) == 1
    assert journal.rows[hw.C]["request_digest"]
