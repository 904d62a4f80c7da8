"""The restatement sweep's decisions: which partitions to probe, whether they changed, what to re-run.

The sweep reads the manifests of the last N reporting days, skips the final ones, probes each remaining
day once (the probe stored in the manifest), and re-runs exactly the changed windows with the stored
``run_conf`` under a deterministic run id (the same sweep decision always names the same run).

A day can have several published partitions: the day's own (``date=D/``) and the ``selection=<digest>/``
sub-partitions of narrower runs under it. The sweep handles the day as one unit (:func:`by_day`: one probe
task, each distinct probe request sent once, one line in the report) and checks, and restates, each of its
partitions on its own.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date, datetime, timedelta
from typing import Any

from genesys_pipelines.restatement.finality import is_final, restate_days, settle_hours
from genesys_pipelines.restatement.versions import BLOCK, describe_changes
from genesys_pipelines.windows import Window


def sweep_days(today: date, days: int) -> list[date]:
    """The ``days`` reporting days before ``today``, oldest first."""
    return [today - timedelta(days=n) for n in range(days, 0, -1)]


#: The longest reset (``reset_from``): a year of reporting days.
MAX_RESET_DAYS = 366


def days_of(window: Mapping[str, Any], days: int = 0, reset_from: str | date | None = None) -> list[date]:
    """The reporting days a sweep run covers: with ``reset_from`` (a watermark reset), every day from it to
    the run's last reporting day; else its explicit window's days (a forced re-sweep of given days), else
    the ``days`` (0: ``GENESYS_RESTATE_DAYS``) reporting days before the run's date."""
    run_window = Window.from_dict(window)
    if reset_from:
        first, last = date.fromisoformat(str(reset_from)), run_window.local_end().date() - timedelta(days=1)
        count = (last - first).days + 1
        if count < 1 or count > MAX_RESET_DAYS:
            from genesys_pipelines.errors import InvalidParam

            raise InvalidParam("reset_from", f"must be a reporting day at most {MAX_RESET_DAYS} days before "
                                             f"{last.isoformat()} and not after it, got {first.isoformat()}")
        return [first + timedelta(days=n) for n in range(count)]
    if run_window.source == "params":
        return [piece.local_start().date() for piece in run_window.days()]
    return sweep_days(run_window.local_end().date(), days or restate_days())


def candidates(manifests: Iterable[tuple[str, date, Mapping[str, Any] | None]],
               available: datetime | None, settle: float | None = None, *,
               reset: bool = False) -> list[dict[str, Any]]:
    """The partitions to probe: those with restatement facts that are final neither in their manifest
    nor now (the data lake's ``available`` is ``settle`` hours past their end). ``reset`` (a watermark
    reset, ``reset_from``): final ones too."""
    settle = settle_hours() if settle is None else settle
    out = []
    for pipeline, day, manifest in manifests:
        found = candidate(pipeline, day, manifest, reset=reset)
        if found is None:
            continue
        if not reset and is_final(datetime.fromisoformat(found["window"]["end"]), available, settle):
            continue
        out.append(found)
    return out


def by_day(found: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """The candidates grouped per ``(pipeline, day)``, in that order: ``{"pipeline", "day", "partitions"}``
    with the day's partitions (its own first, then narrower runs' sub-partitions, by path)."""
    days: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for one in found:
        days.setdefault((one["pipeline"], one["day"]), []).append(dict(one))
    return [{"pipeline": pipeline, "day": day, "partitions": sorted(parts, key=lambda f: str(f.get("partition")))}
            for (pipeline, day), parts in sorted(days.items())]


def candidate(pipeline: str, day: date, manifest: Mapping[str, Any] | None, *,
              reset: bool = False) -> dict[str, Any] | None:
    """What to probe for a day's partition, or None: no partition, no restatement facts, or final (unless
    ``reset``)."""
    if manifest is None:
        return None
    block = (manifest.get("extra") or {}).get(BLOCK)
    if not block or not block.get("source") or (block["source"].get("final") and not reset):
        return None
    return {"pipeline": pipeline, "day": day.isoformat(), "window": manifest.get("window"),
            "partition": manifest.get("partition"), "version": block.get("version"),
            "content_digest": block.get("content_digest"), "source": block["source"],
            "run_conf": block.get("run_conf") or {}}


def changed(recorded: Mapping[str, Any], probed: Mapping[str, Any]) -> list[str]:
    """What differs between the recorded and the probed ``{day: fingerprint}`` (empty: unchanged)."""
    return describe_changes(recorded, probed)


def outcome(found: Mapping[str, Any], probed: Mapping[str, Any]) -> dict[str, Any]:
    """The probe's verdict for one candidate: its changes (empty: unchanged) and what to re-run with."""
    return {**dict(found), "probed": dict(probed), "changes": changed(found["source"]["days"], probed)}


def day_outcome(day: Mapping[str, Any], probed: list[Mapping[str, Any]]) -> dict[str, Any]:
    """The probes' verdict for one :func:`by_day` entry: each of its partitions' :func:`outcome`."""
    return {"pipeline": day["pipeline"], "day": day["day"],
            "partitions": [outcome(found, fingerprints)
                           for found, fingerprints in zip(day["partitions"], probed, strict=True)]}


def partition_outcomes(outcomes: Iterable[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    """The per-partition outcomes of per-day (:func:`day_outcome`) or per-partition (:func:`outcome`) ones."""
    return [part for o in outcomes for part in (o["partitions"] if "partitions" in o else [o])]


def triggers(outcomes: Iterable[Mapping[str, Any]], *, dry_run: bool = False) -> list[dict[str, Any]]:
    """``TriggerDagRunOperator`` kwargs for exactly the changed partitions, one each, in (pipeline, day,
    partition) order (``outcomes``: per day or per partition)."""
    if dry_run:
        return []
    changed_ones = sorted((o for o in partition_outcomes(outcomes) if o["changes"]),
                          key=lambda o: (o["pipeline"], o["day"], str(o.get("partition"))))
    return [trigger(o, list(o["changes"])) for o in changed_ones]


def sub_partition(found: Mapping[str, Any]) -> str | None:
    """The path of a narrower run's partition below its day's (``selection=<digest>``), None for the day's
    own partition."""
    below = str(found.get("partition") or "").partition(f"date={found['day']}/")[2].strip("/")
    return below or None


def run_id(pipeline: str, day: str, content_digest: str | None, sub: str | None = None) -> str:
    """The triggered run's id: one per (pipeline, day, partition, content restated from); a sweep retry
    reuses it. A sub-partition's path is part of it (``selection-<digest>``): two partitions of a day with
    the same content must not name (and so reset) the same run."""
    below = f"{sub.replace('/', '__').replace('=', '-')}__" if sub else ""
    return f"restate__{pipeline}__{day}__{below}{(content_digest or 'none')[:16]}"


def trigger(found: Mapping[str, Any], changes: list[str]) -> dict[str, Any]:
    """``TriggerDagRunOperator`` kwargs that rebuild the partition with the params it was built with."""
    return {"trigger_dag_id": found["pipeline"],
            "trigger_run_id": run_id(found["pipeline"], found["day"], found.get("content_digest"),
                                     sub_partition(found)),
            "conf": dict(found["run_conf"]),
            "note": f"restatement sweep: {'; '.join(changes)}"}


def audit_entry(outcomes: Iterable[Mapping[str, Any]], reruns: list[Mapping[str, Any]], *,
                dry_run: bool = False) -> dict[str, Any]:
    """The sweep's own audit row: which days it probed (each once), which changed, which partitions it
    checked per day and which re-runs it asked for (one row per sweep run; the restated partitions add
    their own ``restated`` rows when they publish). ``record_count``: the partitions checked."""
    parts = sorted(partition_outcomes(outcomes), key=lambda o: (o["pipeline"], o["day"], str(o.get("partition"))))
    per_day: dict[str, list[str]] = {}
    changed_days: list[str] = []
    for part in parts:
        label = f"{part['pipeline']}:{part['day']}"
        below = sub_partition(part)
        per_day.setdefault(label, []).append(f"date={part['day']}/" + (f"{below}/" if below else ""))
        if part["changes"] and label not in changed_days:
            changed_days.append(label)
    return {"event": "restatement_sweep", "entity_type": "sweep", "entity_id": "sweep",
            "status": "dry_run" if dry_run else ("restating" if reruns else "unchanged"),
            "latency_ms": None, "record_count": len(parts),
            "details": {"probed": list(per_day), "changed": changed_days, "partitions": per_day,
                        "reruns": [r["trigger_run_id"] for r in reruns]}}
