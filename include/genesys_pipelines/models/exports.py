"""Reporting export models (`/api/v2/analytics/reporting/exports` and its `metadata`).

Names, JSON fields and enums follow PureCloudPlatformClientV2 269.0.0 (`reporting_export_job_*.py`,
`view_filter.py`, `reporting_export_metadata_job_*.py`). ViewFilter has 248 optional fields in the SDK;
the key ones are declared and `GenesysModel` keeps the rest.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from genesys_pipelines.models.analytics import NumericRange
from genesys_pipelines.models.common import GenesysModel, PageListing

# The SDK's `viewType` enum (137 values), in the SDK's order.
VIEW_TYPES: tuple[str, ...] = (
    "QUEUE_PERFORMANCE_SUMMARY_VIEW", "QUEUE_PERFORMANCE_DETAIL_VIEW", "INTERACTION_SEARCH_VIEW",
    "AGENT_PERFORMANCE_SUMMARY_VIEW", "AGENT_PERFORMANCE_DETAIL_VIEW", "AGENT_STATUS_SUMMARY_VIEW",
    "AGENT_STATUS_DETAIL_VIEW", "AGENT_EVALUATION_SUMMARY_VIEW", "AGENT_EVALUATION_DETAIL_VIEW",
    "AGENT_QUEUE_DETAIL_VIEW", "AGENT_INTERACTION_DETAIL_VIEW", "ABANDON_INSIGHTS_VIEW",
    "SKILLS_PERFORMANCE_VIEW", "SURVEY_FORM_PERFORMANCE_SUMMARY_VIEW",
    "SURVEY_FORM_PERFORMANCE_DETAIL_VIEW", "DNIS_PERFORMANCE_SUMMARY_VIEW", "DNIS_PERFORMANCE_DETAIL_VIEW",
    "WRAP_UP_PERFORMANCE_SUMMARY_VIEW", "AGENT_WRAP_UP_PERFORMANCE_DETAIL_VIEW",
    "QUEUE_ACTIVITY_SUMMARY_VIEW", "QUEUE_ACTIVITY_DETAIL_VIEW", "AGENT_QUEUE_ACTIVITY_SUMMARY_VIEW",
    "QUEUE_AGENT_DETAIL_VIEW", "QUEUE_INTERACTION_DETAIL_VIEW", "AGENT_SCHEDULE_DETAIL_VIEW",
    "IVR_PERFORMANCE_SUMMARY_VIEW", "IVR_PERFORMANCE_DETAIL_VIEW", "ANSWER_INSIGHTS_VIEW",
    "HANDLE_INSIGHTS_VIEW", "TALK_INSIGHTS_VIEW", "HOLD_INSIGHTS_VIEW", "ACW_INSIGHTS_VIEW",
    "WAIT_INSIGHTS_VIEW", "AGENT_WRAP_UP_PERFORMANCE_INTERVAL_DETAIL_VIEW", "FLOW_OUTCOME_SUMMARY_VIEW",
    "FLOW_OUTCOME_PERFORMANCE_DETAIL_VIEW", "FLOW_OUTCOME_PERFORMANCE_INTERVAL_DETAIL_VIEW",
    "FLOW_DESTINATION_SUMMARY_VIEW", "FLOW_DESTINATION_DETAIL_VIEW", "API_USAGE_VIEW",
    "SCHEDULED_CALLBACKS_VIEW", "CONTENT_SEARCH_VIEW", "LANDING_PAGE", "DASHBOARD_SUMMARY",
    "DASHBOARD_DETAIL", "DASHBOARD_USERS", "DASHBOARD_USERS_DETAIL", "JOURNEY_ACTION_MAP_SUMMARY_VIEW",
    "JOURNEY_OUTCOME_SUMMARY_VIEW", "JOURNEY_SEGMENT_SUMMARY_VIEW", "AGENT_DEVELOPMENT_DETAIL_VIEW",
    "AGENT_DEVELOPMENT_DETAIL_ME_VIEW", "AGENT_DEVELOPMENT_SUMMARY_VIEW", "AGENT_PERFORMANCE_ME_VIEW",
    "AGENT_STATUS_ME_VIEW", "AGENT_EVALUATION_ME_VIEW", "AGENT_SCORECARD_VIEW", "AGENT_SCORECARD_ME_VIEW",
    "AGENT_GAMIFICATION_LEADERSHIP_VIEW", "AGENT_SCHEDULE_ME_VIEW", "BOT_PERFORMANCE_SUMMARY_VIEW",
    "BOT_PERFORMANCE_DETAIL_VIEW", "SCHEDULED_EXPORTS_VIEW", "TOPIC_TREND_SUMMARY_VIEW",
    "TOPIC_TREND_DETAIL_VIEW", "ACTION_MAP_BLOCKED_CONSTRAINTS_DETAIL_VIEW",
    "ACTION_MAP_BLOCKED_CONSTRAINTS_INTERVAL_DETAIL_VIEW", "FLOW_MILESTONE_PERFORMANCE_DETAIL_VIEW",
    "FLOW_MILESTONE_PERFORMANCE_INTERVAL_DETAIL_VIEW", "AGENT_TOPIC_SUMMARY_VIEW",
    "AGENT_TOPIC_DETAIL_VIEW", "QUEUE_TOPIC_SUMMARY_VIEW", "QUEUE_TOPIC_DETAIL_VIEW",
    "FLOW_TOPIC_SUMMARY_VIEW", "FLOW_TOPIC_DETAIL_VIEW", "AGENT_INTERACTIONS_ME_VIEW", "ALERT_RULES_VIEW",
    "CONFIGURE_ALERT_RULE_VIEW", "PREDICTIVE_ROUTING_VIEW", "PREDICTIVE_ROUTING_QUEUE_OVERVIEW",
    "PREDICTIVE_ROUTING_MODEL_VIEW", "PREDICTIVE_ROUTING_IMPACT_VIEW",
    "DATA_ACTIONS_PERFORMANCE_SUMMARY_VIEW", "DATA_ACTIONS_PERFORMANCE_DETAIL_VIEW",
    "AGENT_TIMELINE_SUMMARY_VIEW", "AGENT_TIMELINE_DETAIL_VIEW", "AGENT_LOGIN_LOGOUT_SUMMARY_VIEW",
    "AGENT_LOGIN_LOGOUT_DETAIL_VIEW", "CAMPAIGN_PERFORMANCE_SUMMARY_VIEW",
    "CAMPAIGN_PERFORMANCE_DETAIL_VIEW", "KNOWLEDGE_PERFORMANCE_VIEW",
    "AGENT_SCORECARD_INSIGHTS_SUMMARY_VIEW", "AGENT_SCORECARD_INSIGHTS_DETAIL_VIEW",
    "QUEUE_WRAPUP_DETAIL_VIEW", "INTERACTION_DETAIL_VIEW", "CAMPAIGN_INTERACTION_DETAIL_VIEW",
    "CAMPAIGN_ATTEMPT_DETAIL_VIEW", "WORKITEM_PERFORMANCE_SUMMARY_VIEW", "AGENT_ASSIST_PERFORMANCE_VIEW",
    "CONTACT_CENTER_PERFORMANCE_VIEW", "QUEUE_ROUTING_PERFORMANCE_VIEW",
    "AGENT_WORKITEM_PERFORMANCE_SUMMARY_VIEW", "AGENT_WORKITEM_PERFORMANCE_DETAIL_VIEW",
    "QUEUE_WORKITEM_PERFORMANCE_SUMMARY_VIEW", "QUEUE_WORKITEM_PERFORMANCE_DETAIL_VIEW",
    "EMAIL_AGENT_PERFORMANCE_SUMMARY_VIEW", "EMAIL_AGENT_PERFORMANCE_DETAIL_VIEW",
    "MESSAGING_AGENT_PERFORMANCE_SUMMARY_VIEW", "MESSAGING_AGENT_PERFORMANCE_DETAIL_VIEW",
    "EMAIL_QUEUE_PERFORMANCE_SUMMARY_VIEW", "EMAIL_QUEUE_PERFORMANCE_DETAIL_VIEW",
    "MESSAGING_QUEUE_PERFORMANCE_SUMMARY_VIEW", "MESSAGING_QUEUE_PERFORMANCE_DETAIL_VIEW",
    "SOCIAL_LISTENING_VIEW", "SOCIAL_LISTENING_POSTS_VIEW", "AGENT_PERFORMANCE_TIMELINE_DETAIL_VIEW",
    "DASHBOARD_SLIDESHOWS", "DASHBOARD_SLIDESHOWS_DETAIL", "AGENT_COPILOT_PERFORMANCE_VIEW",
    "AGENT_ASSIGNED_EVALUATION_ME_VIEW", "VIRTUAL_AGENT_PERFORMANCE_VIEW", "CONTENT_EXPLORATION_VIEW",
    "EVALUATION_PERFORMANCE_SUMMARY_VIEW", "EVALUATION_PERFORMANCE_DETAIL_VIEW",
    "EVALUATION_PERFORMANCE_QUESTION_GROUP_DETAIL_VIEW", "EVALUATION_PERFORMANCE_QUESTION_DETAIL_VIEW",
    "QUEUE_WORKITEM_ACTIVITY_SUMMARY_VIEW", "QUEUE_WORKITEM_ACTIVITY_DETAIL_VIEW", "DIGITAL_ADOPTION_VIEW",
    "DIGITAL_INTENT_VIEW", "DIGITAL_PERFORMANCE_VIEW", "COPILOT_USAGE_VIEW",
    "PREDICTIVE_ROUTING_THROUGHPUT_VIEW", "QUEUE_SKILL_EXPRESSION_PERFORMANCE_VIEW",
    "AGENTIC_VIRTUAL_AGENT_PERFORMANCE_VIEW", "CALLBACK_QUEUE_PERFORMANCE_SUMMARY_VIEW",
    "CALLBACK_QUEUE_PERFORMANCE_DETAIL_VIEW",
)

ViewType = Literal[VIEW_TYPES]  # type: ignore[valid-type]  # Literal of the tuple's members
ExportFormat = Literal["CSV", "PDF"]
ExportStatus = Literal[
    "SUBMITTED", "RUNNING", "CANCELLING", "CANCELLED", "COMPLETED", "COMPLETED_WITH_PARTIAL_RESULTS", "FAILED",
]
FINAL_EXPORT_STATUSES: frozenset[str] = frozenset(
    {"COMPLETED", "COMPLETED_WITH_PARTIAL_RESULTS", "FAILED", "CANCELLED"}
)
EXPORT_ERROR_MESSAGES_TYPES: tuple[str, ...] = (
    "FAILED_CONVERTING_EXPORT_JOB", "FAILED_NO_DATA_EXPORT_JOB_FOUND", "FAILED_GETTING_DATA_FROM_SERVICE",
    "FAILED_GENERATING_TEMP_FILE", "FAILED_SAVING_FILE_TO_S3", "FAILED_NOTIFYING_SKYWALKER_OF_DOWNLOAD",
    "FAILED_BUILDING_DOWNLOAD_URL_FROM_SKYWALKER_RESPONSE", "FAILED_CONVERTING_EXPORT_JOB_TO_QUEUE_PERFORMANCE_JOB",
    "EXPORT_TYPE_NOT_IMPLEMENTED", "REACHED_MAXIMUM_ATTEMPT_OF_RETRY", "FAILED_LONG_RUNNING_EXPORT",
    "TOO_MANY_REQUESTS_FROM_AN_ORGANIZATION", "FAILED_AS_EXPORT_FILE_SIZE_IS_GREATER_THAN_10MB",
    "NOT_AUTHORIZED_TO_VIEW_EXPORT", "STATIC_LINK_EXPORT_FAILED", "TOO_MANY_SEARCH_CRITERIA",
    "SEARCH_CRITERIA_VALUES_EXCEED_LIMIT", "EXPORT_EMAIL_FILE_SIZE_EXCEEDED_LIMIT",
    "CIRCUIT_BREAKER_OPEN_FOR_VIEW_TYPE", "BAD_REQUEST_SCHEDULED_RUN",
)
ExportErrorMessagesType = Literal[EXPORT_ERROR_MESSAGES_TYPES]  # type: ignore[valid-type]
ViewMediaType = Literal[
    "callback", "chat", "cobrowse", "email", "internalmessage", "message", "screenshare", "unknown", "video",
    "voice",
]


class ViewFilter(GenesysModel):
    media_types: list[ViewMediaType] | None = None
    queue_ids: list[str] | None = None
    outbound_campaign_ids: list[str] | None = None
    outbound_contact_list_ids: list[str] | None = None
    wrap_up_codes: list[str] | None = None
    user_ids: list[str] | None = None
    division_ids: list[str] | None = None
    skill_ids: list[str] | None = None
    directions: list[Literal["inbound", "outbound"]] | None = None
    is_campaign: bool | None = None
    conversation_ids: list[str] | None = None
    durations_milliseconds: list[NumericRange] | None = None


class SelectedColumns(GenesysModel):
    column_order: int | None = None
    column_name: str | None = None


class ChartColumn(GenesysModel):
    id: str | None = None
    column_type: str | None = None


class _ExportJobFields(GenesysModel):
    read: bool | None = None
    has_format_durations: bool | None = None
    has_split_filters: bool | None = None
    exclude_empty_rows: bool | None = None
    has_split_by_media: bool | None = None
    has_summary_row: bool | None = None
    csv_delimiter: Literal["SEMICOLON", "COMMA"] | None = None
    selected_columns: list[SelectedColumns] | None = None
    has_custom_participant_attributes: bool | None = None
    recipient_emails: list[str] | None = None
    include_duration_format_in_header: bool | None = None
    duration_format: Literal["Seconds", "Milliseconds", "Hhmmss", "Hms"] | None = None
    chart_columns: list[ChartColumn] | None = None


class ReportingExportJobRequest(_ExportJobFields):
    """POST body; every field below `locale` is required by the API."""

    name: str
    locale: str
    time_zone: str
    export_format: ExportFormat
    interval: str
    period: str
    view_type: ViewType
    filter: ViewFilter


class ReportingExportJobResponse(_ExportJobFields):
    id: str
    name: str | None = None
    run_id: str | None = None
    status: ExportStatus | None = None
    time_zone: str | None = None
    export_format: ExportFormat | None = None
    interval: str | None = None
    download_url: str | None = None
    view_type: ViewType | None = None
    export_error_messages_type: ExportErrorMessagesType | None = None
    period: str | None = None
    filter: ViewFilter | None = None
    created_date_time: datetime | None = None
    modified_date_time: datetime | None = None
    locale: str | None = None
    percentage_complete: float | None = None
    email_statuses: dict[str, str] | None = None
    email_error_description: str | None = None
    export_allowed_to_rerun: bool | None = None
    enabled: bool | None = None
    self_uri: str | None = None


class ReportingExportJobListing(PageListing[ReportingExportJobResponse]):
    """`GET /api/v2/analytics/reporting/exports` (page-number; no GET by id exists)."""


class ReportingExportMetadataJobResponse(GenesysModel):
    id: str | None = None
    name: str | None = None
    view_type: ViewType | None = None
    date_limitations: str | None = None
    required_filters: list[str] | None = None
    supported_filters: list[str] | None = None
    required_column_ids: list[str] | None = None
    dependent_column_ids: dict[str, list[str]] | None = None
    available_column_ids: list[str] | None = None
    self_uri: str | None = None


class ReportingExportMetadataJobListing(PageListing[ReportingExportMetadataJobResponse]):
    """`GET /api/v2/analytics/reporting/exports/metadata` (page-number)."""
