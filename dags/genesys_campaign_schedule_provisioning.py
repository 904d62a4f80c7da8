"""
### Outbound campaign schedule provisioning with overlap detection (Genesys Cloud)

Writes outbound campaign schedules to a production dialer, so it **plans before it writes**, every
write is safe to retry, and everything is audited. Genesys keeps **one schedule object per campaign**
(`intervals`, `recurrences`, `timeZone`, `version`); this DAG computes the desired object and PUTs it
only when it differs from the current one.

**Two ways in** (param `mode`; when empty it follows the run type, explicitly:
`dag_run.run_type == "manual"` → `manual`, anything else (scheduled, backfill, asset) → `reconcile`):

- `manual`: the form below, for one campaign (`campaign_id` + `intervals` and/or `delivery_window`,
  optional `recurrences`). `dry_run` defaults to **true**: the run returns the plan and writes nothing.
- `reconcile` (hourly schedule): the desired-schedules YAML file (`desired_schedules_path` param, else
  env `GENESYS_DESIRED_SCHEDULES`, else the file shipped in
  `include/genesys_pipelines/schedule_provisioning/desired_schedules.yaml`). `dry_run` defaults to
  **false**. Only campaigns listed in the file are touched; windows that have already ended are skipped.

**Merge vs replace**: by default requested windows are *added* to the campaign's schedule and existing
ones kept (a partial overlap with an existing window is refused). `prune: true` replaces the schedule
with exactly the request; prune with nothing requested deletes it. Nothing is ever deleted without it.

**Steps**: validate params (pydantic, before any API call; intervals timezone-aware, end > start, not
before `run_after` unless `allow_past`; delivery windows expanded per local day with DST handled,
cross-midnight allowed) → authenticate → read (campaign, its schedule, all schedules, campaigns sharing
its contact list or queue, contact list sizes) → plan (overlap detection by sort-and-sweep against the
request itself, the campaign's current windows and related campaigns' windows, recurrences expanded over
`horizon_days`; end is exclusive, so touching windows do not overlap; rank by priority score =
campaign priority 1–5 + size/(size+10,000); `conflict_policy` `refuse` refuses the lower-ranked side,
`warn` only reports; create/update/delete/noop diff) → apply (skipped by `dry_run`; PUT with `version`;
on 409 re-read, re-plan, retry up to `max_write_attempts`; a lost answer is re-read and compared before
any retry, so a write lands exactly once; read back to verify) → deliver (signed webhook with the
outcome; audit rows). Sibling campaigns are never written to.

**Outputs**: the plan (XCom of `plan`, returned by dry runs), the webhook payload (event
`schedule_provisioning`), audit rows (event `schedule_provisioning`, one per campaign, entity type
`campaign_schedule`, status `SUCCESS` / `CONFLICT` / `NOOP` / `FAILED` / `DRY_RUN`, details with
before/after, plan, conflicts with both sides, latency). A write the API refuses (400, 403, a read that
keeps failing...) marks only that campaign FAILED, with the cause in `error`; the later campaigns are
still applied, and every PUT and DELETE already made is in the webhook and the audit rows. The run fails
after delivering when any campaign FAILED, or was refused and `fail_on_conflict` is set.

**Endpoints** (permissions): `GET /api/v2/outbound/campaigns/{id}` and `GET /api/v2/outbound/campaigns`
with `contactListId` / `distributionQueueId` (`outbound:campaign:view`); `GET /api/v2/outbound/schedules/campaigns`,
`GET|PUT|DELETE /api/v2/outbound/schedules/campaigns/{id}` (`outbound:schedule:view|edit|delete` or
`outbound:campaign:viewSchedule|editSchedule|deleteSchedule`); `GET /api/v2/outbound/contactlists/{id}?includeSize=true`
(`outbound:contactList:view`).
"""

from __future__ import annotations

from typing import Any

import pendulum
from airflow.sdk import Param, dag, get_current_context, task

from genesys_cloud.config import settings
from genesys_cloud.dag_support import default_args
from genesys_cloud.operators.authenticate import GenesysAuthenticateOperator

DAG_ID = "genesys_campaign_schedule_provisioning"
API_POOL = settings().api_pool
AUDIT_EVENT = "schedule_provisioning"

_INTERVAL = {
    "type": "object",
    "properties": {
        "start": {"type": "string", "description": "ISO-8601 with offset, e.g. 2026-07-01T09:00:00Z"},
        "end": {"type": "string", "description": "ISO-8601 with offset; exclusive, after start"},
    },
    "required": ["start", "end"],
}

PARAMS: dict[str, Param] = {
    "mode": Param(
        None,
        type=["null", "string"],
        enum=[None, "manual", "reconcile"],
        description="manual (the form, one campaign) or reconcile (the desired-schedules file). "
        "Empty: manual for manually triggered runs, reconcile otherwise.",
    ),
    "campaign_id": Param(None, type=["null", "string"], description="manual: the outbound campaign id."),
    "intervals": Param(
        [],
        type=["array", "null"],
        items=_INTERVAL,
        description="manual: explicit windows [{start, end}], timezone-aware, end exclusive.",
    ),
    "delivery_window": Param(
        None,
        type=["null", "object"],
        description="manual: daily window {start_time: 'HH:MM', end_time: 'HH:MM' (at or "
        "before start = next day), time_zone (IANA), start_date, end_date "
        "(YYYY-MM-DD, inclusive), days_of_week: ['Monday', ...] (optional)}.",
    ),
    "recurrences": Param(
        [],
        type=["array", "null"],
        items={"type": "object"},
        description="manual: recurrences in the API's Reoccurrence shape (camelCase).",
    ),
    "schedule_name": Param(
        None, type=["null", "string"], description="manual: schedule name (default: current)."
    ),
    "time_zone": Param(None, type=["null", "string"], description="manual: the schedule's timeZone (IANA)."),
    "prune": Param(
        False,
        type="boolean",
        description="manual: replace the schedule with exactly this request (nothing requested = delete).",
    ),
    "allow_past": Param(False, type="boolean", description="manual: allow windows starting before the run."),
    "dry_run": Param(
        None,
        type=["null", "boolean"],
        description="Plan only, write nothing. Empty: true for manual, false for reconcile.",
    ),
    "conflict_policy": Param(
        "refuse",
        type="string",
        enum=["refuse", "warn"],
        description="Overlap with a related campaign: refuse the lower-ranked side, or warn.",
    ),
    "desired_schedules_path": Param(
        None,
        type=["null", "string"],
        description="reconcile: YAML path (default env GENESYS_DESIRED_SCHEDULES, "
        "else the shipped desired_schedules.yaml).",
    ),
    "horizon_days": Param(
        90,
        type="integer",
        minimum=1,
        maximum=730,
        description="Days after the run over which recurrences are expanded for overlap checks.",
    ),
    "max_write_attempts": Param(
        4,
        type="integer",
        minimum=1,
        maximum=10,
        description="Writes per campaign (first + retries after 409 / a lost answer).",
    ),
    "fail_on_conflict": Param(True, type="boolean", description="Fail the run when a request was refused."),
    "deliver_webhook": Param(True, type="boolean", description="POST the signed outcome to the webhook."),
}


@dag(
    dag_id=DAG_ID,
    schedule="0 * * * *",
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    catchup=False,
    max_active_runs=1,  # two runs writing the same schedules would only fight over versions
    tags=["genesys", "outbound", "provisioning"],
    doc_md=__doc__,
    params=PARAMS,
    default_args=default_args(),
)
def genesys_campaign_schedule_provisioning() -> None:
    @task  # a bad param raises AirflowFailException: failed at once, never retried
    def validate_params() -> dict[str, Any]:
        """Mode, dry_run and the requests, checked before any API call (a bad param fails by name)."""
        from airflow.sdk.exceptions import AirflowFailException

        from genesys_cloud.operators.schedule_provisioning import resolve_run
        from genesys_pipelines.schedule_provisioning.params import ParamsError

        context = get_current_context()
        try:
            return resolve_run(context)
        except ParamsError as exc:
            raise AirflowFailException(f"invalid param {exc}") from exc

    @task(pool=API_POOL)
    def read(run: dict[str, Any]) -> dict[str, Any]:
        """Campaigns, their schedules, related campaigns and contact list sizes."""
        from airflow.sdk.exceptions import AirflowFailException

        from genesys_cloud.exceptions import GenesysValidationError
        from genesys_cloud.hooks.genesys_cloud import GenesysCloudHook
        from genesys_cloud.operators.schedule_provisioning import read_facts

        try:
            return read_facts(GenesysCloudHook(), [r["campaign_id"] for r in run["requests"]])
        except GenesysValidationError as exc:
            raise AirflowFailException(f"invalid param {exc}") from exc

    @task
    def plan(run: dict[str, Any], facts: dict[str, Any]) -> list[dict[str, Any]]:
        """Detect overlaps, rank, plan (pure). A dry run's result is this plan."""
        from genesys_cloud.operators.schedule_provisioning import plan_for_run

        return plan_for_run(run, facts)

    @task(pool=API_POOL)
    def apply(run: dict[str, Any], entries: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Write the accepted plans in rank order (nothing when dry_run); never a sibling campaign."""
        from genesys_cloud.hooks.genesys_cloud import GenesysCloudHook
        from genesys_cloud.operators.schedule_provisioning import apply_run

        return apply_run(GenesysCloudHook(), run, entries)

    @task
    def deliver(run: dict[str, Any], entries: list[dict[str, Any]], outcomes: list[dict[str, Any]]) -> dict:
        """Signed webhook + audit rows; then fail the run if a campaign failed (or was refused)."""
        from airflow.sdk.exceptions import AirflowFailException

        from genesys_cloud.operators.schedule_provisioning import deliver_run

        summary = deliver_run(get_current_context(), run, entries, outcomes, event=AUDIT_EVENT)
        if summary["failed"]:
            raise AirflowFailException(f"schedule provisioning failed for {summary['failed']}")
        if summary["refused"] and run["fail_on_conflict"]:
            raise AirflowFailException(f"schedule requests refused (overlap) for {summary['refused']}")
        return summary

    run = validate_params()
    facts = read(run)
    run >> GenesysAuthenticateOperator(task_id="authenticate") >> facts  # params are checked before any API call
    entries = plan(run, facts)
    outcomes = apply(run, entries)
    deliver(run, entries, outcomes)


genesys_campaign_schedule_provisioning()
