"""Read the manifests the restatement sweep compares with (object storage only; decisions are pure)."""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import date
from typing import Any

from genesys_cloud.config import settings
from genesys_cloud.sinks.object_store import MANIFEST_NAME, SELECTION_TOKEN, read_manifest, s3_hook

# A day partition's manifest: ``…/date=D/_manifest.json``, or a narrower run's ``…/date=D/selection=X/…``.
_DAY = re.compile(r"(?:^|/)date=(\d{4}-\d{2}-\d{2})/(?:" + re.escape(SELECTION_TOKEN) + r"[^/]+/)?"
                  + re.escape(MANIFEST_NAME) + "$")


def read_partition_manifests(pipelines: Iterable[str], days: Iterable[date], *, bucket: str | None = None,
                             aws_conn_id: str | None = None) -> list[tuple[str, date, dict[str, Any] | None]]:
    """``(pipeline, day, manifest)`` for every published day partition of ``days`` under each pipeline's
    prefix (found by listing: a sub-prefix before ``date=``, and the ``selection=<digest>/`` sub-partition a
    run with a narrower selection publishes under the day). Days without one are left out."""
    hook = s3_hook(aws_conn_id)
    bucket = bucket or settings().bucket
    wanted = {d.isoformat(): d for d in days}
    out: list[tuple[str, date, dict[str, Any] | None]] = []
    for pipeline in pipelines:
        keys = hook.list_keys(bucket_name=bucket, prefix=f"{pipeline.strip('/')}/") or []
        for key in sorted(keys):
            match = _DAY.search(key)
            if match and match.group(1) in wanted and "/_staging/" not in key and "/_work/" not in key:
                out.append((pipeline, wanted[match.group(1)], read_manifest(hook, bucket, key)))
    return out


def data_availability_iso() -> str | None:
    """The data lake's ``dataAvailabilityDate`` as ISO text, recorded in manifests (None when the
    connection's client may not read it: the fact is optional for pipelines other than the report)."""
    from genesys_cloud.hooks.genesys_cloud import GenesysCloudHook
    from genesys_pipelines.restatement.source import availability

    available = availability(GenesysCloudHook())
    return available.isoformat() if available else None
