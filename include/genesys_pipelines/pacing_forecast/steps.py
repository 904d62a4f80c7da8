"""The pacing forecast pipeline's steps, over an injected Genesys API client and the run's object store.

Pure of Airflow: ``api`` has the hook's verbs (``list_campaigns``, ``get_campaign``, ``put_campaign``,
``aggregates_query``, ``campaign_stats``, the WFM verbs and ``put_versioned``); ``store`` is the run's
partition publisher (``stage_bytes``, ``read_object``). Request shaping, the forecast, capacity reading and
the pacing arithmetic live in this package's other modules.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from typing import Any

from genesys_pipelines.errors import InvalidParam
from genesys_pipelines.pacing_forecast import capacity as cap
from genesys_pipelines.pacing_forecast import forecast as answer_rate
from genesys_pipelines.pacing_forecast import history, model
from genesys_pipelines.pacing_forecast import output as out
from genesys_pipelines.pacing_forecast import recommend as rec
from genesys_pipelines.pacing_forecast.params import PacingParams
from genesys_pipelines.windows import Window
from genesys_pipelines.writes import VersionedWrite, journaled_write, request_digest

#: Campaigns worth forecasting when none are named: the ones dialing now.
ACTIVE_STATUSES = ("on", "stopping")
#: The campaign fields the recommendation reads (all the CPU step gets: XCom stays small).
CAMPAIGN_KEYS = ("id", "name", "dialingMode", "version", "campaignStatus", rec.FIELD_CALLS, "maxCallsPerAgent",
                 rec.FIELD_ABANDON, rec.FIELD_LINES)
#: The write loop's outcome → the audit's status vocabulary.
STATUS = {"applied": "APPLIED", "already_applied": "ALREADY_APPLIED", "noop": "NOOP", "refused": "FAILED",
          "failed": "FAILED"}


def _ref(campaign: Any) -> dict[str, Any]:
    return {"id": campaign.id, "name": campaign.name, "dialing_mode": campaign.dialing_mode,
            "status": campaign.campaign_status, "queue_id": campaign.queue.id if campaign.queue else None}


def stale_reason(window_end: datetime, run_after: datetime, max_age_hours: float) -> str | None:
    """Why a run must not pace from its window, or None: the forecast covers the 24 hours after the
    window, so a run starting more than ``max_age_hours`` (``GENESYS_PACING_MAX_AGE_H``, default 24) after
    the window's end (a backfill, a restatement, a late manual run) recommends nothing and writes nothing."""
    age = (run_after - window_end).total_seconds() / 3600
    if age > max_age_hours:
        return (f"stale: the run starts {age:.1f} h after the window's end {window_end.isoformat()} "
                f"(more than {max_age_hours:g} h): nothing recommended or written")
    return None


def review(results: Sequence[Mapping[str, Any]], apply: bool, sandbox: bool = False) -> dict[str, Any]:
    """What the review step records (``genesys_pipelines.approval.review``): every apply that would write
    needs a person's Approve of exactly these values."""
    from genesys_pipelines import approval as ap

    items = ap.pacing_items(results)
    required = ap.approval_required(manual=True, dry_run=not apply, writes=bool(items), is_destructive=True,
                                    sandbox=sandbox)
    return ap.review(items, required, lambda digest: ap.pacing_review_body(results, digest))


def window_staleness(window: Window, run_after: datetime, env: Mapping[str, str] | None = None) -> str | None:
    """:func:`stale_reason` for the run's window with the deployment's ``GENESYS_PACING_MAX_AGE_H``."""
    from genesys_pipelines.pacing_forecast.params import deployment_limits

    end = window.end if isinstance(window.end, datetime) else datetime.fromisoformat(str(window.end))
    return stale_reason(end, run_after, deployment_limits(env).max_age_hours)


def restated_reason(restatement: Mapping[str, Any] | None) -> str | None:
    """Why a run must not pace from upstream data that was restated, or None.

    ``restatement`` is the ``restatement`` facts of the campaign-stats asset event the run was triggered by
    for its window (``{"version", "restated_from"}``): version 2 or more, or a ``restated_from`` digest,
    means the day was published before and rebuilt after late data arrived (the restatement sweep). The
    first event already paced from that day; pacing again from corrected history of a past day is not a
    new day's decision, whatever the run's age: nothing recommended, asked or written."""
    if not restatement:
        return None
    version = int(restatement.get("version") or 1)
    if version < 2 and not restatement.get("restated_from"):
        return None
    return (f"stale: the upstream campaign statistics of this window were restated (version {version}, "
            f"restated from {str(restatement.get('restated_from') or '?')[:12]}): a restatement is not a new "
            "day to pace from; nothing recommended or written")


def run_staleness(window: Window, run_after: datetime, restatement: Mapping[str, Any] | None = None,
                  env: Mapping[str, str] | None = None) -> str | None:
    """Why the run must write nothing: its upstream day was restated (:func:`restated_reason`), or its
    window is too old (:func:`window_staleness`); None when it may pace."""
    return restated_reason(restatement) or window_staleness(window, run_after, env)


def left_out_windows(windows: Sequence[Window], run_stale: str | None,
                     staleness: Callable[[Window], str | None]) -> tuple[list[dict[str, Any]], list[Window]]:
    """Of the upstream windows an asset-triggered run folded in and did not process (its own window is the
    newest; ``genesys_cloud.upstream.unprocessed_windows``): ``(skipped, uncovered)``.

    ``skipped``: recorded in the run's summary (manifest and audit) instead of failing the run, each with
    why a run of its own would write nothing either. Only a stale run (``run_stale``: it read, asked and
    wrote nothing) skips a window, and only one that is stale on its own (``staleness(window)``: too old
    for a run starting when this one did, or restated: :func:`run_staleness`), which a run of its own would
    not pace either. ``uncovered``: every other left-out window, for which the run still fails by name
    (every window of a run that is not stale). Nothing here allows a write."""
    if not run_stale:
        return [], list(windows)
    skipped: list[dict[str, Any]] = []
    uncovered: list[Window] = []
    for window in windows:
        why = staleness(window)
        if why:
            skipped.append({"window": window.partition(), "start": str(window.start), "end": str(window.end),
                            "stale": why})
        else:
            uncovered.append(window)
    return skipped, uncovered


def select_campaigns(api: Any, params: PacingParams, window: Window | None = None,
                     run_after: datetime | None = None,
                     restatement: Mapping[str, Any] | None = None) -> list[dict[str, Any]]:
    """The campaigns to forecast, sorted by id: the ``campaign_ids`` param, else the non-idle ones; none
    (and no API call) when the window is stale for a run at ``run_after`` (:func:`window_staleness`) or
    the triggering upstream event was a restatement (:func:`restated_reason`).

    One listing walk serves both; an unknown id in ``campaign_ids`` fails the run by name.
    """
    if restated_reason(restatement):
        return []
    if window is not None and run_after is not None and window_staleness(window, run_after):
        return []
    listed = {c.id: _ref(c) for c in api.list_campaigns()}
    if params.campaign_ids:
        missing = [cid for cid in params.campaign_ids if cid not in listed]
        if missing:
            raise InvalidParam("campaign_ids", f"no such outbound campaign(s): {', '.join(missing)}")
        chosen = [listed[cid] for cid in params.campaign_ids]
    else:
        chosen = [ref for ref in listed.values() if ref["status"] in ACTIVE_STATUSES]
    return sorted(chosen, key=lambda ref: ref["id"])


def read_campaign(api: Any, campaign_id: str) -> dict[str, Any]:
    """The full campaign (``maxCallsPerAgentDecimal`` included: reads always carry it)."""
    return api.get_campaign(campaign_id).to_api()


def fetch_history(api: Any, campaign_id: str, window: Window, params: PacingParams) -> history.HourlyCounts:
    """Hourly (attempted, connected) of one campaign over the history, one query per chunk."""
    bodies = history.history_queries([campaign_id], window, params.history_days, params.chunk_days)
    return history.hourly_counts([api.aggregates_query(body) for body in bodies]).get(campaign_id, {})


def fetch_capacity(api: Any, campaign: Mapping[str, Any], hours: Sequence[str]) -> dict[str, Any]:
    """Agents per forecast hour: WFM intraday of the queue's planning group, else live ``idleAgents``."""
    queue_id = (campaign.get("queue") or {}).get("id")
    reason = "campaign has no queue"
    if queue_id:
        reason = f"queue {queue_id} is in no planning group"
        for unit in sorted(api.business_units().entities or [], key=lambda u: u.id or ""):
            groups = [g.to_api() for g in api.planning_groups(unit.id).entities or []]
            group = cap.planning_group_for_queue(groups, queue_id)
            if group is None:
                continue
            tz = cap.business_unit_zone(api.business_unit(unit.id).to_api())
            responses = [api.intraday(unit.id, day, group["id"], cap.INTERVAL_MINUTES).to_api()
                         for day in cap.business_unit_dates(hours, tz)]
            found = cap.capacity_from_wfm(hours, responses, group, tz)
            if found is not None:
                return {**found, "business_unit_id": unit.id}
            reason = cap.wfm_gap_reason(responses, group)
            break
    stats = api.campaign_stats(str(campaign["id"])).to_api()
    return cap.capacity_from_idle_agents(hours, stats, reason)


def fetch_inputs(api: Any, ref: Mapping[str, Any], window: Window, params: PacingParams) -> dict[str, Any]:
    """The API reads of one campaign (history, then campaign and capacity): small JSON for the CPU step.

    Runs in the API pool; the fitting runs outside it (:func:`analyse`). A campaign whose history cannot be
    backtested is not read further: the CPU step skips it with the reason.
    """
    started = time.monotonic()
    span = history.history_window(window, params.history_days)
    counts = fetch_history(api, str(ref["id"]), window, params)
    fetched: dict[str, Any] = {"ref": dict(ref), "history": history.counts_to_dense(counts, span)}
    grid = history.hourly_grid(counts, span)
    try:
        model.check_history(grid)
    except model.ShortHistoryError:
        fetched["latency_ms"] = round((time.monotonic() - started) * 1000)
        return fetched
    # A read lacking version or dialingMode, or with a negative / non-numeric pacing value, stops here.
    campaign = rec.check_campaign_read(read_campaign(api, str(ref["id"])))
    fetched["campaign"] = {k: campaign[k] for k in CAMPAIGN_KEYS if k in campaign}
    fetched["capacity"] = fetch_capacity(api, campaign, model.forecast_hours(grid))
    fetched["latency_ms"] = round((time.monotonic() - started) * 1000)
    return fetched


def read_recorded(store: Any) -> dict[str, dict[str, Any]]:
    """What the window's published recommendations.json recorded per campaign ({} when unpublished)."""
    document = store.read_object(out.RECOMMENDATIONS_JSON)
    return out.recorded_plans(document) if document is not None else {}


def analyse(fetched: Mapping[str, Any], window: Window, params: PacingParams, store: Any | None = None,
            recorded: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """Backtest + forecast → recommendation → chart for one campaign (CPU only, no API call).

    ``recorded`` is what an earlier run of the same window published for this campaign
    (:func:`read_recorded`): the recommendation is then bounded from its ``before``
    (``recommend.window_baseline``), so re-running a window never compounds the step.
    Stages the campaign's chart with ``store`` (published later, with the rest of the partition).
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

    try:  # rolling-origin selection and calibrated intervals (forecast.py); act only on skill
        forecast, skill = answer_rate.for_pipeline(grid, span.end, window.tz, answer_rate.skill_margin())
    except model.ShortHistoryError as exc:
        result.update(status="skipped", reason=str(exc), latency_ms=latency())
        return result
    campaign = dict(fetched["campaign"])
    capacity = fetched["capacity"]
    typical = model.typical_attempts(grid, forecast["hours"])
    attempted = float(grid["attempted"].sum())
    history_rate = float(grid["connected"].sum()) / attempted if attempted else None
    baseline = rec.window_baseline(campaign, recorded)
    recommendation = rec.recommend(baseline or campaign, forecast, capacity["agents"], typical, params, history_rate)
    if not skill["skilful"] and recommendation.get("should_apply"):
        recommendation = {**recommendation, "should_apply": False, "proposed_only": skill["skill_reason"]}
    result.update(
        status="forecast",
        reason=None if skill["skilful"] else skill["skill_reason"],
        forecast=forecast,
        typical_attempts=typical,
        capacity=capacity,
        history_rate=None if history_rate is None else round(history_rate, 6),
        backtest_summary=skill,
        recommendation=recommendation,
        # Not published (the audit shows it): whether the window's recorded baseline was used.
        baseline="recorded" if baseline is not None else "current",
    )
    if store is not None:
        mae, mase = skill["mae"], skill["mase"]
        title = (f"{ref.get('name') or cid} ({ref.get('dialing_mode')}): rolling-origin MAE "
                 f"{'n/a' if mae is None else f'{mae:.3f}'}, MASE {'n/a' if mase is None else f'{mase:.2f}'}")
        png = out.chart_png(title, grid, forecast, capacity["agents"], capacity["source"])
        store.stage_bytes(out.chart_name(cid), png, "image/png")
        result["chart"] = out.chart_name(cid)
    result["latency_ms"] = latency()
    return result


def _pacing(campaign: Mapping[str, Any] | None, fields: Sequence[str]) -> dict[str, Any]:
    return {f: (campaign or {}).get(f) for f in fields}


class PacingWrite(VersionedWrite[dict[str, Any], dict[str, Any]]):
    """One campaign's pacing fields, read-modify-written whole with ``version`` and the decimal flag.

    If another writer moved the pacing fields since the analysis, the recommendation is recomputed from
    their values (the step bound applies to THEIR value then)."""

    def __init__(self, api: Any, result: Mapping[str, Any], params: PacingParams, fields: Sequence[str]) -> None:
        self.api, self.result, self.params, self.fields = api, result, params, list(fields)
        self.label = f"campaign {result['campaign_id']}"

    def read(self) -> dict[str, Any]:
        # A read lacking version, dialingMode or a pacing field the write depends on (or with a negative or
        # non-numeric one) raises MalformedCampaign: nothing is written from it.
        return rec.check_campaign_read(read_campaign(self.api, str(self.result["campaign_id"])), self.fields)

    def guard(self, plan: dict[str, Any], state: dict[str, Any]) -> tuple[str, Any] | None:
        """At the PUT: the values written stay inside the absolute bounds, and a move toward more
        aggressive dialing is at most the step from what was read just now."""
        p, problems = self.params, []
        limits = {rec.FIELD_CALLS: (p.max_calls_per_agent_min, p.max_calls_per_agent_max),
                  rec.FIELD_LINES: (p.outbound_line_count_min, p.outbound_line_count_max),
                  rec.FIELD_ABANDON: (0.0, p.abandon_rate_target)}
        now = rec.pacing_values(state, plan.get("field"))
        for key, value in (plan.get("after") or {}).items():
            if value is None or key not in limits:
                continue
            low, high = limits[key]
            current = now.get(key)
            if value > high + 1e-9:
                problems.append(f"{key} {value} above its bound {high}")
            if key != rec.FIELD_ABANDON and current and value > current * (1 + p.max_relative_step) + 1e-6:
                problems.append(f"{key} {value} more than {p.max_relative_step:.0%} above the current {current}")
            if value < low - 1e-9 and not (current is not None and current < low and value >= current):
                problems.append(f"{key} {value} below its bound {low}")
        return (f"{self.label}: pacing outside its bounds: {'; '.join(problems)}", problems) if problems else None

    def is_applied(self, plan: dict[str, Any], state: dict[str, Any]) -> bool:
        return rec.is_applied(state, plan)

    def is_stale(self, plan: dict[str, Any], state: dict[str, Any]) -> bool:
        moved = _pacing(state, self.fields) != plan["before"]
        if (state.get("version") == plan.get("version") and plan.get("before")
                and rec.pacing_values(state, plan.get("field")) != plan["before"]):
            # One version, two contents: the API contradicts itself; nothing is planned from it.
            raise rec.MalformedCampaign(f"{self.label}: version {plan.get('version')} read twice with different "
                                        "pacing values")
        return moved

    def replan(self, state: dict[str, Any]) -> dict[str, Any]:
        r = self.result
        return rec.recommend(state, r["forecast"], r["capacity"]["agents"], r["typical_attempts"], self.params,
                             r.get("history_rate"))

    def is_noop(self, plan: dict[str, Any]) -> bool:
        return not plan["should_apply"]

    def write(self, plan: dict[str, Any], state: dict[str, Any]) -> Any:
        return self.api.put_campaign(rec.apply_to_campaign(state, plan), decimal_calls=True)


def apply_one(api: Any, result: Mapping[str, Any], params: PacingParams) -> dict[str, Any]:
    """Read-modify-write of one campaign's pacing fields, safely (``api.put_versioned``); the outcome."""
    plan = dict(result["recommendation"])
    fields = sorted((plan.get("after") or {}).keys())
    written = api.put_versioned(PacingWrite(api, result, params, fields), plan, params.max_write_attempts)
    outcome: dict[str, Any] = {
        "campaign_id": str(result["campaign_id"]), "status": STATUS[written.status], "writes": written.writes,
        "version_conflicts": written.version_conflicts, "lost_answers": written.lost_answers,
        "error": written.error, "recomputed": written.replanned,
    }
    if written.rate_limited:
        outcome["rate_limited"] = written.rate_limited
    if written.status in ("failed", "refused"):
        vanished = "campaign vanished: " if (written.error or "").startswith("GenesysNotFoundError") else ""
        outcome.update(error=f"{vanished}{written.error}", write_may_have_landed=written.write_may_have_landed)
    # What the analysis read stands in for both when even the first read was refused.
    analysed = {**plan.get("before", {}), "version": plan.get("version")}
    before, after = (written.before, written.after) if written.reads else (analysed, analysed)
    final = written.plan if written.plan is not None else plan
    outcome.update(before=_pacing(before, fields), after=_pacing(after, fields), version_before=before.get("version"),
                   version_after=after.get("version"), applied_recommendation=final.get("after"),
                   latency_ms=written.latency_ms)
    return outcome


def apply_all(api: Any, results: Sequence[Mapping[str, Any]], params: PacingParams,
              recorded: Mapping[str, Mapping[str, Any]] | None = None, journal: Any = None,
              approved: Any = None, stale: str | None = None) -> dict[str, dict[str, Any]]:
    """Apply every recommendation that should be (only with ``apply``); outcome per campaign id.

    ``stale``: why nothing may be written now (the upstream window was restated while the run waited,
    :func:`genesys_cloud.upstream.restated_during_run`): every campaign that would be written is ``STALE``.

    ``recorded``: the window's published record (:func:`read_recorded`). A campaign that already holds
    the target an earlier apply run of this window recorded keeps that run's apply record (nothing is
    written, and the published objects stay byte-identical).

    ``journal`` records each write ahead (``journaled_write``): no intent recorded, no write; an
    exception on one campaign marks it FAILED and the loop goes on. ``approved(campaign_id, result)``
    (optional) says whether a recorded approval covers that recommendation; others are not written.
    """
    outcomes: dict[str, dict[str, Any]] = {}
    for result in sorted(results, key=lambda r: r["campaign_id"]):
        plan = result.get("recommendation")
        if not params.apply or result.get("status") != "forecast" or not plan or not plan.get("should_apply"):
            continue
        cid = result["campaign_id"]
        failed = {"campaign_id": str(cid), "writes": 0, "version_conflicts": 0, "lost_answers": 0,
                  "recomputed": 0, "before": plan.get("before"), "after": plan.get("before"),
                  "version_before": plan.get("version"), "version_after": plan.get("version"),
                  "applied_recommendation": None, "latency_ms": 0.0, "error": None}
        if stale:
            outcomes[cid] = {**failed, "status": "STALE", "error": stale}
            continue
        if approved is not None and not approved(cid, result):
            from genesys_pipelines.approval import not_approved

            outcomes[cid] = {**failed, **not_approved(approved)}  # status, error, cause, detail
            continue
        intent = {"before": plan.get("before"), "planned": plan.get("after"), "version": plan.get("version"),
                  "request_digest": request_digest(plan.get("after"))}
        outcome = journaled_write(journal, str(cid), intent, lambda result=result: apply_one(api, result, params),
                                  failed)
        earlier = ((recorded or {}).get(cid) or {}).get("apply") or {}
        if (outcome["status"] == "ALREADY_APPLIED" and earlier.get("status") in ("APPLIED", "ALREADY_APPLIED")
                and earlier.get("applied_recommendation") == plan.get("after")):
            outcome = {**outcome, **{k: earlier.get(k) for k in out.APPLY_KEYS}, "replayed": True}
        outcomes[cid] = outcome
    return outcomes
