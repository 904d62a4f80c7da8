"""The conversation generator: determinism, ordering, seasonality, fixtures and JSON shape."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import numpy as np
import pytest
from sdk_check import assert_sdk_compatible

from genesys_pipelines.models.analytics import AnalyticsConversation
from genesys_pipelines.models.common import strict_validate
from genesys_sandbox.org import FIXTURES, build_org
from genesys_sandbox.synth import BLOCK, Synth, conversation_dict, synth_org_from

NOW = datetime(2026, 5, 15, 12, tzinfo=UTC)
NOW_MS = int(NOW.timestamp() * 1000)
DAY = date(2026, 5, 13)  # a Wednesday, closed


def make_synth(seed: int = 42, scale: int = 3000) -> Synth:
    return Synth(synth_org_from(build_org(seed, NOW)), seed, scale)


def day_columns(synth: Synth, day: date, name: str) -> np.ndarray:
    return np.concatenate([getattr(block, name) for block in synth.iter_blocks(day)])


def test_same_seed_same_conversations_and_other_seed_differs() -> None:
    first, again, other = make_synth(), make_synth(), make_synth(seed=7)
    a = conversation_dict(first, first.block(DAY, 1), 5, NOW_MS, with_attributes=True)
    assert a == conversation_dict(again, again.block(DAY, 1), 5, NOW_MS, with_attributes=True)
    assert a["conversationId"] != conversation_dict(other, other.block(DAY, 1), 5, NOW_MS, with_attributes=True)["conversationId"]


def test_blocks_are_independent_of_access_order() -> None:
    synth = make_synth()
    late = synth.block(DAY, 2).start.copy()
    fresh = make_synth()
    for number in range(3):
        fresh.block(DAY, number)
    assert np.array_equal(late, fresh.block(DAY, 2).start)


def test_starts_are_sorted_within_the_day_and_stay_on_the_day() -> None:
    synth = make_synth()
    starts = day_columns(synth, DAY, "start")
    assert len(starts) == synth.conversations_for_day(DAY)
    assert np.all(np.diff(starts) >= 0)
    day_ms = int(datetime(DAY.year, DAY.month, DAY.day, tzinfo=UTC).timestamp() * 1000)
    assert starts[0] >= day_ms and starts[-1] < day_ms + 86_400_000


def test_scale_sets_daily_volume_and_weekends_are_quieter() -> None:
    synth = make_synth(scale=10_000)
    weekday = synth.conversations_for_day(DAY)
    sunday = synth.conversations_for_day(DAY + timedelta(days=4))
    assert 8_000 < weekday < 13_000
    assert sunday < weekday / 2


def test_a_million_a_day_is_generated_lazily() -> None:
    synth = Synth(synth_org_from(build_org(42, NOW)), 42, 1_000_000)
    total = synth.conversations_for_day(DAY)
    last = synth.block(DAY, synth.blocks_for_day(DAY) - 1)
    assert total > 900_000
    assert last.idx[-1] == total - 1 and last.n <= BLOCK
    assert len(synth._blocks) == 1  # only the block asked for was generated


def test_hourly_seasonality_of_outbound_attempts_and_connect_rate() -> None:
    synth = make_synth(scale=20_000)
    hours = (day_columns(synth, DAY, "start") // 3_600_000) % 24
    outbound = day_columns(synth, DAY, "outbound")
    connected = day_columns(synth, DAY, "connected")
    attempts = np.bincount(hours[outbound], minlength=24)
    assert attempts[:8].sum() == 0 and attempts[10] > attempts[20] > 0
    rate = lambda hs: connected[outbound & np.isin(hours, hs)].mean()  # noqa: E731
    assert rate([17, 18, 19]) > rate([8, 9, 10])


def test_anomaly_campaign_breaks_pattern_on_its_day_and_idle_campaign_is_silent() -> None:
    synth = make_synth(scale=20_000)
    anomaly_day = synth.org.anomaly_date
    assert anomaly_day is not None
    ids = [c.id for c in synth.org.campaigns]
    anomaly, idle = ids.index(FIXTURES["anomaly_campaign"]), ids.index(FIXTURES["idle_campaign"])

    def stats(day: date) -> tuple[int, float]:
        campaign = day_columns(synth, day, "campaign")
        connected = day_columns(synth, day, "connected")
        mine = campaign == anomaly
        return int(mine.sum()), float(connected[mine].mean())

    normal_day = anomaly_day - timedelta(days=7)  # same weekday
    (n_normal, rate_normal), (n_anomaly, rate_anomaly) = stats(normal_day), stats(anomaly_day)
    assert n_anomaly > 2 * n_normal
    assert rate_anomaly < rate_normal / 2
    for day in (normal_day, anomaly_day):
        assert not np.any(day_columns(synth, day, "campaign") == idle)


def test_timers_are_lognormal_and_handle_is_their_sum() -> None:
    synth = make_synth(scale=20_000)
    block = synth.block(DAY, 3)
    present, handle = block.metric("tHandle", NOW_MS)
    _, talk = block.metric("tTalk", NOW_MS)
    _, acw = block.metric("tAcw", NOW_MS)
    assert np.array_equal(handle[present], (talk + acw + block.t_held)[present])
    log_talk = np.log(talk[present & (block.media == 0)])
    assert 0.3 < log_talk.std() < 1.0  # lognormal spread, not constant or uniform


def test_conversation_json_is_valid_for_our_models_and_the_sdk() -> None:
    synth = make_synth()
    block = synth.block(DAY, 0)
    purposes: set[str] = set()
    segment_types: set[str] = set()
    for i in range(0, block.n, 7):
        conversation = conversation_dict(synth, block, i, NOW_MS, with_attributes=True)
        strict_validate(AnalyticsConversation, conversation)
        assert_sdk_compatible(conversation, "AnalyticsConversation")
        without = conversation_dict(synth, block, i, NOW_MS, with_attributes=False)
        assert_sdk_compatible(without, "AnalyticsConversationWithoutAttributes")
        for participant in conversation["participants"]:
            purposes.add(participant["purpose"])
            for session in participant["sessions"]:
                segment_types.update(s["segmentType"] for s in session["segments"])
    assert {"customer", "outbound", "acd", "agent"} <= purposes
    assert {"dialing", "contacting", "interact", "alert", "hold", "wrapup"} <= segment_types


def test_outbound_sessions_carry_campaign_and_wrapup_codes() -> None:
    synth = make_synth()
    block = synth.block(DAY, 1)
    i = int(np.nonzero(block.outbound & block.handled)[0][0])
    conversation = conversation_dict(synth, block, i, NOW_MS, with_attributes=False)
    sessions = [s for p in conversation["participants"] for s in p["sessions"]]
    assert all(s["outboundCampaignId"] == synth.org.campaigns[block.campaign[i]].id for s in sessions)
    agent = next(p for p in conversation["participants"] if p["purpose"] == "agent")
    wrapup = agent["sessions"][0]["segments"][-1]
    assert wrapup["segmentType"] == "wrapup" and wrapup["wrapUpCode"] in synth.org.wrapup_code_ids
    metrics = {m["name"] for m in agent["sessions"][0]["metrics"]}
    assert {"tTalk", "tAcw", "tHandle"} <= metrics


@pytest.mark.parametrize("offset_s", [0, 60])
def test_ongoing_conversations_have_no_end_yet(offset_s: int) -> None:
    synth = make_synth()
    block = synth.block(DAY, 2)
    i = int(np.nonzero(block.handled)[0][0])
    cut = int(block.start[i]) + 1 + offset_s  # just after it started: still talking
    conversation = conversation_dict(synth, block, i, cut, with_attributes=False)
    assert "conversationEnd" not in conversation
    agent_metrics = [m["name"] for p in conversation["participants"] for s in p["sessions"] for m in s.get("metrics", [])]
    assert "tHandle" not in agent_metrics


def _customer_segments(conversation: dict) -> list[dict]:
    customer = next(p for p in conversation["participants"] if p["purpose"] == "customer")
    return customer["sessions"][0]["segments"]


def _dialer_segments(conversation: dict) -> list[dict]:
    dialer = next(p for p in conversation["participants"] if p["purpose"] == "outbound")
    return dialer["sessions"][0]["segments"]


def test_connected_outbound_customer_dials_then_interacts() -> None:
    """Issue 3: the customer's interact segment of a connected outbound call must not be overwritten."""
    synth = make_synth()
    block = synth.block(DAY, 0)
    connected = np.nonzero(block.outbound & block.connected)[0]
    assert len(connected) > 10
    for i in connected:
        conversation = conversation_dict(synth, block, int(i), NOW_MS, with_attributes=True)
        dialing, interact = _customer_segments(conversation)
        assert (dialing["segmentType"], interact["segmentType"]) == ("dialing", "interact")
        # Answered at the end of dialing, on the call until the conversation ends.
        assert interact["segmentStart"] == dialing["segmentEnd"] == _dialer_segments(conversation)[0]["segmentEnd"]
        assert interact["segmentEnd"] == conversation["conversationEnd"]
        assert "disconnectType" in interact and "disconnectType" not in dialing


def test_unanswered_outbound_customer_only_dials_and_disconnects_like_the_dialer() -> None:
    synth = make_synth()
    block = synth.block(DAY, 0)
    unanswered = np.nonzero(block.outbound & ~block.connected)[0]
    assert len(unanswered) > 10
    seen = set()
    for i in unanswered:
        conversation = conversation_dict(synth, block, int(i), NOW_MS, with_attributes=True)
        segments = _customer_segments(conversation)
        assert [s["segmentType"] for s in segments] == ["dialing"]
        assert segments[0]["disconnectType"] == _dialer_segments(conversation)[0]["disconnectType"]
        assert not any(p["purpose"] in ("acd", "agent") for p in conversation["participants"])
        seen.add(segments[0]["disconnectType"])
    assert seen == {"peer", "timeout"}


def _sdk_detail_metric_names() -> frozenset[str]:
    """Metric names the SDK accepts on a conversation-detail predicate (its enum of detail metrics)."""
    from PureCloudPlatformClientV2.models import ConversationDetailQueryPredicate

    def accepted(name: str) -> bool:
        predicate = ConversationDetailQueryPredicate()
        predicate.metric = name
        return predicate.metric == name

    return frozenset(filter(accepted, _EMITTED_METRICS))


_EMITTED_METRICS = (
    "nOutbound", "nOutboundAttempted", "nOutboundConnected", "nOutboundAbandoned", "nOffered", "nConnected",
    "tDialing", "tContacting", "tAcd", "tAbandon", "tAlert", "tAnswered", "tTalk", "tTalkComplete", "tHeld",
    "tHeldComplete", "tAcw", "tHandle",
)


def _check_session(conversation: dict, purpose: str, segments: list[dict]) -> None:
    start, end = conversation["conversationStart"], conversation.get("conversationEnd")
    assert segments, purpose
    # ISO timestamps of one format compare in time order.
    assert [s["segmentStart"] for s in segments] == sorted(s["segmentStart"] for s in segments), purpose
    for before, after in zip(segments, segments[1:], strict=False):
        assert before["segmentEnd"] <= after["segmentStart"], purpose  # only the last may still be open
    for segment in segments:
        assert segment["segmentStart"] >= start
        if "segmentEnd" in segment:
            assert segment["segmentStart"] <= segment["segmentEnd"] <= (end or "~")
        else:
            assert end is None and "disconnectType" not in segment, purpose
        assert ("wrapUpCode" in segment) <= (segment["segmentType"] == "wrapup")


@pytest.mark.parametrize("ongoing", [False, True])
def test_segments_are_ordered_bounded_and_wrapups_sit_on_the_agent(ongoing: bool) -> None:
    synth = make_synth()
    block = synth.block(DAY, 1)
    now_ms = int(block.start[block.n // 2]) if ongoing else NOW_MS
    known_metrics = _sdk_detail_metric_names()
    assert len(known_metrics) == len(_EMITTED_METRICS)
    open_seen = False
    for i in range(block.n):
        conversation = conversation_dict(synth, block, i, now_ms, with_attributes=False)
        for participant in conversation["participants"]:
            for session in participant["sessions"]:
                _check_session(conversation, participant["purpose"], session["segments"])
                open_seen |= any("segmentEnd" not in s for s in session["segments"])
                assert {m["name"] for m in session.get("metrics", [])} <= known_metrics
                wrapups = [s for s in session["segments"] if s["segmentType"] == "wrapup"]
                assert not wrapups or participant["purpose"] == "agent"
                if participant["purpose"] == "agent" and "conversationEnd" in conversation:
                    assert wrapups == session["segments"][-1:]
                    assert wrapups[0]["wrapUpCode"] == synth.org.wrapup_code_ids[block.wrapup[i]]
    assert open_seen == ongoing
