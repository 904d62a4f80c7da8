"""Which published manifests the restatement sweep finds (issue 20): the day partitions of its days, including
the ``selection=<digest>/`` sub-partition a run with a narrower selection (e.g. one campaign) publishes under
the day. The native-stack e2e found a sweep over a one-campaign backfill probing nothing: the listing only
matched ``date=D/_manifest.json``."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from genesys_cloud.sinks import sweep

STATS = "genesys_campaign_execution_stats"
KEYS = [
    f"{STATS}/date=2026-06-08/_manifest.json",
    f"{STATS}/date=2026-06-08/rows.parquet",
    f"{STATS}/date=2026-06-09/selection=0123456789ab/_manifest.json",
    f"{STATS}/date=2026-06-09/selection=0123456789ab/rows.parquet",
    f"{STATS}/date=2026-06-10/_staging/run/_manifest.json",
    f"{STATS}/date=2026-06-10/selection=0123456789ab/_staging/run/_manifest.json",
    f"{STATS}/date=2026-06-11/_manifest.json",  # not a swept day
]


class FakeHook:
    def list_keys(self, bucket_name: str, prefix: str) -> list[str]:
        return [k for k in KEYS if k.startswith(prefix)]


def test_the_sweep_finds_a_narrower_runs_selection_partition(monkeypatch: pytest.MonkeyPatch) -> None:
    read: list[str] = []

    def fake_read(hook: Any, bucket: str, key: str) -> dict[str, Any]:
        read.append(key)
        return {"key": key}

    monkeypatch.setattr(sweep, "s3_hook", lambda conn_id: FakeHook())
    monkeypatch.setattr(sweep, "read_manifest", fake_read)
    days = [date(2026, 6, 8), date(2026, 6, 9), date(2026, 6, 10)]
    found = sweep.read_partition_manifests([STATS], days, bucket="b")
    assert [(p, d.isoformat(), m["key"]) for p, d, m in found] == [
        (STATS, "2026-06-08", KEYS[0]),
        (STATS, "2026-06-09", KEYS[2]),
    ]
    assert read == [KEYS[0], KEYS[2]]
