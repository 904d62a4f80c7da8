"""The hostile-answer write suite through the real sandbox over HTTP (issue 17, proof): the sandbox's
``hostile=KIND@TARGET#N`` fault answers one read valid-but-wrong JSON, at the planning read or at the
re-read before the PUT; the sandbox's own write journal shows no unintended write and every landed write
is in the write-ahead audit. On old main a schedule answer without ``intervals`` made merge mode PUT only
the requested window (every existing window deleted), and a negative ``abandonRate`` was written back."""

from __future__ import annotations

import logging
import sys
from pathlib import Path

import pytest

from genesys_cloud.hooks.genesys_cloud import GenesysCloudHook

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
import hostile_sandbox as hs  # noqa: E402

CASES = hs.cases()


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_no_unintended_write_and_landed_equals_audited(case: hs.SandboxCase, sandbox, tmp_path: Path,
                                                       caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.CRITICAL)
    result = hs.run_case(case, sandbox.admin, GenesysCloudHook, tmp_path)
    assert result.unintended == [], result
    assert result.landed == result.audited, result
    if case.spec:
        assert result.injected == 1, f"the hostile answer was never served: {result}"
    if case.expect_write:  # the clean run writes, so the hostile cases prove something
        assert result.landed == 1 and result.audited == 1, result


def test_the_fault_grammar_refuses_what_it_does_not_know(sandbox) -> None:
    for spec in ("hostile=bogus@schedule", "hostile=null@contactlist", "hostile=null@schedule#0"):
        assert sandbox.admin.post("/_sandbox/faults", json={"spec": spec}).status_code == 400, spec
