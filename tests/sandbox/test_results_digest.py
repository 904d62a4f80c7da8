"""Pins the bytes of async details results pages for seed 42, so speed-ups of the hot path
(``conversation_dict`` + encoding) cannot change what clients receive.

The digests were taken before the throughput work; if the generator's *data* changes on purpose,
recompute them and say so in the change.
"""

from __future__ import annotations

import hashlib
import json
from datetime import timedelta

import pytest
from core_support import auth_headers, make_client, sandbox_state

JOBS = "/api/v2/analytics/conversations/details/jobs"
DAY = "2026-05-13T00:00:00.000Z/2026-05-14T00:00:00.000Z"  # closed: the sandbox clock is 2026-05-15 12:00
# A window that is still open at the sandbox clock: pages hold ongoing conversations (pruned JSON).
OPEN = "2026-05-15T11:00:00.000Z/2026-05-15T13:00:00.000Z"

# Re-pinned on purpose (issue 3, outbound fidelity): the customer session of a connected outbound call
# now carries dialing then interact (it used to be overwritten with a lone dialing segment), an
# unanswered one keeps its single dialing segment with the dialer's own disconnectType (it was always
# "peer"), and an open segment no longer carries a disconnectType (ongoing conversations, OPEN window).
# The old digests were re-checked against the previous generator before replacing them, so nothing
# but that change moved them.
# Re-pinned on purpose (issue 14, names next to ids): the org gained an inbound-only queue no campaign uses
# ("Inbound Support"), which takes a share of the inbound conversations. With that queue left out of the
# inbound traffic the old digests still held, so nothing but that change moved them.
EXPECTED = {
    # (validated?, interval): sha256 over every results page (pageSize 500), in order
    (False, DAY): "7f6c5685f678026d348e873053eb2e909e9f709218bab360d4e0646ebd1f6e58",
    (True, DAY): "11cf70981473c79a3c5f707c8f2e58f308c0f1897b9c973e6a644b45fb8d2c19",
    (False, OPEN): "73a884c1914fd9142a3740fb5e2f0a27aa2cf77f98e0aea984710718e66b9091",
}


def _pages(validate: bool, interval: str) -> list[bytes]:
    """Every results page of a details job over ``interval``, as the bytes the sandbox sent."""
    with make_client(scale=2000, seed=42, self_validation=validate) as client:
        client.headers.update(auth_headers(client))
        job = client.post(JOBS, json={"interval": interval}).json()["jobId"]
        sandbox_state(client).clock.origin += timedelta(seconds=5)
        pages: list[bytes] = []
        cursor: str | None = None
        while True:
            params = {"pageSize": 500, **({"cursor": cursor} if cursor else {})}
            page = client.get(f"{JOBS}/{job}/results", params=params)
            assert page.status_code == 200, page.text
            pages.append(page.content)
            cursor = page.json().get("cursor")
            if not cursor:
                return pages


def _digest(pages: list[bytes]) -> str:
    digest = hashlib.sha256()
    for page in pages:
        digest.update(page)
    return digest.hexdigest()


@pytest.mark.parametrize(("validate", "interval"), list(EXPECTED))
def test_results_page_bytes_are_pinned(validate: bool, interval: str) -> None:
    pages = _pages(validate, interval)
    assert sum(len(json.loads(p).get("conversations", [])) for p in pages) > 0
    assert _digest(pages) == EXPECTED[(validate, interval)]


def test_open_window_pages_hold_ongoing_conversations() -> None:
    """The pinned open window really exercises the pruned (ongoing) JSON."""
    conversations = [c for p in _pages(False, OPEN) for c in json.loads(p).get("conversations", [])]
    assert any("conversationEnd" not in c for c in conversations)
    assert any("conversationEnd" in c for c in conversations)


def test_fast_path_and_validated_path_carry_the_same_json() -> None:
    fast, validated = _pages(False, DAY), _pages(True, DAY)
    assert [json.loads(p) for p in fast] == [json.loads(p) for p in validated]
