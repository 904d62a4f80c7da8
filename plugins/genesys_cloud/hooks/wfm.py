"""Workforce-management verbs (genesys-api.md §3e): business units, planning groups, intraday data."""

from __future__ import annotations

from datetime import date
from typing import Any

from genesys_cloud.hooks import paths
from genesys_cloud.hooks.paths import api_path
from genesys_cloud.hooks.policy import as_model
from genesys_pipelines.models.wfm import (
    AsyncIntradayResponse,
    BusinessUnit,
    BusinessUnitListing,
    PlanningGroupList,
)

#: Intraday data asked for: scheduled agents (``onQueueTimeSeconds``) per interval.
INTRADAY_CATEGORIES = ("ScheduleData",)


class WfmVerbs:
    """Mixed into the hook (``self`` has ``get``/``query``)."""

    def business_units(self) -> BusinessUnitListing:
        """Every business unit (no permission needed)."""
        return as_model(BusinessUnitListing, self.get(paths.BUSINESS_UNITS) or {}, "business units")

    def business_unit(self, business_unit_id: str) -> BusinessUnit:
        """One business unit with ``settings`` (its IANA ``timeZone`` among them)."""
        body = self.get(api_path(paths.BUSINESS_UNIT, business_unit_id=business_unit_id), params={"expand": "settings"})
        return as_model(BusinessUnit, body, f"business unit {business_unit_id}")

    def planning_groups(self, business_unit_id: str) -> PlanningGroupList:
        body = self.get(api_path(paths.PLANNING_GROUPS, business_unit_id=business_unit_id)) or {}
        return as_model(PlanningGroupList, body, f"planning groups of business unit {business_unit_id}")

    def intraday(
        self, business_unit_id: str, business_unit_date: date, planning_group_id: str, interval_minutes: int = 60
    ) -> AsyncIntradayResponse:
        """Intraday ``ScheduleData`` of one planning group for one business-unit date (a read-only POST)."""
        body: dict[str, Any] = {
            "businessUnitDate": business_unit_date.isoformat(),
            "categories": list(INTRADAY_CATEGORIES),
            "planningGroupIds": [planning_group_id],
            "intervalLengthMinutes": interval_minutes,
        }
        answer = self.query(api_path(paths.INTRADAY, business_unit_id=business_unit_id), body)
        return as_model(AsyncIntradayResponse, answer, f"intraday data of business unit {business_unit_id}")
