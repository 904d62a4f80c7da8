"""The async details hot path: a finished conversation's JSON written straight from the block's columns.

:func:`genesys_sandbox.synth.conversation_dict` builds nested dicts that msgspec then encodes;
at 2-3 kB of JSON per conversation that costs ~35 µs a conversation, most of the sandbox's time
when a pipeline pulls a day of details. :func:`conversation_json` writes the *same bytes* (same key
order, same number formatting) with string templates in ~10 µs. It covers conversations that ended
by ``now_ms`` (all of a closed day); ongoing ones, whose JSON depends on which events already
happened, go through ``conversation_dict`` and msgspec as before.

``tests/sandbox/test_synth_json.py`` holds the two paths byte-identical over thousands of
conversations, and ``test_results_digest.py`` pins whole results pages.
"""

from __future__ import annotations

from dataclasses import dataclass

import msgspec

from genesys_sandbox.synth import MEDIA_TYPES, Block, BlockView, Synth, block_view, conversation_dict

_ENCODER = msgspec.json.Encoder()
_DNIS = "tel:+13175550000"


def _q(text: str) -> str:
    """``text`` as a JSON string literal (org strings are escaped exactly as msgspec would)."""
    return _ENCODER.encode(text).decode()


@dataclass(frozen=True)
class _OrgStrings:
    """The org's ids as JSON literals, built once per :class:`Synth`."""

    campaign_ids: tuple[str, ...]
    contact_list_ids: tuple[str, ...]
    dialer_names: tuple[str, ...]
    queue_ids: tuple[str, ...]
    wrapup_ids: tuple[str, ...]
    user_ids: tuple[str, ...]
    division: str
    media: tuple[str, ...]
    # mediaStatsMinConversationMos takes 30 values: 4.2 + k / 100, formatted as msgspec formats floats.
    mos: tuple[str, ...]


def _org_strings(synth: Synth) -> _OrgStrings:
    tables: _OrgStrings | None = synth.json_strings
    if tables is None:
        org = synth.org
        tables = _OrgStrings(
            campaign_ids=tuple(_q(c.id) for c in org.campaigns),
            contact_list_ids=tuple(_q(c.contact_list_id) for c in org.campaigns),
            dialer_names=tuple(_q(c.id[:8]) for c in org.campaigns),
            queue_ids=tuple(_q(q) for q in org.queue_ids),
            wrapup_ids=tuple(_q(w) for w in org.wrapup_code_ids),
            user_ids=tuple(_q(u) for u in org.user_ids),
            division=_q(org.division_id),
            media=tuple(_q(m) for m in MEDIA_TYPES),
            mos=tuple(_ENCODER.encode(4.2 + k / 100).decode() for k in range(30)),
        )
        synth.json_strings = tables
    return tables


def conversation_json(synth: Synth, block: Block, i: int, now_ms: int) -> bytes:
    """The async job's AnalyticsConversation JSON (participants with attributes) of conversation ``i``.

    Byte-identical to ``msgspec.json.encode(conversation_dict(..., with_attributes=True))``.
    """
    v = block_view(block)
    if v.end[i] > now_ms:  # ongoing: which events are reported depends on now_ms
        return _ENCODER.encode(conversation_dict(synth, block, i, now_ms, with_attributes=True))
    s = _org_strings(synth)
    p0, p1, p2, p3, p4, p5, p6, p7, p8 = v.point_rows[i]
    ids = v.ids
    outbound = v.outbound[i]
    connected = v.connected[i]
    abandoned = v.abandoned[i]
    media = v.media[i]
    queue = s.queue_ids[v.queue[i]]
    phone = v.phone[i]
    if outbound:
        camp = v.campaign[i]
        campaign_id = s.campaign_ids[camp]
        base = (
            f'"mediaType":{s.media[media]},"direction":"outbound","outboundCampaignId":{campaign_id},'
            f'"outboundContactListId":{s.contact_list_ids[camp]},"outboundContactId":"{ids["contact"][i]}"'
        )
        metrics = (
            f'{{"name":"nOutbound","value":1,"emitDate":"{p0}"}},{{"name":"nOutboundAttempted","value":1,"emitDate":"{p0}"}},'
            f'{{"name":"tDialing","value":{v.t_dial[i]},"emitDate":"{p1}"}}'
        )
        if connected:
            metrics += (
                f',{{"name":"tContacting","value":{v.t_contact[i]},"emitDate":"{p2}"}}'
                f',{{"name":"nOutboundConnected","value":1,"emitDate":"{p2}"}}'
            )
            if abandoned:
                metrics += f',{{"name":"nOutboundAbandoned","value":1,"emitDate":"{p3}"}}'
            segments = (
                f'{{"segmentStart":"{p0}","segmentEnd":"{p1}","segmentType":"dialing","queueId":{queue}}},'
                f'{{"segmentStart":"{p1}","segmentEnd":"{p2}","segmentType":"contacting","queueId":{queue}}}'
            )
            # The customer answered at dial end and stays on the call until it ends.
            customer_segments = (
                f'{{"segmentStart":"{p0}","segmentEnd":"{p1}","segmentType":"dialing"}},'
                f'{{"segmentStart":"{p1}","segmentEnd":"{p8}","segmentType":"interact","disconnectType":"peer"}}'
            )
            analyzer = "disposition.classification.callable.live"
        else:
            # No answer / busy: both sides of the attempt end on the dialing segment, the same way.
            disconnect = "peer" if v.h1[i] % 3 else "timeout"
            segments = (
                f'{{"segmentStart":"{p0}","segmentEnd":"{p1}","segmentType":"dialing",'
                f'"disconnectType":"{disconnect}","queueId":{queue}}}'
            )
            customer_segments = (
                f'{{"segmentStart":"{p0}","segmentEnd":"{p1}","segmentType":"dialing","disconnectType":"{disconnect}"}}'
            )
            analyzer = "disposition.classification.callable.noanswer"
        customer = (
            f'{{"participantId":"{ids["customer_participant"][i]}","participantName":"Customer","purpose":"customer",'
            f'"attributes":{{"outboundCampaign":{campaign_id}}},"sessions":[{{"sessionId":"{ids["customer_session"][i]}",'
            f'{base},"ani":"{phone}","dnis":"{_DNIS}","segments":[{customer_segments}]}}]}}'
        )
        participants = [
            customer,
            f'{{"participantId":"{ids["dialer_participant"][i]}","participantName":{s.dialer_names[camp]},'
            f'"purpose":"outbound","sessions":[{{"sessionId":"{ids["dialer_session"][i]}",{base},"dnis":"{phone}",'
            f'"dispositionAnalyzer":"{analyzer}","metrics":[{metrics}],"segments":[{segments}]}}]}}',
        ]
        direction = "outbound"
        initiator = "campaign"
    else:
        base = f'"mediaType":{s.media[media]},"direction":"inbound"'
        participants = [
            f'{{"participantId":"{ids["customer_participant"][i]}","participantName":"Customer","purpose":"customer",'
            f'"sessions":[{{"sessionId":"{ids["customer_session"][i]}",{base},"ani":"{phone}","dnis":"{_DNIS}",'
            f'"segments":[{{"segmentStart":"{p0}","segmentEnd":"{p8}","segmentType":"interact","disconnectType":"peer"}}]}}]}}'
        ]
        direction = "inbound"
        initiator = "customer"
    if connected:
        t_wait = v.t_wait[i]
        acd_metrics = f'{{"name":"nOffered","value":1,"emitDate":"{p2}"}},{{"name":"tAcd","value":{t_wait},"emitDate":"{p3}"}}'
        if abandoned:
            acd_metrics += f',{{"name":"tAbandon","value":{t_wait},"emitDate":"{p3}"}}'
        participants.append(
            f'{{"participantId":"{ids["acd_participant"][i]}","participantName":"ACD","purpose":"acd",'
            f'"sessions":[{{"sessionId":"{ids["acd_session"][i]}",{base},"metrics":[{acd_metrics}],'
            f'"segments":[{{"segmentStart":"{p2}","segmentEnd":"{p3}","segmentType":"interact","queueId":{queue},'
            f'"disconnectType":"{"peer" if abandoned else "transfer"}"}}]}}]}}'
        )
    if v.handled[i]:
        participants.append(_agent_json(s, v, i, base, queue, (p3, p4, p5, p6, p7, p8)))
    text = (
        f'{{"conversationId":"{ids["conversation"][i]}","conversationStart":"{p0}",'
        f'"originatingDirection":"{direction}","conversationInitiator":"{initiator}",'
        f'"customerParticipation":{"true" if connected else "false"},"divisionIds":[{s.division}],'
        f'"conversationEnd":"{p8}",'
    )
    if media == 0 and connected:  # MEDIA_TYPES[0] == "voice"
        text += f'"mediaStatsMinConversationMos":{s.mos[v.h2[i] % 30]},'
    return (text + '"participants":[' + ",".join(participants) + "]}").encode()


def _agent_json(s: _OrgStrings, v: BlockView, i: int, base: str, queue: str, points: tuple[str, ...]) -> str:
    """The agent participant of a handled conversation (alert, talk with optional hold, wrap-up)."""
    p3, p4, p5, p6, p7, p8 = points
    ids = v.ids
    talk, held, acw = v.t_talk[i], v.t_held[i], v.t_acw[i]
    t_alert = v.t_alert[i]
    segments = f'{{"segmentStart":"{p3}","segmentEnd":"{p4}","segmentType":"alert","queueId":{queue}}},'
    if held:
        segments += (
            f'{{"segmentStart":"{p4}","segmentEnd":"{p5}","segmentType":"interact","queueId":{queue}}},'
            f'{{"segmentStart":"{p5}","segmentEnd":"{p6}","segmentType":"hold","queueId":{queue}}},'
            f'{{"segmentStart":"{p6}","segmentEnd":"{p7}","segmentType":"interact","queueId":{queue}}},'
        )
    else:
        segments += f'{{"segmentStart":"{p4}","segmentEnd":"{p7}","segmentType":"interact","queueId":{queue}}},'
    wrapup = v.wrapup[i]
    code = f'"wrapUpCode":{s.wrapup_ids[wrapup]},' if wrapup >= 0 else ""
    segments += f'{{"segmentStart":"{p7}","segmentEnd":"{p8}","segmentType":"wrapup",{code}"queueId":{queue}}}'
    metrics = (
        f'{{"name":"tAlert","value":{t_alert},"emitDate":"{p4}"}},'
        f'{{"name":"tAnswered","value":{v.t_wait[i] + t_alert},"emitDate":"{p4}"}},'
        f'{{"name":"nConnected","value":1,"emitDate":"{p4}"}},'
        f'{{"name":"tTalk","value":{talk},"emitDate":"{p7}"}},{{"name":"tTalkComplete","value":{talk},"emitDate":"{p7}"}}'
    )
    if held:
        metrics += f',{{"name":"tHeld","value":{held},"emitDate":"{p7}"}},{{"name":"tHeldComplete","value":{held},"emitDate":"{p7}"}}'
    metrics += f',{{"name":"tAcw","value":{acw},"emitDate":"{p8}"}},{{"name":"tHandle","value":{talk + held + acw},"emitDate":"{p8}"}}'
    user = v.user[i]
    user_id = f'"userId":{s.user_ids[user]},' if s.user_ids else ""
    return (
        f'{{"participantId":"{ids["agent_participant"][i]}","participantName":"Agent {user + 1}","purpose":"agent",'
        f'{user_id}"sessions":[{{"sessionId":"{ids["agent_session"][i]}",{base},"metrics":[{metrics}],'
        f'"segments":[{segments}]}}]}}'
    )
