"""Conversation analytics models: aggregates, details (sync and async jobs) and data availability.

Names, JSON fields and enums follow PureCloudPlatformClientV2 269.0.0 (`models/conversation_*.py`,
`analytics_*.py`, `async_query_*.py`). Only the fields the pipelines and the sandbox use are declared;
`GenesysModel` keeps any other field the API sends.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal, get_args

from pydantic import Field

from genesys_pipelines.models.common import GenesysModel

FilterType = Literal["and", "or"]
PredicateType = Literal["dimension", "property", "metric"]
Operator = Literal["matches", "exists", "notExists"]
Order = Literal["asc", "desc", "unordered"]
OrderBy = Literal["conversationStart", "conversationEnd", "segmentStart", "segmentEnd"]
MediaType = Literal[
    "callback", "chat", "cobrowse", "email", "internalmessage", "message", "screenmonitoring",
    "screenshare", "unknown", "video", "voice",
]
Purpose = Literal[
    "acd", "agent", "api", "botflow", "campaign", "customer", "dialer", "external", "fax", "group",
    "inbound", "ivr", "manual", "outbound", "station", "user", "voicemail", "voicesurveyflow", "workflow",
]
Direction = Literal["inbound", "outbound"]
SegmentType = Literal[
    "alert", "barging", "callback", "coaching", "contacting", "converting", "delay", "dialing", "hold",
    "interact", "ivr", "monitoring", "parked", "scheduled", "screenmonitoring", "sharing", "system",
    "transmitting", "unknown", "uploading", "voicemail", "wrapup",
]
DisconnectType = Literal[
    "client", "conferenceTransfer", "consultTransfer", "dndEndpoint", "dndTransfer", "endpoint", "error",
    "forwardTransfer", "inactivity", "noAnswerTransfer", "notAvailableTransfer", "other", "peer",
    "sessionExpired", "spam", "system", "takeover", "timeout", "transfer", "transportFailure", "uncallable",
]
JobState = Literal["QUEUED", "PENDING", "FAILED", "CANCELLED", "FULFILLED", "EXPIRED"]
# Filter dimensions the SDK accepts (details conversation filters, details segment filters).
CONVERSATION_DIMENSIONS: frozenset[str] = frozenset({
    "accessAttribute", "conversationEnd", "conversationId", "conversationInitiator", "conversationStart",
    "customerParticipation", "divisionId", "externalTag", "mediaStatsMinConversationMos", "originatingDirection",
    "originatingSocialMediaPublic",
})
SEGMENT_DIMENSIONS: frozenset[str] = frozenset({
    "addressFrom", "addressTo", "agentAssistantId", "agentOwned", "ani", "authenticated", "bargedParticipantId",
    "callbackNumber", "callbackScheduledTime", "canonicalExternalContactId", "cleared", "coachedParticipantId",
    "conference", "deliveryPushed", "deliveryStatus", "destinationAddress", "destinationConversationId",
    "detectedSpeechEnd", "detectedSpeechStart", "direction", "disconnectType", "dnis", "edgeId",
    "engagementSource", "errorCode", "exitReason", "extendedDeliveryStatus", "externalContactId",
    "externalOrganizationId", "flaggedReason", "flowId", "flowName", "flowOutType", "flowOutcome",
    "flowOutcomeId", "flowOutcomeValue", "flowVersion", "groupId", "journeyActionId", "journeyActionMapId",
    "journeyCustomerId", "journeyCustomerIdType", "journeyCustomerSessionId", "mediaCount", "mediaType",
    "messageType", "monitoredParticipantId", "outboundCampaignId", "outboundContactId", "outboundContactListId",
    "participantName", "protocolCallId", "provider", "purpose", "queueId", "recording", "remote",
    "remoteNameDisplayable", "requestedLanguageId", "requestedRouting", "requestedRoutingSkillId",
    "scoredAgentId", "screenMonitoredUserId", "screenRecording", "scriptId", "segmentEnd", "segmentType",
    "sessionDnis", "sipResponseCode", "skillExpressionId", "snippetRecording", "subject", "teamId",
    "transferTargetAddress", "transferTargetName", "transferType", "usedRouting", "userId", "wrapUpCode",
    "wrapUpNote",
})
# Metric names of the aggregates query (SDK ConversationAggregationView.target, 82 values).
AGGREGATE_METRICS: frozenset[str] = frozenset({
    "nAgentDeclined", "nAlertExpired", "nBlindTransferred", "nBotInteractions", "nCallbackAttempts",
    "nCallbackOverSla", "nCallbackScheduled", "nCfcOffered", "nCobrowseSessions", "nConnected", "nConsult",
    "nConsultTransferred", "nConversations", "nError", "nOffered", "nOutbound", "nOutboundAbandoned",
    "nOutboundAttempted", "nOutboundConnected", "nOverSla", "nStateTransitionError", "nTakeover", "nTransferred",
    "oAudioMessageCount", "oCallbackServiceLevel", "oExternalAudioMessageCount", "oExternalMediaCount",
    "oMediaCount", "oMessageCount", "oMessageSegmentCount", "oMessageTurn", "oServiceLevel", "oServiceTarget",
    "oSkillExpressionApplications", "tAbandon", "tAcd", "tActiveCallback", "tActiveCallbackComplete", "tAcw",
    "tAgentResponseTime", "tAgentVideoConnected", "tAlert", "tAnswered", "tAverageAgentResponseTime",
    "tAverageCustomerResponseTime", "tBarging", "tCallbackAbandon", "tCallbackConnect", "tCallbackNotReached",
    "tCallbackVirtualWait", "tCfcAbandon", "tCfcAcd", "tCfcAnswered", "tCfcFlowOut", "tCoaching",
    "tCoachingComplete", "tConnected", "tContacting", "tDialing", "tFirstConnect", "tFirstDial", "tFirstEngagement",
    "tFirstResponse", "tFlowOut", "tHandle", "tHeld", "tHeldComplete", "tIvr", "tMonitoring", "tMonitoringComplete",
    "tNotResponding", "tPark", "tParkComplete", "tScreenMonitoring", "tShortAbandon", "tSnippetRecord", "tTalk",
    "tTalkComplete", "tTransmitting", "tUserResponseTime", "tVoicemail", "tWait",
})
# groupBy and filter dimensions of the aggregates query (SDK ConversationAggregateQueryPredicate.dimension).
AGGREGATE_DIMENSIONS: frozenset[str] = frozenset({
    "activeRouting", "activeSkillId", "addressFrom", "addressTo", "agentAssistantId", "agentBullseyeRing",
    "agentOwned", "agentRank", "agentScore", "ani", "assignerId", "authenticated", "canonicalExternalContactId",
    "conversationId", "conversationInitiator", "convertedFrom", "convertedTo", "customerParticipation",
    "deliveryStatus", "destinationAddress", "direction", "disconnectType", "divisionId", "dnis", "edgeId",
    "eligibleAgentCount", "errorCode", "extendedDeliveryStatus", "externalContactId", "externalMediaCount",
    "externalOrganizationId", "externalTag", "firstQueue", "flaggedReason", "flowInType", "flowOutType", "groupId",
    "interactionType", "journeyActionId", "journeyActionMapId", "journeyActionMapVersion", "journeyCustomerId",
    "journeyCustomerIdType", "journeyCustomerSessionId", "journeyCustomerSessionIdType", "knowledgeBaseId",
    "mediaCount", "mediaType", "messageType", "originatingDirection", "originatingSocialMediaPublic",
    "outboundCampaignId", "outboundContactId", "outboundContactListId", "participantName", "peerId",
    "proposedAgentId", "provider", "purpose", "queueId", "remote", "removedSkillId", "requestedLanguageId",
    "requestedRouting", "requestedRoutingSkillId", "roomId", "routingPriority", "routingRing", "routingRule",
    "routingRuleType", "scoredAgentId", "selectedAgentId", "selectedAgentRank", "selfServed", "sessionDnis",
    "sessionId", "skillExpressionId", "stationId", "teamId", "usedRouting", "userId", "videoPresent",
    "waitingInteractionCount", "wrapUpCode",
})
# Dimensions whose values are an SDK enum: a filter value outside it is refused by the API (400).
DIMENSION_VALUES: dict[str, frozenset[str]] = {
    "mediaType": frozenset(get_args(MediaType)),
    "purpose": frozenset(get_args(Purpose)),
    "direction": frozenset(get_args(Direction)),
    "originatingDirection": frozenset(get_args(Direction)),
    "segmentType": frozenset(get_args(SegmentType)),
    "disconnectType": frozenset(get_args(DisconnectType)),
}
TERMINAL_JOB_STATES: frozenset[str] = frozenset({"FAILED", "CANCELLED", "FULFILLED", "EXPIRED"})


class NumericRange(GenesysModel):
    gt: float | None = None
    gte: float | None = None
    lt: float | None = None
    lte: float | None = None


# --- filters (shared shape across aggregates, conversation and segment filters) -----------------


class QueryPredicate(GenesysModel):
    """One predicate; `type` and `operator` are optional (operator defaults to `matches`)."""

    type: PredicateType | None = None
    dimension: str | None = None
    metric: str | None = None
    operator: Operator | None = None
    value: str | None = None
    range: NumericRange | None = None


class SegmentDetailQueryPredicate(QueryPredicate):
    property_type: Literal["bool", "integer", "real", "date", "string", "uuid"] | None = None
    # `property` is the JSON name (the SDK calls the attribute pcProperty).
    property_: str | None = Field(default=None, alias="property")


class QueryClause(GenesysModel):
    type: FilterType
    predicates: list[QueryPredicate]


class QueryFilter(GenesysModel):
    type: FilterType
    clauses: list[QueryClause] | None = None
    predicates: list[QueryPredicate] | None = None


class SegmentDetailQueryClause(GenesysModel):
    type: FilterType
    predicates: list[SegmentDetailQueryPredicate]


class SegmentDetailQueryFilter(GenesysModel):
    type: FilterType
    clauses: list[SegmentDetailQueryClause] | None = None
    predicates: list[SegmentDetailQueryPredicate] | None = None


# SDK names for the same shapes, so callers can use the names they find in the SDK docs.
ConversationAggregateQueryPredicate = QueryPredicate
ConversationAggregateQueryClause = QueryClause
ConversationAggregateQueryFilter = QueryFilter
ConversationDetailQueryPredicate = QueryPredicate
ConversationDetailQueryClause = QueryClause
ConversationDetailQueryFilter = QueryFilter


# --- aggregates ----------------------------------------------------------------------------------


class ConversationAggregationView(GenesysModel):
    target: str
    name: str
    function: Literal["rangeBound"] | None = None
    range: NumericRange | None = None


class ConversationAggregationSort(GenesysModel):
    name: str | None = None
    function: Literal["average", "count", "max", "min", "sum"] | None = None


class ConversationAggregationQuery(GenesysModel):
    interval: str
    granularity: str | None = None
    time_zone: str | None = None
    group_by: list[str] | None = None
    filter: QueryFilter | None = None
    metrics: list[str]
    flatten_multivalued_dimensions: bool | None = None
    views: list[ConversationAggregationView] | None = None
    alternate_time_dimension: Literal["eventTime"] | None = None
    query_type: Literal["bottomN", "groupBy", "topN"] | None = None
    sort_metric: ConversationAggregationSort | None = None
    limit: int | None = None


class ConversationAsyncAggregationQuery(ConversationAggregationQuery):
    page_size: int | None = None


class StatisticalSummary(GenesysModel):
    max: float | None = None
    min: float | None = None
    count: int | None = None
    count_negative: int | None = None
    count_positive: int | None = None
    sum: float | None = None
    current: float | None = None
    ratio: float | None = None
    numerator: float | None = None
    denominator: float | None = None
    target: float | None = None
    p95: int | None = None
    p99: int | None = None
    calculated_metric_value: int | None = None


class AggregateMetricData(GenesysModel):
    metric: str
    qualifier: str | None = None
    stats: StatisticalSummary


class AggregateViewData(GenesysModel):
    name: str
    stats: StatisticalSummary


class StatisticalResponse(GenesysModel):
    interval: str
    metrics: list[AggregateMetricData] | None = None
    views: list[AggregateViewData] | None = None


class ConversationAggregateDataContainer(GenesysModel):
    group: dict[str, str] | None = None
    data: list[StatisticalResponse] | None = None


class ConversationAggregateQueryResponse(GenesysModel):
    results: list[ConversationAggregateDataContainer] | None = None


class ConversationAsyncAggregateQueryResponse(ConversationAggregateQueryResponse):
    cursor: str | None = None


# --- details -------------------------------------------------------------------------------------


class PagingSpec(GenesysModel):
    page_size: int
    page_number: int


class AnalyticsQueryAggregation(GenesysModel):
    type: Literal["termFrequency", "numericRange"] | None = None
    dimension: str | None = None
    metric: str | None = None
    size: int | None = None
    ranges: list[NumericRange] | None = None


class _DetailQueryBase(GenesysModel):
    interval: str
    conversation_filters: list[QueryFilter] | None = None
    segment_filters: list[SegmentDetailQueryFilter] | None = None
    evaluation_filters: list[QueryFilter] | None = None
    survey_filters: list[QueryFilter] | None = None
    resolution_filters: list[QueryFilter] | None = None
    order: Order | None = None
    order_by: OrderBy | None = None


class ConversationQuery(_DetailQueryBase):
    """Body of the synchronous details query (body paging, no cursor)."""

    aggregations: list[AnalyticsQueryAggregation] | None = None
    paging: PagingSpec | None = None


class AsyncConversationQuery(_DetailQueryBase):
    """Body of an async details job: no `paging`; `limit` and `startOfDayIntervalMatching` instead."""

    limit: int | None = None
    start_of_day_interval_matching: bool | None = None


class AnalyticsSessionMetric(GenesysModel):
    name: str
    value: int
    emit_date: datetime | None = None


class AnalyticsConversationSegment(GenesysModel):
    segment_start: datetime
    segment_end: datetime | None = None
    segment_type: SegmentType | None = None
    queue_id: str | None = None
    wrap_up_code: str | None = None
    wrap_up_note: str | None = None
    disconnect_type: DisconnectType | None = None
    error_code: str | None = None
    conference: bool | None = None
    requested_routing_skill_ids: list[str] | None = None
    sip_response_codes: list[int] | None = None
    q850_response_codes: list[int] | None = None


class AnalyticsSession(GenesysModel):
    session_id: str | None = None
    media_type: MediaType | None = None
    direction: Direction | None = None
    ani: str | None = None
    dnis: str | None = None
    session_dnis: str | None = None
    edge_id: str | None = None
    outbound_campaign_id: str | None = None
    outbound_contact_id: str | None = None
    outbound_contact_list_id: str | None = None
    disposition_analyzer: str | None = None
    disposition_name: str | None = None
    script_id: str | None = None
    recording: bool | None = None
    metrics: list[AnalyticsSessionMetric] | None = None
    segments: list[AnalyticsConversationSegment] | None = None


class AnalyticsParticipant(GenesysModel):
    participant_id: str | None = None
    participant_name: str | None = None
    purpose: Purpose | None = None
    user_id: str | None = None
    team_id: str | None = None
    external_contact_id: str | None = None
    sessions: list[AnalyticsSession] | None = None
    # Present on async job results (AnalyticsParticipant), absent on the sync query's participants.
    attributes: dict[str, str] | None = None


class AnalyticsConversation(GenesysModel):
    conversation_id: str
    conversation_start: datetime
    conversation_end: datetime | None = None
    originating_direction: Direction | None = None
    conversation_initiator: Purpose | None = None
    customer_participation: bool | None = None
    division_ids: list[str] | None = None
    external_tag: str | None = None
    media_stats_min_conversation_mos: float | None = None
    media_stats_min_conversation_r_factor: float | None = None
    participants: list[AnalyticsParticipant] | None = None


class AggregationResultEntry(GenesysModel):
    value: str | None = None
    count: int | None = None
    gte: float | None = None
    lt: float | None = None


class AggregationResult(GenesysModel):
    type: Literal["termFrequency", "numericRange"] | None = None
    dimension: str | None = None
    metric: str | None = None
    count: int | None = None
    results: list[AggregationResultEntry] | None = None


class AnalyticsConversationQueryResponse(GenesysModel):
    conversations: list[AnalyticsConversation] | None = None
    aggregations: list[AggregationResult] | None = None
    total_hits: int | None = None


class AsyncQueryResponse(GenesysModel):
    job_id: str


class AsyncQueryStatus(GenesysModel):
    state: JobState
    error_message: str | None = None
    expiration_date: datetime | None = None
    submission_date: datetime | None = None
    completion_date: datetime | None = None


class AnalyticsConversationAsyncQueryResponse(GenesysModel):
    conversations: list[AnalyticsConversation] | None = None
    cursor: str | None = None
    data_availability_date: datetime | None = None


class DataAvailabilityResponse(GenesysModel):
    data_availability_date: datetime
