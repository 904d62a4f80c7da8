"""The async results fast path writes exactly the bytes msgspec writes for ``conversation_dict``."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime

import msgspec
import pytest

from genesys_sandbox.org import build_org
from genesys_sandbox.synth import Synth, conversation_dict, synth_org_from
from genesys_sandbox.synth_json import conversation_json

NOW = datetime(2026, 5, 15, 12, tzinfo=UTC)
NOW_MS = int(NOW.timestamp() * 1000)
ENCODE = msgspec.json.Encoder().encode


def _synth(seed: int, **org_changes: object) -> Synth:
    org = synth_org_from(build_org(seed, NOW))
    return Synth(replace(org, **org_changes) if org_changes else org, seed, 5000)


def _assert_same(synth: Synth, day: date, now_ms: int) -> set[tuple[bool, ...]]:
    """Compare every conversation of two blocks; return the branch combinations seen."""
    shapes = set()
    for number in range(2):
        block = synth.block(day, number)
        for i in range(block.n):
            expected = ENCODE(conversation_dict(synth, block, i, now_ms, with_attributes=True))
            assert conversation_json(synth, block, i, now_ms) == expected, (day, number, i)
            shapes.add((bool(block.outbound[i]), bool(block.connected[i]), bool(block.abandoned[i]),
                        bool(block.held[i]), bool(block.wrapup[i] >= 0), bool(block.end[i] <= now_ms)))
    return shapes


@pytest.mark.parametrize("seed", [42, 7])
def test_closed_day_is_byte_identical_and_covers_every_branch(seed: int) -> None:
    shapes = _assert_same(_synth(seed), date(2026, 5, 13), NOW_MS)
    outbound = {s for s in shapes if s[0]}
    assert {s[1] for s in outbound} == {True, False}  # connected and not
    assert any(s[2] for s in shapes) and any(s[3] for s in shapes)  # abandoned, held
    assert any(not s[0] for s in shapes)


def test_ongoing_conversations_fall_back_and_stay_identical() -> None:
    synth = _synth(42)
    day = date(2026, 5, 15)
    block = synth.block(day, 0)
    # "now" inside the block's time span: some conversations ended, some are ongoing.
    now_ms = int(block.start[len(block.start) // 2])
    shapes = _assert_same(synth, day, now_ms)
    assert {s[5] for s in shapes} == {True, False}


def test_org_without_users_or_wrapup_codes() -> None:
    synth = _synth(42, user_ids=(), wrapup_code_ids=(), success_wrapup_code_ids=())
    _assert_same(synth, date(2026, 5, 13), NOW_MS)
