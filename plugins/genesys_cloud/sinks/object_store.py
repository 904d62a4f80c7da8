"""Atomic, idempotent partition publishing to S3 (or any S3-compatible store) through ``S3Hook``.

Layout (``{pipeline}`` is the pipeline's output prefix):

* ``{pipeline}/date=YYYY-MM-DD/`` when the window is exactly one calendar day in the window's own time
  zone: starts at local midnight of ``window_start.tzinfo`` and ends at the next local midnight (so 23 h
  and 25 h DST days count as one day). ``date`` is that local date. Pass tz-aware datetimes in the reporting
  zone; a local day expressed in UTC offsets is not midnight-aligned and becomes an ``interval=``.
* ``{pipeline}/interval={start}_{end}/`` otherwise, both bounds in UTC, compact ISO
  (``20240501T000000Z``): no ``:`` or ``+``, safe in file systems and URLs.
* ``{partition}selection=<digest>/`` for a run whose selection (views, queues, campaigns...) differs from
  the pipeline's default: a narrower manual run gets its own partition under the day's, instead of
  replacing the day's full output (see ``genesys_cloud.sinks.delivery.publisher_for``). Publishing the
  day's partition never touches its ``selection=`` sub-partitions.
* ``{pipeline}/_staging/{run_id}/{partition token}/`` holds a run's staged objects until publish.

Concurrent publishes of one partition are serialised by a lock object (``{partition}_lock``) created with
a conditional write (``If-None-Match: *``: exactly one writer succeeds, S3 answers 412 to the others);
a lock older than :data:`LOCK_STALE_SECONDS` (a crashed publisher) is taken over, and a retry of the
run that holds it proceeds. Completeness (:func:`partition_is_complete`) compares each object's sha256
with the manifest, not just its size.

Publishing one partition: (1) delete the old ``_manifest.json`` (from now on readers see the partition as
incomplete), (2) delete the partition's old objects that the new set does not contain, (3) copy the
staged objects in, (4) write the new manifest LAST, (5) clear the staging prefix. A crash anywhere before
(4) leaves a partition without manifest, which readers ignore; publishing again completes it (staged
objects stay until the manifest is written).

The manifest is deterministic: object names, keys, sizes, sha256, row counts, the window and the caller's
``extra_manifest`` with sorted keys. No timestamps or run ids, so a re-run writes byte-identical bytes;
run metadata belongs in the audit trail. Every put and copy asks for server-side encryption (AES256).
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from genesys_cloud.config import settings
from genesys_cloud.exceptions import ObjectStoreError, PresignError

if TYPE_CHECKING:
    from airflow.providers.amazon.aws.hooks.s3 import S3Hook

log = logging.getLogger(__name__)

MANIFEST_NAME = "_manifest.json"
LOCK_NAME = "_lock"
SELECTION_TOKEN = "selection="
#: A publish takes seconds; a lock this old belongs to a publisher that died mid-way.
LOCK_STALE_SECONDS = 15 * 60
MANIFEST_VERSION = 1
SSE = "AES256"
DEFAULT_BUCKET = "genesys-pipelines"
# S3 SigV4 presigned URLs cannot outlive 7 days.
MAX_PRESIGN_HOURS = 7 * 24
# Keys a manifest must not carry: they change on every run and would break byte-identical re-runs.
VOLATILE_KEYS = frozenset(
    {"run_id", "published_at", "generated_at", "created_at", "timestamp", "presigned_url"}
)
_SAFE = re.compile(r"[^A-Za-z0-9._-]+")
_META_SHA = "sha256"
_META_ROWS = "rows"


def _as_datetime(value: datetime | str) -> datetime:
    moment = datetime.fromisoformat(value) if isinstance(value, str) else value
    if moment.tzinfo is None:
        raise ObjectStoreError(f"window bound {value!r} must be timezone-aware")
    return moment


def _compact_utc(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


def _one_local_day(start: datetime, end: datetime) -> bool:
    # The first instant of a local day is not always 00:00 (DST changes at midnight): one definition, in
    # the pure window module.
    from genesys_pipelines.windows import is_local_day

    return is_local_day(start, end)


def partition_prefix(pipeline: str, window_start: datetime | str, window_end: datetime | str) -> str:
    """``{pipeline}/date=YYYY-MM-DD/`` for one calendar day in the window's zone, else ``interval=``."""
    start, end = _as_datetime(window_start), _as_datetime(window_end)
    if end <= start:
        raise ObjectStoreError(f"empty window {start.isoformat()} / {end.isoformat()}")
    pipeline = pipeline.strip("/")
    if not pipeline:
        raise ObjectStoreError("pipeline prefix must not be empty")
    if _one_local_day(start, end):
        return f"{pipeline}/date={start.date().isoformat()}/"
    return f"{pipeline}/interval={_compact_utc(start)}_{_compact_utc(end)}/"


def sanitise(value: str) -> str:
    """A key-safe token; a short hash keeps distinct inputs distinct after replacing characters."""
    cleaned = _SAFE.sub("_", value).strip("_") or "x"
    if cleaned == value:
        return value
    return f"{cleaned}-{hashlib.sha256(value.encode()).hexdigest()[:8]}"


def _check_name(name: str) -> str:
    parts = name.split("/")
    if not name or name.startswith("/") or any(p in ("", ".", "..") for p in parts):
        raise ObjectStoreError(f"invalid object name {name!r}")
    if name == MANIFEST_NAME:
        raise ObjectStoreError(f"{MANIFEST_NAME} is written by publish() itself")
    return name


def _sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _manifest_bytes(manifest: dict[str, Any]) -> bytes:
    return (json.dumps(manifest, sort_keys=True, indent=2, ensure_ascii=False) + "\n").encode("utf-8")


@dataclass(frozen=True)
class StagedObject:
    name: str
    staging_key: str
    size: int
    sha256: str
    rows: int | None
    content_type: str


def s3_hook(aws_conn_id: str | None) -> S3Hook:
    from airflow.providers.amazon.aws.hooks.s3 import S3Hook  # heavy: boto3

    return S3Hook(aws_conn_id=aws_conn_id or settings().aws_conn_id)


def _default_bucket() -> str:
    return settings().bucket or DEFAULT_BUCKET


class PartitionPublisher:
    """Stage objects for one run and partition, then publish them atomically with a manifest."""

    def __init__(
        self,
        pipeline: str,
        window_start: datetime | str,
        window_end: datetime | str,
        run_id: str,
        bucket: str | None = None,
        aws_conn_id: str | None = None,
        selection: str | None = None,
    ) -> None:
        self.pipeline = pipeline.strip("/")
        self.window_start = _as_datetime(window_start)
        self.window_end = _as_datetime(window_end)
        self.partition = partition_prefix(self.pipeline, self.window_start, self.window_end)
        if selection:
            if _SAFE.search(selection):
                raise ObjectStoreError(f"invalid selection token {selection!r}")
            self.partition += f"{SELECTION_TOKEN}{selection}/"
        self.selection = selection or None
        self.run_id = run_id
        self.bucket = bucket or _default_bucket()
        self.aws_conn_id = aws_conn_id or settings().aws_conn_id
        # One staging folder per (run, partition): mapped tasks of one run may publish several partitions.
        token = self.partition[len(self.pipeline) + 1 :].strip("/")
        self.staging_prefix = f"{self.pipeline}/_staging/{sanitise(run_id)}/{token}/"
        self._hook: S3Hook | None = None

    @property
    def hook(self) -> S3Hook:
        if self._hook is None:
            self._hook = s3_hook(self.aws_conn_id)
        return self._hook

    @property
    def manifest_key(self) -> str:
        return f"{self.partition}{MANIFEST_NAME}"

    @property
    def lock_key(self) -> str:
        return f"{self.partition}{LOCK_NAME}"

    def _acquire(self) -> None:
        """Create the partition's lock object with a conditional write; one publisher at a time."""
        from botocore.exceptions import ClientError

        client = self.hook.get_conn()
        for _ in range(2):
            try:
                client.put_object(Bucket=self.bucket, Key=self.lock_key, Body=self.run_id.encode(),
                                  ContentType="text/plain", ServerSideEncryption=SSE, IfNoneMatch="*")
                return
            except ClientError as exc:
                code = exc.response.get("Error", {}).get("Code")
                if code not in ("PreconditionFailed", "412", "ConditionalRequestConflict", "409"):
                    raise
            held = client.get_object(Bucket=self.bucket, Key=self.lock_key)
            holder = held["Body"].read().decode(errors="replace")
            age = (datetime.now(UTC) - held["LastModified"]).total_seconds()
            if holder == self.run_id or age > LOCK_STALE_SECONDS:  # our own earlier try, or a dead publisher
                log.warning("Taking over the lock of s3://%s/%s (held by %s for %.0f s)", self.bucket,
                            self.partition, holder, age)
                client.delete_object(Bucket=self.bucket, Key=self.lock_key)
                continue
            raise ObjectStoreError(f"s3://{self.bucket}/{self.partition} is being published by run {holder!r} "
                                   f"(lock {age:.0f} s old); retry once it is done")
        raise ObjectStoreError(f"could not take the lock of s3://{self.bucket}/{self.partition}")

    def _release(self) -> None:
        self.hook.get_conn().delete_object(Bucket=self.bucket, Key=self.lock_key)

    def staging_key(self, name: str) -> str:
        return f"{self.staging_prefix}{_check_name(name)}"

    def object_key(self, name: str) -> str:
        """The key ``name`` has once published."""
        return f"{self.partition}{_check_name(name)}"

    # -- staging -------------------------------------------------------------------------------------
    def stage_bytes(
        self, name: str, data: bytes, content_type: str = "application/octet-stream", rows: int | None = None
    ) -> str:
        """Upload ``data`` to the staging area (always overwrites); returns its staging key."""
        key = self.staging_key(name)
        if _is_csv(name, content_type):  # formula cells from API names are neutralised (csv_safety)
            from genesys_cloud.sinks.csv_safety import neutralise_csv_bytes

            data = neutralise_csv_bytes(data)
        # put_object always replaces (S3Hook.load_bytes needs replace=True for the same effect) and, unlike
        # load_bytes, keeps sha256/rows as object metadata, so any task of the run can stage and publish.
        self.hook.get_conn().put_object(
            Bucket=self.bucket,
            Key=key,
            Body=data,
            ContentType=content_type,
            ServerSideEncryption=SSE,
            Metadata=_metadata(hashlib.sha256(data).hexdigest(), rows),
        )
        return key

    def stage_file(
        self, name: str, path: str | Path, content_type: str | None = None, rows: int | None = None
    ) -> str:
        """Upload a local file (multipart when large) to the staging area; returns its staging key."""
        key = self.staging_key(name)
        if _is_csv(name, content_type):
            from genesys_cloud.sinks.csv_safety import neutralise_csv_file

            neutralise_csv_file(path)
        upload_file(self.hook, self.bucket, key, path, content_type=content_type, rows=rows)
        return key

    def staged(self) -> list[StagedObject]:
        """What this run staged for the partition (from S3 itself, not from memory)."""
        keys = sorted(self.hook.list_keys(bucket_name=self.bucket, prefix=self.staging_prefix) or [])
        objects = []
        for key in keys:
            head = self.hook.head_object(key=key, bucket_name=self.bucket) or {}
            meta = {k.lower(): v for k, v in (head.get("Metadata") or {}).items()}
            if _META_SHA not in meta:
                raise ObjectStoreError(f"staged object {key} has no sha256 metadata: stage it with stage_*()")
            objects.append(
                StagedObject(
                    name=key[len(self.staging_prefix) :],
                    staging_key=key,
                    size=int(head["ContentLength"]),
                    sha256=meta[_META_SHA],
                    rows=int(meta[_META_ROWS]) if _META_ROWS in meta else None,
                    content_type=head.get("ContentType", "application/octet-stream"),
                )
            )
        return objects

    # -- publishing ----------------------------------------------------------------------------------
    def build_manifest(self, objects: list[StagedObject], extra_manifest: dict[str, Any] | None) -> dict:
        extra = dict(extra_manifest or {})
        volatile = VOLATILE_KEYS.intersection(extra)
        if volatile:
            raise ObjectStoreError(
                f"extra_manifest keys {sorted(volatile)} change on every run; record them in the audit trail"
            )
        entries = [
            {
                "name": o.name,
                "key": self.object_key(o.name),
                "size": o.size,
                "sha256": o.sha256,
                "rows": o.rows,
                "content_type": o.content_type,
            }
            for o in sorted(objects, key=lambda o: o.name)
        ]
        counted = [o.rows for o in objects if o.rows is not None]
        return {
            "manifest_version": MANIFEST_VERSION,
            "pipeline": self.pipeline,
            "partition": self.partition,
            "window": {"start": self.window_start.isoformat(), "end": self.window_end.isoformat()},
            "objects": entries,
            "total_rows": sum(counted) if counted else None,
            "extra": extra,
        }

    def publish(
        self,
        extra_manifest: dict[str, Any] | None = None,
        *,
        allow_empty: bool = False,
        names: Iterable[str] | None = None,
    ) -> dict:
        """Replace the partition with the staged objects; returns the manifest plus bucket/manifest_key.

        Raises when nothing is staged unless ``allow_empty``: re-running only the publish step after a
        successful publish (staging already cleared) must not wipe the partition.

        ``names``: the objects this try produced. The staging prefix belongs to the run, not the try, so
        an earlier try may have left objects this one no longer writes (e.g. a view or chunk that is now
        empty). When given, only these names are published (each must be staged, else ObjectStoreError
        and nothing changes) and every other staged object is deleted from staging with the rest, never
        published. When None (the default), everything staged under the run's prefix is published.
        """
        objects = self.staged()
        leftovers: list[StagedObject] = []
        if names is not None:
            wanted = {_check_name(name) for name in names}
            missing = sorted(wanted - {o.name for o in objects})
            if missing:
                raise ObjectStoreError(
                    f"not staged under s3://{self.bucket}/{self.staging_prefix}: {', '.join(missing)}"
                )
            leftovers = [o for o in objects if o.name not in wanted]
            objects = [o for o in objects if o.name in wanted]
            if leftovers:
                log.warning(
                    "Not publishing %d object(s) an earlier try staged: %s",
                    len(leftovers),
                    ", ".join(o.name for o in leftovers),
                )
        if not objects and not allow_empty:
            raise ObjectStoreError(
                f"nothing staged under s3://{self.bucket}/{self.staging_prefix}; "
                "stage objects first or pass allow_empty=True for an empty partition"
            )
        manifest = self.build_manifest(objects, extra_manifest)
        self._acquire()
        try:
            self._replace(manifest, objects, leftovers)
        finally:
            self._release()
        return {**manifest, "bucket": self.bucket, "manifest_key": self.manifest_key}

    def _replace(self, manifest: dict[str, Any], objects: list[StagedObject], leftovers: list[StagedObject]) -> None:
        """Steps (1)-(5) of the module doc, under the partition's lock."""
        hook, bucket = self.hook, self.bucket

        # (1) Readers stop trusting the partition before anything in it changes.
        hook.delete_objects(bucket=bucket, keys=[self.manifest_key])
        # (2) Old objects the new set does not overwrite would otherwise linger under the new manifest.
        new_keys = {entry["key"] for entry in manifest["objects"]}
        existing = hook.list_keys(bucket_name=bucket, prefix=self.partition) or []
        stale = sorted(k for k in existing if k not in new_keys and k not in (self.manifest_key, self.lock_key)
                       and not k[len(self.partition):].startswith(SELECTION_TOKEN))  # narrower runs' own
        if stale:
            hook.delete_objects(bucket=bucket, keys=stale)
        # (3) Server-side copies; metadata (sha256, rows, content type) travels with the object.
        for obj in objects:
            hook.copy_object(
                source_bucket_key=obj.staging_key,
                dest_bucket_key=self.object_key(obj.name),
                source_bucket_name=bucket,
                dest_bucket_name=bucket,
                ServerSideEncryption=SSE,
            )
        # (4) The manifest last: from here on the partition is complete.
        hook.get_conn().put_object(
            Bucket=bucket,
            Key=self.manifest_key,
            Body=_manifest_bytes(manifest),
            ContentType="application/json",
            ServerSideEncryption=SSE,
        )
        # (5) Staging is disposable once the manifest exists (leftovers of earlier tries included).
        if objects or leftovers:
            hook.delete_objects(bucket=bucket, keys=[o.staging_key for o in [*objects, *leftovers]])
        log.info(
            "Published s3://%s/%s (%d objects, %s rows)",
            bucket,
            self.partition,
            len(objects),
            manifest["total_rows"],
        )

    def read_manifest(self) -> dict[str, Any] | None:
        """The partition's manifest, or None when the partition is not (or no longer) complete."""
        return read_manifest(self.hook, self.bucket, self.manifest_key)

    def read_object(self, name: str) -> bytes | None:
        """A published object of the partition (by name, as listed in the manifest), or None."""
        manifest = self.read_manifest()
        keys = [o["key"] for o in (manifest or {}).get("objects", []) if o.get("name") == name]
        return self.read_key(keys[0]) if keys else None

    def read_key(self, key: str) -> bytes:
        """The bytes of ``key`` in this publisher's bucket (staged or work objects of the run too)."""
        return self.hook.get_conn().get_object(Bucket=self.bucket, Key=key)["Body"].read()

    # -- the run's work area: intermediate objects that are never published ----------------------------
    @property
    def work_prefix(self) -> str:
        """``{pipeline}/_work/{run}/{partition}/``: beside, not under, the staging prefix publish() copies."""
        return self.staging_prefix.replace("/_staging/", "/_work/", 1)

    def upload_work(self, paths: list[Path], folder: str) -> list[str]:
        """Upload local files to ``{work_prefix}{folder}/``; their keys."""
        keys = []
        for path in paths:
            key = f"{self.work_prefix}{folder}/{Path(path).name}"
            upload_file(self.hook, self.bucket, key, path)
            keys.append(key)
        return keys

    def download(self, keys: list[str], directory: Path) -> list[Path]:
        """Download objects of the bucket (work or staged ones) into ``directory``; their local paths."""
        return download_files(self.hook, self.bucket, keys, directory)

    def clear_work(self) -> int:
        """Delete the run's work area (after publishing); returns how many objects went."""
        keys = self.hook.list_keys(bucket_name=self.bucket, prefix=self.work_prefix) or []
        if keys:
            self.hook.delete_objects(bucket=self.bucket, keys=keys)
        return len(keys)

    def presign(self, key: str, expiry_hours: float = 24) -> str:
        """A presigned GET URL for ``key``; raises PresignError instead of returning None."""
        if not 0 < expiry_hours <= MAX_PRESIGN_HOURS:
            raise ObjectStoreError(f"expiry_hours must be in (0, {MAX_PRESIGN_HOURS}], got {expiry_hours}")
        url = self.hook.generate_presigned_url(
            client_method="get_object",
            params={"Bucket": self.bucket, "Key": key},
            expires_in=int(expiry_hours * 3600),
        )
        if not url:
            raise PresignError(
                f"could not presign s3://{self.bucket}/{key} (see the S3Hook log for the cause)"
            )
        return url


def _is_csv(name: str, content_type: str | None) -> bool:
    return name.lower().endswith(".csv") or (content_type or "").split(";")[0].strip().lower() == "text/csv"


def _metadata(sha256: str, rows: int | None) -> dict[str, str]:
    meta = {_META_SHA: sha256}
    if rows is not None:
        meta[_META_ROWS] = str(int(rows))
    return meta


def upload_file(
    hook: S3Hook, bucket: str, key: str, path: str | Path, *, content_type: str | None = None,
    rows: int | None = None, sha256: str | None = None,
) -> dict[str, Any]:
    """Upload a local file (multipart when large) with server-side encryption and its sha256 (and row
    count) as object metadata, the form :meth:`PartitionPublisher.staged` reads back. ``{key, bytes, sha256}``."""
    import mimetypes

    path = Path(path)
    digest = sha256 or _sha256_file(path)
    ctype = content_type or mimetypes.guess_type(path.name)[0] or "application/octet-stream"
    hook.get_conn().upload_file(
        Filename=str(path), Bucket=bucket, Key=key,
        ExtraArgs={"ContentType": ctype, "ServerSideEncryption": SSE, "Metadata": _metadata(digest, rows)},
    )
    return {"key": key, "bytes": path.stat().st_size, "sha256": digest}


def download_files(hook: S3Hook, bucket: str, keys: list[str], directory: Path) -> list[Path]:
    client = hook.get_conn()
    directory.mkdir(parents=True, exist_ok=True)
    paths = []
    for key in keys:
        path = directory / key.rsplit("/", 1)[-1]
        client.download_file(Bucket=bucket, Key=key, Filename=str(path))
        paths.append(path)
    return paths


def read_manifest(hook: S3Hook, bucket: str, manifest_key: str) -> dict[str, Any] | None:
    if not hook.check_for_key(manifest_key, bucket_name=bucket):
        return None
    return json.loads(hook.read_key(manifest_key, bucket_name=bucket))


def _sha256_of_object(hook: S3Hook, bucket: str, key: str) -> str | None:
    from botocore.exceptions import ClientError

    digest = hashlib.sha256()
    try:
        body = hook.get_conn().get_object(Bucket=bucket, Key=key)["Body"]
    except ClientError:
        return None
    for block in iter(lambda: body.read(1 << 20), b""):  # streamed: an object is never whole in memory
        digest.update(block)
    return digest.hexdigest()


def partition_is_complete(
    pipeline: str,
    window_start: datetime | str,
    window_end: datetime | str,
    bucket: str | None = None,
    aws_conn_id: str | None = None,
    selection: str | None = None,
) -> bool:
    """True when the partition has a manifest and every object it lists exists with the listed size and
    sha256 (the bytes are hashed: a same-size object from an interleaved publish does not pass)."""
    hook = s3_hook(aws_conn_id)
    bucket = bucket or _default_bucket()
    prefix = partition_prefix(pipeline, window_start, window_end)
    if selection:
        prefix += f"{SELECTION_TOKEN}{selection}/"
    manifest = read_manifest(hook, bucket, f"{prefix}{MANIFEST_NAME}")
    if manifest is None:
        return False
    sizes = {
        meta["Key"]: int(meta["Size"]) for meta in hook.get_file_metadata(prefix=prefix, bucket_name=bucket)
    }
    return all(sizes.get(entry["key"]) == entry["size"]
               and _sha256_of_object(hook, bucket, entry["key"]) == entry["sha256"]
               for entry in manifest["objects"])
