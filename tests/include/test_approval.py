"""Approval bound to the plan digest (issue 17): apply writes only with a person's recorded Approve of exactly
the plan it is about to write (the recorded human-in-the-loop detail, not XCom). No approval logic existed
on old main; tests/plugins/test_approval_binding.py drives the forged cases through apply's code."""

from __future__ import annotations

from genesys_pipelines import approval as ap

ENTRY = {"campaign_id": "c1", "campaign_name": "C1", "rank": 1, "score": 2.0, "refused": False, "conflicts": [],
         "plan": {"action": "update", "version": 3, "removed": [],
                  "before": {"timeZone": "America/New_York", "intervals": [{"start": "a", "end": "b"}]},
                  "after": {"timeZone": "America/New_York", "intervals": [{"start": "a", "end": "b"},
                                                                          {"start": "c", "end": "d"}], "version": 3}}}


def digest(entries=(ENTRY,)) -> str:
    return ap.plan_digest(ap.schedule_items(list(entries)))


def record(**answer):
    """The approval task instance's HITL detail after a person answered (GET …/hitlDetails)."""
    body = ap.schedule_review_body([ENTRY], digest())
    return {"body": body, "response_received": True, "chosen_options": ["Approve"],
            "responded_by_user": {"id": "u1", "name": "ops-lead"}, "responded_at": "2026-06-11T07:00:00Z", **answer}


def shown(entries=(ENTRY,)):
    return {"required": True, "digest": digest(entries), "body": ap.schedule_review_body(list(entries), digest(entries))}


def test_a_persons_recorded_approve_of_this_digest_grants_and_names_the_approver() -> None:
    ok, audit = ap.verify(record(), shown())
    assert ok and audit["approver"] == "ops-lead" and audit["chosen"] == ["Approve"]
    assert ap.body_digest(record()["body"]) == digest()


def test_no_record_no_answer_nobody_a_reject_or_another_plan_is_not_an_approval() -> None:
    assert ap.verify(None, shown())[0] is False  # skipped / marked success before it asked: no record
    assert ap.verify(record(response_received=False, chosen_options=None), shown())[0] is False  # marked success
    assert ap.verify(record(responded_by_user=None), shown())[0] is False  # the timeout's default
    assert ap.verify(record(chosen_options=["Reject"]), shown())[0] is False
    changed = {**ENTRY, "plan": {**ENTRY["plan"], "after": {**ENTRY["plan"]["after"], "timeZone": "UTC"}}}
    ok, audit = ap.verify(record(), shown([changed]))
    assert not ok and "digest mismatch" in audit["reason"]
    assert ap.gate({"required": False}, None) == (None, {})


def test_the_digest_ignores_version_and_noops_and_refusals() -> None:
    bumped = {**ENTRY, "plan": {**ENTRY["plan"], "after": {**ENTRY["plan"]["after"], "version": 9}}}
    noop = {**ENTRY, "campaign_id": "c2", "plan": {**ENTRY["plan"], "action": "noop"}}
    assert digest([bumped]) == digest() == digest([ENTRY, noop])


def test_when_approval_is_required(monkeypatch) -> None:
    monkeypatch.setenv("GENESYS_WRITE_APPROVAL", "required")  # the suite's conftest turns it off for dag.test()
    assert ap.approval_required(manual=True, dry_run=False, writes=True, is_destructive=False)
    assert not ap.approval_required(manual=True, dry_run=True, writes=True, is_destructive=True)
    assert not ap.approval_required(manual=True, dry_run=False, writes=False, is_destructive=False)
    assert ap.approval_required(manual=False, dry_run=False, writes=True, is_destructive=True)
    assert not ap.approval_required(manual=False, dry_run=False, writes=True, is_destructive=False)
    assert ap.approval_required(manual=False, dry_run=False, writes=True, is_destructive=False, setting="always")
    assert not ap.approval_required(manual=False, dry_run=False, writes=True, is_destructive=True, setting="never")
    assert ap.destructive([{**ENTRY, "plan": {**ENTRY["plan"], "removed": [{"start": "a", "end": "b"}]}}])
    assert ap.destructive([ENTRY])  # windows that cannot be read count as destructive (a person looks)
    assert not ap.destructive([REAL])

    monkeypatch.setenv("GENESYS_WRITE_APPROVAL", "off")
    assert not ap.approval_required(manual=True, dry_run=False, writes=True, is_destructive=True, sandbox=True)


def test_switching_approvals_off_is_refused_for_a_real_org(monkeypatch) -> None:
    """GENESYS_WRITE_APPROVAL=off exists for harnesses that cannot answer (dag.test, make demo) against the
    sandbox; a connection to a real org keeps requiring a person's Approve whatever the variable says."""
    monkeypatch.setenv("GENESYS_WRITE_APPROVAL", "off")
    assert ap.approval_required(manual=True, dry_run=False, writes=True, is_destructive=False)
    assert ap.approval_required(manual=True, dry_run=False, writes=True, is_destructive=False, sandbox=False)
    assert ap.approval_required(manual=False, dry_run=False, writes=True, is_destructive=True, sandbox=False)


def test_the_body_renders_the_diff_in_the_schedule_zone() -> None:
    body = ap.schedule_review_body([ENTRY], digest())
    assert digest() in body and "America/New_York" in body and "current:" in body and "new:" in body


NY = "America/New_York"
REAL = {"campaign_id": "c1", "refused": False,
        "plan": {"action": "update", "version": 3, "removed": [],
                 "before": {"timeZone": NY, "intervals": [{"start": "2026-06-20T09:00:00.000", "end": "2026-06-20T18:00:00.000"}]},
                 "after": {"timeZone": NY, "intervals": [{"start": "2026-06-20T09:00:00.000", "end": "2026-06-20T18:00:00.000"},
                                                         {"start": "2026-06-21T09:00:00.000", "end": "2026-06-21T18:00:00.000"}]}}}


def test_destructive_is_judged_on_the_plans_windows_not_only_on_its_removed_list() -> None:
    """A plan handed over through XCom with ``removed: []`` but an after that shortens a window is still
    destructive (it used to count as safe, so the scheduled reconcile skipped the approval)."""
    shortened = {**REAL, "plan": {**REAL["plan"], "after": {"timeZone": NY, "intervals": [
        {"start": "2026-06-20T09:00:00.000", "end": "2026-06-20T12:00:00.000"}]}}}
    assert shortened["plan"]["removed"] == [] and ap.destructive([shortened])
    moved_zone = {**REAL, "plan": {**REAL["plan"], "after": {**REAL["plan"]["after"], "timeZone": "UTC"}}}
    assert ap.destructive([moved_zone])  # same strings in another zone: other instants, the old ones dropped
