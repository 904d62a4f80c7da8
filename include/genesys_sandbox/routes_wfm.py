"""Workforce management: business units, planning groups and intraday data.

Intraday figures are derived from the same synthetic conversations as the analytics endpoints: the
forecast is the day's offered voice volume and handle time on the planning groups' queues, and the
schedule staffs that workload at 85 % occupancy, so "agents = onQueueTimeSeconds / interval seconds"
tracks the conversations the pipelines read.
"""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse

from genesys_pipelines.models.wfm import (
    AsyncIntradayResponse,
    BusinessUnitListing,
    BusinessUnitResponse,
    IntradayPlanningGroupRequest,
    PlanningGroupList,
)
from genesys_sandbox.analytics_time import iso_utc
from genesys_sandbox.errors import ApiError
from genesys_sandbox.responses import api_json
from genesys_sandbox.routes_analytics import analytics_state, json_body, parse_body, sandbox
from genesys_sandbox.synth import VOICE, Synth

router = APIRouter()

BU_PATH = "/api/v2/workforcemanagement/businessunits"
INTERVAL_LENGTHS = (15, 30, 60)
OCCUPANCY = 0.85


def _business_unit(request: Request, business_unit_id: str) -> dict[str, Any]:
    unit = sandbox(request).org.business_unit
    if unit.get("id") != business_unit_id:
        raise ApiError(404, f"Business unit {business_unit_id} was not found.", entity_id=business_unit_id)
    return unit


def _division_ref(unit: dict[str, Any]) -> dict[str, Any]:
    division = unit.get("division") or {}
    return {"id": division.get("id"), "selfUri": division.get("selfUri")}


@router.get(BU_PATH)
async def list_business_units(request: Request) -> JSONResponse:
    unit = sandbox(request).org.business_unit
    entity = {"id": unit["id"], "name": unit["name"], "authorized": True, "division": _division_ref(unit), "selfUri": unit["selfUri"]}
    return api_json(request, BusinessUnitListing, {"entities": [entity]})


@router.get(BU_PATH + "/{business_unit_id}")
async def get_business_unit(request: Request, business_unit_id: str, expand: str | None = None) -> JSONResponse:
    unit = _business_unit(request, business_unit_id)
    payload: dict[str, Any] = {"id": unit["id"], "name": unit["name"], "division": _division_ref(unit), "selfUri": unit["selfUri"]}
    if expand and "settings" in expand.split(","):
        payload["settings"] = dict(unit["settings"])
    return api_json(request, BusinessUnitResponse, payload)


def _planning_groups(request: Request) -> list[dict[str, Any]]:
    groups = []
    for group in sandbox(request).org.planning_groups:
        routes = [
            {
                "queue": {"id": path["queue"]["id"], "selfUri": f"/api/v2/routing/queues/{path['queue']['id']}"},
                "mediaType": path["mediaType"],
                **({"language": {"id": path["language"]["id"]}} if path.get("language") else {}),
            }
            for path in group.get("routePaths", [])
        ]
        groups.append({"id": group["id"], "name": group["name"], "routePaths": routes, "selfUri": group["selfUri"]})
    return groups


@router.get(BU_PATH + "/{business_unit_id}/planninggroups")
async def list_planning_groups(request: Request, business_unit_id: str) -> JSONResponse:
    _business_unit(request, business_unit_id)
    return api_json(request, PlanningGroupList, {"entities": _planning_groups(request)})


def _workload(synth: Synth, queue_ids: set[str], start_ms: int, edges: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(offered voice conversations, handle ms) per interval on the given queues."""
    slots = len(edges) - 1
    offered = np.zeros(slots, np.int64)
    handle = np.zeros(slots, np.int64)
    wanted = np.array([i for i, q in enumerate(synth.org.queue_ids) if q in queue_ids], np.int64)
    first = datetime.fromtimestamp(edges[0] / 1000, UTC).date()
    last = datetime.fromtimestamp((edges[-1] - 1) / 1000, UTC).date()
    day = first
    while day <= last:
        for block in synth.iter_blocks(day):
            keep = np.isin(block.queue, wanted) & (block.media == VOICE) & (~block.outbound | block.connected)
            keep &= (block.start >= edges[0]) & (block.start < edges[-1])
            if not keep.any():
                continue
            slot = np.searchsorted(edges, block.start[keep], side="right") - 1
            offered += np.bincount(slot, minlength=slots)
            work = (block.t_talk + block.t_held + block.t_acw)[keep]
            handle += np.bincount(slot, weights=work, minlength=slots).astype(np.int64)
        day += timedelta(days=1)
    return offered, handle


@router.post(BU_PATH + "/{business_unit_id}/intraday")
async def intraday(request: Request, business_unit_id: str, forceAsync: bool = False) -> Response:  # noqa: N803
    unit = _business_unit(request, business_unit_id)
    body: IntradayPlanningGroupRequest = parse_body(IntradayPlanningGroupRequest, await json_body(request))
    length = body.interval_length_minutes or 15
    if length not in INTERVAL_LENGTHS:
        raise ApiError(400, f"intervalLengthMinutes must be one of {INTERVAL_LENGTHS}", fields=["intervalLengthMinutes"])
    groups = {g["id"]: g for g in _planning_groups(request)}
    wanted = body.planning_group_ids or list(groups)
    unknown = [g for g in wanted if g not in groups]
    if unknown:
        raise ApiError(400, f"Unknown planning group(s): {', '.join(unknown)}", fields=["planningGroupIds"])
    operation_id = str(uuid.uuid4())
    if forceAsync:
        # The result would arrive by notification, which the sandbox does not send.
        return api_json(request, AsyncIntradayResponse, {"status": "Processing", "operationId": operation_id})
    zone = ZoneInfo(unit["settings"]["timeZone"])
    start = datetime.combine(body.business_unit_date, time(0), zone)
    end = datetime.combine(body.business_unit_date + timedelta(days=1), time(0), zone)
    start_ms, end_ms = int(start.timestamp() * 1000), int(end.timestamp() * 1000)
    edges = np.arange(start_ms, end_ms + 1, length * 60_000, dtype=np.int64)
    queues = {path["queue"]["id"] for g in wanted for path in groups[g]["routePaths"]}
    offered, handle = _workload(analytics_state(request).synth, queues, start_ms, edges)
    interval_s = length * 60
    # Staff the workload at the target occupancy, in whole agents per interval.
    agents = np.ceil(handle / 1000 / OCCUPANCY / interval_s).astype(np.int64)
    on_queue = (agents * interval_s).tolist()
    grouping: dict[str, Any] = {"mediaType": "Voice"}
    categories = list(dict.fromkeys(body.categories))
    if "ForecastData" in categories:
        aht = [float(h / 1000 / o) if o else 0.0 for o, h in zip(offered.tolist(), handle.tolist(), strict=True)]
        grouping["forecastDataPerInterval"] = [{"offered": float(o), "averageHandleTimeSeconds": round(a, 1)} for o, a in zip(offered.tolist(), aht, strict=True)]
        total = int(offered.sum())
        grouping["forecastDataSummary"] = {"offered": float(total), "averageHandleTimeSeconds": round(float(handle.sum()) / 1000 / total, 1) if total else 0.0}
    if "ScheduleData" in categories:
        grouping["scheduleDataPerInterval"] = [{"onQueueTimeSeconds": int(s)} for s in on_queue]
        grouping["scheduleDataSummary"] = {"onQueueTimeSeconds": int(sum(on_queue))}
    if "PerformancePredictionData" in categories:
        occupancy = [min(100.0, round(100 * h / 1000 / s, 1)) if s else 0.0 for h, s in zip(handle.tolist(), on_queue, strict=True)]
        grouping["performancePredictionDataPerInterval"] = [
            {"serviceLevelPercent": 80.0 if s else 0.0, "averageSpeedOfAnswerSeconds": 20.0 if s else 0.0, "occupancyPercent": o}
            for s, o in zip(on_queue, occupancy, strict=True)
        ]
        busy = [o for o in occupancy if o]
        grouping["performancePredictionDataSummary"] = {
            "serviceLevelPercent": 80.0, "averageSpeedOfAnswerSeconds": 20.0,
            "occupancyPercent": round(sum(busy) / len(busy), 1) if busy else 0.0,
        }
    week = body.business_unit_date - timedelta(days=body.business_unit_date.weekday())
    result = {
        "startDate": iso_utc(start_ms),
        "endDate": iso_utc(end_ms),
        "intervalLengthMinutes": length,
        "categories": categories,
        "shortTermForecast": {
            "id": _stable_id(business_unit_id, "forecast", week),
            "weekDate": week.isoformat(),
            "description": f"Sandbox forecast for the week of {week.isoformat()}",
        },
        "schedule": {"id": _stable_id(business_unit_id, "schedule", week), "weekDate": week.isoformat()},
        "intradayDataGroupings": [grouping],
    }
    return api_json(request, AsyncIntradayResponse, {"status": "Complete", "operationId": operation_id, "result": result})


def _stable_id(business_unit_id: str, kind: str, week: date) -> str:
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"genesys-sandbox:{business_unit_id}:{kind}:{week.isoformat()}"))

