"""Workforce management models: business units, planning groups and intraday data.

Names, JSON fields and enums follow PureCloudPlatformClientV2 269.0.0 (`business_unit_*.py`,
`planning_group*.py`, `route_path_response.py`, `intraday_planning_group_request.py`,
`async_intraday_response.py`, `bu_intraday_*.py`).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from genesys_pipelines.models.common import AddressableEntityRef, GenesysModel

RouteMediaType = Literal["Voice", "Chat", "Email", "Callback", "Message", "Workitem"]
IntradayCategory = Literal["ForecastData", "ScheduleData", "PerformancePredictionData"]
DayOfWeek = Literal["Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"]


class WfmVersionedEntityMetadata(GenesysModel):
    version: int | None = None
    date_modified: datetime | None = None
    date_created: datetime | None = None


class BusinessUnitListItem(GenesysModel):
    id: str
    name: str | None = None
    authorized: bool | None = None
    division: AddressableEntityRef | None = None
    self_uri: str | None = None


class BusinessUnitListing(GenesysModel):
    entities: list[BusinessUnitListItem] | None = None


class BusinessUnitSettingsResponse(GenesysModel):
    start_day_of_week: DayOfWeek | None = None
    time_zone: str | None = None
    metadata: WfmVersionedEntityMetadata | None = None


class BusinessUnit(GenesysModel):
    """`GET …/businessunits/{id}` (SDK BusinessUnitResponse); `settings` only with `expand=settings`."""

    id: str
    name: str | None = None
    settings: BusinessUnitSettingsResponse | None = None
    division: AddressableEntityRef | None = None
    self_uri: str | None = None


BusinessUnitResponse = BusinessUnit


class RoutePathResponse(GenesysModel):
    queue: AddressableEntityRef
    media_type: RouteMediaType
    language: AddressableEntityRef | None = None
    skills: list[AddressableEntityRef] | None = None


class PlanningGroup(GenesysModel):
    id: str
    name: str | None = None
    service_goal_template: AddressableEntityRef | None = None
    route_paths: list[RoutePathResponse] | None = None
    metadata: WfmVersionedEntityMetadata | None = None
    self_uri: str | None = None


class PlanningGroupList(GenesysModel):
    entities: list[PlanningGroup] | None = None
    metadata: WfmVersionedEntityMetadata | None = None


class IntradayPlanningGroupRequest(GenesysModel):
    business_unit_date: date
    categories: list[IntradayCategory]
    planning_group_ids: list[str] | None = None
    interval_length_minutes: int | None = None


class BuIntradayForecastData(GenesysModel):
    offered: float | None = None
    average_handle_time_seconds: float | None = None


class BuIntradayScheduleData(GenesysModel):
    on_queue_time_seconds: int | None = None


class IntradayPerformancePredictionData(GenesysModel):
    service_level_percent: float | None = None
    average_speed_of_answer_seconds: float | None = None
    occupancy_percent: float | None = None


class BuIntradayDataGroup(GenesysModel):
    media_type: RouteMediaType | None = None
    forecast_data_summary: BuIntradayForecastData | None = None
    forecast_data_per_interval: list[BuIntradayForecastData] | None = None
    schedule_data_summary: BuIntradayScheduleData | None = None
    schedule_data_per_interval: list[BuIntradayScheduleData] | None = None
    performance_prediction_data_summary: IntradayPerformancePredictionData | None = None
    performance_prediction_data_per_interval: list[IntradayPerformancePredictionData] | None = None


class BuShortTermForecastReference(GenesysModel):
    id: str
    week_date: date | None = None
    description: str | None = None
    self_uri: str | None = None


class BuScheduleReference(GenesysModel):
    id: str
    week_date: date | None = None
    self_uri: str | None = None


class BuIntradayResponse(GenesysModel):
    """Element i of every `*PerInterval` list covers `startDate + i * intervalLengthMinutes`."""

    start_date: datetime | None = None
    end_date: datetime | None = None
    interval_length_minutes: int | None = None
    no_data_reason: Literal["NoPublishedSchedule", "NoSourceForecast"] | None = None
    categories: list[IntradayCategory] | None = None
    short_term_forecast: BuShortTermForecastReference | None = None
    schedule: BuScheduleReference | None = None
    intraday_data_groupings: list[BuIntradayDataGroup] | None = None


class AsyncIntradayResponse(GenesysModel):
    status: Literal["Processing", "Complete", "Canceled", "Error"]
    operation_id: str | None = None
    result: BuIntradayResponse | None = None
