"""Every Platform API path the provider calls, once, and the one builder that puts ids into them.

Ids often come from API answers (a campaign listing, a job submission), so they are untrusted: an id
like ``../contactlists/<id>`` would re-target a PUT, a crafted job id would turn a job-cancel DELETE into
a DELETE of something else. :func:`api_path` refuses empty ids, ``.``/``..``, ids containing ``/`` or
control characters, and percent-quotes everything else; every path with an id is built through it.
"""

from __future__ import annotations

import string
from urllib.parse import quote

from genesys_cloud.exceptions import GenesysValidationError

# -- outbound (genesys-api.md §3a, §3d, §3e) ------------------------------------------------------------
CAMPAIGNS = "/api/v2/outbound/campaigns"
CAMPAIGN = "/api/v2/outbound/campaigns/{campaign_id}"
CAMPAIGN_STATS = "/api/v2/outbound/campaigns/{campaign_id}/stats"
CAMPAIGN_PROGRESS = "/api/v2/outbound/campaigns/{campaign_id}/progress"
CAMPAIGN_SCHEDULES = "/api/v2/outbound/schedules/campaigns"
CAMPAIGN_SCHEDULE = "/api/v2/outbound/schedules/campaigns/{campaign_id}"
CONTACT_LIST = "/api/v2/outbound/contactlists/{contact_list_id}"
WRAPUP_CODE_MAPPINGS = "/api/v2/outbound/wrapupcodemappings"

# -- routing (names of the ids analytics returns) --------------------------------------------------------
QUEUES = "/api/v2/routing/queues"
WRAPUP_CODES = "/api/v2/routing/wrapupcodes"

# -- analytics (§3a, §3b) ------------------------------------------------------------------------------
AGGREGATES_QUERY = "/api/v2/analytics/conversations/aggregates/query"
AGGREGATES_JOBS = "/api/v2/analytics/conversations/aggregates/jobs"
DETAILS_QUERY = "/api/v2/analytics/conversations/details/query"
DETAILS_JOBS = "/api/v2/analytics/conversations/details/jobs"
DETAILS_JOBS_AVAILABILITY = "/api/v2/analytics/conversations/details/jobs/availability"
#: ``{jobs}`` is one of the two job collections above (a constant, never user input).
JOB = "{jobs}/{job_id}"
JOB_RESULTS = "{jobs}/{job_id}/results"

# -- reporting exports (§3c) ---------------------------------------------------------------------------
EXPORTS = "/api/v2/analytics/reporting/exports"
EXPORTS_METADATA = "/api/v2/analytics/reporting/exports/metadata"

# -- workforce management (§3e) ------------------------------------------------------------------------
BUSINESS_UNITS = "/api/v2/workforcemanagement/businessunits"
BUSINESS_UNIT = "/api/v2/workforcemanagement/businessunits/{business_unit_id}"
PLANNING_GROUPS = "/api/v2/workforcemanagement/businessunits/{business_unit_id}/planninggroups"
INTRADAY = "/api/v2/workforcemanagement/businessunits/{business_unit_id}/intraday"

# -- organization limits (§2.6) ------------------------------------------------------------------------
LIMITS_NAMESPACE = "/api/v2/organizations/limits/namespaces/{namespace}"

_TRUSTED = frozenset({"jobs"})  # filled from the constants above, never from an answer
_FORBIDDEN = set("/\\") | {chr(c) for c in range(32)} | {"\x7f"}
_FIELDS = string.Formatter()


def path_id(value: object, name: str = "id") -> str:
    """One id, checked and percent-quoted for a path segment (GenesysValidationError naming ``name``)."""
    text = "" if value is None else str(value)
    if not text.strip() or text in (".", "..") or any(ch in _FORBIDDEN for ch in text):
        raise GenesysValidationError(f"{name} {text!r} cannot be used in an API path (empty, '.', '..', '/' "
                                     "or a control character)")
    return quote(text, safe="")


def api_path(template: str, **ids: object) -> str:
    """``template`` with every ``{name}`` filled by :func:`path_id` (``jobs`` by a trusted constant)."""
    wanted = {field for _, field, _, _ in _FIELDS.parse(template) if field}
    if wanted != set(ids):
        raise GenesysValidationError(f"path {template} needs {sorted(wanted)}, got {sorted(ids)}")
    return template.format(**{k: (str(v) if k in _TRUSTED else path_id(v, k)) for k, v in ids.items()})
