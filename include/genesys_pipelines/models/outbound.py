"""Outbound models: campaigns, their stats and progress, contact lists, schedules, wrap-up codes.

Field names, types and enums follow PureCloudPlatformClientV2 269.0.0 ``models/``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from genesys_pipelines.models.common import (
    AddressableEntityRef,
    DivisionedDomainEntityRef,
    DomainEntityRef,
    GenesysModel,
    PageListing,
)

__all__ = [
    "Alteration",
    "BUSINESS_FLAGS",
    "Campaign",
    "CampaignBusinessCategoryMetrics",
    "CampaignEntityListing",
    "CampaignLinesUtilization",
    "CampaignPatchRequest",
    "CampaignProgress",
    "CampaignSchedule",
    "CampaignStatus",
    "CampaignStats",
    "ConnectRate",
    "ContactList",
    "ContactListEntityListing",
    "ContactPhoneNumberColumn",
    "ContactSort",
    "DialingMode",
    "DiagnosticsSettings",
    "DynamicContactQueueingSettings",
    "DynamicLineBalancingSettings",
    "NextOccurrenceDetails",
    "OccurrenceDetails",
    "Pattern",
    "PhoneColumn",
    "Range",
    "Reoccurrence",
    "RestErrorDetail",
    "ScheduleInterval",
    "UserParam",
    "WrapUpCodeMapping",
    "WrapUpFlag",
    "WrapupCode",
    "WrapupCodeEntityListing",
]

DialingMode = Literal["agentless", "preview", "power", "predictive", "progressive", "external"]
CampaignStatus = Literal["on", "stopping", "off", "complete", "invalid", "forced_off", "forced_stopping"]
# Wrap-up code mapping flags (Java SDK list-item enum).
WrapUpFlag = Literal[
    "CONTACT_UNCALLABLE",
    "NUMBER_UNCALLABLE",
    "RIGHT_PARTY_CONTACT",
    "BUSINESS_SUCCESS",
    "BUSINESS_FAILURE",
    "BUSINESS_NEUTRAL",
]
BUSINESS_FLAGS: tuple[str, ...] = ("BUSINESS_SUCCESS", "BUSINESS_FAILURE", "BUSINESS_NEUTRAL")


class PhoneColumn(GenesysModel):
    column_name: str | None = None
    type: str | None = None


class UserParam(GenesysModel):
    key: str | None = None
    value: str | None = None


class RestErrorDetail(GenesysModel):
    error: str | None = None
    details: str | None = None
    user_params: list[UserParam] | None = None


class ContactSort(GenesysModel):
    field_name: str | None = None
    direction: Literal["ASC", "DESC"] | None = None
    numeric: bool | None = None


class DynamicContactQueueingSettings(GenesysModel):
    sort: bool | None = None
    filter: bool | None = None


class DynamicLineBalancingSettings(GenesysModel):
    enabled: bool | None = None
    relative_weight: int | None = None


class DiagnosticsSettings(GenesysModel):
    report_low_max_calls_per_agent_alert: bool | None = None


class Campaign(GenesysModel):
    """``Campaign``. PUT takes the full body; ``version`` must match the stored one."""

    id: str | None = None
    name: str | None = None
    date_created: datetime | None = None
    date_modified: datetime | None = None
    version: int | None = None
    contact_list: DomainEntityRef | None = None
    queue: DomainEntityRef | None = None
    dialing_mode: DialingMode | None = None
    script: DomainEntityRef | None = None
    edge_group: DomainEntityRef | None = None
    site: DomainEntityRef | None = None
    campaign_status: CampaignStatus | None = None
    phone_columns: list[PhoneColumn] | None = None
    abandon_rate: float | None = None
    dnc_lists: list[DomainEntityRef] | None = None
    callable_time_set: DomainEntityRef | None = None
    call_analysis_response_set: DomainEntityRef | None = None
    errors: list[RestErrorDetail] | None = None
    caller_name: str | None = None
    caller_address: str | None = None
    outbound_line_count: int | None = None
    rule_sets: list[DomainEntityRef] | None = None
    skip_preview_disabled: bool | None = None
    preview_time_out_seconds: int | None = None
    always_running: bool | None = None
    contact_sort: ContactSort | None = None
    contact_sorts: list[ContactSort] | None = None
    no_answer_timeout: int | None = None
    call_analysis_language: str | None = None
    priority: int | None = None
    contact_list_filters: list[DomainEntityRef] | None = None
    division: DomainEntityRef | None = None
    agent_owned_column: str | None = None
    dynamic_contact_queueing_settings: DynamicContactQueueingSettings | None = None
    skill_columns: list[str] | None = None
    preview_auto_end: bool | None = None
    max_calls_per_agent: int | None = None
    max_calls_per_agent_decimal: float | None = None
    callback_auto_answer: bool | None = None
    dynamic_line_balancing_settings: DynamicLineBalancingSettings | None = None
    diagnostics_settings: DiagnosticsSettings | None = None
    precise_dialing_enabled: bool | None = None
    self_uri: str | None = None


class CampaignEntityListing(PageListing[Campaign]):
    pass


class CampaignPatchRequest(GenesysModel):
    """PATCH body: no ``version`` (no locking); the API answers without a body."""

    outbound_line_count: int | None = None
    abandon_rate: float | None = None
    max_calls_per_agent: float | None = None
    dynamic_line_balancing_settings: DynamicLineBalancingSettings | None = None
    queue: AddressableEntityRef | None = None


class ConnectRate(GenesysModel):
    attempts: int | None = None
    connects: int | None = None
    connect_ratio: float | None = None


class CampaignLinesUtilization(GenesysModel):
    assigned_outbound_lines: int | None = None
    total_available_outbound_lines: int | None = None


class CampaignBusinessCategoryMetrics(GenesysModel):
    success_count: int | None = None
    neutral_count: int | None = None
    failure_count: int | None = None


class CampaignStats(GenesysModel):
    contact_rate: ConnectRate | None = None
    idle_agents: int | None = None
    effective_idle_agents: float | None = None
    adjusted_calls_per_agent: float | None = None
    outstanding_calls: int | None = None
    scheduled_calls: int | None = None
    time_zone_rescheduled_calls: int | None = None
    filtered_out_contacts_count: int | None = None
    right_party_contacts_count: int | None = None
    valid_attempts: int | None = None
    lines_utilization: CampaignLinesUtilization | None = None
    business_category_metrics: CampaignBusinessCategoryMetrics | None = None


class CampaignProgress(GenesysModel):
    campaign: DomainEntityRef | None = None
    contact_list: DomainEntityRef | None = None
    number_of_contacts_called: int | None = None
    number_of_contacts_messaged: int | None = None
    total_number_of_contacts: int | None = None
    percentage: int | None = None
    number_of_contacts_skipped: dict[str, int] | None = None


class ContactPhoneNumberColumn(GenesysModel):
    column_name: str | None = None
    type: str | None = None
    callable_time_column_name: str | None = None
    callable_time_column: str | None = None


class ContactList(GenesysModel):
    """``ContactList``; ``size`` is present only with ``includeSize=true``."""

    id: str | None = None
    name: str | None = None
    date_created: datetime | None = None
    date_modified: datetime | None = None
    version: int | None = None
    division: DomainEntityRef | None = None
    column_names: list[str] | None = None
    phone_columns: list[ContactPhoneNumberColumn] | None = None
    preview_mode_column_name: str | None = None
    size: int | None = None
    attempt_limits: DomainEntityRef | None = None
    automatic_time_zone_mapping: bool | None = None
    zip_code_column_name: str | None = None
    trim_whitespace: bool | None = None
    retention_type: Literal["Never", "Today", "RetentionDays"] | None = None
    retention_days: int | None = None
    date_expiration: datetime | None = None
    time_zone: str | None = None
    self_uri: str | None = None


class ContactListEntityListing(PageListing[ContactList]):
    pass


class ScheduleInterval(GenesysModel):
    """One window; ``start``/``end`` are strings ``yyyy-MM-ddTHH:mm:ss.SSSZ`` as the API sends them."""

    start: str | None = None
    end: str | None = None


class Pattern(GenesysModel):
    type: Literal["Daily", "Weekly"] | None = None
    interval: int | None = None
    days_of_week: list[str] | None = None


class Range(GenesysModel):
    type: Literal["NoEnd", "EndDate", "Numbered"] | None = None
    end: str | None = None
    number_of_occurrences: int | None = None


class Alteration(GenesysModel):
    type: Literal["Exclusion", "Inclusion"] | None = None
    start: str | None = None
    end: str | None = None


class OccurrenceDetails(GenesysModel):
    date_of_next_occurrence: datetime | None = None
    number_of_occurrences: int | None = None


class NextOccurrenceDetails(GenesysModel):
    start_occurrence_details: OccurrenceDetails | None = None
    end_occurrence_details: OccurrenceDetails | None = None


class Reoccurrence(GenesysModel):
    id: str | None = None
    start: str | None = None
    end: str | None = None
    time_zone: str | None = None
    pattern: Pattern | None = None
    range: Range | None = None
    alterations: list[Alteration] | None = None
    next_occurrence_details: NextOccurrenceDetails | None = None


class CampaignSchedule(GenesysModel):
    """One schedule per campaign; ``intervals`` and ``campaign`` are required, ``version`` on update."""

    id: str | None = None
    name: str | None = None
    date_created: datetime | None = None
    date_modified: datetime | None = None
    version: int | None = None
    intervals: list[ScheduleInterval] | None = None
    recurrences: list[Reoccurrence] | None = None
    time_zone: str | None = None
    campaign: DivisionedDomainEntityRef | None = None
    self_uri: str | None = None


class WrapUpCodeMapping(GenesysModel):
    """``{mapping: {wrapUpCodeId: [flags]}, defaultSet: [flags]}``."""

    id: str | None = None
    name: str | None = None
    date_created: datetime | None = None
    date_modified: datetime | None = None
    version: int | None = None
    default_set: list[WrapUpFlag] | None = None
    mapping: dict[str, list[WrapUpFlag]] | None = None
    self_uri: str | None = None

    def codes_with(self, flag: str) -> set[str]:
        """Wrap-up code ids mapped to ``flag`` (e.g. ``BUSINESS_SUCCESS``)."""
        return {code for code, flags in (self.mapping or {}).items() if flag in flags}


class WrapupCode(GenesysModel):
    id: str | None = None
    name: str | None = None
    division: DomainEntityRef | None = None
    description: str | None = None
    date_created: datetime | None = None
    date_modified: datetime | None = None
    created_by: str | None = None
    modified_by: str | None = None
    self_uri: str | None = None


class WrapupCodeEntityListing(PageListing[WrapupCode]):
    pass
