"""The approval task instance's recorded human-in-the-loop answer, read by the apply task itself (issue 17).

Why the public REST API: in Airflow 3.3 a running task reaches the metadata DB only through the Execution
API, whose ``/hitlDetails/{ti_id}`` routes are scoped ``ti:self`` (a task may read only its own HITL
record), and the task supervisor relays no ``GetHITLDetailResponse`` from a task process. The approval
task's XCom is no substitute: anyone with REST XCom write could forge an ``Approve``. So apply asks the
api-server (``GENESYS_AIRFLOW_API_URL``, else ``[api] base_url``: deployment config; the ``airflow_api``
connection gives the login/password of an account that may read the DAG's HITL details and its host, if
set, must be that same server), for
``GET /api/v2/dags/{dag}/dagRuns/{run}/taskInstances/approve/-1/hitlDetails``: the record the server
wrote when a person answered (chosen option, ``responded_by_user``, the body with the plan digest). An
answer can be written there only through ``PATCH …/hitlDetails`` by an authenticated person (once), or
by the scheduler's response timeout (with ``responded_by_user`` null).

Fail closed: any error reading the record is reported as no approval (``NOT_APPROVED``, nothing written),
with the reason in the audit; the token and the password never reach a log or the reason.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import quote

import httpx

API_CONN_ID = "airflow_api"
TIMEOUT_S = 30.0


def hitl_path(dag_id: str, run_id: str, task_id: str = "approve", map_index: int = -1) -> str:
    ids = [quote(str(x), safe="") for x in (dag_id, run_id, task_id)]
    return f"/api/v2/dags/{ids[0]}/dagRuns/{ids[1]}/taskInstances/{ids[2]}/{map_index}/hitlDetails"


class _Refused(ValueError):
    """A configuration the reader refuses (its message names the cause and carries no secret)."""


def _origin(url: str) -> tuple[str, str, int | None]:
    parsed = httpx.URL(url)
    return parsed.scheme, parsed.host, parsed.port


def _base_url(conn: Any) -> str:
    """The api-server to ask: deployment config, never the connection alone. Whoever may edit connections
    must not be able to point the reader at a server of their own (it would answer "Approve" and collect the
    account's password), so the URL is ``GENESYS_AIRFLOW_API_URL`` (set by the deployment: compose, the
    native stack) or Airflow's ``[api] base_url``; a connection host naming another origin is refused."""
    import os

    deployed = str(os.environ.get("GENESYS_AIRFLOW_API_URL") or "").rstrip("/")
    if not deployed:
        from airflow.sdk.configuration import conf

        deployed = str(conf.get("api", "base_url", fallback="") or "").rstrip("/")
    if not deployed:
        raise _Refused("neither GENESYS_AIRFLOW_API_URL nor [api] base_url is set")
    host = str(conn.host or "").rstrip("/")
    if host:
        if "://" not in host:
            host = f"{conn.schema or 'http'}://{host}" + (f":{conn.port}" if conn.port and ":" not in host else "")
        if _origin(host) != _origin(deployed):
            raise _Refused(f"connection {API_CONN_ID!r} names a host that is not this deployment's api-server "
                           f"({_origin(deployed)[1]}); fix or clear its host")
    return deployed


def read_hitl_detail(dag_id: str, run_id: str, task_id: str = "approve", map_index: int = -1,
                     conn_id: str = API_CONN_ID, transport: httpx.BaseTransport | None = None
                     ) -> tuple[dict[str, Any] | None, str]:
    """``(record, error)``: the HITL detail of one task instance (None when it has none: 404), or
    ``(None, why)`` when it could not be read."""
    from airflow.sdk import BaseHook  # heavy import kept out of module import

    try:
        conn = BaseHook.get_connection(conn_id)
        base = _base_url(conn)
    except _Refused as exc:
        return None, f"approval record unreadable: {exc}"
    except Exception as exc:
        return None, f"approval record unreadable: connection {conn_id!r}: {type(exc).__name__}"
    try:
        with httpx.Client(base_url=base, timeout=TIMEOUT_S, transport=transport) as client:
            token = client.post("/auth/token", json={"username": conn.login or "", "password": conn.password or ""})
            if token.status_code not in (200, 201):
                return None, f"approval record unreadable: the api-server refused the {conn_id!r} login ({token.status_code})"
            answer = token.json()
            access = answer.get("access_token") if isinstance(answer, Mapping) else None
            if not access:
                return None, "approval record unreadable: the api-server's login answer has no access_token"
            response = client.get(hitl_path(dag_id, run_id, task_id, map_index),
                                  headers={"Authorization": f"Bearer {access}"})
        if response.status_code == 404:
            return None, ""
        if response.status_code != 200:
            return None, f"approval record unreadable: GET hitlDetails answered {response.status_code}"
        body = response.json()
    except httpx.HTTPError as exc:
        return None, f"approval record unreadable: {type(exc).__name__} reaching the api-server"
    except ValueError:  # not JSON (an HTML error page, a proxy's answer): fail closed, clearly
        return None, "approval record unreadable: the api-server answered something that is not JSON"
    if not isinstance(body, Mapping):
        return None, "approval record unreadable: the hitlDetails answer is not a JSON object"
    return dict(body), ""


def recorded_answer(context: Mapping[str, Any], task_id: str = "approve") -> tuple[dict[str, Any] | None, str]:
    """The running DAG run's approval record (:func:`read_hitl_detail`)."""
    ti = context["ti"]
    return read_hitl_detail(ti.dag_id, ti.run_id, task_id)
