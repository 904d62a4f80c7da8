"""Build and validate the ``POST /api/v2/analytics/reporting/exports`` bodies of a run.

Everything here fails *before* submission and names the field: required fields, ``exportFormat`` CSV
(the transforms read CSV), ``viewType`` from the API's enum and with a configured column mapping, an
IANA ``timeZone``, an ISO-8601 ``period``, the ``interval`` of the run window, ``filter`` keys and
shapes from the SDK's ``ViewFilter``, our own complexity limits, and — when the exports metadata
endpoint was read — the view's ``dateLimitations``, ``requiredFilters``, ``supportedFilters`` and columns.
"""

from __future__ import annotations

import difflib
import hashlib
import json
import re
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import TypeAdapter, ValidationError
from pydantic.alias_generators import to_camel

from genesys_pipelines.models.exports import (
    VIEW_TYPES,
    ReportingExportJobRequest,
    ReportingExportMetadataJobResponse,
    ViewFilter,
)
from genesys_pipelines.reporting_export.config import ReportingExportConfig
from genesys_pipelines.reporting_export.params import ExportSpec
from genesys_pipelines.reporting_export.view_filter_keys import VIEW_FILTER_KEYS

# Weeks, days and a time part only: months and years have no fixed length, so no bound could be checked.
_ISO_PERIOD = re.compile(r"^P(?=\d|T\d)(\d+W)?(\d+D)?(T(?=\d)(\d+H)?(\d+M)?(\d+(\.\d+)?S)?)?$")
_INSTANT = "%Y-%m-%dT%H:%M:%S.%f%z"
_DURATION = TypeAdapter(timedelta)
_RANGE_KEYS = {"gt", "gte", "lt", "lte"}


class RequestValidationError(ValueError):
    """One or more problems with an export request; each names its field."""

    def __init__(self, problems: list[tuple[str, str]]) -> None:
        self.problems = problems
        self.field = problems[0][0] if problems else "request"
        super().__init__("; ".join(f"{f}: {m}" for f, m in problems))


# -- small parsers -------------------------------------------------------------------------------------
def parse_period(value: str) -> timedelta:
    """An ISO-8601 duration (``P1D``, ``PT30M``, ``P1W``) as a timedelta; months/years are rejected."""
    if not isinstance(value, str) or not _ISO_PERIOD.match(value):
        raise ValueError(f"{value!r} is not an ISO-8601 duration of weeks/days/hours/minutes/seconds")
    return _DURATION.validate_python(value)


_ISO_LIMIT = re.compile(r"^P(?=\d|T\d)(?:(\d+)Y)?(?:(\d+)M)?(?:(\d+)W)?(?:(\d+)D)?(?:T(?=\d)(?:(\d+)H)?(?:(\d+)M)?(?:(\d+)S)?)?$")


def parse_limit(value: str) -> timedelta:
    """An ISO-8601 duration used as an upper bound (metadata ``dateLimitations`` such as ``P1Y``/``P31D``).

    Years and months have no fixed length; as a bound they count generously (366 and 31 days), so a
    window the API accepts is never rejected here.
    """
    match = _ISO_LIMIT.match(value or "")
    if not match:
        raise ValueError(f"{value!r} is not an ISO-8601 duration")
    y, mo, w, d, h, mi, s = (int(g) if g else 0 for g in match.groups())
    return timedelta(days=366 * y + 31 * mo + 7 * w + d, hours=h, minutes=mi, seconds=s)


def iso_duration(delta: timedelta) -> str:
    """The shortest ISO-8601 spelling of ``delta`` (``P1D``, ``PT6H``, ``PT90M`` → ``PT1H30M``)."""
    seconds = int(delta.total_seconds())
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    time_part = "".join(f"{v}{u}" for v, u in ((hours, "H"), (minutes, "M"), (secs, "S")) if v)
    return "P" + (f"{days}D" if days else "") + (f"T{time_part}" if time_part else "") if seconds else "PT0S"


def parse_interval(value: str) -> tuple[datetime, datetime]:
    """``start/end`` in the API's ``yyyy-MM-ddTHH:mm:ss.SSSZ`` format (end exclusive)."""
    try:
        start_s, end_s = value.split("/")
        start = datetime.strptime(start_s.replace("Z", "+0000"), _INSTANT)
        end = datetime.strptime(end_s.replace("Z", "+0000"), _INSTANT)
    except (ValueError, AttributeError) as exc:
        raise ValueError(f"{value!r} is not 'yyyy-MM-ddTHH:mm:ss.SSSZ/yyyy-MM-ddTHH:mm:ss.SSSZ'") from exc
    if end <= start:
        raise ValueError(f"interval end must be after its start: {value!r}")
    return start, end


def _is_iana(name: str) -> bool:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, TypeError):
        return False
    # ZoneInfo also accepts file paths such as "posixrules"; a region/city name or UTC is what the API takes.
    return "/" in name or name in {"UTC", "GMT"}


# -- filter ---------------------------------------------------------------------------------------------
def _canonical_filter_key(key: str, known: Mapping[str, str]) -> str | None:
    if key in known:
        return key
    camel = to_camel(key)
    return camel if camel in known else None


def check_filter(raw: Mapping[str, Any], field: str, extra_keys: Iterable[str] = ()) -> tuple[dict[str, Any], list]:
    """The filter with canonical camelCase keys (empty values dropped) and the problems found."""
    known: dict[str, str] = {**VIEW_FILTER_KEYS, **{k: "object" for k in extra_keys if k not in VIEW_FILTER_KEYS}}
    problems: list[tuple[str, str]] = []
    clean: dict[str, Any] = {}
    if not isinstance(raw, Mapping):
        return {}, [(field, f"must be an object of ViewFilter keys, got {type(raw).__name__}")]
    for key, value in raw.items():
        canonical = _canonical_filter_key(str(key), known)
        if canonical is None:
            close = difflib.get_close_matches(str(key), list(known), n=1)
            hint = f" (did you mean {close[0]}?)" if close else ""
            problems.append((f"{field}.{key}", f"not a ViewFilter key{hint}"))
            continue
        if value is None or value == []:
            continue  # the API omits empty fields; so do we, which keeps the export name stable
        shape = known[canonical]
        where = f"{field}.{canonical}"
        if shape == "str_list" and not (isinstance(value, list) and all(isinstance(v, str) and v for v in value)):
            problems.append((where, "must be a list of non-empty strings"))
        elif shape == "bool" and not isinstance(value, bool):
            problems.append((where, "must be true or false"))
        elif shape == "str" and not isinstance(value, str):
            problems.append((where, "must be a string"))
        elif shape in ("range", "range_list"):
            items = value if shape == "range_list" and isinstance(value, list) else [value]
            if shape == "range_list" and not isinstance(value, list):
                problems.append((where, "must be a list of NumericRange objects"))
            elif not all(isinstance(i, Mapping) and i and set(i) <= _RANGE_KEYS for i in items):
                problems.append((where, f"NumericRange objects take only {sorted(_RANGE_KEYS)}"))
        elif shape == "object" and not isinstance(value, Mapping | list):
            problems.append((where, "must be an object or a list of objects"))
        if isinstance(value, list) and len(set(map(json.dumps, value))) != len(value):
            problems.append((where, "has duplicate values"))
        clean[canonical] = sorted(value) if shape == "str_list" and isinstance(value, list) else value
    if not problems:
        try:  # enums the shared model knows (mediaTypes, directions)
            ViewFilter.model_validate(clean)
        except ValidationError as exc:
            problems.extend((f"{field}.{'.'.join(map(str, e['loc']))}", e["msg"]) for e in exc.errors())
    return dict(sorted(clean.items())), problems


# -- request --------------------------------------------------------------------------------------------
def request_fingerprint(body: Mapping[str, Any]) -> str:
    """A short digest of everything in the body except its name (canonical JSON, sorted keys)."""
    canonical = json.dumps({k: v for k, v in body.items() if k != "name"}, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()[:12]


def export_name(pipeline: str, view_type: str, interval: str, body: Mapping[str, Any]) -> str:
    """Deterministic name from (pipeline, view, window) plus a digest of the rest of the request.

    The same run retried — or re-run for the same window with the same configuration — gets the same
    name, so the submit step finds the export it already created instead of POSTing a duplicate; two
    exports of one view with different filters get different names.
    """
    start, end = parse_interval(interval)
    fmt = "%Y%m%dT%H%M%SZ"
    return f"{pipeline}.{view_type}.{start.strftime(fmt)}_{end.strftime(fmt)}.{request_fingerprint(body)}"


def default_period(config: ReportingExportConfig, window_length: timedelta) -> str:
    """The configured default period, capped at the window's length (a 6 h window gets ``PT6H``)."""
    period = parse_period(config.defaults.period)
    return config.defaults.period if period <= window_length else iso_duration(window_length)


def build_request(
    spec: ExportSpec,
    *,
    interval: str,
    time_zone: str,
    pipeline: str,
    config: ReportingExportConfig,
    field: str = "exports[0]",
) -> dict[str, Any]:
    """The JSON body for one export (camelCase, as POSTed), validated; raises RequestValidationError."""
    problems: list[tuple[str, str]] = []
    try:
        start, end = parse_interval(interval)
    except ValueError as exc:
        raise RequestValidationError([("interval", str(exc))]) from None
    filt, filter_problems = check_filter(spec.filter, f"{field}.filter", config.extra_view_filter_keys)
    problems += filter_problems
    period = spec.period or default_period(config, end - start)
    body: dict[str, Any] = {
        "locale": config.defaults.locale,
        "timeZone": time_zone,
        "exportFormat": "CSV",
        "interval": interval,
        "period": period,
        "viewType": spec.view_type,
        "filter": filt,
        "csvDelimiter": config.defaults.csv_delimiter,
        "durationFormat": config.defaults.duration_format,
        "hasFormatDurations": False,
    }
    if spec.selected_columns:
        body["selectedColumns"] = [
            {"columnOrder": i, "columnName": name} for i, name in enumerate(spec.selected_columns)
        ]
    body["name"] = export_name(pipeline, spec.view_type, interval, body) if not problems else "invalid"
    problems += [(f"{field}.{f}" if not f.startswith(field) else f, m) for f, m in validate_request(body, config)]
    if problems:
        raise RequestValidationError(problems)
    return body


def validate_request(body: Mapping[str, Any], config: ReportingExportConfig) -> list[tuple[str, str]]:
    """Problems of a request body against the API's contract and our limits (empty list = valid)."""
    problems: list[tuple[str, str]] = []
    try:
        request = ReportingExportJobRequest.model_validate(body)
    except ValidationError as exc:
        return [(".".join(map(str, e["loc"])) or "request", e["msg"]) for e in exc.errors()]
    if request.export_format != "CSV":
        problems.append(("exportFormat", f"must be CSV for this pipeline (got {request.export_format})"))
    if request.view_type not in VIEW_TYPES:  # the Literal already ensures it; kept for clarity
        problems.append(("viewType", f"{request.view_type!r} is not a viewType of the API"))
    elif request.view_type not in config.views:
        problems.append(("viewType", f"no column mapping for {request.view_type} in views.yaml ({sorted(config.views)})"))
    if not _is_iana(request.time_zone):
        problems.append(("timeZone", f"{request.time_zone!r} is not an IANA time zone name"))
    if not request.name.strip():
        problems.append(("name", "must not be blank"))
    limits = config.limits
    try:
        start, end = parse_interval(request.interval)
        length = end - start
        if length > timedelta(days=limits.max_interval_days, hours=1):
            problems.append(("interval", f"longer than limits.max_interval_days={limits.max_interval_days}"))
    except ValueError as exc:
        problems.append(("interval", str(exc)))
        length = None
    try:
        period = parse_period(request.period)
        if period <= timedelta(0):
            problems.append(("period", "must be longer than zero"))
        elif length is not None and period > length:
            problems.append(("period", f"{request.period} is longer than the interval ({iso_duration(length)})"))
    except ValueError as exc:
        problems.append(("period", str(exc)))
    filt = request.filter.to_api()
    total = 0
    for key, value in filt.items():
        if isinstance(value, list):
            total += len(value)
            if len(value) > limits.max_filter_values_per_key:
                problems.append((f"filter.{key}", f"{len(value)} values > limits.max_filter_values_per_key={limits.max_filter_values_per_key}"))
    if total > limits.max_filter_values_total:
        problems.append(("filter", f"{total} values > limits.max_filter_values_total={limits.max_filter_values_total}"))
    columns = request.selected_columns or []
    if len(columns) > limits.max_selected_columns:
        problems.append(("selectedColumns", f"{len(columns)} > limits.max_selected_columns={limits.max_selected_columns}"))
    return problems


# -- exports metadata -----------------------------------------------------------------------------------
def check_against_metadata(
    body: Mapping[str, Any], metadata: Sequence[Mapping[str, Any] | ReportingExportMetadataJobResponse]
) -> tuple[list[tuple[str, str]], list[str]]:
    """Problems and notes from comparing a body with ``GET …/reporting/exports/metadata`` entities."""
    entries = [m if isinstance(m, ReportingExportMetadataJobResponse) else ReportingExportMetadataJobResponse.model_validate(m) for m in metadata]
    view_type = body["viewType"]
    entry = next((e for e in entries if e.view_type == view_type), None)
    if entry is None:
        return [("viewType", f"{view_type} is not among the exportable views listed by the exports metadata")], []
    problems: list[tuple[str, str]] = []
    notes: list[str] = []
    filt: Mapping[str, Any] = body.get("filter") or {}
    for required in entry.required_filters or []:
        if filt.get(required) in (None, [], ""):
            problems.append((f"filter.{required}", f"required by the exports metadata for {view_type}"))
    if entry.supported_filters:
        for key in filt:
            if key not in entry.supported_filters:
                problems.append((f"filter.{key}", f"not a supported filter of {view_type} (metadata supportedFilters)"))
    columns = [c["columnName"] for c in body.get("selectedColumns") or []]
    if columns and entry.available_column_ids:
        for name in columns:
            if name not in entry.available_column_ids:
                problems.append(("selectedColumns", f"{name!r} is not an available column of {view_type}"))
        for name in entry.required_column_ids or []:
            if name not in columns:
                problems.append(("selectedColumns", f"{name!r} is required by the exports metadata for {view_type}"))
    if entry.date_limitations:
        try:
            limit = parse_limit(entry.date_limitations)
        except ValueError:
            notes.append(f"dateLimitations {entry.date_limitations!r} of {view_type} is not an ISO duration; not enforced")
        else:
            start, end = parse_interval(body["interval"])
            if end - start > limit:
                problems.append(("interval", f"longer than {view_type}'s dateLimitations {entry.date_limitations}"))
    return problems, notes
