"""Deterministic synthetic conversations: columnar blocks generated per (day, block) from a derived seed.

A day holds ``conversations_for_day(day)`` conversations; conversation ``i`` of a day lives in block
``i // BLOCK`` and every block is generated independently (numpy, vectorised) from
``(seed, day ordinal, block)``, so any page of any day is reachable without generating the day, and
nothing ever holds a whole day of conversations in memory. Start times are the inverse CDF of the
day's hourly curve evaluated at ``(i + u_i) / n``: monotone in ``i``, so conversations are ordered by
``conversationStart`` for free and the details query can page cheaply.

The same columns feed the details JSON (:func:`conversation_dict`, and its fast twin
:func:`genesys_sandbox.synth_json.conversation_json`), the query filters
(``genesys_sandbox.analytics_filters``) and the per-day aggregate cube (:meth:`Synth.day_cube`), so
aggregates always equal the sum over details.
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache
from typing import Any

import numpy as np

BLOCK = 1024
DAY_MS = 86_400_000
BUCKET_MS = 900_000  # the aggregate cube's resolution: 15 minutes (every IANA offset is a multiple)
BUCKETS_PER_DAY = DAY_MS // BUCKET_MS
MAX_CUBES = 62  # days of aggregate cubes kept (two months of history for the forecasting pipeline)
MAX_CONVERSATION_MS = 6 * 3_600_000  # generous bound on a conversation's length (for "activity" queries)

MEDIA_TYPES: tuple[str, ...] = ("voice", "chat", "email", "message", "callback")
VOICE = 0

# Hourly shape (UTC) of inbound and outbound volume, and of the outbound connect rate: outbound dials in
# business hours, connects best early evening; inbound runs round the clock with a midday peak.
_IN_HOURLY = np.array([1, 1, 1, 1, 1, 2, 4, 8, 12, 14, 15, 14, 13, 14, 15, 14, 12, 10, 8, 6, 4, 3, 2, 1], float)
_OUT_HOURLY = np.array([0, 0, 0, 0, 0, 0, 0, 0, 10, 14, 16, 15, 12, 14, 16, 16, 15, 14, 12, 10, 6, 0, 0, 0], float)
_CONNECT_HOURLY = np.array(
    [1, 1, 1, 1, 1, 1, 1, 1, 0.8, 0.85, 0.9, 0.95, 1.0, 0.95, 0.9, 0.95, 1.05, 1.2, 1.3, 1.3, 1.15, 1, 1, 1], float
)
# Monday..Sunday volume and connect factors.
_DOW_VOLUME = np.array([1.1, 1.05, 1.0, 1.0, 0.95, 0.45, 0.3])
_DOW_OUTBOUND = np.array([1.0, 1.0, 1.0, 1.0, 0.9, 0.4, 0.0])
_DOW_CONNECT = np.array([0.95, 1.0, 1.0, 1.0, 0.95, 1.1, 1.0])
# Mean talk time (s) per media type; lognormal around it.
_TALK_MEAN_S = np.array([240.0, 420.0, 600.0, 480.0, 200.0])
_MEDIA_WEIGHTS = np.array([0.55, 0.15, 0.1, 0.12, 0.08])

# Metrics each conversation can carry, and how to read them from a block (see Block.metric()).
COUNT_METRICS: tuple[str, ...] = (
    "nOutbound", "nOutboundAttempted", "nOutboundConnected", "nOutboundAbandoned", "nOffered", "nConnected",
    "nConversations", "nTransferred", "nBlindTransferred", "nConsultTransferred", "nError",
)
TIME_METRICS: tuple[str, ...] = (
    "tHandle", "tTalk", "tTalkComplete", "tHeld", "tHeldComplete", "tAcw", "tAlert", "tAnswered", "tAcd",
    "tAbandon", "tDialing", "tContacting", "tConnected", "tWait",
)
AGG_METRICS: tuple[str, ...] = COUNT_METRICS + TIME_METRICS
# Aggregates dimensions the cube keeps; a conversation has at most one value for each.
AGG_DIMENSIONS: tuple[str, ...] = (
    "outboundCampaignId", "outboundContactListId", "queueId", "mediaType", "wrapUpCode", "direction",
    "originatingDirection", "purpose", "divisionId",
)


@dataclass(frozen=True)
class SynthCampaign:
    id: str
    contact_list_id: str
    queue_id: str
    connect_rate: float = 0.35
    weight: float = 1.0
    # Share of handled calls wrapped up with a BUSINESS_SUCCESS code.
    success_rate: float = 0.15


@dataclass(frozen=True)
class SynthQueue:
    id: str
    media_types: tuple[str, ...] = ("voice",)
    weight: float = 1.0


@dataclass(frozen=True)
class SynthOrg:
    """What the generator needs from the synthetic org (see :func:`synth_org_from`)."""

    campaigns: tuple[SynthCampaign, ...]
    inbound_queues: tuple[SynthQueue, ...]
    wrapup_code_ids: tuple[str, ...]
    user_ids: tuple[str, ...]
    division_id: str
    # The campaign whose known day carries an anomaly: volume x3 and connect rate / 5.
    anomaly_campaign_id: str | None = None
    anomaly_date: date | None = None
    # Wrap-up codes that mean success (weighted up for connected outbound calls).
    success_wrapup_code_ids: tuple[str, ...] = ()
    queue_ids: tuple[str, ...] = field(init=False)

    def __post_init__(self) -> None:
        ids: list[str] = []
        for qid in [c.queue_id for c in self.campaigns] + [q.id for q in self.inbound_queues]:
            if qid not in ids:
                ids.append(qid)
        object.__setattr__(self, "queue_ids", tuple(ids))


def _mix(*parts: int) -> int:
    """A stable 64-bit hash of integers (Python's hash() is salted per process)."""
    digest = hashlib.blake2b(b",".join(str(p).encode() for p in parts), digest_size=8).digest()
    return int.from_bytes(digest, "little")


def day_start_ms(day: date) -> int:
    return int(datetime(day.year, day.month, day.day, tzinfo=UTC).timestamp() * 1000)


@lru_cache(maxsize=4096)
def _day_prefix(days: int) -> str:
    return (date(1970, 1, 1) + timedelta(days=days)).isoformat()


def iso_ms(ms: int) -> str:
    """``yyyy-MM-ddTHH:mm:ss.SSSZ`` from epoch milliseconds (hot path: cached date part, integer maths)."""
    seconds, millis = divmod(int(ms), 1000)
    days, second_of_day = divmod(seconds, 86_400)
    hours, rest = divmod(second_of_day, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{_day_prefix(days)}T{hours:02d}:{minutes:02d}:{secs:02d}.{millis:03d}Z"


#: The per-conversation columns of a block (what a merge of blocks concatenates).
_BLOCK_COLUMNS: tuple[str, ...] = (
    "start", "end", "outbound", "campaign", "queue", "media", "connected", "abandoned", "handled", "held",
    "user", "wrapup", "t_dial", "t_contact", "t_wait", "t_alert", "t_talk", "t_held", "t_acw", "h1", "h2",
)


class Block:
    """One block of a day's conversations as columns (numpy arrays of equal length)."""

    __slots__ = (
        "day", "first", "n", "idx", "start", "end", "outbound", "campaign", "queue", "media", "connected",
        "abandoned", "handled", "held", "user", "wrapup", "t_dial", "t_contact", "t_wait", "t_alert",
        "t_talk", "t_held", "t_acw", "h1", "h2", "view",
    )

    def __init__(self, **cols: Any) -> None:
        self.view: Any = None  # BlockView, built on first use by the details JSON
        for key, value in cols.items():
            setattr(self, key, value)

    def complete(self, now_ms: int) -> np.ndarray:
        """Conversations that ended by ``now_ms`` (the others are still in progress)."""
        return self.end <= now_ms

    def metric(self, name: str, now_ms: int) -> tuple[np.ndarray, np.ndarray]:
        """(present mask, values in ms or 1) of one metric for every conversation of the block."""
        return self.metrics(now_ms)[name]

    def emit_times(self) -> dict[str, np.ndarray]:
        """When each metric posts, in epoch ms: the ``emitDate`` the details JSON gives it.

        Timers post when the segment they measure ends (tTalk at talk end, tHandle at the end of wrap-up);
        counts when their event happens (an attempt at dial, a connect at connect, an abandon at the
        abandon). The aggregates cube buckets every metric at this time (docs/sandbox-semantics.md).
        """
        dial_end = self.start + self.t_dial
        contact_end = dial_end + self.t_contact
        wait_end = contact_end + self.t_wait
        alert_end = wait_end + self.t_alert
        talk_end = alert_end + self.t_talk + self.t_held
        at = {"start": self.start, "dial": dial_end, "contact": contact_end, "wait": wait_end,
              "alert": alert_end, "talk": talk_end, "end": self.end}
        return {name: at[point] for name, point in METRIC_EMIT_POINT.items()}

    def metrics(self, now_ms: int) -> dict[str, tuple[np.ndarray, np.ndarray]]:
        """Every metric as (present mask, values in ms or 1) for the conversations of the block.

        Each metric exists once its emit time has passed, as in the live API: an ongoing conversation has
        its dialing and queue metrics but not yet tTalk/tAcw/tHandle.
        """
        ones = np.ones(self.n, np.int64)
        dial_end = self.start + self.t_dial
        contact_end = dial_end + self.t_contact
        wait_end = contact_end + self.t_wait
        alert_end = wait_end + self.t_alert
        talk_end = alert_end + self.t_talk + self.t_held
        # A metric exists once its emit time has passed (ongoing conversations lack the later ones).
        started = self.start <= now_ms
        dialed = dial_end <= now_ms
        contacted = contact_end <= now_ms
        waited = wait_end <= now_ms
        alerted = alert_end <= now_ms
        talked = talk_end <= now_ms
        done = self.end <= now_ms
        offered = ~self.outbound | self.connected
        none = np.zeros(self.n, bool)
        table: dict[str, tuple[np.ndarray, np.ndarray]] = {
            "nOutbound": (self.outbound & started, ones),
            "nOutboundAttempted": (self.outbound & started, ones),
            "nOutboundConnected": (self.outbound & self.connected & contacted, ones),
            "nOutboundAbandoned": (self.outbound & self.abandoned & waited, ones),
            "nOffered": (offered & contacted, ones),
            "nConnected": (self.handled & alerted, ones),
            "nConversations": (started, ones),
            "nTransferred": (none, ones),
            "nBlindTransferred": (none, ones),
            "nConsultTransferred": (none, ones),
            "nError": (none, ones),
            "tHandle": (self.handled & done, self.t_talk + self.t_held + self.t_acw),
            "tTalk": (self.handled & talked, self.t_talk),
            "tTalkComplete": (self.handled & talked, self.t_talk),
            "tHeld": (self.handled & self.held & talked, self.t_held),
            "tHeldComplete": (self.handled & self.held & talked, self.t_held),
            "tAcw": (self.handled & done, self.t_acw),
            "tAlert": (self.handled & alerted, self.t_alert),
            "tAnswered": (self.handled & alerted, self.t_wait + self.t_alert),
            "tAcd": (offered & waited, self.t_wait),
            "tWait": (offered & waited, self.t_wait),
            "tAbandon": (self.abandoned & waited, self.t_wait),
            "tDialing": (self.outbound & dialed, self.t_dial),
            "tContacting": (self.outbound & self.connected & contacted, self.t_contact),
            "tConnected": (self.handled & talked, self.t_talk + self.t_held),
        }
        return table


class Synth:
    """The conversation generator for one org, seed and scale."""

    def __init__(self, org: SynthOrg, seed: int, scale: int, cache_blocks: int = 256) -> None:
        self.org = org
        self.seed = int(seed)
        self.scale = max(1, int(scale))
        self._blocks: OrderedDict[tuple[int, int], Block] = OrderedDict()
        self._cache_blocks = cache_blocks
        # Per-day aggregate cubes (LRU): ~5 MB a day at 100k conversations/day, ~20 MB at 1M.
        self._cubes: OrderedDict[int, tuple[int, dict[str, Any]]] = OrderedDict()
        self._lock = threading.Lock()
        # Campaign/queue lookups as arrays for vectorised choices.
        self._camp_queue = np.array([org.queue_ids.index(c.queue_id) for c in org.campaigns] or [0], np.int16)
        self._in_queue = np.array([org.queue_ids.index(q.id) for q in org.inbound_queues] or [0], np.int16)
        self._in_queue_weights = np.array([q.weight for q in org.inbound_queues] or [1.0])
        self._queue_media = np.zeros((len(org.queue_ids), len(MEDIA_TYPES)))
        for q in org.inbound_queues:
            for media in q.media_types:
                self._queue_media[org.queue_ids.index(q.id), MEDIA_TYPES.index(media)] = 1.0
        codes = org.wrapup_code_ids
        self._success_codes = np.array([i for i, c in enumerate(codes) if c in org.success_wrapup_code_ids], np.int16)
        self._other_codes = np.array([i for i, c in enumerate(codes) if c not in org.success_wrapup_code_ids], np.int16)
        self._success_rate = np.array([c.success_rate for c in org.campaigns] or [0.0])
        # The org's ids as JSON literals, filled by genesys_sandbox.synth_json on first use.
        self.json_strings: Any = None
        # Late-arriving data (admin ``POST /_sandbox/late_data``): per day ordinal, the size of each batch
        # that landed late, and the day's merged blocks (base and late conversations in start order).
        self.late: dict[int, list[int]] = {}
        self._late_days: dict[int, list[Block]] = {}

    # --- day level ------------------------------------------------------------------------------

    def base_conversations(self, day: date) -> int:
        """The conversations the day holds without late data: scale x weekday factor x a seeded wobble."""
        wobble = 0.9 + 0.2 * (_mix(self.seed, day.toordinal(), 7) % 10_000) / 10_000
        return max(1, int(round(self.scale * _DOW_VOLUME[day.weekday()] * wobble)))

    def conversations_for_day(self, day: date) -> int:
        """How many conversations the day holds: its base count plus every batch that landed late."""
        return self.base_conversations(day) + sum(self.late.get(day.toordinal(), ()))

    def add_late(self, day: date, conversations: int) -> int:
        """Late-arriving data: ``conversations`` more on ``day`` (a past day's data changes, as when the
        data lake catches up). The day's conversations so far stay exactly as they were (ids, times,
        metrics): the batch is generated on its own (its own seed stream, spread over the day like the
        day's traffic) and merged in by ``conversationStart``, so a day only gains conversations and its
        latest ``conversationEnd`` can only grow or stay. The day's cached blocks and aggregate cube are
        dropped. The day's new count."""
        with self._lock:
            self.late.setdefault(day.toordinal(), []).append(int(conversations))
            for key in [k for k in self._blocks if k[0] == day.toordinal()]:
                del self._blocks[key]
            self._late_days.pop(day.toordinal(), None)
            self._cubes.pop(day.toordinal(), None)
        return self.conversations_for_day(day)

    def _late_day(self, day: date) -> list[Block]:
        """The blocks of a day with late data: the base conversations (generated exactly as without late
        data) and each late batch (its own seed stream), merged in start order and cut into blocks."""
        ordinal = day.toordinal()
        with self._lock:
            cached = self._late_days.get(ordinal)
            batches = list(self.late.get(ordinal, ()))
        if cached is not None:
            return cached
        parts: list[Block] = []
        for stream, total in enumerate([self.base_conversations(day), *batches]):
            parts += [self._make_block(day, number, total, stream) for number in range(-(-total // BLOCK))]
        columns = {name: np.concatenate([getattr(b, name) for b in parts]) for name in _BLOCK_COLUMNS}
        order = np.argsort(columns["start"], kind="stable")
        columns = {name: values[order] for name, values in columns.items()}
        count = len(order)
        blocks = []
        for first in range(0, count, BLOCK):
            n = min(BLOCK, count - first)
            cut = {name: values[first:first + n] for name, values in columns.items()}
            blocks.append(Block(day=day, first=first, n=n, idx=np.arange(first, first + n, dtype=np.int64), **cut))
        with self._lock:
            if self.late.get(ordinal, []) == batches:
                self._late_days[ordinal] = blocks
        return blocks

    def blocks_for_day(self, day: date) -> int:
        return -(-self.conversations_for_day(day) // BLOCK)

    def _day_shape(self, day: date) -> tuple[np.ndarray, np.ndarray]:
        """(cumulative volume at each hour edge 0..24 normalised to 1, outbound share per hour)."""
        dow = day.weekday()
        out = _OUT_HOURLY * _DOW_OUTBOUND[dow]
        if not any(c.weight > 0 for c in self.org.campaigns):
            out = out * 0
        total = _IN_HOURLY + out
        cum = np.concatenate([[0.0], np.cumsum(total)])
        return cum / cum[-1], np.divide(out, total, out=np.zeros(24), where=total > 0)

    def _campaign_weights(self, day: date) -> tuple[np.ndarray, np.ndarray]:
        weights = np.array([c.weight for c in self.org.campaigns] or [0.0])
        rates = np.array([c.connect_rate for c in self.org.campaigns] or [0.0])
        if self.org.anomaly_date == day and self.org.anomaly_campaign_id:
            for i, c in enumerate(self.org.campaigns):
                if c.id == self.org.anomaly_campaign_id:
                    weights[i] *= 3.0
                    rates[i] /= 5.0
        total = weights.sum()
        return (weights / total if total > 0 else weights), rates

    # --- blocks ---------------------------------------------------------------------------------

    def block(self, day: date, number: int) -> Block:
        if day.toordinal() in self.late:
            return self._late_day(day)[number]
        key = (day.toordinal(), number)
        with self._lock:
            cached = self._blocks.get(key)
            if cached is not None:
                self._blocks.move_to_end(key)
                return cached
        made = self._make_block(day, number, self.base_conversations(day))
        with self._lock:
            self._blocks[key] = made
            while len(self._blocks) > self._cache_blocks:
                self._blocks.popitem(last=False)
        return made

    def iter_blocks(self, day: date) -> Iterator[Block]:
        for number in range(self.blocks_for_day(day)):
            yield self.block(day, number)

    def _make_block(self, day: date, number: int, total: int, stream: int = 0) -> Block:
        """Block ``number`` of ``total`` conversations spread over the day. ``stream`` 0 is the day's own
        conversations; ``k`` > 0 the k-th batch of late data (its own seeds: the day's stay unchanged)."""
        first = number * BLOCK
        n = max(0, min(BLOCK, total - first))
        seeds = [self.seed & 0xFFFFFFFF, day.toordinal(), number] + ([stream] if stream else [])
        rng = np.random.default_rng(seeds)
        idx = np.arange(first, first + n, dtype=np.int64)
        cum, out_share = self._day_shape(day)
        seconds = np.interp((idx + rng.random(n)) / total, cum, np.arange(25) * 3600.0)
        start = day_start_ms(day) + (seconds * 1000).astype(np.int64)
        hour = np.minimum((seconds // 3600).astype(np.int64), 23)

        camp_w, camp_rate = self._campaign_weights(day)
        outbound = (rng.random(n) < out_share[hour]) & (camp_w.sum() > 0)
        campaign = np.where(
            outbound, np.minimum(np.searchsorted(np.cumsum(camp_w), rng.random(n)), len(camp_w) - 1), -1
        ).astype(np.int16)
        p_connect = np.clip(
            camp_rate[np.maximum(campaign, 0)] * _CONNECT_HOURLY[hour] * _DOW_CONNECT[day.weekday()], 0, 0.95
        )
        connected_out = outbound & (rng.random(n) < p_connect)
        in_q = self._in_queue[
            np.minimum(
                np.searchsorted(np.cumsum(self._in_queue_weights / self._in_queue_weights.sum()), rng.random(n)),
                len(self._in_queue) - 1,
            )
        ]
        queue = np.where(outbound, self._camp_queue[np.maximum(campaign, 0)], in_q).astype(np.int16)
        # Inbound media: one of the queue's media, weighted by the global media mix.
        media_p = self._queue_media[queue] * _MEDIA_WEIGHTS
        media_p = media_p / np.maximum(media_p.sum(axis=1, keepdims=True), 1e-12)
        media_in = np.minimum((np.cumsum(media_p, axis=1) < rng.random(n)[:, None]).sum(axis=1), 4)
        media = np.where(outbound, VOICE, media_in).astype(np.int8)
        connected = np.where(outbound, connected_out, True)
        abandon_p = np.where(outbound, 0.04, 0.03 + 0.04 * (_IN_HOURLY[hour] / _IN_HOURLY.max()))
        abandoned = connected & (rng.random(n) < abandon_p)
        handled = connected & ~abandoned
        users = max(1, len(self.org.user_ids))
        user = np.where(handled, rng.integers(0, users, n), -1).astype(np.int16)
        wrapup = self._wrapups(rng, n, outbound, campaign, handled)
        def lognormal_ms(mean_s: np.ndarray | float, sigma: float) -> np.ndarray:
            mu = np.log(mean_s) - sigma * sigma / 2
            return (np.exp(mu + sigma * rng.standard_normal(n)) * 1000).astype(np.int64) + 1

        t_dial = np.where(outbound, np.where(connected_out, lognormal_ms(7.0, 0.4), lognormal_ms(22.0, 0.2)), 0)
        t_contact = np.where(connected_out, lognormal_ms(1.5, 0.3), 0)
        t_wait = np.where(connected, lognormal_ms(np.where(abandoned, 45.0, 18.0), 0.8), 0)
        t_alert = np.where(handled, lognormal_ms(4.0, 0.4), 0)
        t_talk = np.where(handled, lognormal_ms(_TALK_MEAN_S[media], 0.6), 0)
        held = handled & (media == VOICE) & (rng.random(n) < 0.2)
        t_held = np.where(held, lognormal_ms(45.0, 0.7), 0)
        t_acw = np.where(handled, lognormal_ms(30.0, 0.5), 0)
        end = start + t_dial + t_contact + t_wait + t_alert + t_talk + t_held + t_acw
        hashes = rng.integers(0, 2**63 - 1, size=(2, n), dtype=np.int64)
        return Block(
            day=day, first=first, n=n, idx=idx, start=start, end=end, outbound=outbound, campaign=campaign,
            queue=queue, media=media, connected=connected, abandoned=abandoned, handled=handled, held=held,
            user=user, wrapup=wrapup, t_dial=t_dial, t_contact=t_contact, t_wait=t_wait, t_alert=t_alert,
            t_talk=t_talk, t_held=t_held, t_acw=t_acw, h1=hashes[0], h2=hashes[1],
        )

    def _wrapups(
        self, rng: np.random.Generator, n: int, outbound: np.ndarray, campaign: np.ndarray, handled: np.ndarray
    ) -> np.ndarray:
        """Wrap-up code index per handled conversation: success codes at the campaign's success rate."""
        pick_success = rng.random(n)
        pick_code = rng.random(n)
        wrapup = np.full(n, -1, np.int16)
        if not self.org.wrapup_code_ids:
            return wrapup
        success = outbound & (pick_success < self._success_rate[np.maximum(campaign, 0)])
        success &= len(self._success_codes) > 0
        other = self._other_codes if len(self._other_codes) else self._success_codes
        winners = self._success_codes if len(self._success_codes) else other

        def pick(codes: np.ndarray) -> np.ndarray:
            return codes[np.minimum((pick_code * len(codes)).astype(np.int64), len(codes) - 1)]

        from_success, from_other = pick(winners), pick(other)
        wrapup[:] = np.where(success, from_success, from_other)
        wrapup[~handled] = -1
        return wrapup

    # --- dimension columns (for filters and the aggregate cube) ---------------------------------

    def dimension_codes(self, block: Block, dimension: str) -> tuple[np.ndarray, Sequence[str]] | None:
        """(integer code per conversation, -1 = absent; the code's values) for a modelled dimension."""
        org = self.org
        if dimension == "outboundCampaignId":
            return block.campaign.astype(np.int32), [c.id for c in org.campaigns]
        if dimension == "outboundContactListId":
            lists = sorted({c.contact_list_id for c in org.campaigns})
            mapping = np.array([lists.index(c.contact_list_id) for c in org.campaigns] or [0], np.int32)
            return np.where(block.campaign >= 0, mapping[np.maximum(block.campaign, 0)], -1), lists
        if dimension == "queueId":
            return block.queue.astype(np.int32), org.queue_ids
        if dimension == "mediaType":
            return block.media.astype(np.int32), MEDIA_TYPES
        if dimension == "wrapUpCode":
            return block.wrapup.astype(np.int32), org.wrapup_code_ids
        if dimension in ("direction", "originatingDirection"):
            return block.outbound.astype(np.int32), ("inbound", "outbound")
        if dimension == "userId":
            return block.user.astype(np.int32), org.user_ids
        if dimension in ("divisionId",):
            return np.zeros(block.n, np.int32), (org.division_id,)
        return None

    # --- aggregate cube -------------------------------------------------------------------------

    def day_cube(self, day: date, now_ms: int) -> dict[str, Any]:
        """Per (15-minute bucket, dimension combination) counts, sums, mins and maxes for one day.

        Closed days (every conversation ended before ``now_ms``) are cached; the open day is rebuilt.
        Returns ``{"keys": {bucket, campaign, queue, media, wrapup, outbound}, "metrics": {name: (count,
        sum, min, max)}}`` with one row per combination present.
        """
        ordinal = day.toordinal()
        closed = day_start_ms(day) + DAY_MS + MAX_CONVERSATION_MS <= now_ms
        with self._lock:
            hit = self._cubes.get(ordinal)
            if hit is not None:
                self._cubes.move_to_end(ordinal)
        if hit is not None and (closed or hit[0] == now_ms):
            return hit[1]
        radix = (CUBE_BUCKETS, len(self.org.campaigns) + 1, len(self.org.queue_ids), len(MEDIA_TYPES),
                 len(self.org.wrapup_code_ids) + 1, 2)
        rest_base = int(np.prod(radix[1:]))
        day0 = day_start_ms(day)
        partials: dict[str, list[_Stats]] = {}
        chunks: dict[str, list[_Stats]] = {}
        for block in self.iter_blocks(day):
            live = block.start < now_ms
            if not live.any():
                break
            rest_key = np.zeros(block.n, np.int64)
            for col, base, shift in zip(
                (block.campaign, block.queue, block.media, block.wrapup, block.outbound),
                radix[1:], _KEY_SHIFTS[1:], strict=True,
            ):
                rest_key = rest_key * base + col.astype(np.int64) + shift
            emits = block.emit_times()
            for name, (present, values) in block.metrics(now_ms).items():
                keep = live & present
                if not keep.any():
                    continue
                # Each metric in the bucket of its emit time (may be the next day: the radix allows it).
                bucket = (emits.get(name, block.start)[keep] - day0) // BUCKET_MS
                vals = values[keep].astype(np.int64)
                stats = (np.ones(len(vals), np.int64), vals, vals, vals)
                chunks.setdefault(name, []).append((bucket * rest_base + rest_key[keep], {name: stats}))
                # Reduce every 64 blocks so a million-conversation day never holds its raw rows at once.
                if len(chunks[name]) == 64:
                    partials.setdefault(name, []).append(_reduce_stats(chunks.pop(name)))
        for name, pending in chunks.items():
            partials.setdefault(name, []).append(_reduce_stats(pending))
        per_metric = {name: _reduce_stats(parts) for name, parts in partials.items()}
        packed = np.unique(np.concatenate([k for k, _ in per_metric.values()])) if per_metric else np.zeros(0, np.int64)
        stats: dict[str, tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]] = {}
        for name, (mkeys, mstats) in per_metric.items():
            where = np.searchsorted(packed, mkeys)
            count, total, low, high = (np.zeros(len(packed), np.int64), np.zeros(len(packed)),
                                       np.full(len(packed), _NO_MIN), np.full(len(packed), -1, np.int64))
            mc, mt, ml, mh = mstats[name]
            count[where], total[where], low[where], high[where] = mc, mt, ml, mh
            stats[name] = (count, total, low, high)
        keys: dict[str, np.ndarray] = {}
        rest = packed.copy()
        for name, base, shift in reversed(list(zip(_KEY_COLUMNS, radix, _KEY_SHIFTS, strict=True))):
            keys[name] = rest % base - shift
            rest = rest // base
        cube = {"keys": keys, "metrics": {m: v for m, v in stats.items() if v[0].any()}}
        with self._lock:
            self._cubes[ordinal] = (now_ms, cube)
            while len(self._cubes) > MAX_CUBES:
                self._cubes.popitem(last=False)
        return cube


# A day's cube holds the buckets of its conversations' metrics: up to MAX_CONVERSATION_MS past midnight.
CUBE_BUCKETS = BUCKETS_PER_DAY + MAX_CONVERSATION_MS // BUCKET_MS + 1
# The time point at which each metric posts (see Block.emit_times); others post at the start.
METRIC_EMIT_POINT = {
    "nOutbound": "start", "nOutboundAttempted": "start", "nConversations": "start",
    "tDialing": "dial",
    "nOutboundConnected": "contact", "tContacting": "contact", "nOffered": "contact",
    "nOutboundAbandoned": "wait", "tAcd": "wait", "tWait": "wait", "tAbandon": "wait",
    "nConnected": "alert", "tAlert": "alert", "tAnswered": "alert",
    "tTalk": "talk", "tTalkComplete": "talk", "tHeld": "talk", "tHeldComplete": "talk", "tConnected": "talk",
    "tAcw": "end", "tHandle": "end",
}
_KEY_COLUMNS = ("bucket", "campaign", "queue", "media", "wrapup", "outbound")
_KEY_SHIFTS = (0, 1, 0, 0, 1, 0)  # campaign and wrap-up use -1 for "none": shift them into range
_NO_MIN = np.iinfo(np.int64).max
_Stats = tuple[np.ndarray, dict[str, tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]]]


def _reduce_stats(parts: list[_Stats]) -> _Stats:
    """Merge rows with equal packed keys: counts and sums add, mins and maxes combine."""
    keys = np.concatenate([p[0] for p in parts])
    uniq, inverse = np.unique(keys, return_inverse=True)
    size = len(uniq)
    merged: dict[str, tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]] = {}
    for name in parts[0][1]:
        count, total, low, high = (np.concatenate([p[1][name][k] for p in parts]) for k in range(4))
        vmin = np.full(size, _NO_MIN)
        vmax = np.full(size, -1, np.int64)
        np.minimum.at(vmin, inverse, low)
        np.maximum.at(vmax, inverse, high)
        merged[name] = (
            np.bincount(inverse, weights=count, minlength=size).astype(np.int64),
            np.bincount(inverse, weights=total, minlength=size),
            vmin,
            vmax,
        )
    return uniq, merged


# --- conversation JSON --------------------------------------------------------------------------


# Lookup tables of the vectorised string builders, as fixed-width integers so that one 1-D gather
# yields whole text fields: the 2 hex digits of a byte, "HH:MM:SS" of a second of the day (0.7 MB),
# and ".mmm" of a millisecond.
_HEX_PAIRS = np.frombuffer("".join(f"{i:02x}" for i in range(256)).encode(), "<u2")
_CLOCK_TIMES = np.frombuffer(
    "".join(f"{s // 3600:02d}:{s // 60 % 60:02d}:{s % 60:02d}" for s in range(86_400)).encode(), "<u8"
)
_MILLIS = np.frombuffer("".join(f".{i:03d}" for i in range(1000)).encode(), "<u4")
_ID_ROLES = ("conversation", "contact", "customer_participant", "customer_session", "dialer_participant",
             "dialer_session", "acd_participant", "acd_session", "agent_participant", "agent_session")


def _mix64(x: np.ndarray) -> np.ndarray:
    """splitmix64 finaliser, vectorised (uint64 arithmetic wraps as intended)."""
    x = (x ^ (x >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    x = (x ^ (x >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return x ^ (x >> np.uint64(31))


def _uuid_list(h1: np.ndarray, h2: np.ndarray, role: int) -> list[str]:
    """UUID-4-shaped ids for a whole block at once (one per conversation and role)."""
    with np.errstate(over="ignore"):
        salt = np.uint64((role * 0x9E3779B97F4A7C15) & 0xFFFFFFFFFFFFFFFF)
        a = _mix64(h1.astype(np.uint64) ^ salt) if role else h1.astype(np.uint64)
        b = _mix64(h2.astype(np.uint64) + salt) if role else h2.astype(np.uint64)
    raw = np.stack([a, b], axis=1).view(np.uint8).reshape(-1, 16).copy()
    raw[:, 6] = (raw[:, 6] & 0x0F) | 0x40
    raw[:, 8] = (raw[:, 8] & 0x3F) | 0x80
    digits = _HEX_PAIRS[raw].view(np.uint8).reshape(len(raw), 32)
    text = np.empty((len(raw), 37), np.uint8)
    for lo, hi, dst in ((0, 8, 0), (8, 12, 9), (12, 16, 14), (16, 20, 19), (20, 32, 24)):
        text[:, dst : dst + hi - lo] = digits[:, lo:hi]
    text[:, [8, 13, 18, 23]] = ord("-")
    text[:, 36] = ord("\n")
    return _lines(text)


def _lines(rows: np.ndarray) -> list[str]:
    """One str per row of an (n, width) ASCII array whose last column is a newline: decode once, then
    ``str.split`` (3x cheaper than slicing in a comprehension, 10x cheaper than astype('U'))."""
    return rows.tobytes().decode("ascii").split("\n")[:-1]


def _iso_list(ms: np.ndarray) -> list[str]:
    """Vectorised ``yyyy-MM-ddTHH:mm:ss.SSSZ`` strings for a whole block (ASCII built in numpy).

    A block spans a day or two, so the date part comes from a handful of cached prefixes; the time
    of day and the milliseconds are one table gather each.
    """
    n = len(ms)
    days, ms_of_day = np.divmod(ms.astype(np.int64), DAY_MS)
    unique_days, which = np.unique(days, return_inverse=True)
    prefixes = np.frombuffer("".join(_day_prefix(int(d)) + "T" for d in unique_days).encode("ascii"), np.uint8)
    seconds, millis = np.divmod(ms_of_day, 1000)
    text = np.empty((n, 25), np.uint8)
    text[:, 0:11] = prefixes.reshape(-1, 11)[which.ravel()]
    text[:, 11:19] = _CLOCK_TIMES[seconds].view(np.uint8).reshape(n, 8)
    text[:, 19:23] = _MILLIS[millis].view(np.uint8).reshape(n, 4)
    text[:, 23] = ord("Z")
    text[:, 24] = ord("\n")
    return _lines(text)


class BlockView:
    """A block's columns as Python lists and preformatted strings: the hot path of the details JSON.

    Time points of a conversation, in order: start, dial end, contact end, queue wait end, alert end,
    first talk end (hold start), hold end, talk end (wrap-up start), end.
    """

    def __init__(self, block: Block) -> None:
        b = block
        dial_end = b.start + b.t_dial
        contact_end = dial_end + b.t_contact
        wait_end = contact_end + b.t_wait
        alert_end = wait_end + b.t_alert
        first_talk_end = alert_end + b.t_talk // 2
        hold_end = first_talk_end + b.t_held
        talk_end = alert_end + b.t_talk + b.t_held
        self.points_ms = [a.tolist() for a in (b.start, dial_end, contact_end, wait_end, alert_end, first_talk_end, hold_end, talk_end, b.end)]
        self.points = [_iso_list(a) for a in (b.start, dial_end, contact_end, wait_end, alert_end, first_talk_end, hold_end, talk_end, b.end)]
        # The same per conversation (one tuple of 9 ISO strings each), for the JSON writer.
        self.point_rows: list[tuple[str, ...]] = list(zip(*self.points, strict=True))
        self.end = b.end.tolist()
        self.outbound = b.outbound.tolist()
        self.connected = b.connected.tolist()
        self.abandoned = b.abandoned.tolist()
        self.handled = b.handled.tolist()
        self.held = b.held.tolist()
        self.campaign = b.campaign.tolist()
        self.queue = b.queue.tolist()
        self.media = b.media.tolist()
        self.user = b.user.tolist()
        self.wrapup = b.wrapup.tolist()
        self.t_dial = b.t_dial.tolist()
        self.t_contact = b.t_contact.tolist()
        self.t_wait = b.t_wait.tolist()
        self.t_alert = b.t_alert.tolist()
        self.t_talk = b.t_talk.tolist()
        self.t_held = b.t_held.tolist()
        self.t_acw = b.t_acw.tolist()
        self.h1 = b.h1.tolist()
        self.h2 = b.h2.tolist()
        self.ids = {role: _uuid_list(b.h1, b.h2, n) for n, role in enumerate(_ID_ROLES)}
        self.phone = [f"tel:+1317555{h % 10_000:04d}" for h in self.h1]


# Views are ~2 MB of Python objects per block (columns are ~0.2 MB): keep only the latest few.
MAX_VIEWS = 32
_VIEWED: OrderedDict[int, Block] = OrderedDict()
_VIEWED_LOCK = threading.Lock()


def block_view(block: Block) -> BlockView:
    """The block's :class:`BlockView`, built on first use; the oldest views beyond MAX_VIEWS are dropped."""
    view = block.view
    if view is None:
        view = BlockView(block)
        block.view = view
        with _VIEWED_LOCK:
            _VIEWED[id(block)] = block
            while len(_VIEWED) > MAX_VIEWS:
                _, old = _VIEWED.popitem(last=False)
                old.view = None
    return view


def conversation_dict(synth: Synth, block: Block, i: int, now_ms: int, *, with_attributes: bool) -> dict[str, Any]:
    """The AnalyticsConversation JSON of conversation ``i`` (position in the block), built directly.

    ``with_attributes`` adds participant ``attributes`` (the async job's AnalyticsParticipant has them;
    the sync query's AnalyticsParticipantWithoutAttributes does not). Events after ``now_ms`` are not
    reported yet: an ongoing conversation has no ``conversationEnd``, open segments no ``segmentEnd``
    and the agent's end-of-work metrics (tTalk, tHeld, tAcw, tHandle) are missing.
    """
    v = block_view(block)
    org = synth.org
    h1 = v.h1[i]
    h2 = v.h2[i]
    p = [pts[i] for pts in v.points]
    pm = [pts[i] for pts in v.points_ms]
    done = v.end[i] <= now_ms
    outbound = v.outbound[i]
    connected = v.connected[i]
    media = MEDIA_TYPES[v.media[i]]
    queue_id = org.queue_ids[v.queue[i]]
    direction = "outbound" if outbound else "inbound"
    phone = v.phone[i]
    ids = v.ids
    base = {"mediaType": media, "direction": direction}
    campaign = org.campaigns[v.campaign[i]] if outbound else None
    if campaign is not None:
        base["outboundCampaignId"] = campaign.id
        base["outboundContactListId"] = campaign.contact_list_id
        base["outboundContactId"] = ids["contact"][i]

    def seg(kind: str, s: int, e: int) -> dict[str, Any]:
        if pm[e] <= now_ms:
            return {"segmentStart": p[s], "segmentEnd": p[e], "segmentType": kind}
        return {"segmentStart": p[s], "segmentType": kind}

    def disconnect(segment: dict[str, Any], how: str) -> None:
        # A segment only says how it ended once it has ended (an open segment has neither).
        if "segmentEnd" in segment:
            segment["disconnectType"] = how

    participants: list[dict[str, Any]] = []
    customer_session = {"sessionId": ids["customer_session"][i], **base, "ani": phone, "dnis": "tel:+13175550000"}
    customer = {"participantId": ids["customer_participant"][i], "participantName": "Customer", "purpose": "customer"}
    if with_attributes and campaign is not None:
        customer["attributes"] = {"outboundCampaign": campaign.id}
    customer["sessions"] = [customer_session]
    participants.append(customer)
    if outbound:
        dial = seg("dialing", 0, 1)
        metrics = [
            {"name": "nOutbound", "value": 1, "emitDate": p[0]},
            {"name": "nOutboundAttempted", "value": 1, "emitDate": p[0]},
            {"name": "tDialing", "value": v.t_dial[i], "emitDate": p[1]},
        ]
        segments = [dial]
        if connected:
            segments.append(seg("contacting", 1, 2))
            metrics.append({"name": "tContacting", "value": v.t_contact[i], "emitDate": p[2]})
            metrics.append({"name": "nOutboundConnected", "value": 1, "emitDate": p[2]})
            if v.abandoned[i]:
                metrics.append({"name": "nOutboundAbandoned", "value": 1, "emitDate": p[3]})
            # The customer answered at dial end and stays on the call until it ends.
            on_call = seg("interact", 1, 8)
            disconnect(on_call, "peer")
            customer_session["segments"] = [seg("dialing", 0, 1), on_call]
        else:
            # No answer / busy: both sides of the attempt end on the dialing segment, the same way.
            how = "peer" if h1 % 3 else "timeout"
            disconnect(dial, how)
            unanswered = seg("dialing", 0, 1)
            disconnect(unanswered, how)
            customer_session["segments"] = [unanswered]
        for segment in segments:  # the dialer works for the campaign's queue
            segment["queueId"] = queue_id
        participants.append({
            "participantId": ids["dialer_participant"][i],
            "participantName": campaign.id[:8] if campaign else "dialer",
            "purpose": "outbound",
            "sessions": [{
                "sessionId": ids["dialer_session"][i], **base, "dnis": phone,
                "dispositionAnalyzer": "disposition.classification.callable.live" if connected
                else "disposition.classification.callable.noanswer",
                "metrics": metrics, "segments": segments,
            }],
        })
    else:
        on_call = seg("interact", 0, 8)
        disconnect(on_call, "peer")
        customer_session["segments"] = [on_call]
    if connected:
        acd_segment = seg("interact", 2, 3)
        acd_segment["queueId"] = queue_id
        disconnect(acd_segment, "peer" if v.abandoned[i] else "transfer")
        acd_metrics = [
            {"name": "nOffered", "value": 1, "emitDate": p[2]},
            {"name": "tAcd", "value": v.t_wait[i], "emitDate": p[3]},
        ]
        if v.abandoned[i]:
            acd_metrics.append({"name": "tAbandon", "value": v.t_wait[i], "emitDate": p[3]})
        participants.append({
            "participantId": ids["acd_participant"][i],
            "participantName": "ACD",
            "purpose": "acd",
            "sessions": [{"sessionId": ids["acd_session"][i], **base, "metrics": acd_metrics, "segments": [acd_segment]}],
        })
    if v.handled[i]:
        talk, held, acw = v.t_talk[i], v.t_held[i], v.t_acw[i]
        segments = [seg("alert", 3, 4)]
        if held:
            segments += [seg("interact", 4, 5), seg("hold", 5, 6), seg("interact", 6, 7)]
        else:
            segments.append(seg("interact", 4, 7))
        wrap = seg("wrapup", 7, 8)
        if v.wrapup[i] >= 0:
            wrap["wrapUpCode"] = org.wrapup_code_ids[v.wrapup[i]]
        segments.append(wrap)
        for segment in segments:
            segment["queueId"] = queue_id
        metrics = [
            {"name": "tAlert", "value": v.t_alert[i], "emitDate": p[4]},
            {"name": "tAnswered", "value": v.t_wait[i] + v.t_alert[i], "emitDate": p[4]},
            {"name": "nConnected", "value": 1, "emitDate": p[4]},
        ]
        metrics.append({"name": "tTalk", "value": talk, "emitDate": p[7]})
        metrics.append({"name": "tTalkComplete", "value": talk, "emitDate": p[7]})
        if held:
            metrics.append({"name": "tHeld", "value": held, "emitDate": p[7]})
            metrics.append({"name": "tHeldComplete", "value": held, "emitDate": p[7]})
        metrics.append({"name": "tAcw", "value": acw, "emitDate": p[8]})
        metrics.append({"name": "tHandle", "value": talk + held + acw, "emitDate": p[8]})
        agent: dict[str, Any] = {
            "participantId": ids["agent_participant"][i],
            "participantName": f"Agent {v.user[i] + 1}",
            "purpose": "agent",
        }
        if org.user_ids:
            agent["userId"] = org.user_ids[v.user[i]]
        agent["sessions"] = [{"sessionId": ids["agent_session"][i], **base, "metrics": metrics, "segments": segments}]
        participants.append(agent)
    conversation: dict[str, Any] = {
        "conversationId": ids["conversation"][i],
        "conversationStart": p[0],
        "originatingDirection": direction,
        "conversationInitiator": "campaign" if outbound else "customer",
        "customerParticipation": connected,
        "divisionIds": [org.division_id],
    }
    if done:
        conversation["conversationEnd"] = p[8]
    if media == "voice" and connected:
        conversation["mediaStatsMinConversationMos"] = 4.2 + (h2 % 30) / 100
    conversation["participants"] = participants if done else _prune_future(participants, iso_ms(now_ms))
    return conversation


def _prune_future(participants: list[dict[str, Any]], now_iso: str) -> list[dict[str, Any]]:
    """Drop what has not happened yet from an ongoing conversation (ISO strings compare in time order)."""
    kept = []
    for participant in participants:
        for session in participant["sessions"]:
            session["segments"] = [s for s in session["segments"] if s["segmentStart"] <= now_iso]
            if "metrics" in session:
                session["metrics"] = [m for m in session["metrics"] if m["emitDate"] <= now_iso]
                if not session["metrics"]:
                    del session["metrics"]
        participant["sessions"] = [s for s in participant["sessions"] if s["segments"]]
        if participant["sessions"]:
            kept.append(participant)
    return kept


# --- the org adapter ----------------------------------------------------------------------------

# Inbound media mixes given to the org's queues in turn (the org itself models outbound only).
_INBOUND_MEDIA: tuple[tuple[str, ...], ...] = (
    ("voice", "callback"),
    ("voice", "chat", "message"),
    ("email",),
    ("voice", "chat", "email", "message", "callback"),
)


def synth_org_from(org: Any) -> SynthOrg:
    """Read what the generator needs from ``genesys_sandbox.org.Org`` (campaign profiles, queues, ...)."""
    campaigns = tuple(
        SynthCampaign(
            id=cid,
            contact_list_id=campaign["contactList"]["id"],
            queue_id=(campaign.get("queue") or {}).get("id") or org.queues[0]["id"],
            connect_rate=org.profiles[cid].connect_rate,
            weight=org.profiles[cid].weight,
            success_rate=org.profiles[cid].success_rate,
        )
        for cid, campaign in org.campaigns.items()
    )
    fixtures = getattr(org, "fixtures", {})
    dialer_only = fixtures.get("no_planning_group_queue")
    inbound = tuple(
        SynthQueue(id=q["id"], media_types=_INBOUND_MEDIA[i % len(_INBOUND_MEDIA)], weight=1.0 + (i % 3) * 0.5)
        for i, q in enumerate(q for q in org.queues if q["id"] != dialer_only)
    )
    return SynthOrg(
        campaigns=campaigns,
        inbound_queues=inbound,
        wrapup_code_ids=tuple(code["id"] for code in org.wrapup_codes),
        user_ids=tuple(user["id"] for user in org.users),
        division_id=org.divisions[0]["id"] if org.divisions else "",
        anomaly_campaign_id=fixtures.get("anomaly_campaign"),
        anomaly_date=date.fromisoformat(org.anomaly_day) if getattr(org, "anomaly_day", None) else None,
        success_wrapup_code_ids=tuple(sorted(org.success_code_ids())),
    )
