"""Multi-day runs that publish day partitions: one extraction for a range of reporting days, cut into the
partitions the day-by-day runs publish (byte for byte).

A manual run (or a backfill) over a range with ``publish_days`` extracts the range ONCE, with whichever
of the two extraction methods costs fewer API requests (:func:`extraction_cost`, from the per-day
``totalHits`` the plan reads anyway), then splits the extraction's sorted chunks by reporting day
(:func:`split_chunks`) and builds each day's session table, report and manifest with exactly the code a
day run uses. Both extraction methods cut rows to the exact interval by ``conversationStart``, which is
also what decides a conversation's reporting day, so a day's rows are the same whichever run read them.
Which days a range run publishes is shared with the other pipelines: ``genesys_pipelines.day_ranges``.

Pure of Airflow.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from genesys_pipelines.windows import Window

#: Page sizes of the two extraction methods (the provider operator's SYNC_PAGE_SIZE / JOB_PAGE_SIZE).
SYNC_PAGE_SIZE = 100
JOB_PAGE_SIZE = 1000
#: Requests of an async job besides its result pages: availability read, submit, status polls (estimate).
JOB_FIXED_REQUESTS = 1 + 1 + 4


def extraction_cost(day_hits: Mapping[str, int], ceiling: int = 100_000, mode: str = "auto",
                    job_available: bool = True) -> dict[str, Any]:
    """The requests each way of extracting the range would cost, and the method chosen.

    ``sync_requests``: the sync details query's pages, per UTC day (what the day-by-day runs send too);
    ``job_requests``: one async details job over the range (availability read, submit, polls, cursor pages
    of ``JOB_PAGE_SIZE``). ``auto`` takes the job when it is cheaper and the data lake already holds the
    range (``job_available``), or when a day is over the sync ceiling; ``sync``/``async`` are honoured."""
    total = sum(day_hits.values())
    sync = sum(max(1, math.ceil(h / SYNC_PAGE_SIZE)) for h in day_hits.values())
    job = JOB_FIXED_REQUESTS + max(1, math.ceil(total / JOB_PAGE_SIZE))
    if mode in ("sync", "async"):
        chosen, reason = mode, f"mode={mode} (param)"
    elif any(h >= ceiling for h in day_hits.values()):
        chosen, reason = "async", f"a day is over the sync ceiling of {ceiling:,} results"
    elif job < sync and job_available:
        chosen, reason = "async", f"the async job costs {job} requests, the sync query {sync}"
    elif job < sync:
        chosen, reason = "sync", "the async job would be cheaper, but the data lake does not hold the range yet"
    else:
        chosen, reason = "sync", f"the sync query costs {sync} requests, the async job {job}"
    return {"days": len(day_hits), "conversations": total, "sync_requests": sync, "job_requests": job,
            "mode": chosen, "reason": reason}


def day_source(source: Mapping[str, Any], day: Window) -> dict[str, Any]:
    """A day's restatement source facts cut from the range's (the same probes, one per UTC day it
    touches, each over the whole UTC day; finality from the day's own end): what the day's own run
    records, and what the sweep re-probes."""
    from genesys_pipelines.restatement.source import facts, probe_days

    keys = probe_days(day)
    return facts(source["kind"], {k: source["days"][k] for k in keys}, source["probe"], day,
                 source.get("data_availability_date"), source.get("settle_hours"))


def day_plans(planned: Mapping[str, Any], days: Sequence[Window]) -> list[dict[str, Any]]:
    """Per reporting day, the plan facts its partition records (mode, its UTC days' hits, its source)."""
    from genesys_pipelines.restatement.source import probe_days

    out = []
    for day in days:
        keys = probe_days(day)
        out.append({"mode": planned["mode"], "range": planned.get("range"),
                    "names_missing": planned.get("names_missing") or {},
                    "day_hits": {k: planned["day_hits"][k] for k in keys if k in planned["day_hits"]},
                    "source": day_source(planned["source"], day) if planned.get("source") else None})
    return out


def split_chunks(paths: Sequence[Path], days: Sequence[Window], out_dir: Path) -> list[list[Path]]:
    """The extraction's sorted chunks cut by reporting day: per day, its rows of each chunk (chunk order
    kept, so the merge's "earliest copy wins" is unchanged), each as a chunk file of its own. Each chunk is
    read once; rows outside every day (none after the interval cut) are dropped."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.parquet as pq

    from genesys_pipelines.conversation_report.chunks import write_chunk

    bounds = np.array([int(d.start.timestamp() * 1000) for d in days] + [int(days[-1].end.timestamp() * 1000)],
                      dtype=np.int64)
    out: list[list[Path]] = [[] for _ in days]
    for i, path in enumerate(paths):
        table = pq.read_table(path)
        if not table.num_rows:
            continue
        starts = table.column("conversation_start").cast(pa.int64()).to_numpy()
        slot = np.searchsorted(bounds, starts, side="right") - 1  # day index; -1 / len(days): outside
        for k in np.unique(slot):
            if not 0 <= k < len(days):
                continue
            rows = np.flatnonzero(slot == k)
            target = out_dir / f"day{int(k):04d}" / f"chunk-{i:06d}.parquet"
            target.parent.mkdir(parents=True, exist_ok=True)
            write_chunk(table.take(pa.array(rows)), str(target), row_group_size=1024)
            out[int(k)].append(target)
    return out
