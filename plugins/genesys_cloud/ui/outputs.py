"""What the outputs page shows, read from object storage and the audit trail (no web code here).

A pipeline's outputs live under ``s3://$GENESYS_BUCKET/<dag_id>/`` in partitions ``date=YYYY-MM-DD/`` or
``interval=START_END/``; a partition is complete once its ``_manifest.json`` exists (written last), and the
manifest lists its objects. Staging (``_staging/``) and work areas (names starting with ``_``) are not
outputs. The audit trail (``genesys_audit``) is keyed by the same window, so a partition's rows are the
rows whose ``window_start`` is the manifest's.

Only ``genesys_cloud.sinks.object_store`` (``PartitionPublisher``, ``read_manifest``, the S3 hook factory)
and ``AuditSink().rows()`` are used, so the provider can change its internals freely.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

from genesys_cloud.config import settings
from genesys_cloud.sinks import object_store
from genesys_cloud.sinks.object_store import MANIFEST_NAME, PartitionPublisher, read_manifest

log = logging.getLogger(__name__)

#: A download link is presigned when clicked and redirected to at once: a short life is enough.
DOWNLOAD_EXPIRY_HOURS = 5 / 60
PARTITION_PREFIXES = ("date=", "interval=")
IMAGE_TYPES = ("image/png", "image/jpeg", "image/svg+xml")


class OutputNotFound(LookupError):
    """The key is not an object of a complete partition of that DAG."""


def _hook() -> Any:
    return object_store.s3_hook(None)


def bucket() -> str:
    return settings().bucket


@dataclass
class Partition:
    """One partition folder of a pipeline: its manifest (None while incomplete) and audit rows."""

    prefix: str
    manifest: dict[str, Any] | None
    audit_rows: list[dict[str, Any]] = field(default_factory=list)

    @property
    def name(self) -> str:
        """The path under the DAG's folder: ``date=…`` or, for a narrower run, ``date=…/selection=…``."""
        return self.prefix.rstrip("/").split("/", 1)[-1]

    @property
    def window(self) -> dict[str, str]:
        return (self.manifest or {}).get("window") or {}

    @property
    def objects(self) -> list[dict[str, Any]]:
        return list((self.manifest or {}).get("objects") or [])

    @property
    def charts(self) -> list[dict[str, Any]]:
        return [o for o in self.objects if o.get("content_type") in IMAGE_TYPES or o["name"].endswith(".png")]


def pipelines(dag_ids: set[str]) -> list[str]:
    """The DAG ids among ``dag_ids`` that have a folder in the bucket."""
    prefixes = _hook().list_prefixes(bucket_name=bucket(), prefix="", delimiter="/") or []
    return sorted(p.rstrip("/") for p in prefixes if p.rstrip("/") in dag_ids)


def partition_prefixes(dag_id: str) -> list[str]:
    """The DAG's partition folders, newest first (``interval=`` and ``date=`` each sort by their start)."""
    prefixes = _hook().list_prefixes(bucket_name=bucket(), prefix=f"{dag_id}/", delimiter="/") or []
    names = [p for p in prefixes if p[len(dag_id) + 1 :].startswith(PARTITION_PREFIXES)]
    return sorted(names, key=lambda p: p[len(dag_id) + 1 :].split("=", 1)[1], reverse=True)


def selection_prefixes(prefix: str) -> list[str]:
    """The ``selection=<digest>/`` sub-partitions of a partition folder (runs narrower than the default
    selection publish there, never over the day's full partition), sorted by name."""
    children = _hook().list_prefixes(bucket_name=bucket(), prefix=prefix, delimiter="/") or []
    return sorted(c for c in children if c[len(prefix):].startswith(object_store.SELECTION_TOKEN))


def manifest(prefix: str) -> dict[str, Any] | None:
    return read_manifest(_hook(), bucket(), f"{prefix}{MANIFEST_NAME}")


def audit_rows(dag_id: str, window_start: str | None = None, run_id: str | None = None) -> list[dict[str, Any]]:
    """The audit rows of a window or run ([] when the audit trail is empty, missing or unreachable)."""
    from genesys_cloud.sinks.audit import AuditSink

    sink = AuditSink()
    try:
        return sink.rows(dag_id, window_start, run_id=run_id)
    except Exception as exc:  # noqa: BLE001 - a missing table or database must not break the page
        log.warning("Audit trail not readable for %s: %s", dag_id, exc)
        return []
    finally:
        sink.close()


def partitions(dag_id: str, limit: int = 30, run_id: str | None = None) -> list[Partition]:
    """The newest ``limit`` partitions with their audit rows; with ``run_id``, only that run's windows."""
    prefixes = partition_prefixes(dag_id)
    windows: set[str] | None = None
    if run_id:
        windows = {row["window_start"] for row in audit_rows(dag_id, run_id=run_id)}
    found: list[Partition] = []
    for prefix in prefixes:
        if len(found) >= limit:
            break
        narrower = selection_prefixes(prefix)
        for folder in (prefix, *narrower):
            part = Partition(folder, manifest(folder))
            if part.manifest is None and folder == prefix and narrower:
                continue  # the folder holds only narrower runs' sub-partitions, not an unfinished publish
            start = part.window.get("start")
            if windows is not None and (not start or _utc(start) not in windows):
                continue
            if start:
                part.audit_rows = audit_rows(dag_id, start)
            found.append(part)
    return found


def _utc(moment: str) -> str:
    from datetime import UTC, datetime

    return datetime.fromisoformat(moment).astimezone(UTC).isoformat()


def presigned_download(dag_id: str, key: str) -> str:
    """A presigned GET URL for ``key``, made now, if the key is listed by a manifest of ``dag_id``.

    The caller redirects to it and forgets it: the URL is never stored, logged or put in a page.
    """
    prefix, _, name = key.rpartition("/")
    if not key.startswith(f"{dag_id}/") or not prefix[len(dag_id) + 1 :].startswith(PARTITION_PREFIXES):
        raise OutputNotFound(key)
    found = manifest(f"{prefix}/")
    if found is None:
        raise OutputNotFound(key)
    listed = {o["key"] for o in found.get("objects") or []} | {f"{prefix}/{MANIFEST_NAME}"}
    if key not in listed:
        raise OutputNotFound(key)
    window = found["window"]
    publisher = PartitionPublisher(dag_id, window["start"], window["end"], run_id="outputs-page", bucket=bucket())
    return publisher.presign(key, expiry_hours=DOWNLOAD_EXPIRY_HOURS)
