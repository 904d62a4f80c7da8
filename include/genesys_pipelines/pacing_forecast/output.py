"""Output bytes of the pacing forecast: forecast CSV, recommendations JSON, PNG chart, webhook payload.

Everything here is deterministic (sorted rows and keys, fixed float formatting, no run ids or run
timestamps, PNG written without a "Software" stamp), so a re-run of the same window and campaign state
publishes byte-identical objects.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pandas as pd

FORECAST_CSV = "forecast.csv"
RECOMMENDATIONS_JSON = "recommendations.json"
CSV_COLUMNS = (
    "campaign_id", "hour_start_utc", "answer_rate_forecast", "answer_rate_lower", "answer_rate_upper",
    "typical_attempts", "agents", "capacity_source",
)
#: How much history the chart shows (the whole history makes the forecast day unreadable).
CHART_HISTORY_HOURS = 7 * 24


def chart_name(campaign_id: str) -> str:
    return f"chart_{campaign_id}.png"


def _fmt(value: float | None) -> str:
    return "" if value is None else f"{float(value):.6f}"


def forecast_rows(result: Mapping[str, Any]) -> list[list[str]]:
    """CSV rows of one analysed campaign (none for a skipped one)."""
    fc = result.get("forecast")
    if not fc:
        return []
    cap = result["capacity"]
    return [
        [result["campaign_id"], hour, _fmt(m), _fmt(lo), _fmt(hi), _fmt(t), _fmt(a), cap["source"]]
        for hour, m, lo, hi, t, a in zip(
            fc["hours"], fc["mean"], fc["lower"], fc["upper"], result["typical_attempts"], cap["agents"], strict=True
        )
    ]


def forecast_csv(results: Iterable[Mapping[str, Any]]) -> tuple[bytes, int]:
    """(CSV bytes, row count) over every analysed campaign, sorted by campaign then hour."""
    rows = sorted(row for result in results for row in forecast_rows(result))
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    writer.writerows(rows)
    return buffer.getvalue().encode(), len(rows)


def recommendation_entry(result: Mapping[str, Any], applied: Mapping[str, Any] | None) -> dict[str, Any]:
    """One campaign's line in recommendations.json (and in the webhook)."""
    entry = {
        "campaign_id": result["campaign_id"],
        "campaign_name": result.get("campaign_name"),
        "dialing_mode": result.get("dialing_mode"),
        "status": result["status"],
        "reason": result.get("reason"),
        "skill": result.get("backtest_summary"),
        "forecast_method": (result.get("forecast") or {}).get("method"),
        "capacity_source": (result.get("capacity") or {}).get("source"),
        "recommendation": result.get("recommendation"),
    }
    if applied is not None:
        # before/after/applied_recommendation: the window's record, read back by a re-run of the same
        # window so it bounds from ``before`` again instead of compounding another step.
        entry["apply"] = {k: applied.get(k) for k in APPLY_KEYS}
        if applied.get("cause"):  # NOT_APPROVED only: why, machine-readable (approval.CAUSES)
            entry["apply"]["cause"] = applied["cause"]
    return entry


# What a window's outcome IS (published, compared byte for byte on re-runs); how the write went (tries,
# 409s, lost answers, versions seen) is run metadata and goes to the audit row only.
APPLY_KEYS = ("status", "error", "before", "after", "applied_recommendation")


def recorded_plans(document: bytes | str) -> dict[str, dict[str, Any]]:
    """Per campaign, what a published recommendations.json recorded (see ``recommend.window_baseline``)."""
    out: dict[str, dict[str, Any]] = {}
    for entry in json.loads(document).get("campaigns") or []:
        plan = entry.get("recommendation") or {}
        if not plan.get("field") or not plan.get("before"):
            continue
        apply = entry.get("apply")
        out[entry["campaign_id"]] = {
            "field": plan["field"],
            "dialing_mode": plan.get("dialing_mode"),
            "version": plan.get("version"),
            "before": plan["before"],
            "target": (apply or {}).get("applied_recommendation") or plan.get("after"),
            "after": plan.get("after"),
            "apply": apply,
        }
    return out


def recommendations_json(entries: Sequence[Mapping[str, Any]], window: Mapping[str, Any]) -> bytes:
    doc = {"window": {k: window[k] for k in ("start", "end", "tz", "interval")},
           "campaigns": sorted(entries, key=lambda e: e["campaign_id"])}
    return (json.dumps(doc, sort_keys=True, indent=2, ensure_ascii=False) + "\n").encode()


def skill_summary(entries: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """Counts and mean skill over the campaigns that were forecast (for the manifest and the audit)."""
    skills = [e["skill"] for e in entries if e.get("skill")]
    mases = [s["mase"] for s in skills if s.get("mase") is not None]
    statuses: dict[str, int] = {}
    for e in entries:
        statuses[e["status"]] = statuses.get(e["status"], 0) + 1
    return {
        "campaigns": len(entries),
        "statuses": dict(sorted(statuses.items())),
        "forecast": len(skills),
        "mean_mae": round(sum(s["mae"] for s in skills) / len(skills), 6) if skills else None,
        "mean_mase": round(sum(mases) / len(mases), 6) if mases else None,
    }


def chart_png(
    title: str,
    grid: pd.DataFrame,
    forecast: Mapping[str, Any],
    agents: Sequence[float],
    capacity_source: str,
) -> bytes:
    """History (last week), the forecast with its interval band, and capacity on a second axis → PNG."""
    import pandas as pd
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    # Figure + Agg canvas directly: no pyplot global state, no backend selection in a worker process.
    figure = Figure(figsize=(10, 4.5), dpi=90)
    FigureCanvasAgg(figure)
    ax = figure.add_subplot(1, 1, 1)
    recent = grid.iloc[-CHART_HISTORY_HOURS:]
    hist_x = recent.index.tz_convert("UTC").tz_localize(None)
    ax.plot(hist_x, recent["rate"], ".", color="#4c72b0", markersize=3, label="answer rate (history)")
    hours = pd.to_datetime(list(forecast["hours"]), utc=True).tz_localize(None)
    ax.fill_between(hours, forecast["lower"], forecast["upper"], color="#dd8452", alpha=0.25,
                    label=f"{round(100 * forecast.get('level', 0.9))} % interval")
    ax.plot(hours, forecast["mean"], "-", color="#dd8452", linewidth=2, label="forecast")
    ax.set_ylim(0, 1)
    ax.set_ylabel("answer rate (connected ÷ attempted)")
    ax.set_title(title, fontsize=10)
    capacity_axis = ax.twinx()
    capacity_axis.step(hours, agents, where="post", color="#55a868", label=f"agents ({capacity_source})")
    capacity_axis.set_ylabel("agents")
    capacity_axis.set_ylim(bottom=0)
    handles = ax.get_legend_handles_labels()
    more = capacity_axis.get_legend_handles_labels()
    ax.legend(handles[0] + more[0], handles[1] + more[1], loc="upper left", fontsize=8)
    figure.autofmt_xdate()
    figure.tight_layout()
    buffer = io.BytesIO()
    # No "Software" stamp: the bytes must not change with the matplotlib build.
    figure.savefig(buffer, format="png", metadata={"Software": None})
    return buffer.getvalue()


def webhook_payload(
    pipeline: str, window: Mapping[str, Any], entries: Sequence[Mapping[str, Any]], objects: Mapping[str, str]
) -> dict[str, Any]:
    """The signed webhook's body: window, per-campaign recommendation and skill, presigned URLs."""
    return {
        "pipeline": pipeline,
        "window": {k: window[k] for k in ("start", "end", "tz", "interval")},
        "summary": skill_summary(entries),
        "campaigns": sorted(entries, key=lambda e: e["campaign_id"]),
        "objects": dict(sorted(objects.items())),
    }


def delivery(dag_id: str, window: Mapping[str, Any], results: Sequence[Mapping[str, Any]], outcomes: Mapping[str, Mapping[str, Any]],
             apply: bool, deliver_webhook: bool, stale: str | None = None, restated: bool = False,
             left_out: Sequence[Mapping[str, Any]] = ()) -> dict[str, Any]:
    """The provider ``Delivery`` fields: forecast CSV and recommendations JSON staged now, the charts the
    analyse tasks staged, the webhook (event ``…propose`` or ``…apply``), one audit row per campaign and a
    run summary. ``window`` is the run window's dict (``Window.to_dict()``).

    ``restated``: the run was triggered by a restated upstream day (``stale`` says so). It writes nothing at
    all: no partition (the day's pacing partition, if any, keeps what was proposed or applied from the data
    as first published, and the ``before`` values re-runs bound from), no webhook; only the audit's stale
    run summary.

    ``left_out``: the older upstream windows a stale run folded in and skipped, each stale on its own
    (``steps.left_out_windows``): recorded in the summary (manifest and the audit's run summary)."""
    results = sorted(results, key=lambda r: r["campaign_id"])
    entries = [recommendation_entry(r, outcomes.get(r["campaign_id"])) for r in results]
    summary = skill_summary(entries)
    if stale:  # the window is too old to pace from: nothing recommended, nothing asked, nothing written
        summary = {**summary, "stale": stale}
    if left_out:  # older upstream windows folded into this stale run, stale too: recorded, not failed on
        summary = {**summary, "left_out": [dict(w) for w in left_out]}
    csv_bytes, rows = forecast_csv(results)

    def audit(published: Any) -> list[dict[str, Any]]:
        rows_out = []
        for result, entry in zip(results, entries, strict=True):
            outcome = outcomes.get(result["campaign_id"])
            plan = result.get("recommendation") or {}
            rows_out.append({
                "event": "pacing_forecast", "entity_type": "outbound_campaign", "entity_id": result["campaign_id"],
                "status": result["status"] if outcome is None else str(outcome["status"]).lower(),
                "latency_ms": result.get("latency_ms"),
                "record_count": len((result.get("forecast") or {}).get("hours", [])),
                "details": {
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
                        "error", "replayed", "write_may_have_landed")} | (
                        {"cause": outcome["cause"]} if outcome.get("cause") else {}),
                    "baseline": result.get("baseline"),
                    "explanation": plan.get("explanation"),
                    "partition": published.partition,
                },
            })
        rows_out.append({
            "event": "run_summary", "entity_type": "run", "entity_id": dag_id,
            "status": "stale" if stale else (
                "applied" if any(o.get("status") == "APPLIED" for o in outcomes.values()) else "proposed"),
            "record_count": len(results),
            "details": {**summary, "apply": apply, "manifest_key": published.manifest_key, "webhook": published.webhook},
        })
        return rows_out

    if restated:
        return {"event": "pacing_forecast.stale", "partition": False, "payload": None, "audit": audit}
    return {
        # Propose and apply runs of one window are different deliveries (the receiver dedupes on the key).
        "event": "pacing_forecast.apply" if apply else "pacing_forecast.propose",
        "objects": {FORECAST_CSV: (csv_bytes, "text/csv", rows),
                    RECOMMENDATIONS_JSON: (recommendations_json(entries, window), "application/json", len(entries))},
        # Only what THIS run's results name: a chart an earlier try staged for a campaign that is now
        # skipped (or no longer selected) shares the run's staging prefix and must not be published.
        "staged": [r["chart"] for r in results if r.get("chart")],
        "manifest_extra": {"summary": summary},
        "payload": (lambda published: webhook_payload(dag_id, window, entries, published.urls)) if deliver_webhook else None,
        "audit": audit,
    }


def failed_campaigns(outcomes: Mapping[str, Mapping[str, Any]]) -> list[str]:
    return sorted(cid for cid, o in outcomes.items() if o.get("status") == "FAILED")


def run_fault(outcomes: Mapping[str, Mapping[str, Any]]) -> str | None:
    """Why deliver fails the run after publishing: a campaign's write failed, or the approval record could
    not be read at all (:func:`genesys_pipelines.approval.approval_fault`); None otherwise."""
    from genesys_pipelines.approval import approval_fault

    if failed := failed_campaigns(outcomes):
        return f"pacing not applied to campaign(s) {', '.join(failed)}"
    return approval_fault(outcomes)
