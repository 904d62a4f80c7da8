"""Load the desired-schedules file that the scheduled reconcile applies.

Format (YAML)::

    defaults:            # optional; merged under every campaign entry
      time_zone: Europe/Dublin
    campaigns:
      - campaign_id: <id>
        prune: false     # true: windows not listed are removed; an entry with nothing listed deletes
        delivery_window: {start_time: "09:00", end_time: "17:00", time_zone: Europe/Dublin,
                          start_date: 2026-07-01, end_date: 2026-07-31, days_of_week: [Monday, Friday]}
        intervals: [{start: "2026-07-04T10:00:00Z", end: "2026-07-04T14:00:00Z"}]
        recurrences: [...]   # the API's Reoccurrence shape (camelCase)

Only campaigns listed are ever touched. Entries are returned raw and validated by
:func:`~genesys_pipelines.schedule_provisioning.requests.parse_requests` against the run's run_after.
"""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path
from typing import Any

import yaml

__all__ = ["DEFAULT_DESIRED_PATH", "DesiredFileError", "load_desired", "parse_desired"]

DEFAULT_DESIRED_PATH = Path(__file__).with_name("desired_schedules.yaml")


class DesiredFileError(ValueError):
    """The desired-schedules file is missing or malformed; the message names the file and the entry."""


def _jsonable(value: Any) -> Any:
    # YAML turns unquoted dates/times into date/datetime objects; the request models parse strings,
    # and the raw entries travel through XCom, so keep everything as JSON scalars.
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_jsonable(v) for v in value]
    return value


def parse_desired(text: str, source: str = "<desired schedules>") -> list[dict[str, Any]]:
    try:
        doc = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        # Only the position: the parser's message quotes the file's content, which must never reach an error.
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
        raise DesiredFileError(f"{source}: not valid YAML{where}") from None
    if not isinstance(doc, dict) or not isinstance(doc.get("campaigns"), list):
        raise DesiredFileError(f"{source}: expected a mapping with a 'campaigns' list")
    defaults = doc.get("defaults") or {}
    if not isinstance(defaults, dict):
        raise DesiredFileError(f"{source}: 'defaults' must be a mapping")
    entries = []
    for index, entry in enumerate(doc["campaigns"]):
        if not isinstance(entry, dict):
            raise DesiredFileError(f"{source}: campaigns[{index}] must be a mapping")
        entries.append(_jsonable({**defaults, **entry}))
    return entries


def load_desired(path: str | Path | None = None) -> list[dict[str, Any]]:
    target = Path(path) if path else DEFAULT_DESIRED_PATH
    try:
        text = target.read_text(encoding="utf-8")
    except OSError as exc:
        raise DesiredFileError(f"desired schedules file {target}: {exc.strerror or exc}") from exc
    return parse_desired(text, str(target))
