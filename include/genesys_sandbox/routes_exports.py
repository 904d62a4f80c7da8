"""Reporting exports: POST, the page-number list (status over time), metadata, and the CSV download.

The platform offers no GET by id and no DELETE under ``/api/v2/analytics/reporting/exports``; neither
does the sandbox. ``downloadUrl`` points at ``/api/v2/downloads/{downloadId}`` (bearer required), which
redirects to a signed, unauthenticated ``/_sandbox/downloads/{downloadId}.csv`` like the platform's
pre-signed storage URLs. CSV rows come from the same synthetic conversations as the analytics queries.

Views with a CSV definition here (:data:`VIEWS`) complete; any other valid ``viewType`` (and PDF) ends
FAILED with ``EXPORT_TYPE_NOT_IMPLEMENTED`` rather than producing made-up columns.
"""

from __future__ import annotations

import csv
import hashlib
import hmac
import io
import uuid
from dataclasses import dataclass
from typing import Any

import numpy as np
from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse, RedirectResponse

from genesys_pipelines.models.common import StrictValidationError, strict_validate
from genesys_pipelines.models.exports import (
    EXPORT_ERROR_MESSAGES_TYPES,
    ReportingExportJobListing,
    ReportingExportJobRequest,
    ReportingExportJobResponse,
    ReportingExportMetadataJobListing,
)
from genesys_sandbox.analytics_time import (
    boundaries,
    days_between,
    iso_utc,
    parse_granularity,
    parse_interval,
    parse_time_zone,
)
from genesys_sandbox.errors import ApiError
from genesys_sandbox.responses import api_json, page_listing, paging_params
from genesys_sandbox.routes_analytics import (
    analytics_state,
    json_body,
    note_interval,
    now_ms,
    parse_body,
    sandbox,
)
from genesys_sandbox.synth import MEDIA_TYPES, Block, Synth, block_view, day_start_ms

router = APIRouter()

EXPORTS_PATH = "/api/v2/analytics/reporting/exports"
# Share of an export's run (``--export-seconds``, plus any `slow_jobs` fault) spent SUBMITTED before
# RUNNING: 0.2 s of the default 0.6 s.
SUBMITTED_SHARE = 1 / 3


@dataclass(frozen=True)
class View:
    """How a view type becomes CSV: per-conversation rows, or a summary grouped by one dimension."""

    kind: str  # "detail" | "summary"
    group: str | None  # summary grouping: campaign | queue | user | wrapup
    columns: tuple[str, ...]
    date_limitation: str  # the metadata's dateLimitations (longest interval allowed)
    campaign_only: bool = False


_SUMMARY_METRICS = ("Offered", "Attempts", "Connects", "Abandons", "Handled", "Total Talk", "Total Hold", "Total ACW", "Total Handle", "Avg Handle")
_DETAIL_COLUMNS = (
    "Conversation ID", "Conversation Start", "Conversation End", "Direction", "Media Type", "Queue ID",
    "Campaign ID", "Contact List ID", "User ID", "Wrap-up Code", "Talk", "Hold", "ACW", "Handle",
)
VIEWS: dict[str, View] = {
    "CAMPAIGN_PERFORMANCE_SUMMARY_VIEW": View("summary", "campaign", ("Interval Start", "Interval End", "Campaign ID", "Contact List ID") + _SUMMARY_METRICS + ("Connect Rate",), "P1Y", True),
    "CAMPAIGN_PERFORMANCE_DETAIL_VIEW": View("summary", "wrapup", ("Interval Start", "Interval End", "Campaign ID", "Wrap-up Code") + _SUMMARY_METRICS, "P1Y", True),
    "CAMPAIGN_INTERACTION_DETAIL_VIEW": View("detail", None, _DETAIL_COLUMNS, "P31D", True),
    "CAMPAIGN_ATTEMPT_DETAIL_VIEW": View("detail", None, ("Conversation ID", "Attempt Time", "Campaign ID", "Contact List ID", "Contact ID", "Result", "Dialing", "Wrap-up Code"), "P31D", True),
    "INTERACTION_DETAIL_VIEW": View("detail", None, _DETAIL_COLUMNS, "P31D"),
    "QUEUE_PERFORMANCE_SUMMARY_VIEW": View("summary", "queue", ("Interval Start", "Interval End", "Queue ID") + _SUMMARY_METRICS, "P1Y"),
    "AGENT_PERFORMANCE_SUMMARY_VIEW": View("summary", "user", ("Interval Start", "Interval End", "User ID") + _SUMMARY_METRICS, "P1Y"),
    "WRAP_UP_PERFORMANCE_SUMMARY_VIEW": View("summary", "wrapup", ("Interval Start", "Interval End", "Wrap-up Code") + _SUMMARY_METRICS, "P1Y"),
}
SUPPORTED_FILTERS = (
    "outboundCampaignIds", "outboundContactListIds", "queueIds", "mediaTypes", "wrapUpCodes", "userIds",
    "divisionIds", "directions", "isCampaign", "conversationIds",
)


@dataclass
class ExportJob:
    id: str
    download_id: str
    request: ReportingExportJobRequest
    body: dict[str, Any]
    created_ms: int
    ready_ms: int
    error: str | None
    csv: bytes | None = None
    running_ms: int | None = None  # SUBMITTED until then (None: SUBMITTED_SHARE of the run)


def _exports(request: Request) -> dict[str, ExportJob]:
    analytics_state(request)  # one place decides when the analytics half starts afresh (reset)
    return sandbox(request).extensions.setdefault("exports", {})


def _status(job: ExportJob, now: int) -> tuple[str, float]:
    running = job.running_ms
    if running is None:
        running = job.created_ms + round((job.ready_ms - job.created_ms) * SUBMITTED_SHARE)
    if now < running:
        return "SUBMITTED", 0.0
    if now < job.ready_ms:
        return "RUNNING", round((now - job.created_ms) / max(1, job.ready_ms - job.created_ms), 2)
    return ("FAILED", 1.0) if job.error else ("COMPLETED", 1.0)


def _signature(request: Request, download_id: str) -> str:
    secret = sandbox(request).config.webhook_secret.encode()
    return hmac.new(secret, download_id.encode(), hashlib.sha256).hexdigest()[:32]


def export_payload(request: Request, job: ExportJob, now: int) -> dict[str, Any]:
    status, percentage = _status(job, now)
    payload: dict[str, Any] = {
        "id": job.id,
        "runId": job.id,
        **job.body,
        "status": status,
        "read": False,
        "createdDateTime": iso_utc(job.created_ms),
        "modifiedDateTime": iso_utc(min(now, job.ready_ms)),
        "percentageComplete": percentage,
        "emailStatuses": {},
        "exportAllowedToRerun": status == "FAILED",
        "enabled": True,
        "selfUri": f"{EXPORTS_PATH}/{job.id}",
    }
    if status == "COMPLETED":
        payload["downloadUrl"] = f"{str(request.base_url).rstrip('/')}/api/v2/downloads/{job.download_id}"
    if status == "FAILED":
        payload["exportErrorMessagesType"] = job.error
    return payload


def check_date_limitation(view_type: str, view: View, start_ms: int, end_ms: int) -> None:
    """Refuse an interval longer than the view's metadata ``dateLimitations`` (P31D, P1Y)."""
    days = {"P31D": 31, "P1Y": 366}.get(view.date_limitation)
    if days is not None and end_ms - start_ms > days * 86_400_000:
        raise ApiError(
            400, f"The interval is longer than {view.date_limitation}, the dateLimitations of {view_type}.",
            fields=["interval"],
        )


@router.post(EXPORTS_PATH)
async def submit_export(request: Request) -> Response:
    body = await json_body(request)
    note_interval(request, body)
    export: ReportingExportJobRequest = parse_body(ReportingExportJobRequest, body)
    try:  # a key the SDK's ReportingExportJobRequest does not know is a client mistake: 400, never 500
        strict_validate(ReportingExportJobRequest, body)
    except StrictValidationError as exc:
        raise ApiError(400, f"Unrecognized field(s): {', '.join(exc.paths)}", fields=exc.paths) from exc
    start_ms, end_ms = parse_interval(export.interval)
    parse_granularity(export.period)
    parse_time_zone(export.time_zone)
    view = VIEWS.get(export.view_type)
    if view is not None:
        check_date_limitation(export.view_type, view, start_ms, end_ms)
    if view is not None and export.selected_columns:
        unknown = [c.column_name for c in export.selected_columns if c.column_name not in view.columns]
        if unknown:
            raise ApiError(400, f"Unknown column(s) for {export.view_type}: {', '.join(map(str, unknown))}", fields=["selectedColumns"])
    state = sandbox(request)
    export_id = str(uuid.uuid4())
    now = now_ms(request)
    error = None
    if view is None or export.export_format != "CSV":
        error = "EXPORT_TYPE_NOT_IMPLEMENTED"
    elif state.faults.should_fail_export(export_id):
        error = EXPORT_ERROR_MESSAGES_TYPES[int(export_id[:8], 16) % 3]  # a transient service failure
    run_seconds = float(state.config.export_seconds)
    ready = now + int((run_seconds + float(state.faults.job_delay_seconds())) * 1000)
    running = now + round(run_seconds * SUBMITTED_SHARE * 1000)
    job = ExportJob(export_id, str(uuid.uuid4()), export, export.to_api(), now, ready, error, running_ms=running)
    _exports(request)[export_id] = job
    return api_json(request, ReportingExportJobResponse, export_payload(request, job, now))


@router.get(EXPORTS_PATH)
async def list_exports(request: Request, pageSize: int | None = None, pageNumber: int | None = None) -> JSONResponse:  # noqa: N803
    size, number = paging_params(pageSize, pageNumber, maximum=100)
    now = now_ms(request)
    jobs = sorted(_exports(request).values(), key=lambda j: (j.created_ms, j.id), reverse=True)  # newest first
    entities = [export_payload(request, job, now) for job in jobs]
    return api_json(request, ReportingExportJobListing, page_listing(request, entities, size, number))


@router.get(f"{EXPORTS_PATH}/metadata")
async def export_metadata(request: Request) -> JSONResponse:
    """Every view in one answer: the SDK's operation has no paging parameters."""
    entities = [
        {
            "id": str(uuid.uuid5(uuid.NAMESPACE_URL, f"genesys-sandbox:view:{name}")),
            "name": name.replace("_", " ").title(),
            "viewType": name,
            "dateLimitations": view.date_limitation,
            "requiredFilters": [],
            "supportedFilters": list(SUPPORTED_FILTERS),
            "requiredColumnIds": list(view.columns[:1]),
            "dependentColumnIds": {},
            "availableColumnIds": list(view.columns),
            "selfUri": f"{EXPORTS_PATH}/metadata/{name}",
        }
        for name, view in VIEWS.items()
    ]
    return api_json(request, ReportingExportMetadataJobListing, page_listing(request, entities, len(entities), 1))


def _find_download(request: Request, download_id: str) -> ExportJob:
    now = now_ms(request)
    for job in _exports(request).values():
        if job.download_id == download_id and _status(job, now)[0] == "COMPLETED":
            return job
    raise ApiError(404, f"Download {download_id} was not found.", entity_id=download_id)


@router.get("/api/v2/downloads/{download_id}")
async def download_redirect(request: Request, download_id: str, issueRedirect: bool = True) -> Response:  # noqa: N803
    _find_download(request, download_id)
    url = f"{str(request.base_url).rstrip('/')}/_sandbox/downloads/{download_id}.csv?signature={_signature(request, download_id)}"
    if not issueRedirect:
        return JSONResponse({"url": url})
    return RedirectResponse(url, status_code=303)


@router.get("/_sandbox/downloads/{download_id}.csv")
async def download_csv(request: Request, download_id: str, signature: str = "") -> Response:
    if not hmac.compare_digest(signature, _signature(request, download_id)):
        raise ApiError(403, "The download link signature is invalid.")
    job = _find_download(request, download_id)
    if job.csv is None:
        job.csv = render_csv(analytics_state(request).synth, job.request, min(job.ready_ms, now_ms(request)))
    return Response(job.csv, media_type="text/csv", headers={"Content-Disposition": f'attachment; filename="{job.request.name}.csv"'})


# --- CSV ---------------------------------------------------------------------------------------


def _filter_mask(synth: Synth, block: Block, export: ReportingExportJobRequest) -> np.ndarray:
    flt = export.filter
    mask = np.ones(block.n, bool)

    def isin(dimension: str, wanted: list[str] | None) -> None:
        nonlocal mask
        if wanted:
            coded = synth.dimension_codes(block, dimension)
            assert coded is not None
            codes, values = coded
            allowed = [values.index(v) for v in wanted if v in values]
            mask &= np.isin(codes, allowed)

    isin("outboundCampaignId", flt.outbound_campaign_ids)
    isin("outboundContactListId", flt.outbound_contact_list_ids)
    isin("queueId", flt.queue_ids)
    isin("mediaType", flt.media_types)
    isin("wrapUpCode", flt.wrap_up_codes)
    isin("userId", flt.user_ids)
    isin("divisionId", flt.division_ids)
    isin("direction", flt.directions)
    if flt.is_campaign is not None:
        mask &= block.outbound == flt.is_campaign
    if flt.conversation_ids:
        ids = block_view(block).ids["conversation"]
        mask &= np.array([cid in flt.conversation_ids for cid in ids], bool)
    if VIEWS[export.view_type].campaign_only:
        mask &= block.outbound
    return mask


def _duration(ms: int, export: ReportingExportJobRequest) -> str:
    if export.duration_format == "Seconds":
        return f"{ms / 1000:.3f}"
    return str(int(ms))


def render_csv(synth: Synth, export: ReportingExportJobRequest, now: int) -> bytes:
    view = VIEWS[export.view_type]
    start, end = parse_interval(export.interval)
    columns = list(view.columns)
    if export.selected_columns:
        chosen = sorted(export.selected_columns, key=lambda c: c.column_order or 0)
        columns = [c.column_name for c in chosen if c.column_name]
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";" if export.csv_delimiter == "SEMICOLON" else ",", lineterminator="\n")
    writer.writerow(columns)
    rows = _detail_rows(synth, export, start, end, now) if view.kind == "detail" else _summary_rows(synth, export, view, start, end, now)
    for row in rows:
        writer.writerow([row.get(c, "") for c in columns])
    return out.getvalue().encode()


def _blocks(synth: Synth, start: int, end: int, now: int) -> Any:
    for day in days_between(start, end):
        if day_start_ms(day) >= now:
            return
        for block in synth.iter_blocks(day):
            if block.start[0] >= min(end, now):
                break
            yield block


def _detail_rows(synth: Synth, export: ReportingExportJobRequest, start: int, end: int, now: int) -> Any:
    org = synth.org
    for block in _blocks(synth, start, end, now):
        keep = (block.start >= start) & (block.start < end) & (block.start < now) & _filter_mask(synth, block, export)
        view = block_view(block)
        for i in np.nonzero(keep)[0].tolist():
            done = view.end[i] <= now
            campaign = org.campaigns[view.campaign[i]] if view.outbound[i] else None
            handled = view.handled[i] and done
            talk, held, acw = view.t_talk[i], view.t_held[i], view.t_acw[i]
            yield {
                "Conversation ID": view.ids["conversation"][i],
                "Conversation Start": view.points[0][i],
                "Attempt Time": view.points[0][i],
                "Conversation End": view.points[8][i] if done else "",
                "Direction": "outbound" if view.outbound[i] else "inbound",
                "Media Type": MEDIA_TYPES[view.media[i]],
                "Queue ID": org.queue_ids[view.queue[i]],
                "Campaign ID": campaign.id if campaign else "",
                "Contact List ID": campaign.contact_list_id if campaign else "",
                "Contact ID": view.ids["contact"][i] if campaign else "",
                "Result": "abandoned" if view.abandoned[i] else ("connected" if view.connected[i] else "no answer"),
                "Dialing": _duration(view.t_dial[i], export) if campaign else "",
                "User ID": org.user_ids[view.user[i]] if view.user[i] >= 0 else "",
                "Wrap-up Code": org.wrapup_code_ids[view.wrapup[i]] if view.wrapup[i] >= 0 else "",
                "Talk": _duration(talk, export) if handled else "",
                "Hold": _duration(held, export) if handled and held else "",
                "ACW": _duration(acw, export) if handled else "",
                "Handle": _duration(talk + held + acw, export) if handled else "",
            }


def _summary_rows(synth: Synth, export: ReportingExportJobRequest, view: View, start: int, end: int, now: int) -> list[dict[str, Any]]:
    """Rows per (period interval, group value): sums over the conversations that started in it."""
    org = synth.org
    edges = boundaries(start, end, export.period, parse_time_zone(export.time_zone))
    sums: dict[tuple[int, ...], np.ndarray] = {}
    names = ("Offered", "Attempts", "Connects", "Abandons", "Handled", "Total Talk", "Total Hold", "Total ACW", "Total Handle")
    for block in _blocks(synth, start, end, now):
        keep = (block.start >= start) & (block.start < end) & (block.start < now) & _filter_mask(synth, block, export)
        if not keep.any():
            continue
        done = block.handled & (block.end <= now)
        group_col = {"campaign": block.campaign, "queue": block.queue, "user": block.user, "wrapup": block.wrapup}[view.group or "queue"]
        slot = np.searchsorted(edges, block.start, side="right") - 1
        keys = np.stack([slot, group_col.astype(np.int64)] + ([block.campaign.astype(np.int64)] if view.kind == "summary" and view.group == "wrapup" and view.campaign_only else []), axis=1)[keep]
        values = np.stack([
            (~block.outbound | block.connected), block.outbound, block.outbound & block.connected, block.abandoned,
            done, np.where(done, block.t_talk, 0), np.where(done, block.t_held, 0), np.where(done, block.t_acw, 0),
            np.where(done, block.t_talk + block.t_held + block.t_acw, 0),
        ], axis=1).astype(np.int64)[keep]
        uniq, inverse = np.unique(keys, axis=0, return_inverse=True)
        for row, key in enumerate(uniq.tolist()):
            if key[1] < 0 and view.group in ("user", "wrapup"):
                continue  # conversations no agent handled have no user or wrap-up code to report under
            total = values[inverse.ravel() == row].sum(axis=0)
            sums[tuple(key)] = sums.get(tuple(key), 0) + total
    rows = []
    for key in sorted(sums):
        slot, group = key[0], key[1]
        total = dict(zip(names, sums[key].tolist(), strict=True))
        row: dict[str, Any] = {
            "Interval Start": iso_utc(int(edges[slot])),
            "Interval End": iso_utc(int(edges[slot + 1])),
            **{k: (_duration(v, export) if k.startswith("Total") else v) for k, v in total.items()},
            "Avg Handle": _duration(total["Total Handle"] // total["Handled"], export) if total["Handled"] else "",
            "Connect Rate": f"{total['Connects'] / total['Attempts']:.4f}" if total["Attempts"] else "",
        }
        if view.group == "campaign" and group >= 0:
            row["Campaign ID"] = org.campaigns[group].id
            row["Contact List ID"] = org.campaigns[group].contact_list_id
        elif view.group == "queue":
            row["Queue ID"] = org.queue_ids[group]
        elif view.group == "user":
            row["User ID"] = org.user_ids[group]
        elif view.group == "wrapup":
            row["Wrap-up Code"] = org.wrapup_code_ids[group]
            if len(key) > 2 and key[2] >= 0:
                row["Campaign ID"] = org.campaigns[key[2]].id
        rows.append(row)
    return rows

