"""Shared helpers of the resilience suite: run the five pipelines with dag.test(), fingerprint what they
produced (objects, Genesys writes, webhook deliveries, audit rows) and compare two runs.

Runs go through ``dag.test()``, which in Airflow 3.3 honours task retries (a failed try becomes
UP_FOR_RETRY and is run again after ``retry_delay``; ``GENESYS_TASK_RETRY_DELAY=1`` in tests), so a
faulted run exercises the same retry path a scheduler would. Every run loads a fresh DAG object because
dag.test() merges ``run_conf`` into the DAG's params in place.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from genesys_sandbox.devstack import DEMO_CLOCK, DEMO_DATE
from genesys_sandbox.org import FIXTURES

ROOT = Path(__file__).resolve().parents[2]
DAY_AFTER = date.fromisoformat(DEMO_DATE) + timedelta(days=1)
CLOCK = datetime.fromisoformat(DEMO_CLOCK.replace("Z", "+00:00"))

# Every fault the issue lists at once. Rates are tuned so each run finishes within minutes: reads are
# retried in the hook (up to GENESYS_RETRY_MAX_ATTEMPTS), submissions and writes by the task's retries.
CHAOS_FAULTS = ",".join((
    "5xx=0.1", "429=0.1", "hang=0.02", f"hang_for={3.0}", "revoke_every=50", "job_fail_once=1",
    "export_fail_once=1", "version_bump=0.3", "lost_write=0.2",
))
# The client timeout a hung request hits (the sandbox holds it hang_for seconds, longer than this).
CHAOS_HTTP_TIMEOUT = "1.5"


# Fields left out of the comparison, with why. Every other published byte is compared.
EXCLUDED_FIELDS = {
    "writes.body.version/dateModified": "optimistic-lock token and server timestamp: the simulated concurrent "
                                        "writer (version_bump) advances them",
    "webhook.body.*url*": "presigned URLs carry a signing time; the Idempotency-Key deliberately excludes them",
    "audit.try_number/recorded_at/latency_ms/run_id": "run metadata of the audit trail itself",
    "audit.details": "run metadata (polls, version_conflicts, lost_answers, job ids) lives there by design",
}


@dataclass(frozen=True)
class PipelineRun:
    """How one pipeline is run for the chaos day (apply/write mode)."""

    dag_id: str
    logical_date: datetime | None
    run_after: datetime
    conf: dict[str, Any]
    publishes: bool = True

    @property
    def prefix(self) -> str:
        return f"{self.dag_id}/"


def _scheduled(hour: int) -> datetime:
    return datetime.combine(DAY_AFTER, datetime.min.time(), UTC).replace(hour=hour)


def _fixture_campaigns() -> list[str]:
    return [FIXTURES[k] for k in ("normal_campaign", "anomaly_campaign", "idle_campaign", "no_planning_group_campaign")]


def chaos_runs(day: str = DEMO_DATE) -> list[PipelineRun]:
    """The five pipelines for ``day`` in write mode (conversation report on the async-job path, so the
    job_fail_once fault is exercised)."""
    shift = date.fromisoformat(day) - date.fromisoformat(DEMO_DATE)
    return [
        PipelineRun("genesys_campaign_execution_stats", _scheduled(3) + shift, _scheduled(3) + shift, {}),
        PipelineRun("genesys_conversation_report", _scheduled(2) + shift, _scheduled(2) + shift, {"mode": "async"}),
        PipelineRun("genesys_reporting_export", _scheduled(4) + shift, _scheduled(4) + shift, {}),
        PipelineRun("genesys_campaign_schedule_provisioning", CLOCK + shift, CLOCK + shift,
                    {"mode": "reconcile", "dry_run": False}, publishes=False),
        PipelineRun("genesys_campaign_pacing_forecast", _scheduled(3) + shift, _scheduled(3) + shift,
                    {"campaign_ids": _fixture_campaigns(), "apply": True}),
    ]


def load_dag(dag_id: str) -> Any:
    from airflow.dag_processing.dagbag import DagBag

    bag = DagBag(dag_folder=str(ROOT / "dags" / f"{dag_id}.py"))
    assert not bag.import_errors, bag.import_errors
    return bag.get_dag(dag_id)


def run_pipeline(spec: PipelineRun, **conf: Any) -> Any:
    """One dag.test() run on a fresh DAG object, with the declared defaults plus ``spec.conf``."""
    dag = load_dag(spec.dag_id)
    full = {**dag.params.dump(), **spec.conf, **conf}
    return dag.test(logical_date=spec.logical_date, run_after=spec.run_after, run_conf=full)


def task_states(dag_run: Any) -> dict[str, str]:
    out: dict[str, str] = {}
    for ti in dag_run.get_task_instances():
        key = ti.task_id if ti.map_index < 0 else f"{ti.task_id}[{ti.map_index}]"
        out[key] = str(getattr(ti.state, "value", ti.state))
    return out


def max_try(dag_run: Any) -> int:
    return max((ti.try_number or 0) for ti in dag_run.get_task_instances())


@contextmanager
def env(**values: str) -> Iterator[None]:
    """Set environment variables for a block (the provider reads its settings at call time)."""
    old = {k: os.environ.get(k) for k in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for k, v in old.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


# -- fingerprints -------------------------------------------------------------------------------------


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def published_objects(stack: Any, prefix: str) -> dict[str, str]:
    """sha256 of every published object under ``prefix`` (staging and work areas are not outputs)."""
    return {key: sha256(stack.read(key)) for key in stack.list_keys(prefix)
            if "/_staging/" not in key and "/_work/" not in key}


def leftover_work(stack: Any, prefix: str) -> list[str]:
    return [key for key in stack.list_keys(prefix) if "/_staging/" in key or "/_work/" in key]


# Set by the server, advanced by the simulated concurrent writer (version_bump), echoed back in a PUT.
CONCURRENCY_FIELDS = ("version", "dateModified")


def _without_version(body: Any) -> Any:
    if isinstance(body, dict):
        return {k: _without_version(v) for k, v in body.items() if k not in CONCURRENCY_FIELDS}
    if isinstance(body, list):
        return [_without_version(v) for v in body]
    return body


def applied_writes(stack: Any) -> list[str]:
    """Writes the sandbox applied (2xx as routed, whether or not the answer was then lost), as canonical
    JSON of (method, path, body without CONCURRENCY_FIELDS). Refused writes (409, 4xx) changed nothing."""
    out = []
    for w in stack.writes():
        if 200 <= int(w["status"]) < 300:
            out.append(json.dumps([w["method"], w["path"], _without_version(w["body"])], sort_keys=True))
    return out


def _strip_urls(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _strip_urls(v) for k, v in value.items() if "url" not in k.lower()}
    if isinstance(value, list):
        return [_strip_urls(v) for v in value]
    if isinstance(value, str) and value.startswith("http") and "Signature=" in value:  # SigV2 or SigV4
        return "<presigned>"
    return value


def webhook_fingerprint(stack: Any) -> tuple[list[str], list[str]]:
    """(idempotency keys, canonical bodies without URLs) of the deliveries the receiver kept."""
    deliveries = stack.webhooks("bi")
    keys = [d.get("idempotencyKey") or "" for d in deliveries]
    bodies = [json.dumps(_strip_urls(d["body"]), sort_keys=True) for d in deliveries]
    return keys, bodies


AUDIT_COMPARED = ("dag_id", "window_start", "window_end", "task_id", "map_index", "entity_id", "event", "status",
                  "entity_type", "record_count")


def audit_rows(dag_id: str, run_id: str) -> list[dict[str, Any]]:
    from genesys_cloud.sinks.audit import AuditSink

    return AuditSink().rows(dag_id, run_id=run_id)


def audit_fingerprint(rows: list[dict[str, Any]]) -> list[str]:
    return sorted(json.dumps([r.get(k) for k in AUDIT_COMPARED], default=str) for r in rows)


def audit_duplicates(dag_id: str) -> int:
    """Rows sharing a natural key in the whole audit table for ``dag_id`` (0 when the upsert holds)."""
    from genesys_cloud.sinks.audit import NATURAL_KEY, AuditSink

    rows = AuditSink().rows(dag_id)
    counts = Counter(tuple(r.get(k) for k in NATURAL_KEY) for r in rows)
    return sum(n - 1 for n in counts.values() if n > 1)


@dataclass
class RunOutcome:
    """What one pipeline run produced."""

    dag_id: str
    state: str
    seconds: float
    max_try: int
    states: dict[str, str]
    objects: dict[str, str] = field(default_factory=dict)
    writes: list[str] = field(default_factory=list)
    webhook_keys: list[str] = field(default_factory=list)
    webhook_bodies: list[str] = field(default_factory=list)
    audit: list[str] = field(default_factory=list)
    audit_duplicates: int = 0
    leftovers: list[str] = field(default_factory=list)
    injected: dict[str, int] = field(default_factory=dict)


def run_and_capture(stack: Any, spec: PipelineRun, faults: str = "") -> RunOutcome:
    """Reset the sandbox to its seed, set ``faults``, run ``spec`` and capture what it produced.

    Object-store state is not reset between runs (a re-run overwrites its partition), so objects are
    removed first: a faulted run must re-create every byte itself.
    """
    stack.reset()
    for key in stack.list_keys(spec.prefix):
        stack.s3.delete_object(Bucket=stack.bucket, Key=key)
    timeout = {"GENESYS_HTTP_TIMEOUT": CHAOS_HTTP_TIMEOUT} if faults else {}
    stack.set_faults(faults)
    started = time.monotonic()
    try:
        with env(**timeout):
            dag_run = run_pipeline(spec)
        injected = injected_faults(stack) if faults else {}
    finally:
        stack.set_faults("")
    seconds = time.monotonic() - started
    keys, bodies = webhook_fingerprint(stack)
    rows = audit_rows(spec.dag_id, dag_run.run_id)
    return RunOutcome(
        dag_id=spec.dag_id, state=str(getattr(dag_run.state, "value", dag_run.state)), seconds=seconds,
        max_try=max_try(dag_run), states=task_states(dag_run), objects=published_objects(stack, spec.prefix),
        writes=applied_writes(stack), webhook_keys=keys, webhook_bodies=bodies, audit=audit_fingerprint(rows),
        audit_duplicates=audit_duplicates(spec.dag_id), leftovers=leftover_work(stack, spec.prefix),
        injected=injected,
    )


@dataclass
class Equivalence:
    """Clean vs faulted for one pipeline."""

    dag_id: str
    succeeded: bool
    outputs_identical: bool
    writes_identical: bool
    duplicate_writes: int
    webhooks_identical: bool
    audit_identical: bool
    audit_duplicates: int
    clean_s: float
    faulted_s: float
    faulted_max_try: int
    differences: list[str]
    injected: dict[str, int] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return (self.succeeded and self.outputs_identical and self.writes_identical and self.duplicate_writes == 0
                and self.webhooks_identical and self.audit_identical and self.audit_duplicates == 0)


def _diff(a: Any, b: Any, path: str = "") -> str | None:
    if isinstance(a, dict) and isinstance(b, dict):
        for k in sorted(set(a) | set(b)):
            found = _diff(a.get(k), b.get(k), f"{path}.{k}")
            if found:
                return found
        return None
    if isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
        return next((d for i, (x, y) in enumerate(zip(a, b, strict=True)) if (d := _diff(x, y, f"{path}[{i}]"))), None)
    return None if a == b else f"{path}: {str(a)[:120]!r} != {str(b)[:120]!r}"


def first_difference(clean: list[str], faulted: list[str]) -> str | None:
    """The first differing path between two lists of canonical JSON documents (for failure messages)."""
    return _diff([json.loads(x) for x in clean], [json.loads(x) for x in faulted])


def compare(clean: RunOutcome, faulted: RunOutcome) -> Equivalence:
    diffs: list[str] = []
    if clean.objects != faulted.objects:
        changed = sorted(k for k in set(clean.objects) | set(faulted.objects)
                         if clean.objects.get(k) != faulted.objects.get(k))
        diffs.append(f"objects differ: {changed}")
    extra = Counter(faulted.writes) - Counter(clean.writes)
    missing = Counter(clean.writes) - Counter(faulted.writes)
    if extra or missing:
        diffs.append(f"writes: {sum(extra.values())} extra, {sum(missing.values())} missing")
    webhooks_same = clean.webhook_bodies == faulted.webhook_bodies and clean.webhook_keys == faulted.webhook_keys
    if not webhooks_same:
        diffs.append(f"webhook deliveries: clean {len(clean.webhook_bodies)}, faulted {len(faulted.webhook_bodies)}, "
                     f"keys equal {clean.webhook_keys == faulted.webhook_keys}, first body difference: "
                     f"{first_difference(clean.webhook_bodies, faulted.webhook_bodies)}")
    if clean.audit != faulted.audit:
        diffs.append(f"audit rows differ: {sorted(set(clean.audit) ^ set(faulted.audit))[:4]}")
    if faulted.leftovers:
        diffs.append(f"work left behind: {faulted.leftovers[:3]}")
    succeeded = clean.state == faulted.state == "success"
    if not succeeded:
        diffs.append(f"states clean={clean.state} faulted={faulted.state} {faulted.states}")
    return Equivalence(
        dag_id=clean.dag_id, succeeded=succeeded,
        outputs_identical=bool(clean.objects) == bool(faulted.objects) and clean.objects == faulted.objects,
        writes_identical=not extra and not missing, duplicate_writes=sum(extra.values()),
        webhooks_identical=webhooks_same, audit_identical=clean.audit == faulted.audit,
        audit_duplicates=faulted.audit_duplicates, clean_s=clean.seconds, faulted_s=faulted.seconds,
        faulted_max_try=faulted.max_try, differences=diffs, injected=faulted.injected,
    )


def chaos_equivalence(stack: Any, spec: PipelineRun, faults: str = CHAOS_FAULTS) -> Equivalence:
    clean = run_and_capture(stack, spec)
    faulted = run_and_capture(stack, spec, faults)
    return compare(clean, faulted)


REPORT_ENV = "GENESYS_CHAOS_REPORT"


def record(kind: str, **data: Any) -> None:
    """Append one result as a JSON line to $GENESYS_CHAOS_REPORT (set by tools/chaos.py; no-op otherwise)."""
    path = os.environ.get(REPORT_ENV)
    if path:
        with open(path, "a", encoding="utf-8") as out:
            out.write(json.dumps({"kind": kind, **data}, default=str) + "\n")


def injected_faults(stack: Any) -> dict[str, int]:
    return dict(stack.admin.get("/_sandbox/faults").json().get("injected", {}))
