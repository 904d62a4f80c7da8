"""The outputs page: a FastAPI app the Airflow API server mounts at ``/genesys-outputs`` (see the plugin).

Airflow mounts plugin apps WITHOUT its own authentication, so every route here resolves the caller
through Airflow's own dependency (``airflow.api_fastapi.core_api.security.get_user``: the
``Authorization: Bearer`` JWT, else the ``_token`` cookie the UI's login sets, validated by the
configured auth manager) and checks read access to the DAG's runs with ``requires_access_dag`` — the
same check ``GET /api/v2/dags/{dag_id}/dagRuns`` makes. No token: 401; a bad or expired one: 401/403.

Routes:
- ``GET /`` — the pipelines with outputs that the user may read;
- ``GET /dags/{dag_id}`` — partitions (newest first), their files, charts and audit rows;
  ``?run_id=`` narrows to the windows that run wrote (the DAG-run tab; audit rows are keyed by window,
  so a later run of the same window takes them over);
- ``GET /dags/{dag_id}/partitions`` — the same as JSON;
- ``GET /dags/{dag_id}/download?key=`` — presigns the object now and redirects to it (303). The URL
  lives only in that redirect: never stored, logged, or written into a page.

Airflow imports plugin files in every process (scheduler, workers, DAG processor), so this module
imports only FastAPI at the top; Airflow's API modules are imported on the first request.
"""

from __future__ import annotations

import html
import json
from typing import Any
from urllib.parse import quote, urlencode

from fastapi import Depends, FastAPI, HTTPException, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse

from genesys_cloud.ui import outputs

#: No cache, no referrer: pages and redirects carry nothing another site or a shared cache should keep.
PRIVATE = {"Cache-Control": "no-store", "Referrer-Policy": "no-referrer"}


async def airflow_user(request: Request) -> Any:
    """The Airflow user of this request (Bearer header or the UI's ``_token`` cookie), else 401/403."""
    from airflow.api_fastapi.core_api.security import bearer_scheme, get_user

    credentials = await bearer_scheme(request)
    return await get_user(request, None, credentials)


def dag_reader(request: Request, user: Any = Depends(airflow_user)) -> Any:
    """The user, if they may read the runs of the DAG named in the path (Airflow's own check), else 403."""
    from airflow.api_fastapi.auth.managers.models.resource_details import DagAccessEntity
    from airflow.api_fastapi.core_api.security import requires_access_dag

    requires_access_dag("GET", DagAccessEntity.RUN)(request, user)
    return user


class PartitionQuery:
    """``?run_id=`` (only the windows that run wrote last) and ``?limit=`` (newest partitions first)."""

    def __init__(self, run_id: str | None = None, limit: int = Query(30, ge=1, le=366)) -> None:
        self.run_id, self.limit = run_id, limit

    def partitions(self, dag_id: str) -> list[outputs.Partition]:
        return outputs.partitions(dag_id, limit=self.limit, run_id=self.run_id)


def readable_dag_ids(user: Any) -> set[str]:
    from airflow.api_fastapi.app import get_auth_manager

    return set(get_auth_manager().get_authorized_dag_ids(user=user, method="GET"))


def create_app() -> FastAPI:
    app = FastAPI(title="Genesys Cloud outputs", docs_url=None, redoc_url=None, openapi_url=None)

    @app.get("/", response_class=HTMLResponse)
    def index(request: Request, user: Any = Depends(airflow_user)) -> HTMLResponse:
        names = outputs.pipelines(readable_dag_ids(user))
        items = "".join(
            f'<li><a href="{_path(request, f"/dags/{quote(n)}")}">{html.escape(n)}</a></li>' for n in names
        ) or "<li>No outputs yet: trigger a pipeline first.</li>"
        return _page("Genesys Cloud outputs", f"<ul>{items}</ul>")

    @app.get("/dags/{dag_id}", response_class=HTMLResponse)
    def dag_outputs(
        request: Request, dag_id: str, query: PartitionQuery = Depends(), user: Any = Depends(dag_reader)
    ) -> HTMLResponse:
        parts, run_id = query.partitions(dag_id), query.run_id
        body = [_partition_html(request, dag_id, p) for p in parts]
        if not parts:
            body.append(f"<p>No output partitions{' for this run' if run_id else ''} yet.</p>")
            rows = outputs.audit_rows(dag_id, run_id=run_id) if run_id else []
            if rows:
                body.append(f"<h3>Audit trail of this run</h3>{_audit_html(rows)}")
        scope = f" — run {html.escape(run_id)}" if run_id else ""
        return _page(f"{dag_id}: outputs{scope}", "".join(body), f'<a href="{_path(request, "/")}">all pipelines</a>')

    @app.get("/dags/{dag_id}/partitions")
    def dag_partitions(
        dag_id: str, query: PartitionQuery = Depends(), user: Any = Depends(dag_reader)
    ) -> JSONResponse:
        parts = query.partitions(dag_id)
        body = [
            {"partition": p.name, "prefix": p.prefix, "complete": p.manifest is not None, "window": p.window,
             "objects": p.objects, "audit_rows": p.audit_rows}
            for p in parts
        ]
        return JSONResponse(json.loads(json.dumps(body, default=str)), headers=PRIVATE)

    @app.get("/dags/{dag_id}/download")
    def download(dag_id: str, key: str, user: Any = Depends(dag_reader)) -> RedirectResponse:
        try:
            url = outputs.presigned_download(dag_id, key)
        except outputs.OutputNotFound:
            raise HTTPException(404, f"{key} is not an output of {dag_id}") from None
        return RedirectResponse(url, status_code=303, headers=PRIVATE)

    return app


# -- HTML -------------------------------------------------------------------------------------------
_STYLE = """
body{font-family:system-ui,sans-serif;margin:1rem 1.5rem;color:#1a202c}
h1{font-size:1.3rem} h2{font-size:1.1rem;margin-top:1.8rem} h3{font-size:.95rem}
table{border-collapse:collapse;margin:.4rem 0 1rem;font-size:.85rem}
th,td{border:1px solid #cbd5e0;padding:.25rem .5rem;text-align:left;vertical-align:top}
th{background:#edf2f7} td.num{text-align:right} .muted{color:#718096}
img.chart{max-width:48%;border:1px solid #cbd5e0;margin:.3rem}
details pre{white-space:pre-wrap;max-width:60rem;font-size:.75rem}
"""


def _path(request: Request, path: str, **query: str) -> str:
    """An absolute path under the mount point (``/genesys-outputs`` or wherever the app is mounted)."""
    root = request.scope.get("root_path", "").rstrip("/")
    return html.escape(f"{root}{path}" + (f"?{urlencode(query)}" if query else ""))


def _page(title: str, body: str, nav: str = "") -> HTMLResponse:
    page = (
        '<!doctype html><html><head><meta charset="utf-8"><meta name="referrer" content="no-referrer">'
        f"<title>{html.escape(title)}</title><style>{_STYLE}</style></head><body>"
        f"<h1>{html.escape(title)}</h1>{f'<p>{nav}</p>' if nav else ''}{body}</body></html>"
    )
    return HTMLResponse(page, headers=PRIVATE)


def _size(n: int | None) -> str:
    if n is None:
        return ""
    for unit in ("B", "KiB", "MiB", "GiB"):
        if n < 1024 or unit == "GiB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return str(n)


def _partition_html(request: Request, dag_id: str, part: outputs.Partition) -> str:
    title = f'<h2 id="{html.escape(part.name)}">{html.escape(part.name)}</h2>'
    if part.manifest is None:
        return f'{title}<p class="muted">Incomplete: no manifest (being published, or a publish failed).</p>'
    window = part.window
    head = (f'<p>Window {html.escape(window.get("start", ""))} → {html.escape(window.get("end", ""))}, '
            f'{len(part.objects)} files, rows: {html.escape(str(part.manifest.get("total_rows")))}</p>')
    links = {o["key"]: _path(request, f"/dags/{quote(dag_id)}/download", key=o["key"]) for o in part.objects}
    rows = "".join(
        f'<tr><td><a href="{links[o["key"]]}">{html.escape(o["name"])}</a></td>'
        f'<td class="num">{_size(o.get("size"))}</td><td class="num">{html.escape(str(o.get("rows") or ""))}</td>'
        f'<td>{html.escape(o.get("content_type") or "")}</td></tr>'
        for o in part.objects
    )
    files = f"<table><tr><th>file</th><th>size</th><th>rows</th><th>type</th></tr>{rows}</table>"
    charts = "".join(
        f'<a href="{links[c["key"]]}"><img class="chart" alt="{html.escape(c["name"])}" src="{links[c["key"]]}"></a>'
        for c in part.charts
    )
    audit = f"<h3>Audit trail</h3>{_audit_html(part.audit_rows)}" if part.audit_rows else (
        '<p class="muted">No audit rows for this window.</p>')
    return f"{title}{head}{files}{charts and f'<h3>Charts</h3><div>{charts}</div>'}{audit}"


_AUDIT_COLUMNS = ("recorded_at", "run_id", "task_id", "map_index", "try_number", "event", "entity_type",
                  "entity_id", "status", "record_count", "latency_ms")


def _audit_html(rows: list[dict[str, Any]]) -> str:
    head = "".join(f"<th>{c}</th>" for c in _AUDIT_COLUMNS) + "<th>details</th>"
    body = "".join(
        "<tr>" + "".join(f"<td>{html.escape(_cell(row.get(c)))}</td>" for c in _AUDIT_COLUMNS)
        + f"<td><details><summary>json</summary><pre>{html.escape(json.dumps(row.get('details'), indent=1, default=str))}"
        "</pre></details></td></tr>"
        for row in rows
    )
    return f"<table><tr>{head}</tr>{body}</table>"


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:.0f}"
    return str(value)
