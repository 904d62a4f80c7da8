"""Campaign schedule provisioning (pipeline 003): validation, interval expansion, overlap detection,
ranking, planning and the desired-schedules file. Pure: no Airflow, no HTTP."""

from genesys_pipelines.schedule_provisioning.desired import (
    DEFAULT_DESIRED_PATH,
    DesiredFileError,
    load_desired,
)
from genesys_pipelines.schedule_provisioning.engine import plan_run
from genesys_pipelines.schedule_provisioning.intervals import Interval, expand_daily_window
from genesys_pipelines.schedule_provisioning.overlap import Conflict, TaggedInterval, detect_conflicts
from genesys_pipelines.schedule_provisioning.planning import Plan, plan_change, schedules_equal
from genesys_pipelines.schedule_provisioning.ranking import decide, priority_score
from genesys_pipelines.schedule_provisioning.requests import RequestError, ScheduleRequest, parse_requests

__all__ = [
    "DEFAULT_DESIRED_PATH",
    "Conflict",
    "DesiredFileError",
    "Interval",
    "Plan",
    "RequestError",
    "ScheduleRequest",
    "TaggedInterval",
    "decide",
    "detect_conflicts",
    "expand_daily_window",
    "load_desired",
    "parse_requests",
    "plan_change",
    "plan_run",
    "priority_score",
    "schedules_equal",
]
