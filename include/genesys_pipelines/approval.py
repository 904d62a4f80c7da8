"""Human approval of a write, bound to the plan it approves (pure; the DAGs put Airflow's
``ApprovalOperator`` between plan and apply).

The review step computes the plan's digest (:func:`plan_digest`: what would be written, per campaign)
and the body the approver reads, which names the digest. The apply step recomputes both from what it is
about to write and writes only when :func:`verify` finds, in the approval task instance's own
human-in-the-loop record (read by apply from Airflow, never from XCom), a person's ``Approve`` of that same
body and digest (a task marked success by hand, skipped, or timed out has none). A 409 re-plan that
changes what would be written beyond the approved plan is not written (the writers' guard), and is
reported for a new approval.

When approval is required (:func:`approval_required`): every manual apply and every pacing apply; the
scheduled reconcile per the deployment setting ``GENESYS_RECONCILE_APPROVAL``: ``always``,
``destructive-only`` (default: when a plan deletes a schedule or drops or shortens a window), ``never``.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from collections.abc import Mapping, Sequence
from typing import Any

APPROVE = "Approve"
REJECT = "Reject"
RECONCILE_APPROVAL_ENV = "GENESYS_RECONCILE_APPROVAL"
TIMEOUT_ENV = "GENESYS_APPROVAL_TIMEOUT_H"
SETTINGS = ("always", "destructive-only", "never")
#: ``off`` only for harnesses that cannot answer a human-in-the-loop task (``dag.test()`` in the test suite
#: and ``make demo``), and honoured only for a ``sandbox: true`` connection: against a real org approvals
#: stay required whatever the variable says.
APPROVAL_ENV = "GENESYS_WRITE_APPROVAL"


def approvals_enabled(env: Mapping[str, str] | None = None, *, sandbox: bool = False) -> bool:
    env = os.environ if env is None else env
    return not (sandbox and (env.get(APPROVAL_ENV) or "required").strip().lower() == "off")


def plan_digest(items: Sequence[Mapping[str, Any]]) -> str:
    """sha256 of what would be written, per campaign (canonical JSON, order-independent)."""
    canonical = sorted(json.dumps(item, sort_keys=True, default=str) for item in items)
    return hashlib.sha256(json.dumps(canonical).encode()).hexdigest()


def schedule_items(entries: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """The schedule entries that would write: campaign, action, the body (without version)."""
    items = []
    for entry in entries:
        plan = entry["plan"]
        if entry.get("refused") or plan["action"] == "noop":
            continue
        after = {k: v for k, v in (plan.get("after") or {}).items() if k != "version"}
        items.append({"campaign_id": entry["campaign_id"], "action": plan["action"], "after": after})
    return items


def pacing_items(results: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """The pacing recommendations that would write: campaign, field, the values written."""
    items = []
    for result in results:
        rec = result.get("recommendation") or {}
        if result.get("status") == "forecast" and rec.get("should_apply"):
            items.append({"campaign_id": str(result["campaign_id"]), "field": rec.get("field"), "after": rec.get("after")})
    return items


def reconcile_setting(env: Mapping[str, str] | None = None) -> str:
    env = os.environ if env is None else env
    value = (env.get(RECONCILE_APPROVAL_ENV) or "destructive-only").strip().lower()
    if value not in SETTINGS:
        raise ValueError(f"{RECONCILE_APPROVAL_ENV}={value!r}: one of {', '.join(SETTINGS)}")
    return value


def timeout_hours(env: Mapping[str, str] | None = None) -> float:
    env = os.environ if env is None else env
    return float(env.get(TIMEOUT_ENV) or 4)


def destructive(entries: Sequence[Mapping[str, Any]]) -> bool:
    """Whether a schedule plan deletes a schedule or drops or shortens a window: judged on the plan's own
    before and after windows, not only on its ``removed`` list (a handed-over value); a plan whose windows
    cannot be read counts as destructive (a person looks)."""
    return any(not e.get("refused") and (e["plan"]["action"] == "delete" or e["plan"].get("removed")
                                         or _drops_windows(e["plan"])) for e in entries)


def _drops_windows(plan: Mapping[str, Any]) -> bool:
    from genesys_pipelines.schedule_provisioning.planning import current_intervals

    try:
        return bool(set(current_intervals(plan.get("before"))) - set(current_intervals(plan.get("after"))))
    except Exception:  # unreadable windows: fail toward asking a person
        return True


def approval_required(*, manual: bool, dry_run: bool, writes: bool, is_destructive: bool,
                      setting: str = "destructive-only", sandbox: bool = False) -> bool:
    """Whether a person must approve before anything is written (nothing to write: never). ``sandbox``:
    the connection is the local emulator (only there may ``GENESYS_WRITE_APPROVAL=off`` switch it off)."""
    if dry_run or not writes or not approvals_enabled(sandbox=sandbox):
        return False
    if manual:
        return True
    return setting == "always" or (setting == "destructive-only" and is_destructive)


DIGEST_LINE = re.compile(r"Plan digest `([0-9a-f]{64})`")


def body_digest(body: Any) -> str | None:
    """The plan digest an approval body names (its first line), None when it names none."""
    match = DIGEST_LINE.search(body) if isinstance(body, str) else None
    return match.group(1) if match else None


def verify(record: Any, shown: Mapping[str, Any]) -> tuple[bool, dict[str, Any]]:
    """Whether ``record`` (the approval task instance's human-in-the-loop detail, as Airflow recorded it:
    ``GET …/taskInstances/approve/-1/hitlDetails``; None when there is none) is a person's ``Approve`` of
    exactly the plan ``shown`` (what apply recomputed from what it is about to write: digest and body).
    The second value is what the audit records (approver, choice, reason, and when not approved the
    machine-readable ``cause``: one of :data:`CAUSES`).

    Not an approval: no record (the task was skipped, or marked success before it asked); a record
    without an answer (marked success by hand while it waited); an answer by nobody (the response timeout
    applied the default); ``Reject``; a body naming another digest, or showing another diff, than the plan
    to write (a forged review, or a plan changed after the approval). The approval task's XCom is never
    read: anyone with REST XCom write could forge it."""
    if not isinstance(record, Mapping):
        return False, {"approved": False, "cause": CAUSE_NO_RECORD,
                       "reason": "no approval record (the approval task was skipped or marked success by hand)"}
    chosen = list(record.get("chosen_options") or [])
    who = record.get("responded_by_user") or {}
    result = {"approved": False, "chosen": chosen,
              "approver": (who.get("name") or who.get("id")) if isinstance(who, Mapping) else None,
              "responded_at": str(record.get("responded_at") or "")}
    if not record.get("response_received"):
        return False, {**result, "cause": CAUSE_UNANSWERED,
                       "reason": "no recorded answer (marked success by hand, or still waiting)"}
    if not isinstance(who, Mapping) or not who.get("id"):
        return False, {**result, "cause": CAUSE_TIMEOUT,
                       "reason": f"answer {chosen} recorded by nobody (the response timeout's default)"}
    if chosen != [APPROVE]:
        return False, {**result, "cause": CAUSE_DECLINED, "reason": f"answer {chosen}"}
    digest = shown.get("digest")
    if body_digest(record.get("body")) != digest:
        return False, {**result, "cause": CAUSE_OTHER_PLAN,
                       "reason": "the approved plan differs from the plan to write (digest mismatch)"}
    if str(record.get("body") or "").strip() != str(shown.get("body") or "").strip():
        return False, {**result, "cause": CAUSE_OTHER_PLAN,
                       "reason": "the approval showed another diff than the plan to write"}
    return True, {**result, "approved": True, "digest": digest}


def gate(shown: Mapping[str, Any], record: Any, unreadable: str = "") -> tuple[Any, dict[str, Any]]:
    """For the apply step: ``(approved, record)``. ``shown`` is :func:`review` recomputed by apply from what
    it is about to write (never the review task's XCom), ``record`` the approval task instance's recorded
    human-in-the-loop detail (:func:`verify`). ``unreadable``: why the record could not be read at all
    (the reader's error; empty when it was read, or when there is none): not an approval, with the cause
    :data:`CAUSE_UNREADABLE`. ``approved`` is None when no approval is required, else
    ``approved(campaign_id, entry) -> bool`` (the digest covers every campaign at once); the second value
    goes into the audit rows."""
    if not shown.get("required"):
        return None, {}
    if unreadable:
        audit = {"approved": False, "cause": CAUSE_UNREADABLE, "reason": unreadable}
    else:
        audit = verify(record, shown)[1]
    return Approval(bool(audit.get("approved")), str(audit.get("reason") or ""), audit.get("cause")), audit


#: Why a plan was not written: the ``cause`` of a ``NOT_APPROVED`` outcome (machine-readable; ``detail``
#: carries the human message). Set where the outcome is built, never inferred from a message.
CAUSE_UNREADABLE = "unreadable"  # the record could not be read at all: a deployment fault, the run fails
CAUSE_NO_RECORD = "no_record"  # the approval task was skipped, or marked success before it asked
CAUSE_UNANSWERED = "unanswered"  # marked success by hand while it waited
CAUSE_TIMEOUT = "timeout"  # the response timeout's default (an answer by nobody)
CAUSE_DECLINED = "declined"  # a person's Reject (or any answer other than Approve)
CAUSE_OTHER_PLAN = "other_plan"  # the approval was of another plan or showed another diff
CAUSE_UNKNOWN = "unknown"  # an outcome recorded before causes existed, naming no unreadable record
CAUSES = (CAUSE_UNREADABLE, CAUSE_NO_RECORD, CAUSE_UNANSWERED, CAUSE_TIMEOUT, CAUSE_DECLINED, CAUSE_OTHER_PLAN,
          CAUSE_UNKNOWN)


class Approval:
    """``approved(campaign_id, entry) -> bool`` for the writers (one answer covers the whole plan); ``reason``
    says why not, for the campaign's outcome, ``cause`` the same as one of :data:`CAUSES`."""

    def __init__(self, ok: bool, reason: str = "", cause: str | None = None) -> None:
        self.ok, self.reason = ok, reason
        self.cause = None if ok else (cause or CAUSE_DECLINED)

    def __call__(self, _campaign_id: Any, _entry: Any) -> bool:
        return self.ok


#: The start of every reason :mod:`genesys_cloud.approvals` gives when it could not read the answer at all.
#: Read only to classify an outcome stored by an earlier version, which carries no ``cause``.
UNREADABLE = "approval record unreadable"


def approval_cause(outcome: Mapping[str, Any]) -> str | None:
    """A ``NOT_APPROVED`` outcome's cause (None for any other outcome). An outcome built by an earlier
    version (an apply XCom or audit row from before causes were recorded) has no ``cause``: it counts as
    unreadable only when its message carries the marker that version's reader always wrote, else
    :data:`CAUSE_UNKNOWN`. An outcome that has a ``cause`` is never judged by its text."""
    if outcome.get("status") != "NOT_APPROVED":
        return None
    if "cause" in outcome:
        return str(outcome.get("cause") or CAUSE_UNKNOWN)
    return CAUSE_UNREADABLE if UNREADABLE in str(outcome.get("error") or "") else CAUSE_UNKNOWN


def approval_fault(outcomes: Mapping[str, Mapping[str, Any]] | Sequence[Mapping[str, Any]]) -> str | None:
    """Why the run must fail although nothing was written, or None. A plan a person declined (or left
    unanswered) ends the run green with ``NOT_APPROVED`` outcomes; a record that could not be read at all
    (the ``airflow_api`` login refused, the api-server unreachable or misnamed) is a deployment fault that
    would otherwise stop every write in silence, so it fails the run, naming the cause and the campaigns.

    Decided on each outcome's ``cause`` (:func:`approval_cause`), never on its message: a person's
    ``Reject`` whose text happens to read like an unreadable record stays a green run."""
    rows = outcomes.items() if isinstance(outcomes, Mapping) else ((o.get("campaign_id"), o) for o in outcomes)
    hit = {str(cid): str(o.get("detail") or o.get("error") or "") for cid, o in rows
           if approval_cause(o) == CAUSE_UNREADABLE}
    if not hit:
        return None
    return f"nothing written for {', '.join(sorted(hit))}: {hit[min(hit)]}; fix the deployment and re-run"


def refusal(approved: Any) -> str:
    """The NOT_APPROVED outcome's error: not written, and why."""
    reason = getattr(approved, "reason", "")
    return "no recorded approval for this plan: not written" + (f" ({reason})" if reason else "")


def not_approved(approved: Any) -> dict[str, Any]:
    """The fields of a ``NOT_APPROVED`` outcome: ``error`` (:func:`refusal`, the message users read),
    ``cause`` (one of :data:`CAUSES`, from ``approved``; a plain predicate that says no: declined) and
    ``detail`` (why, as the approval check worded it)."""
    return {"status": "NOT_APPROVED", "error": refusal(approved),
            "cause": getattr(approved, "cause", None) or CAUSE_DECLINED,
            "detail": str(getattr(approved, "reason", "") or "")}


def review(items: Sequence[Mapping[str, Any]], required: bool, body: Any) -> dict[str, Any]:
    """What the review step records for the approval task and for apply: required, digest, body."""
    digest = plan_digest(items)
    return {"required": required, "digest": digest, "body": body(digest)}


def _windows(schedule: Mapping[str, Any] | None) -> str:
    if not schedule:
        return "(none)"
    zone = schedule.get("timeZone") or "UTC"
    return ", ".join(f"{i.get('start')}–{i.get('end')}" for i in schedule.get("intervals") or []) + f" ({zone})"


def schedule_review_body(entries: Sequence[Mapping[str, Any]], digest: str) -> str:
    """Markdown for the approver: per campaign current vs new windows in the schedule's zone, conflicts
    with both sides, priority; the digest the answer is bound to."""
    lines = [f"Plan digest `{digest}`", ""]
    for e in entries:
        plan = e["plan"]
        lines += [f"### {e.get('campaign_name') or e['campaign_id']} (`{e['campaign_id']}`): {plan['action']}"
                  f"{' — REFUSED' if e.get('refused') else ''}",
                  f"- priority/rank: {e.get('rank')} (score {e.get('score')})",
                  f"- current: {_windows(plan.get('before'))}",
                  f"- new: {_windows(plan.get('after'))}",
                  f"- removed: {plan.get('removed') or 'none'}"]
        for c in e.get("conflicts") or []:
            lines.append(f"- conflict: {json.dumps(c, sort_keys=True, default=str)}")
        lines.append("")
    return "\n".join(lines)


def pacing_review_body(results: Sequence[Mapping[str, Any]], digest: str) -> str:
    """Markdown: per campaign current vs proposed values, the forecast summary and the chart's name."""
    lines = [f"Plan digest `{digest}`", ""]
    for r in results:
        rec = r.get("recommendation") or {}
        if not rec.get("should_apply"):
            continue
        fc = r.get("forecast") or {}
        mean = fc.get("mean") or []
        lines += [f"### {r.get('campaign_name') or r['campaign_id']} (`{r['campaign_id']}`)",
                  f"- current: {rec.get('before')}", f"- proposed: {rec.get('after')}",
                  f"- forecast answer rate (mean over {len(mean)} h): "
                  f"{(sum(mean) / len(mean)) if mean else 'n/a'}",
                  f"- chart: {r.get('chart') or 'n/a'} (Outputs page)", ""]
    return "\n".join(lines)
