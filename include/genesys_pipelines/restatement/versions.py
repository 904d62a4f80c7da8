"""A partition's content digest and version, and what a new publish of it is: first, same, or restated.

The ``restatement`` block of a manifest (under ``extra``)::

    {"version": 2, "content_digest": "…", "restated_from": "…" | null, "reason": "…" | null,
     "source": {"kind": "details" | "aggregates", "days": {day: fingerprint}, "probe": {request body},
                "data_availability_date": "…" | null, "final": bool, "settle_hours": 48.0},
     "run_conf": {params that rebuild the partition}}

Rules (:func:`next_block`), comparing the content about to be published with the partition's current
manifest:

* no manifest yet: version 1 (``first``);
* same content and same source fingerprint: the previous block, unchanged, so a re-run writes a
  byte-identical manifest (``unchanged``);
* same content, new fingerprint (e.g. a conversation ended without changing the report): the new
  source facts under the same version, no event (``refreshed``; the sweep will not probe it again);
* different content: version + 1, ``restated_from`` = the previous content digest, and the reason
  (``restated``): the delivery sends a ``restated`` webhook event keyed by the new digest.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from typing import Any, Literal

BLOCK = "restatement"
Outcome = Literal["first", "unchanged", "refreshed", "restated"]


def content_digest(objects: Iterable[Mapping[str, Any]], extra: Mapping[str, Any] | None = None) -> str:
    """sha256 of the partition's content: each object's name and sha256, and the manifest's other facts
    (``extra`` without the restatement block itself)."""
    facts = {k: v for k, v in (extra or {}).items() if k != BLOCK}
    content = {"objects": sorted([str(o["name"]), str(o["sha256"])] for o in objects), "extra": facts}
    return hashlib.sha256(json.dumps(content, sort_keys=True, separators=(",", ":")).encode()).hexdigest()


def manifest_digest(manifest: Mapping[str, Any]) -> str:
    """The content digest of a published manifest."""
    return content_digest(manifest.get("objects") or [], manifest.get("extra") or {})


def describe_changes(before: Mapping[str, Any] | None, after: Mapping[str, Any] | None) -> list[str]:
    """Human-readable differences between two ``{day: fingerprint}`` maps (sorted, one per changed field)."""
    before, after = before or {}, after or {}
    changes: list[str] = []
    for day in sorted(set(before) | set(after)):
        old, new = before.get(day), after.get(day)
        if old == new:
            continue
        if not isinstance(old, Mapping) or not isinstance(new, Mapping):
            changes.append(f"{day}: {old!r} -> {new!r}")
            continue
        for name in sorted(set(old) | set(new)):
            if old.get(name) != new.get(name):
                changes.append(f"{day}: {name} {old.get(name)!r} -> {new.get(name)!r}")
    return changes


def next_block(previous: Mapping[str, Any] | None, digest: str, source: Mapping[str, Any],
               run_conf: Mapping[str, Any]) -> tuple[dict[str, Any], Outcome]:
    """The restatement block to publish with content ``digest`` and the outcome (see the module doc)."""
    fresh = {"version": 1, "content_digest": digest, "restated_from": None, "reason": None,
             "source": dict(source), "run_conf": dict(run_conf)}
    if previous is None:
        return fresh, "first"
    old_block = (previous.get("extra") or {}).get(BLOCK)
    old_digest = manifest_digest(previous)
    old_days = (old_block or {}).get("source", {}).get("days")
    if old_digest == digest:
        if old_block is not None and old_days == source.get("days") and old_block.get("content_digest") == digest:
            return dict(old_block), "unchanged"
        kept = dict(old_block or fresh)
        return {**kept, "content_digest": digest, "source": dict(source), "run_conf": dict(run_conf)}, "refreshed"
    changes = describe_changes(old_days, source.get("days"))
    reason = "; ".join(changes) if changes else "content changed with the same source fingerprint"
    version = int((old_block or {}).get("version") or 1) + 1
    return {**fresh, "version": version, "restated_from": old_digest,
            "reason": f"source changed since version {version - 1}: {reason}"}, "restated"
