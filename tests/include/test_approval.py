"""Approval bound to the plan digest (issue 17): apply writes only with a recorded Approve of exactly the
plan it is about to write. No approval logic existed on old main."""

from __future__ import annotations

from genesys_pipelines import approval as ap

ENTRY = {"campaign_id": "c1", "campaign_name": "C1", "rank": 1, "score": 2.0, "refused": False, "conflicts": [],
         "plan": {"action": "update", "version": 3, "removed": [],
                  "before": {"timeZone": "America/New_York", "intervals": [{"start": "a", "end": "b"}]},
                  "after": {"timeZone": "America/New_York", "intervals": [{"start": "a", "end": "b"},
                                                                          {"start": "c", "end": "d"}], "version": 3}}}
ANSWER = {"chosen_options": ["Approve"], "params_input": {}, "responded_at": "2026-06-11T07:00:00+00:00",
          "responded_by_user": {"id": "u1", "name": "ops-lead"}}


def digest(entries=(ENTRY,)) -> str:
    return ap.plan_digest(ap.schedule_items(list(entries)))


def test_a_recorded_approve_of_this_digest_grants_and_names_the_approver() -> None:
    ok, record = ap.granted(ANSWER, digest(), digest())
    assert ok and record["approver"] == "ops-lead" and record["chosen"] == ["Approve"]


def test_no_answer_a_reject_or_another_plan_is_not_an_approval() -> None:
    assert ap.granted(None, digest(), digest())[0] is False  # skipped / marked success by hand: no XCom
    assert ap.granted({}, digest(), digest())[0] is False
    assert ap.granted({**ANSWER, "chosen_options": ["Reject"]}, digest(), digest())[0] is False
    changed = {**ENTRY, "plan": {**ENTRY["plan"], "after": {**ENTRY["plan"]["after"], "timeZone": "UTC"}}}
    ok, record = ap.granted(ANSWER, digest(), digest([changed]))
    assert not ok and "digest mismatch" in record["reason"]


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
    assert not ap.destructive([ENTRY])
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
