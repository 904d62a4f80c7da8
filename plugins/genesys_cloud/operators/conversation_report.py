"""Genesys and object-store steps of the conversation report pipeline (genesys-api.md §3b).

Small functions over a :class:`~genesys_cloud.hooks.genesys_cloud.GenesysCloudHook` and a
:class:`~genesys_cloud.sinks.object_store.PartitionPublisher`, so the DAG's tasks stay short and the
benchmark drives the very same code. Request shaping, flattening and aggregation live in
``genesys_pipelines.conversation_report``.
"""

from __future__ import annotations

import copy
import queue
import threading
from collections.abc import Iterable, Iterator
from contextlib import closing
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from genesys_cloud.hooks import pagination
from genesys_pipelines.conversation_report.chunks import ChunkStats, ChunkWriter

if TYPE_CHECKING:
    from genesys_cloud.hooks.genesys_cloud import GenesysCloudHook
    from genesys_cloud.sinks.object_store import PartitionPublisher

DETAILS_QUERY_PATH = "/api/v2/analytics/conversations/details/query"
DETAILS_JOBS_PATH = "/api/v2/analytics/conversations/details/jobs"
SYNC_PAGE_SIZE = 100
JOB_PAGE_SIZE = 1000  # cursor pages of job results; fewer round trips for large days


def day_hits(hook: GenesysCloudHook, query: dict[str, Any]) -> dict[str, int]:
    """``totalHits`` of the sync query per UTC day of its interval (one 1-row page each).

    The sync query matches whole days and its ceiling applies per query, so the day is the unit that
    decides between the sync query and the async job.
    """
    hits: dict[str, int] = {}
    for day in pagination.utc_days(pagination.parse_interval(query["interval"])):
        body = copy.deepcopy(query)
        body.update(interval=pagination.format_interval(day), paging={"pageSize": 1, "pageNumber": 1})
        answer = hook.query(DETAILS_QUERY_PATH, body) or {}
        hits[day[0].date().isoformat()] = int(answer.get("totalHits") or 0)
    return hits


def sync_conversations(hook: GenesysCloudHook, query: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """The sync query's conversations: paged by body, day-split, deduplicated, exact interval."""
    return hook.iter_conversation_details(query, page_size=SYNC_PAGE_SIZE)


def job_conversations(
    hook: GenesysCloudHook, job_id: str, interval: str, page_size: int = JOB_PAGE_SIZE
) -> Iterator[dict[str, Any]]:
    """An async job's conversations, cut to the exact interval by the same post-filter as the sync path
    (the job matches conversations with *activity* in the interval), so both paths give the same rows."""
    rows = hook.iter_job_results(f"{DETAILS_JOBS_PATH}/{job_id}/results", page_size=page_size)
    return pagination.post_filter_interval(rows, interval)


T = TypeVar("T")
_DONE = object()


def read_ahead(items: Iterable[T], ahead: int, batch: int = 256) -> Iterator[T]:
    """``items``, pulled by a background thread up to ``ahead`` items in front of the consumer.

    The pages come from another machine: while this process flattens and writes one page, the server can
    already be producing the next, instead of each side idling in turn. Items cross in batches (a queue
    operation per item would cost more than it saves); exceptions of ``items`` (API errors, retries
    exhausted) re-raise here unchanged; closing this generator stops the thread.
    """
    lane: queue.Queue[Any] = queue.Queue(maxsize=max(1, -(-ahead // batch)))
    stop = threading.Event()

    def offer(message: Any) -> bool:
        while not stop.is_set():
            try:
                lane.put(message, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def produce() -> None:
        try:
            chunk: list[T] = []
            for item in items:
                chunk.append(item)
                if len(chunk) >= batch:
                    if not offer(chunk):
                        return
                    chunk = []
            if chunk and not offer(chunk):
                return
            offer(_DONE)
        except BaseException as exc:  # handed to the consumer, which re-raises it
            offer(exc)

    thread = threading.Thread(target=produce, name="conversation-report-read-ahead", daemon=True)
    thread.start()
    try:
        while True:
            message = lane.get()
            if message is _DONE:
                return
            if isinstance(message, BaseException):
                raise message
            yield from message
    finally:
        stop.set()
        thread.join(timeout=10)  # a request in flight finishes or fails on its own (daemon thread)


def extract_to_chunks(
    conversations: Iterable[dict[str, Any]], directory: Path, ahead: int = JOB_PAGE_SIZE
) -> ChunkStats:
    """Stream conversations into sorted Parquet chunks under ``directory`` (bounded memory), fetching up
    to ``ahead`` conversations (about a page) ahead of the flattening."""
    with closing(read_ahead(conversations, ahead)) as items:
        return ChunkWriter(directory).add_all(items)


# -- the run's work area: intermediate objects that are never published ------------------------------


def work_prefix(publisher: PartitionPublisher) -> str:
    """``{pipeline}/_work/{run}/{partition}/``: beside, not under, the staging prefix that publish() copies."""
    return publisher.staging_prefix.replace("/_staging/", "/_work/", 1)


def upload_work(publisher: PartitionPublisher, paths: list[Path], folder: str) -> list[str]:
    client = publisher.hook.get_conn()
    keys = []
    for path in paths:
        key = f"{work_prefix(publisher)}{folder}/{path.name}"
        client.upload_file(Filename=str(path), Bucket=publisher.bucket, Key=key,
                           ExtraArgs={"ServerSideEncryption": "AES256"})
        keys.append(key)
    return keys


def download(publisher: PartitionPublisher, keys: list[str], directory: Path) -> list[Path]:
    client = publisher.hook.get_conn()
    directory.mkdir(parents=True, exist_ok=True)
    paths = []
    for key in keys:
        path = directory / key.rsplit("/", 1)[-1]
        client.download_file(Bucket=publisher.bucket, Key=key, Filename=str(path))
        paths.append(path)
    return paths


def clear_work(publisher: PartitionPublisher) -> int:
    """Delete the run's work area (after publishing); returns how many objects went."""
    keys = publisher.hook.list_keys(bucket_name=publisher.bucket, prefix=work_prefix(publisher)) or []
    if keys:
        publisher.hook.delete_objects(bucket=publisher.bucket, keys=keys)
    return len(keys)


def publish_partition(
    publisher: PartitionPublisher, extra_manifest: dict[str, Any], names: list[str] | None = None
) -> dict[str, Any]:
    """Publish exactly ``names`` (all staged objects when None); a retry after a successful publish
    (staging already cleared) reuses the partition's manifest instead of failing on an empty staging area."""
    if not publisher.staged():
        manifest = publisher.read_manifest()
        if manifest is not None and manifest.get("extra") == extra_manifest:
            return {**manifest, "bucket": publisher.bucket, "manifest_key": publisher.manifest_key}
    return publisher.publish(extra_manifest=extra_manifest, names=names)


def check_data_availability(hook: GenesysCloudHook, window_end: datetime) -> str:
    """The async details job reads the datalake: data before ``dataAvailabilityDate`` is guaranteed to be
    there. A window ending after it would give a silently incomplete (yet "complete") partition, so fail
    with a retryable error instead; the task's retries try again later. Returns the availability date."""
    from genesys_cloud.exceptions import GenesysPayloadError

    body = hook.get(f"{DETAILS_JOBS_PATH}/availability") or {}
    raw = body.get("dataAvailabilityDate") if isinstance(body, dict) else None
    if not raw:
        raise GenesysPayloadError("details job availability: the answer has no dataAvailabilityDate",
                                  endpoint=f"GET {DETAILS_JOBS_PATH}/availability")
    available = datetime.fromisoformat(str(raw).replace("Z", "+00:00"))
    if window_end > available:
        raise DataNotYetAvailable(
            f"analytics data is available up to {available.isoformat()}, but the window ends "
            f"{window_end.isoformat()}: the async details job would miss data; retrying later"
        )
    return available.isoformat()


class DataNotYetAvailable(RuntimeError):
    """The window ends after the datalake's dataAvailabilityDate (retryable: the data lands later)."""
