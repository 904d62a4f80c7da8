"""Genesys calls of the pacing forecast pipeline (genesys-api.md §3e).

Small functions over a :class:`~genesys_cloud.hooks.genesys_cloud.GenesysCloudHook` (passed in, so the
DAG's tasks stay one-liners and these stay testable with any object that has ``get``/``query``/
``put``/``paginate``). Request shaping, the forecast, capacity reading and the pacing arithmetic live in
``genesys_pipelines.pacing_forecast``.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from genesys_cloud.exceptions import (
    GenesysApiError,
    GenesysConflictError,
    GenesysNotFoundError,
    GenesysPayloadError,
    GenesysRateLimitError,
    GenesysServerError,
    GenesysTransportError,
)
from genesys_pipelines.pacing_forecast import capacity as cap
from genesys_pipelines.pacing_forecast import history, model
from genesys_pipelines.pacing_forecast import output as out
from genesys_pipelines.pacing_forecast import recommend as rec
from genesys_pipelines.pacing_forecast.params import PacingParams, ParamError
from genesys_pipelines.windows import Window

if TYPE_CHECKING:
    from genesys_cloud.hooks.genesys_cloud import GenesysCloudHook
    from genesys_cloud.sinks.object_store import PartitionPublisher

log = logging.getLogger(__name__)

CAMPAIGNS_PATH = "/api/v2/outbound/campaigns"
BU_PATH = "/api/v2/workforcemanagement/businessunits"
CAMPAIGNS_PAGE_SIZE = 100  # the listing's maximum
#: Campaigns worth forecasting when none are named: the ones dialing now.
ACTIVE_STATUSES = ("on", "stopping")
DECIMAL = {"useMaxCallsPerAgentDecimal": "true"}


def campaign_path(campaign_id: str) -> str:
    return f"{CAMPAIGNS_PATH}/{campaign_id}"


def _ref(entity: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "id": entity.get("id"),
        "name": entity.get("name"),
        "dialing_mode": entity.get("dialingMode"),
        "status": entity.get("campaignStatus"),
        "queue_id": (entity.get("queue") or {}).get("id"),
    }


def select_campaigns(hook: GenesysCloudHook, params: PacingParams) -> list[dict[str, Any]]:
    """The campaigns to forecast, sorted by id: the ``campaign_ids`` param, else the non-idle ones.

    One listing walk serves both; an unknown id in ``campaign_ids`` fails the run by name.
    """
    listed = {e["id"]: _ref(e) for e in hook.paginate(CAMPAIGNS_PATH, page_size=CAMPAIGNS_PAGE_SIZE) if e.get("id")}
    if params.campaign_ids:
        missing = [cid for cid in params.campaign_ids if cid not in listed]
        if missing:
            raise ParamError("campaign_ids", f"no such outbound campaign(s): {', '.join(missing)}")
        chosen = [listed[cid] for cid in params.campaign_ids]
    else:
        chosen = [ref for ref in listed.values() if ref["status"] in ACTIVE_STATUSES]
    return sorted(chosen, key=lambda ref: ref["id"])


def read_campaign(hook: GenesysCloudHook, campaign_id: str) -> dict[str, Any]:
    """The full campaign, with ``maxCallsPerAgentDecimal`` (only answered with the query flag)."""
    return dict(hook.get(campaign_path(campaign_id), params=dict(DECIMAL)))


def fetch_history(
    hook: GenesysCloudHook, campaign_id: str, window: Window, params: PacingParams
) -> history.HourlyCounts:
    """Hourly (attempted, connected) of one campaign over the history, one query per chunk."""
    bodies = history.history_queries([campaign_id], window, params.history_days, params.chunk_days)
    responses = [hook.query(history.AGGREGATES_PATH, body) for body in bodies]
    return history.hourly_counts(responses).get(campaign_id, {})


def fetch_capacity(
    hook: GenesysCloudHook, campaign: Mapping[str, Any], hours: Sequence[str]
) -> dict[str, Any]:
    """Agents per forecast hour: WFM intraday of the queue's planning group, else live ``idleAgents``."""
    queue_id = (campaign.get("queue") or {}).get("id")
    reason = "campaign has no queue"
    if queue_id:
        reason = f"queue {queue_id} is in no planning group"
        units = (hook.get(BU_PATH) or {}).get("entities") or []
        for unit in sorted(units, key=lambda u: u.get("id") or ""):
            groups = (hook.get(f"{BU_PATH}/{unit['id']}/planninggroups") or {}).get("entities") or []
            group = cap.planning_group_for_queue(groups, queue_id)
            if group is None:
                continue
            tz = cap.business_unit_zone(hook.get(f"{BU_PATH}/{unit['id']}", params={"expand": "settings"}))
            responses = [
                hook.query(f"{BU_PATH}/{unit['id']}/intraday", cap.intraday_request(day, group["id"]))
                for day in cap.business_unit_dates(hours, tz)
            ]
            found = cap.capacity_from_wfm(hours, responses, group, tz)
            if found is not None:
                return {**found, "business_unit_id": unit["id"]}
            reason = cap.wfm_gap_reason(responses, group)
            break
    stats = hook.get(f"{campaign_path(str(campaign['id']))}/stats")
    return cap.capacity_from_idle_agents(hours, stats, reason)


#: The campaign fields the recommendation reads (all the CPU step gets: XCom stays small).
CAMPAIGN_KEYS = ("id", "name", "dialingMode", "version", "campaignStatus", rec.FIELD_CALLS, "maxCallsPerAgent",
                 rec.FIELD_ABANDON, rec.FIELD_LINES)


def fetch_inputs(
    hook: GenesysCloudHook, ref: Mapping[str, Any], window: Window, params: PacingParams
) -> dict[str, Any]:
    """The API reads of one campaign (history, then campaign and capacity): small JSON for the CPU step.

    Runs in the API pool; the fitting runs outside it (:func:`analyse_fetched`). A campaign whose history
    cannot be backtested is not read further: the CPU step skips it with the reason.
    """
    started = time.monotonic()
    span = history.history_window(window, params.history_days)
    counts = fetch_history(hook, str(ref["id"]), window, params)
    fetched: dict[str, Any] = {"ref": dict(ref), "history": history.counts_to_dense(counts, span)}
    grid = history.hourly_grid(counts, span)
    try:
        model.check_backtestable(grid)
    except model.ShortHistoryError:
        fetched["latency_ms"] = round((time.monotonic() - started) * 1000)
        return fetched
    campaign = read_campaign(hook, str(ref["id"]))
    fetched["campaign"] = {k: campaign[k] for k in CAMPAIGN_KEYS if k in campaign}
    fetched["capacity"] = fetch_capacity(hook, campaign, model.forecast_hours(grid))
    fetched["latency_ms"] = round((time.monotonic() - started) * 1000)
    return fetched


def analyse_fetched(
    fetched: Mapping[str, Any],
    window: Window,
    params: PacingParams,
    publisher: PartitionPublisher | None = None,
    recorded: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """Backtest + forecast → recommendation → chart for one campaign (CPU only, no API call).

    ``recorded`` is what an earlier run of the same window published for this campaign
    (``output.recorded_plans``): the recommendation is then bounded from its ``before``
    (``recommend.window_baseline``), so re-running a window never compounds the step.
    Stages the campaign's chart with ``publisher`` (published later, with the rest of the partition).
    A campaign with too little history is ``skipped`` with the reason, not an error.
    """
    started = time.monotonic()
    ref = fetched["ref"]
    cid = str(ref["id"])
    span = history.history_window(window, params.history_days)
    grid = history.hourly_grid(history.dense_to_counts(fetched["history"]), span)
    result: dict[str, Any] = {
        "campaign_id": cid,
        "campaign_name": ref.get("name"),
        "dialing_mode": ref.get("dialing_mode"),
        "usable_hours": history.usable_hours(grid),
        "history_hours": len(grid),
        "filled_hours": int(grid["filled"].sum()),
    }

    def latency() -> int:
        return round((time.monotonic() - started) * 1000) + int(fetched.get("latency_ms") or 0)

    try:
        skill = model.backtest(grid)
        fc = model.forecast(grid, weekly=skill.weekly)
    except model.ShortHistoryError as exc:
        result.update(status="skipped", reason=str(exc), latency_ms=latency())
        return result
    campaign = dict(fetched["campaign"])
    capacity = fetched["capacity"]
    typical = model.typical_attempts(grid, fc.hours)
    attempted = float(grid["attempted"].sum())
    history_rate = float(grid["connected"].sum()) / attempted if attempted else None
    forecast = {"hours": fc.hours, "mean": fc.mean, "lower": fc.lower, "upper": fc.upper,
                "method": fc.method, "level": fc.level}
    baseline = rec.window_baseline(campaign, recorded)
    recommendation = rec.recommend(baseline or campaign, forecast, capacity["agents"], typical, params, history_rate)
    result.update(
        status="forecast",
        reason=None,
        forecast=forecast,
        typical_attempts=typical,
        capacity=capacity,
        history_rate=None if history_rate is None else round(history_rate, 6),
        backtest_summary={k: v for k, v in skill.to_dict().items() if k != "held_out"},
        recommendation=recommendation,
        # Not published (the audit shows it): whether the window's recorded baseline was used.
        baseline="recorded" if baseline is not None else "current",
    )
    if publisher is not None:
        title = (f"{ref.get('name') or cid} ({ref.get('dialing_mode')}): backtest MAE {skill.mae:.3f}, "
                 f"MASE {'n/a' if skill.mase is None else f'{skill.mase:.2f}'}")
        png = out.chart_png(title, grid, forecast, capacity["agents"], capacity["source"])
        publisher.stage_bytes(out.chart_name(cid), png, "image/png")
        result["chart"] = out.chart_name(cid)
    result["latency_ms"] = latency()
    return result


def analyse_campaign(
    hook: GenesysCloudHook,
    ref: Mapping[str, Any],
    window: Window,
    params: PacingParams,
    publisher: PartitionPublisher | None = None,
    recorded: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """:func:`fetch_inputs` then :func:`analyse_fetched` in one call (the DAG runs them as two tasks)."""
    return analyse_fetched(fetch_inputs(hook, ref, window, params), window, params, publisher, recorded)


def read_recorded(dag_id: str, window: Window) -> dict[str, dict[str, Any]]:
    """What the window's published recommendations.json recorded per campaign ({} when unpublished)."""
    from genesys_cloud.sinks.object_store import PartitionPublisher

    publisher = PartitionPublisher(dag_id, window.local_start(), window.local_end(), "read-recorded")
    manifest = publisher.read_manifest()
    keys = [o["key"] for o in (manifest or {}).get("objects", []) if o.get("name") == out.RECOMMENDATIONS_JSON]
    if not keys:
        return {}
    return out.recorded_plans(publisher.hook.read_key(keys[0], bucket_name=publisher.bucket))


def _write(hook: GenesysCloudHook, body: Mapping[str, Any]) -> Any:
    return hook.put(campaign_path(str(body["id"])), dict(body), params=dict(DECIMAL))


def _pacing(campaign: Mapping[str, Any] | None, fields: Sequence[str]) -> dict[str, Any]:
    return {f: (campaign or {}).get(f) for f in fields}


def apply_one(
    hook: GenesysCloudHook, result: Mapping[str, Any], params: PacingParams
) -> dict[str, Any]:
    """Read-modify-write of one campaign's pacing fields, safely (returns the outcome for the audit).

    * Fresh GET first: an earlier try of this task may already have applied the plan (→ success, no
      write). If another writer changed the pacing fields since the analysis, recompute from them.
    * PUT the full campaign with its ``version`` and ``?useMaxCallsPerAgentDecimal=true``.
    * 409 (stale version): re-read, recompute, retry, at most ``max_write_attempts`` writes.
    * Lost answer (5xx, timeout): the write may have landed; re-read and COMPARE before any retry, so
      the change is never applied twice (a second relative step on top of the first).
    * Read back after the write to verify.
    """
    started = time.monotonic()
    cid = str(result["campaign_id"])
    plan = dict(result["recommendation"])
    fields = sorted((plan.get("after") or {}).keys())
    outcome: dict[str, Any] = {
        "campaign_id": cid, "status": "FAILED", "writes": 0, "version_conflicts": 0, "lost_answers": 0,
        "error": None, "recomputed": 0,
    }
    # What the analysis read: the audit's before/after if even the first read below is refused.
    before = current = {**plan.get("before", {}), "version": plan.get("version")}
    wrote = False
    try:
        current = before = read_campaign(hook, cid)
        if rec.is_applied(current, plan):
            outcome["status"] = "ALREADY_APPLIED"
        else:
            outcome["error"] = f"not applied after {params.max_write_attempts} writes"
            for _attempt in range(params.max_write_attempts):
                if _pacing(current, fields) != plan["before"]:
                    # Another writer moved the pacing fields: the step bound applies to THEIR value now.
                    plan = rec.recommend(current, result["forecast"], result["capacity"]["agents"],
                                         result["typical_attempts"], params, result.get("history_rate"))
                    outcome["recomputed"] += 1
                    if not plan["should_apply"]:
                        outcome.update(status="NOOP", error=None)
                        break
                try:
                    outcome["writes"] += 1
                    _write(hook, rec.apply_to_campaign(current, plan))
                    wrote = True
                except GenesysConflictError as exc:
                    outcome["version_conflicts"] += 1
                    log.warning("409 on campaign %s (%s): re-reading", cid, exc)
                except GenesysRateLimitError as exc:
                    # A 429 was not processed; the token's limiter already waits Retry-After. Re-read, retry.
                    outcome["rate_limited"] = outcome.get("rate_limited", 0) + 1
                    log.warning("429 on the write of campaign %s (%s): retrying after Retry-After", cid, exc)
                except (GenesysServerError, GenesysTransportError) as exc:
                    outcome["lost_answers"] += 1
                    wrote = True  # it may have landed: compare before sending it again
                    log.warning("No answer for the write of campaign %s (%s): re-reading before any retry",
                                cid, exc)
                current = read_campaign(hook, cid)  # the read-back: verification, or fresh state for a retry
                if wrote and rec.is_applied(current, plan):
                    outcome.update(status="APPLIED", error=None)
                    break
    except (GenesysApiError, GenesysPayloadError, GenesysTransportError) as exc:
        # A definitive refusal (400 invalid body, 403 missing permission, 404 gone, a read that kept
        # failing): this campaign FAILED, naming the cause; the others still run, deliver audits them
        # all, then fails the run.
        vanished = "campaign vanished: " if isinstance(exc, GenesysNotFoundError) else ""
        outcome.update(status="FAILED", error=f"{vanished}{type(exc).__name__}: {exc}", write_may_have_landed=wrote)
        log.error("Pacing of campaign %s not applied: %s", cid, exc)
    outcome.update(
        before=_pacing(before, fields),
        after=_pacing(current, fields),
        version_before=before.get("version"),
        version_after=current.get("version"),
        applied_recommendation=plan.get("after"),
        latency_ms=round((time.monotonic() - started) * 1000, 1),
    )
    return outcome


def apply_all(
    hook: GenesysCloudHook,
    results: Sequence[Mapping[str, Any]],
    params: PacingParams,
    recorded: Mapping[str, Mapping[str, Any]] | None = None,
) -> dict[str, dict[str, Any]]:
    """Apply every recommendation that should be (only with ``apply``); outcome per campaign id.

    ``recorded``: the window's published record (:func:`read_recorded`). A campaign that already holds
    the target an earlier apply run of this window recorded keeps that run's apply record (nothing is
    written, and the published objects stay byte-identical).
    """
    outcomes: dict[str, dict[str, Any]] = {}
    for result in sorted(results, key=lambda r: r["campaign_id"]):
        plan = result.get("recommendation")
        if not params.apply or result.get("status") != "forecast" or not plan or not plan.get("should_apply"):
            continue
        cid = result["campaign_id"]
        try:
            outcome = apply_one(hook, result, params)
        except (GenesysApiError, GenesysPayloadError, GenesysTransportError) as exc:  # belt and braces
            outcome = {"campaign_id": cid, "status": "FAILED", "error": f"{type(exc).__name__}: {exc}", "writes": 0}
        earlier = ((recorded or {}).get(cid) or {}).get("apply") or {}
        if (outcome["status"] == "ALREADY_APPLIED" and earlier.get("status") in ("APPLIED", "ALREADY_APPLIED")
                and earlier.get("applied_recommendation") == plan.get("after")):
            outcome = {**outcome, **{k: earlier.get(k) for k in out.APPLY_KEYS}, "replayed": True}
        outcomes[cid] = outcome
    return outcomes


def deliver_outputs(
    context: Mapping[str, Any],
    dag_id: str,
    window: Window,
    results: Sequence[Mapping[str, Any]],
    outcomes: Mapping[str, Mapping[str, Any]],
    params: PacingParams,
) -> dict[str, Any]:
    """Publish the partition (CSV, JSON, staged charts), webhook, audit rows; small facts for XCom."""
    from genesys_cloud.sinks.audit import AuditRow, AuditSink
    from genesys_cloud.sinks.object_store import PartitionPublisher
    from genesys_cloud.sinks.webhook import WebhookSink, idempotency_key

    results = sorted(results, key=lambda r: r["campaign_id"])
    entries = [out.recommendation_entry(r, outcomes.get(r["campaign_id"])) for r in results]
    summary = out.skill_summary(entries)
    wdict = window.to_dict()

    publisher = PartitionPublisher(dag_id, window.local_start(), window.local_end(), str(context["run_id"]))
    csv_bytes, rows = out.forecast_csv(results)
    publisher.stage_bytes(out.FORECAST_CSV, csv_bytes, "text/csv", rows=rows)
    publisher.stage_bytes(out.RECOMMENDATIONS_JSON, out.recommendations_json(entries, wdict), "application/json",
                          rows=len(entries))
    # Only what THIS run's results name: a chart an earlier try staged for a campaign that is now
    # skipped (or no longer selected) shares the run's staging prefix and must not be published.
    names = [out.FORECAST_CSV, out.RECOMMENDATIONS_JSON, *(r["chart"] for r in results if r.get("chart"))]
    manifest = publisher.publish(extra_manifest={"summary": summary}, names=names)
    keys = {entry["name"]: entry["key"] for entry in manifest["objects"]}
    urls = {name: publisher.presign(key) for name, key in sorted(keys.items())}

    webhook: dict[str, Any] | None = None
    ti = context.get("ti")
    if params.deliver_webhook:
        payload = out.webhook_payload(dag_id, wdict, entries, urls)
        # Propose and apply runs of one window are different deliveries (the receiver dedupes on the key).
        event = "pacing_forecast.apply" if params.apply else "pacing_forecast.propose"
        key = idempotency_key(dag_id, window.start, window.end, getattr(ti, "task_id", "deliver"), -1, event)
        answer = WebhookSink().deliver(payload, key)
        webhook = {"status_code": answer.get("status_code"), "attempts": answer.get("attempts")}

    audit = []
    for result, entry in zip(results, entries, strict=True):
        outcome = outcomes.get(result["campaign_id"])
        plan = result.get("recommendation") or {}
        status = result["status"] if outcome is None else str(outcome["status"]).lower()
        audit.append(AuditRow.from_context(
            context, window.start, window.end, "pacing_forecast",
            entity_type="outbound_campaign", entity_id=result["campaign_id"], status=status,
            latency_ms=result.get("latency_ms"), record_count=len((result.get("forecast") or {}).get("hours", [])),
            details={
                "reason": result.get("reason"),
                "dialing_mode": result.get("dialing_mode"),
                "skill": entry["skill"],
                "capacity_source": entry["capacity_source"],
                "recommendation_status": plan.get("status"),
                "before": (outcome or {}).get("before", plan.get("before")),
                "after": (outcome or {}).get("after", plan.get("after")),
                "applied": outcome is not None and outcome.get("status") in ("APPLIED", "ALREADY_APPLIED"),
                "apply": None if outcome is None else {k: outcome.get(k) for k in (
                    "status", "writes", "version_conflicts", "lost_answers", "version_before", "version_after",
                    "error", "replayed", "write_may_have_landed")},
                "baseline": result.get("baseline"),
                "explanation": plan.get("explanation"),
                "partition": publisher.partition,
            },
        ))
    audit.append(AuditRow.from_context(
        context, window.start, window.end, "run_summary", entity_type="run", entity_id=dag_id,
        status="applied" if any(o.get("status") == "APPLIED" for o in outcomes.values()) else "proposed",
        record_count=len(results),
        details={**summary, "apply": params.apply, "manifest_key": manifest["manifest_key"], "webhook": webhook},
    ))
    sink = AuditSink()
    sink.ensure_schema()
    sink.record(audit)
    failed = sorted(cid for cid, o in outcomes.items() if o.get("status") == "FAILED")
    return {"manifest_key": manifest["manifest_key"], "keys": keys, "summary": summary, "webhook": webhook,
            "applied": sorted(cid for cid, o in outcomes.items() if o.get("status") == "APPLIED"),
            "failed": failed}
