"""The upstream windows an asset-triggered run was started for, and the ones it leaves unprocessed.

The scheduler folds every asset event queued since the last run into ONE downstream run: after a 3-day
backfill of campaign statistics, the pacing forecast runs once, with three events. A run processes one
window (the newest, see :func:`genesys_cloud.context.window_from_context`); the others must not vanish
behind a warning in a green run, so :func:`fail_on_unprocessed_windows` fails the run, after its own
window was delivered, naming each window left out and how to cover it. Only a stale pacing run (it wrote
nothing and would not) records instead the left-out windows that are stale on their own (a run of theirs
would write nothing either) in its summary and audit, and stays green for them.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from genesys_pipelines.windows import Window, window_from_asset_extra

log = logging.getLogger(__name__)


def _event_extras(context: Mapping[str, Any]) -> Iterator[Any]:
    """The ``extra`` of every triggering asset event of the run (objects or mappings); none for a run that
    was not asset-triggered."""
    events_by_asset = context.get("triggering_asset_events")
    try:
        groups = list(events_by_asset.values()) if events_by_asset else []
    except AttributeError:
        return
    for events in groups:
        for event in events or []:
            extra = getattr(event, "extra", None)
            if extra is None and isinstance(event, Mapping):
                extra = event.get("extra")
            yield extra


def asset_windows(context: Mapping[str, Any]) -> list[Window]:
    """The distinct windows of the run's triggering asset events (``extra.window``), oldest first."""
    windows: list[Window] = []
    for extra in _event_extras(context):
        window = window_from_asset_extra(extra)
        if window is not None and window not in windows:
            windows.append(window)
    return sorted(windows, key=lambda w: (w.end, w.start))


def unprocessed_windows(context: Mapping[str, Any]) -> list[Window]:
    """The triggering windows this run does not process: all but the newest, unless the run was given an
    explicit window (``start``/``end`` params), which the asset events then do not decide."""
    params = context.get("params") or {}
    if params.get("start") or params.get("end"):
        return []
    return asset_windows(context)[:-1]


def fail_on_unprocessed_windows(context: Mapping[str, Any], dag_id: str, windows: Sequence[Window] | None = None,
                                skipped: Sequence[Mapping[str, Any]] = ()) -> None:
    """Fail the task (``AirflowFailException``) naming the upstream windows folded into this run and not
    processed by it, with the command that covers each; nothing when there are none. ``windows``: the ones
    to fail on (default: every :func:`unprocessed_windows`); ``skipped``: left-out windows the caller
    recorded instead (a stale pacing run: ``genesys_pipelines.pacing_forecast.steps.left_out_windows``),
    logged here."""
    if skipped:
        log.warning("%d upstream window(s) folded into this run were left out and recorded, not failed on "
                    "(a run of their own would write nothing either): %s", len(skipped),
                    "; ".join(f"{w.get('window')}: {w.get('stale')}" for w in skipped))
    left = unprocessed_windows(context) if windows is None else list(windows)
    if not left:
        return
    from airflow.sdk.exceptions import AirflowFailException

    names = ", ".join(w.partition() for w in left)
    runs = "; ".join(f"bin/airflow dags trigger {dag_id} --conf '{{\"start\": \"{w.local_start().date()}\", "
                     f"\"end\": \"{w.local_end().date()}\", \"timezone\": \"{w.tz}\"}}'" for w in left)
    raise AirflowFailException(
        f"{len(left)} upstream window(s) folded into this asset-triggered run were NOT processed: {names} "
        f"(this run processed only the newest). Cover each with a manual run: {runs}")


def _restatement(extras: Any, window: Window) -> dict[str, Any] | None:
    """The newest restatement facts among asset event ``extras`` for ``window`` (same start and end)."""
    found: dict[str, Any] | None = None
    for extra in extras:
        event_window = window_from_asset_extra(extra)
        if event_window is None or (event_window.start, event_window.end) != (window.start, window.end):
            continue
        block = (extra if isinstance(extra, Mapping) else {}).get("restatement") or {}
        try:
            version = int(block.get("version") or 1)
        except (AttributeError, TypeError, ValueError):  # malformed restatement facts: fail closed (stale)
            block, version = {"restated_from": "unreadable"}, 2
        if (version > 1 or block.get("restated_from")) and version >= int((found or {}).get("version") or 0):
            found = {"version": version, "restated_from": block.get("restated_from")}
    return found


def window_restatement(context: Mapping[str, Any], window: Window) -> dict[str, Any] | None:
    """The restatement facts (``extra.restatement``: ``version``, ``restated_from``) of the triggering asset
    events for ``window`` (same start and end), when one of them is a restatement (version 2 or more, or a
    ``restated_from``); None for a run with no such event (a first publication, a manual run). A restated
    upstream day re-emits its asset event: consumers that act on a new day (the pacing forecast) must
    treat it as stale."""
    return _restatement(_event_extras(context), window)


def restated_during_run(context: Mapping[str, Any], asset: Any, window: Window) -> str | None:
    """Why a write must not happen now: ``asset`` published a restatement of ``window`` after this run
    started, so what the run read (and a person may have approved, hours ago) may be superseded. Checked at
    the moment of the write, from the task's inlet events (the task declares ``inlets=[asset]``); an
    unreadable event list fails closed. None when there is no such event."""
    started = getattr(context.get("dag_run"), "start_date", None)
    try:
        events = context["inlet_events"][asset]
        if started is not None:
            events = events.after(started)
        extras = [getattr(e, "extra", None) for e in events]
    except Exception as exc:  # noqa: BLE001 - whatever stops the read, the write must not go ahead blind
        return f"the upstream events could not be read ({type(exc).__name__}): not written"
    found = _restatement(extras, window)
    if found is None:
        return None
    return (f"upstream window {window.partition()} was restated (version {found['version']}) after this run "
            "started: its inputs may be superseded, not written")
