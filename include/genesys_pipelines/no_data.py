"""Runs whose window holds no data at all: one flag, one warning, one opt-in failure, for every pipeline.

A run over a window with no data (zero conversations, every campaign ``NO_ACTIVITY``, exports without a
row) is not an error: a quiet night, or a window after the org's "now", is legitimate. But it must never
look like an ordinary green run: the pipeline marks it ``NO_DATA`` in the manifest, the audit row and
the webhook body, logs a WARNING naming the window, and fails after delivering when the run asked for it
(param ``fail_on_no_data``).
"""

from __future__ import annotations

from collections.abc import Sequence

from genesys_pipelines.windows import Window

NO_DATA = "NO_DATA"

#: Where the embedded sandbox has data (its synthetic org has conversations only before its clock).
SANDBOX_HINT = (
    "On the embedded Genesys sandbox, data exists only before the sandbox's clock: under `make airflow` the "
    "sandbox runs on the real clock (yesterday and earlier have data, today only up to now); `make demo` and "
    "the tests fix it at 2026-06-11T06:00Z (2026-06-10 and earlier). `GET /_sandbox/health` shows its clock "
    "(`now`)."
)


def run_flags(no_data: bool) -> list[str]:
    """The run-level flags of a delivery: ``["NO_DATA"]`` or ``[]``."""
    return [NO_DATA] if no_data else []


def window_text(window: Window) -> str:
    return f"{window.start.isoformat()} to {window.end.isoformat()} ({window.tz})"


def warning(pipeline: str, window: Window, what: str) -> str:
    """The WARNING a run without data logs: what was empty, the window, and where the sandbox has data."""
    return f"{pipeline}: {NO_DATA}: {what} in the window {window_text(window)}. {SANDBOX_HINT}"


def failure(pipeline: str, window: Window, what: str) -> str:
    """Why a ``fail_on_no_data`` run fails (after the empty partition was published and audited)."""
    return (f"fail_on_no_data: {pipeline} found no data in the window {window_text(window)} ({what}); "
            f"the partition, webhook and audit row say {NO_DATA}")


def has_no_data(flags: Sequence[str] | None) -> bool:
    return NO_DATA in (flags or ())
