"""Realistic details-query conversations (the API's camelCase JSON, optional fields omitted)."""

from __future__ import annotations

from typing import Any

Q_SALES = "11111111-1111-4111-8111-111111111111"
Q_SUPPORT = "22222222-2222-4222-8222-222222222222"
Q_OVERFLOW = "33333333-3333-4333-8333-333333333333"


def metric(name: str, value: int) -> dict[str, Any]:
    return {"name": name, "value": value, "emitDate": "2026-06-10T09:00:00.000Z"}


def conversation(
    cid: str,
    start: str,
    end: str | None,
    participants: list[dict[str, Any]],
    direction: str = "inbound",
) -> dict[str, Any]:
    conv: dict[str, Any] = {
        "conversationId": cid,
        "conversationStart": start,
        "originatingDirection": direction,
        "divisionIds": ["d0000000-0000-4000-8000-000000000000"],
        "participants": participants,
    }
    if end is not None:
        conv["conversationEnd"] = end
    return conv


def customer(media: str = "voice") -> dict[str, Any]:
    return {
        "participantId": "p-cust",
        "purpose": "customer",
        "sessions": [
            {
                "sessionId": "s-cust",
                "mediaType": media,
                "direction": "inbound",
                "ani": "tel:+15550100",
                "segments": [
                    {"segmentStart": "2026-06-10T08:00:00.000Z", "segmentEnd": "2026-06-10T08:10:00.000Z",
                     "segmentType": "interact"}
                ],
            }
        ],
    }


def acd(queue: str, at: str, media: str = "voice") -> dict[str, Any]:
    return {
        "participantId": f"p-acd-{queue[:2]}-{at[-9:-5]}",
        "participantName": "Queue",
        "purpose": "acd",
        "sessions": [
            {
                "sessionId": f"s-acd-{queue[:2]}",
                "mediaType": media,
                "direction": "inbound",
                "metrics": [metric("tAcd", 20000)],
                "segments": [
                    {"segmentStart": at, "segmentEnd": at, "segmentType": "delay", "queueId": queue}
                ],
            }
        ],
    }


def agent(
    user: str,
    queue: str | None,
    at: str,
    talk: int | None,
    hold: int | None,
    acw: int | None,
    wrap: str | None,
    media: str = "voice",
) -> dict[str, Any]:
    metrics = [metric(n, v) for n, v in (("tTalk", talk), ("tHeld", hold), ("tAcw", acw)) if v is not None]
    segments: list[dict[str, Any]] = [{"segmentStart": at, "segmentType": "interact", **({"queueId": queue} if queue else {})}]
    if wrap:
        segments.append({"segmentStart": at, "segmentType": "wrapup", "wrapUpCode": wrap,
                         **({"queueId": queue} if queue else {})})
    session: dict[str, Any] = {"sessionId": f"s-{user}", "mediaType": media, "direction": "inbound",
                               "segments": segments}
    if metrics:
        session["metrics"] = metrics
    return {"participantId": f"p-{user}", "purpose": "agent", "userId": user, "sessions": [session]}


def sample_conversations() -> list[dict[str, Any]]:
    """Five conversations with hand-checkable figures (see test_aggregate for the expected report).

    c1 voice, sales, 600 s, one agent: talk 400 s, hold 60 s, acw 30 s, wrap W1.
    c2 voice, queued to support first then transferred to sales (two acd + two agent sessions):
       attributed to support; 300 s; talk 100+50 s, hold 0+30 s, acw 10+20 s; wraps W2, W1.
    c3 chat, sales, 120 s, agent without metrics (missing optional fields), no wrap-up.
    c4 voice, never queued (IVR only, customer + ivr participants), 60 s.
    c5 voice, sales, still in progress (no conversationEnd): counted, not in durations/ratios.
    """
    c1 = conversation("c1", "2026-06-10T08:00:00.000Z", "2026-06-10T08:10:00.000Z", [
        customer(), acd(Q_SALES, "2026-06-10T08:00:05.000Z"),
        agent("u1", Q_SALES, "2026-06-10T08:00:25.000Z", 400_000, 60_000, 30_000, "W1"),
    ])
    c2 = conversation("c2", "2026-06-10T09:00:00.000Z", "2026-06-10T09:05:00.000Z", [
        customer(),
        acd(Q_SALES, "2026-06-10T09:02:00.000Z"),  # listed first, but the later queue
        acd(Q_SUPPORT, "2026-06-10T09:00:10.000Z"),
        agent("u2", Q_SUPPORT, "2026-06-10T09:00:30.000Z", 100_000, 0, 10_000, "W2"),
        agent("u3", Q_SALES, "2026-06-10T09:02:10.000Z", 50_000, 30_000, 20_000, "W1"),
    ])
    c3 = conversation("c3", "2026-06-10T10:00:00.000Z", "2026-06-10T10:02:00.000Z", [
        customer("chat"), acd(Q_SALES, "2026-06-10T10:00:01.000Z", "chat"),
        agent("u4", Q_SALES, "2026-06-10T10:00:05.000Z", None, None, None, None, "chat"),
    ])
    c4 = conversation("c4", "2026-06-10T11:00:00.000Z", "2026-06-10T11:01:00.000Z", [
        customer(),
        {"participantId": "p-ivr", "purpose": "ivr", "sessions": [
            {"sessionId": "s-ivr", "mediaType": "voice",
             "segments": [{"segmentStart": "2026-06-10T11:00:00.000Z", "segmentType": "ivr"}]}]},
    ])
    c5 = conversation("c5", "2026-06-10T12:00:00.000Z", None, [
        customer(), acd(Q_SALES, "2026-06-10T12:00:02.000Z"),
        agent("u1", Q_SALES, "2026-06-10T12:00:20.000Z", 5_000, None, None, None),
    ])
    return [c1, c2, c3, c4, c5]


def random_conversations(seed: int, n: int, seconds: int = 40) -> list[dict[str, Any]]:
    """``n`` irregular conversations for property-style tests: starts packed into ``seconds`` seconds (so
    many share a millisecond), 0-4 participants of 0-3 sessions, optional fields missing at random, null
    and empty values, repeated metrics, several queued sessions with ties and null segment starts."""
    import random

    rng = random.Random(seed)
    queues = [Q_SALES, Q_SUPPORT, Q_OVERFLOW, ""]
    medias = ["voice", "chat", "email", None]

    def maybe(value: Any, p: float = 0.8) -> Any:
        return value if rng.random() < p else None

    def session(i: int, j: int, k: int) -> dict[str, Any]:
        segments = []
        for s in range(rng.randrange(0, 4)):
            seg: dict[str, Any] = {"segmentStart": maybe(f"2026-06-10T09:{rng.randrange(2):02d}:00.000Z"),
                                   "segmentType": "interact"}
            if rng.random() < 0.6:
                seg["queueId"] = rng.choice(queues)
            if rng.random() < 0.3:
                seg["wrapUpCode"] = rng.choice(["W1", "W2", "W3", ""])
            segments.append({k2: v for k2, v in seg.items() if v is not None} if s % 2 else seg)
        metrics = [{"name": rng.choice(["tTalk", "tHeld", "tAcw", "tHandle", "nOffered"]),
                    "value": rng.choice([0, 1_000, 25_000, None])} for _ in range(rng.randrange(0, 5))]
        out: dict[str, Any] = {"sessionId": f"s{i}-{j}-{k}", "mediaType": rng.choice(medias),
                               "direction": maybe("inbound"), "outboundCampaignId": maybe("camp-1", 0.2),
                               "segments": segments, "metrics": metrics}
        return {key: value for key, value in out.items() if value is not None or rng.random() < 0.5}

    conversations = []
    for i in range(n):
        start = rng.randrange(seconds)
        participants = [
            {"participantId": f"p{i}-{j}", "purpose": rng.choice(["customer", "acd", "agent", "ivr", None]),
             "userId": maybe(f"u{rng.randrange(5)}", 0.5),
             "sessions": [session(i, j, k) for k in range(rng.randrange(0, 4))]}
            for j in range(rng.randrange(0, 5))
        ]
        conv: dict[str, Any] = {"conversationId": f"c{rng.randrange(10**6):06d}-{i}",
                                "conversationStart": f"2026-06-10T08:00:{start:02d}.{rng.randrange(3):03d}Z",
                                "originatingDirection": rng.choice(["inbound", "outbound", None]),
                                "participants": participants}
        if rng.random() < 0.9:
            conv["conversationEnd"] = f"2026-06-10T08:{10 + rng.randrange(40):02d}:00.000Z"
        conversations.append(conv)
    return conversations
