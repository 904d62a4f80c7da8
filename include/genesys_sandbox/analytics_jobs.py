"""Async analytics jobs: their lifecycle on the sandbox clock, status payloads and results cursors.

A job is QUEUED for the first part of its run, then PENDING, then FULFILLED (or FAILED when the
fault engine says so) ``--job-seconds`` after submission, plus any ``slow_jobs`` fault; its results
expire a day after completion, as on the platform (``genesys-api.md`` §3b).
"""

from __future__ import annotations

import base64
import threading
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any

from genesys_sandbox.analytics_time import iso_utc
from genesys_sandbox.errors import ApiError
from genesys_sandbox.synth import DAY_MS, Synth

# Share of a job's run it spends QUEUED before PENDING (0.2 s of the default 0.5 s).
QUEUED_SHARE = 0.4
JOB_RESULTS_DAYS = 1  # results expire a day after completion


@dataclass
class Job:
    id: str
    kind: str  # "details" | "aggregates"
    query: Any
    submitted_ms: int
    ready_after_ms: int
    fails: bool
    cancelled: bool = False
    results: list[dict[str, Any]] | None = None  # aggregates jobs: computed on first read
    queued_until_ms: int | None = None  # None: QUEUED_SHARE of the run up to ``ready_after_ms``


@dataclass
class AnalyticsState:
    synth: Synth
    jobs: dict[str, Job] = field(default_factory=dict)
    queries: OrderedDict[str, Any] = field(default_factory=OrderedDict)
    lock: threading.Lock = field(default_factory=threading.Lock)


def new_job(job_id: str, kind: str, query: Any, now: int, run_seconds: float, extra_seconds: float, fails: bool) -> Job:
    """A job submitted at ``now`` that completes after ``run_seconds`` (+ ``extra_seconds`` of a fault)."""
    queued = now + round(run_seconds * QUEUED_SHARE * 1000)
    ready = now + int((run_seconds + extra_seconds) * 1000)
    return Job(job_id, kind, query, now, ready, fails, queued_until_ms=queued)


def job_state(job: Job, now: int) -> str:
    if job.cancelled:
        return "CANCELLED"
    queued_until = job.queued_until_ms
    if queued_until is None:
        queued_until = job.submitted_ms + round((job.ready_after_ms - job.submitted_ms) * QUEUED_SHARE)
    if now < queued_until:
        return "QUEUED"
    if now < job.ready_after_ms:
        return "PENDING"
    if job.fails:
        return "FAILED"
    if now > job.ready_after_ms + JOB_RESULTS_DAYS * DAY_MS:
        return "EXPIRED"
    return "FULFILLED"


def job_status_payload(job: Job, now: int) -> dict[str, Any]:
    state = job_state(job, now)
    payload: dict[str, Any] = {"state": state, "submissionDate": iso_utc(job.submitted_ms)}
    if state in ("FULFILLED", "FAILED", "EXPIRED"):
        payload["completionDate"] = iso_utc(job.ready_after_ms)
        payload["expirationDate"] = iso_utc(job.ready_after_ms + JOB_RESULTS_DAYS * DAY_MS)
    if state == "FAILED":
        payload["errorMessage"] = "The analytics job failed; submit it again."
    return payload


def require_fulfilled(job: Job, now: int) -> None:
    state = job_state(job, now)
    if state != "FULFILLED":
        raise ApiError(400, f"Job {job.id} is {state}; results are available once it is FULFILLED.", fields=["jobId"])


def encode_cursor(position: tuple[int, ...]) -> str:
    """An opaque cursor: where the next page starts (day, block, position) and how many were served."""
    return base64.urlsafe_b64encode(":".join(str(p) for p in position).encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[int, int, int, int]:
    try:
        text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        day, block, position, served = (int(x) for x in text.split(":"))
    except (ValueError, UnicodeDecodeError) as exc:
        raise ApiError(400, "Invalid cursor", fields=["cursor"]) from exc
    return day, block, position, served
