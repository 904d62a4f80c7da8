"""The one delivery step every pipeline ends with: publish → presign → signed webhook → audit rows.

A pipeline says *what* to deliver (a :class:`Delivery`, usually built by a pure function of the pipeline's
``output`` module: the objects to stage now and those staged earlier, the manifest's extra facts, how to
build the webhook body and the audit rows from what was published); this step does it the same way for
all of them:

1. **publish** the partition atomically (:meth:`PartitionPublisher.publish`); a retry of this step after a
   successful publish finds staging empty and the partition complete with the same facts, and reuses it
   instead of failing (the webhook or the audit may be what failed last time);
2. **presign** the published objects the delivery wants links for (URLs go only to the webhook body,
   never to the return value);
3. **webhook**, signed, with the standard idempotency key (:func:`standard_key`): a retried task
   re-delivers under the same key;
4. **audit** rows, built by the pipeline from the published facts and the webhook's answer (dicts of
   :class:`~genesys_cloud.sinks.audit.AuditRow` fields; the run's identity and window are added here),
   upserted.

Storage is reached only through :class:`~genesys_cloud.sinks.object_store.PartitionPublisher`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from genesys_cloud.sinks.object_store import PartitionPublisher
    from genesys_pipelines.windows import Window

log = logging.getLogger(__name__)


@dataclass
class Published:
    """What the delivery did: the manifest (None without a partition), object keys and links by name,
    and the webhook's answer (None when none was sent)."""

    manifest: dict[str, Any] | None = None
    keys: dict[str, str] = field(default_factory=dict)
    urls: dict[str, str] = field(default_factory=dict, repr=False)
    webhook: dict[str, Any] | None = None

    def __repr__(self) -> str:
        from genesys_cloud.sinks.links import withhold_links

        # Links never reach a log line, whether in ``urls`` or carried by the manifest's extra facts.
        return (f"Published(manifest={withhold_links(self.manifest)!r}, keys={self.keys!r}, "
                f"urls=<{len(self.urls)} withheld>, webhook={withhold_links(self.webhook)!r})")

    @property
    def manifest_key(self) -> str | None:
        return (self.manifest or {}).get("manifest_key")

    @property
    def partition(self) -> str | None:
        return (self.manifest or {}).get("partition")

    def to_xcom(self) -> dict[str, Any]:
        """The small, link-free facts for XCom: manifest key, object keys, the manifest's extra facts and
        the webhook's answer (presigned URLs never go to XCom or logs: they grant access for days; any that a
        pipeline put into the manifest's extra facts are withheld here)."""
        from genesys_cloud.sinks.links import withhold_links

        return withhold_links({"manifest_key": self.manifest_key, "partition": self.partition, "keys": dict(self.keys),
                "extra": (self.manifest or {}).get("extra"), "webhook": self.webhook})


@dataclass
class Delivery:
    """One pipeline's delivery.

    :param event: the webhook event name, part of its idempotency key.
    :param audit: builds the audit rows (dicts of ``AuditRow`` fields: event, entity_type, entity_id,
        status, latency_ms, record_count, details) from what was published.
    :param objects: objects to stage now, ``name -> (bytes, content type, rows or None)``.
    :param staged: names of objects earlier tasks of the run staged (charts, session tables...).
    :param manifest_extra: deterministic facts written into the manifest.
    :param payload: builds the webhook body from what was published; None sends no webhook.
    :param presign: which published object names get a presigned URL (default: all).
    :param url_expiry_hours: lifetime of those URLs.
    :param partition: whether there is a partition to publish (False: webhook and audit only).
    """

    event: str
    audit: Callable[[Published], list[dict[str, Any]]]
    objects: dict[str, tuple[bytes, str, int | None]] = field(default_factory=dict)
    staged: list[str] = field(default_factory=list)
    manifest_extra: dict[str, Any] = field(default_factory=dict)
    payload: Callable[[Published], dict[str, Any]] | None = None
    presign: Callable[[str], bool] = lambda name: True
    url_expiry_hours: float = 24
    partition: bool = True
    #: ``{"source": …, "run_conf": …}`` (``genesys_pipelines.restatement.source``): the manifest then carries a
    #: restatement block (fingerprints, version, ``restated_from``) and a changed partition is delivered as a
    #: ``restated`` event (see :func:`restate`).
    restatement: dict[str, Any] | None = None

    @property
    def names(self) -> list[str]:
        """Exactly the objects this delivery publishes (anything else staged by an earlier try is not)."""
        return [*self.objects, *self.staged]


#: The params that select *which* entities a run covers (views, queues, campaigns...): a run whose values
#: differ from the DAG's defaults is narrower (or other) than the pipeline's day.
SELECTION_PARAMS = ("campaign_ids", "status_filter", "division_ids", "queue_ids", "media_type", "filters",
                    "exports")
#: A run-conf flag (not a form field): a non-default selection replaces the day's partition.
REPLACE_PARTITION = "replace_partition"


def _normalised(value: Any) -> str | None:
    import json

    if value in (None, "", [], (), {}):
        return None  # "empty" means "all" for every selection param
    return json.dumps(value, sort_keys=True, default=str)


def _dag_default(context: Mapping[str, Any], name: str) -> Any:
    params = getattr(context.get("dag"), "params", None) or {}
    try:
        value = params[name]
    except (KeyError, TypeError):
        return None
    return getattr(value, "value", value)


def run_selection(context: Mapping[str, Any]) -> dict[str, Any]:
    """The run's selection params whose values differ from the DAG's defaults (empty for a default run)."""
    params = context.get("params") or {}
    return {name: params[name] for name in SELECTION_PARAMS
            if name in params and _normalised(params[name]) != _normalised(_dag_default(context, name))}


def selection_digest(context: Mapping[str, Any]) -> str | None:
    """12 hex of sha256 over the run's non-default selection; None for a default run."""
    import hashlib
    import json

    selection = run_selection(context)
    if not selection:
        return None
    canonical = json.dumps({k: _normalised(v) for k, v in sorted(selection.items())}, sort_keys=True)
    return hashlib.sha256(canonical.encode()).hexdigest()[:12]


def replaces_partition(context: Mapping[str, Any]) -> bool:
    """True when the run asks (conf ``replace_partition``) to replace the day's partition anyway."""
    dag_run = context.get("dag_run")
    conf = getattr(dag_run, "conf", None) or {}
    flag = conf.get(REPLACE_PARTITION, (context.get("params") or {}).get(REPLACE_PARTITION, False))
    return flag is True or str(flag).strip().lower() in ("1", "true", "yes", "on")


def standard_key(context: Mapping[str, Any], window_start: datetime | str, window_end: datetime | str,
                 event: str) -> str:
    """The idempotency key of a delivery: (dag, window, task, map index, event, and the selection digest
    of a non-default run); never the payload."""
    from genesys_cloud.context import run_identity
    from genesys_cloud.sinks.webhook import idempotency_key

    identity = run_identity(context)
    return idempotency_key(identity["dag_id"] or "", window_start, window_end, identity["task_id"] or "",
                           identity["map_index"], event, selection=selection_digest(context))


def publish_or_reuse(publisher: PartitionPublisher, names: list[str] | None,
                     extra: dict[str, Any]) -> dict[str, Any]:
    """Publish exactly ``names``; a retry after a successful publish (staging already cleared) reuses the
    partition's manifest when it carries the same facts, instead of failing on an empty staging area."""
    if not publisher.staged():
        manifest = publisher.read_manifest()
        if manifest is not None and manifest.get("extra") == extra:
            return {**manifest, "bucket": publisher.bucket, "manifest_key": publisher.manifest_key}
    return publisher.publish(extra_manifest=extra, names=names)


def publisher_for(context: Mapping[str, Any], window: Window) -> PartitionPublisher:
    """The run's publisher of the window's partition (keyed by the window's local day or interval).

    A run whose selection differs from the DAG's defaults (one view, one queue, a subset of campaigns)
    publishes to ``{partition}selection=<digest>/`` so it never replaces (and deletes) the day's full
    output; with conf ``replace_partition: true`` it replaces the day's partition deliberately."""
    from genesys_cloud.context import run_identity
    from genesys_cloud.sinks.object_store import PartitionPublisher

    identity = run_identity(context)
    digest = selection_digest(context)
    if digest is not None and replaces_partition(context):
        log.warning("Selection %s differs from the defaults; replacing the day's partition as asked (%s)",
                    sorted(run_selection(context)), REPLACE_PARTITION)
        digest = None
    return PartitionPublisher(identity["dag_id"] or "", window.local_start(), window.local_end(),
                              str(identity["run_id"]), selection=digest)


@contextmanager
def _object_store_errors(publisher: PartitionPublisher) -> Iterator[None]:
    """S3 unreachable or refusing: one clear ObjectStoreError naming the bucket and partition (nothing was
    published: the manifest is written last, and a retry of the task publishes the same objects)."""
    from botocore.exceptions import BotoCoreError, ClientError

    from genesys_cloud.exceptions import ObjectStoreError

    try:
        yield
    except (BotoCoreError, ClientError) as exc:
        raise ObjectStoreError(f"object store unavailable or refusing while publishing s3://{publisher.bucket}/"
                               f"{publisher.partition} ({type(exc).__name__}: {exc}); nothing was published, "
                               "a retry of the task publishes it") from exc


def deliver(
    context: Mapping[str, Any],
    delivery: Delivery,
    *,
    window: Window | None = None,
    bounds: tuple[datetime | str, datetime | str] | None = None,
) -> Published:
    """Run the four steps (see the module doc) for the run's ``window`` (its partition and the webhook
    key's bounds; ``bounds`` overrides the latter, e.g. a provisioning run's ``run_after`` twice)."""
    from genesys_cloud.sinks.audit import record_entries
    from genesys_cloud.sinks.webhook import WebhookSink

    if bounds is None:
        if window is None:
            raise ValueError("deliver() needs the run's window or explicit bounds")
        bounds = (window.start, window.end)
    published = Published()
    if delivery.partition:
        if window is None:
            raise ValueError("a delivery with a partition needs the run's window")
        publisher = publisher_for(context, window)
        with _object_store_errors(publisher):
            for name, (data, content_type, rows) in delivery.objects.items():
                publisher.stage_bytes(name, data, content_type, rows=rows)
            extra = dict(delivery.manifest_extra)
            if delivery.restatement is not None:
                extra = restate(publisher, delivery, extra)
            published.manifest = publish_or_reuse(publisher, delivery.names, extra)
            published.keys = {o["name"]: o["key"] for o in published.manifest["objects"]}
            published.urls = {name: publisher.presign(key, delivery.url_expiry_hours)
                              for name, key in sorted(published.keys.items()) if delivery.presign(name)}
    restated = restated_block(published)
    if delivery.payload is not None:
        body, key = delivery.payload(published), standard_key(context, *bounds, delivery.event)
        if restated is not None:
            body, key = restated_event(body, restated), standard_key(
                context, *bounds, f"{RESTATED}:{restated['content_digest']}")
        answer = WebhookSink().deliver(body, key)
        published.webhook = {"status_code": answer.get("status_code"), "attempts": answer.get("attempts")}
    entries = delivery.audit(published)
    if restated is not None:
        entries = [*entries, restated_audit(published, restated)]
    record_entries(context, bounds[0], bounds[1], entries)
    return published


# -- late-arriving data: restated partitions ---------------------------------------------------------------
RESTATED = "restated"


def restate(publisher: PartitionPublisher, delivery: Delivery, extra: dict[str, Any]) -> dict[str, Any]:
    """``extra`` with the partition's restatement block: compares the content about to be published (the
    staged objects; on a retry after publishing, the published ones) with the current manifest
    (:func:`genesys_pipelines.restatement.versions.next_block`)."""
    from genesys_pipelines.restatement.versions import BLOCK, content_digest, next_block

    previous = publisher.read_manifest()
    wanted = set(delivery.names)
    staged = [{"name": o.name, "sha256": o.sha256} for o in publisher.staged() if o.name in wanted]
    objects = staged or ((previous or {}).get("objects") or [])
    digest = content_digest(objects, extra)
    spec = delivery.restatement or {}
    block, _outcome = next_block(previous, digest, spec["source"], spec.get("run_conf") or {})
    return {**extra, BLOCK: block}


def restated_block(published: Published) -> dict[str, Any] | None:
    """The published restatement block when the partition is a restatement (version 2 or more)."""
    from genesys_pipelines.restatement.versions import BLOCK

    block = ((published.manifest or {}).get("extra") or {}).get(BLOCK)
    return block if block and int(block.get("version") or 1) > 1 else None


def restated_event(body: dict[str, Any], block: dict[str, Any]) -> dict[str, Any]:
    """The webhook body of a restated partition: the pipeline's body, ``event: restated`` and the versions.
    Its idempotency key adds the content digest, so a receiver that deduplicated the first delivery of the
    window does receive the restatement (and a retry or re-run of it stays one delivery)."""
    return {**body, "event": RESTATED,
            "restatement": {k: block.get(k) for k in ("version", "content_digest", "restated_from", "reason")}}


def restated_audit(published: Published, block: dict[str, Any]) -> dict[str, Any]:
    """The audit row saying why the partition was restated (one per version: a re-run updates it)."""
    return {"event": RESTATED, "entity_type": "partition", "entity_id": f"{published.partition}#v{block['version']}",
            "status": RESTATED, "latency_ms": None, "record_count": None,
            "details": {k: block.get(k) for k in ("version", "content_digest", "restated_from", "reason")}}


def deliver_partitions(context: Mapping[str, Any], parts: list[tuple[Window, Mapping[str, Any]]], *, asset: Any,
                       alias: Any, event_extra: Callable[[dict[str, Any], dict[str, Any]], dict[str, Any]]) -> list[dict[str, Any]]:
    """:func:`deliver` each ``(window, Delivery fields)`` in order (a range run's day partitions, or one
    window), then ONE asset event per partition, as each day's own run emits it (``event_extra(window dict,
    published)``): the last on ``asset`` itself, the others through ``alias`` (a task emits a single event
    per outlet asset; an alias emits one per ``add``), so consumers see one window per event. The published
    XComs, in order."""
    done = [(window.to_dict(), deliver(context, Delivery(**dict(what)), window=window).to_xcom())
            for window, what in parts]
    *earlier, (last_window, last) = done
    context["outlet_events"][asset].extra = event_extra(last_window, last)
    for window_dict, published in earlier:
        context["outlet_events"][alias].add(asset, extra=event_extra(window_dict, published))
    return [published for _, published in done]
