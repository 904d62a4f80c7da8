"""Dev and deployment tooling: connections and pools from the one settings file (``config/airflow_settings.yaml``).

Not part of the provider (another team installs the provider without our settings file); used by
``make demo``, ``make airflow``, the tests, the native stack and the compose ``airflow-init`` job.

Two ways to apply the same file:

* :func:`connection_env` renders every connection as an ``AIRFLOW_CONN_<ID>`` JSON env var (tests and
  ``make demo``, which should not depend on the metadata DB). Never for a deployment a person edits:
  tasks read environment connections before the database, so a connection edited in the UI would never
  be used;
* :func:`apply` writes connections and pools into the metadata DB (``python tools/bootstrap.py``): it
  creates a missing connection and never overwrites an existing one (edited in the UI or not; ``--reset``
  rewrites them from the file), and upserts pools. Running it twice leaves the same state.
"""

from __future__ import annotations

import argparse
import json
import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

DEFAULT_SETTINGS = Path(__file__).resolve().parents[1] / "config" / "airflow_settings.yaml"
_VAR = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}")
_CONN_FIELDS = ("conn_type", "description", "host", "login", "password", "schema", "port")


def _expand(value: Any, env: Mapping[str, str]) -> Any:
    if isinstance(value, str):
        return _VAR.sub(lambda m: env.get(m.group(1)) or (m.group(2) or ""), value)
    if isinstance(value, dict):
        return {k: _expand(v, env) for k, v in value.items()}
    if isinstance(value, list):
        return [_expand(v, env) for v in value]
    return value


def _typed(value: Any) -> Any:
    """Numbers and booleans in extras keep their type after ``${VAR}`` expansion; empty is ``None``."""
    if value == "":
        return None
    if isinstance(value, str) and value.isdigit():
        return int(value)
    if isinstance(value, str) and value.strip().lower() in ("true", "false"):
        return value.strip().lower() == "true"
    return value


def load_settings(path: Path | str = DEFAULT_SETTINGS, env: Mapping[str, str] | None = None) -> dict[str, Any]:
    """The settings file with ``${VAR:-default}`` expanded; empty fields dropped.

    An empty extra stays, as ``null``: Airflow's connection form shows a custom field in *Edit* only when
    the stored extra has its key (the Add form shows them all), so every field of the file stays editable.
    """
    raw = yaml.safe_load(Path(path).read_text())
    data = _expand(raw, os.environ if env is None else env)
    for conn in data.get("connections", {}).values():
        extra = {k: _typed(v) for k, v in (conn.get("extra") or {}).items()}
        conn["extra"] = extra
        for key in list(conn):
            if conn[key] in ("", None) and key != "extra":
                del conn[key]
        if "port" in conn:
            conn["port"] = int(conn["port"])
    for pool in data.get("pools", {}).values():
        pool["slots"] = int(pool["slots"])
    return data


def connection_env(settings: Mapping[str, Any]) -> dict[str, str]:
    """``AIRFLOW_CONN_<ID>`` env vars (JSON form) for every connection in ``settings``."""
    out: dict[str, str] = {}
    for conn_id, conn in settings.get("connections", {}).items():
        body = {k: conn[k] for k in _CONN_FIELDS if k in conn and k != "description"}
        if conn.get("extra"):
            body["extra"] = conn["extra"]
        out[f"AIRFLOW_CONN_{conn_id.upper()}"] = json.dumps(body, sort_keys=True)
    return out


def _relocated(value: Any, moves: Mapping[str, str]) -> Any:
    """``value`` with a leading old local-stack URL replaced by its new one (strings, nested in extras)."""
    if isinstance(value, str):
        for old, new in moves.items():
            if value == old or value.startswith(old.rstrip("/") + "/"):
                return new.rstrip("/") + value[len(old.rstrip("/")):]
        return value
    if isinstance(value, dict):
        return {k: _relocated(v, moves) for k, v in value.items()}
    return value


def apply(settings: Mapping[str, Any], *, reset: bool = False,
          relocate: Mapping[str, str] | None = None) -> dict[str, list[str]]:
    """Write connections and pools into the metadata DB; returns what was created/updated/kept.

    A missing connection is created from the file; an existing one is never overwritten (``kept`` when
    it differs from the file: an edit in the UI is what tasks use), unless ``reset``. ``relocate`` maps
    an old local-stack URL (sandbox, local S3) to its new one when the launcher had to move to another
    port: only values that still start with the old URL change (``relocated``), every other edit stays.
    Pools are upserted (their size follows the environment).
    """
    # The ORM models (metadata DB), not the task-SDK Connection: bootstrap writes rows.
    from airflow.models.connection import Connection
    from airflow.models.pool import Pool
    from airflow.utils.session import create_session

    report: dict[str, list[str]] = {"created": [], "updated": [], "relocated": [], "kept": [], "unchanged": []}
    moves = {old: new for old, new in (relocate or {}).items() if old and new and old != new}
    with create_session() as session:
        for conn_id, conn in settings.get("connections", {}).items():
            wanted = {k: conn.get(k) for k in _CONN_FIELDS}
            wanted["extra"] = json.dumps(conn.get("extra") or {}, sort_keys=True)
            existing = session.query(Connection).filter(Connection.conn_id == conn_id).one_or_none()
            if existing is None:
                session.add(Connection(conn_id=conn_id, **wanted))
                report["created"].append(conn_id)
                continue
            current = {k: getattr(existing, k) for k in _CONN_FIELDS}
            current["extra"] = json.dumps(existing.extra_dejson or {}, sort_keys=True)
            if current == wanted:
                report["unchanged"].append(conn_id)
                continue
            if reset:
                for key, value in wanted.items():
                    setattr(existing, key, value)
                report["updated"].append(conn_id)
                continue
            # Kept as edited. Two changes only: a key of the file missing from the extra is added as null
            # (so the form shows that field in Edit; no value changes), and a moved local-stack URL follows.
            extra = existing.extra_dejson or {}
            moved_host = _relocated(existing.host, moves)
            moved_extra = _relocated({**{k: None for k in conn.get("extra") or {}}, **extra}, moves)
            relocated = moved_host != existing.host or _relocated(extra, moves) != extra
            if existing.port is None and conn.get("port") == 0:  # see the settings file: the Test button's port
                existing.port = 0
            if moved_host != existing.host or moved_extra != extra:
                existing.host = moved_host
                existing.extra = json.dumps(moved_extra, sort_keys=True)
            report["relocated" if relocated else "kept"].append(conn_id)
        for name, pool in settings.get("pools", {}).items():
            wanted_pool = {
                "slots": pool["slots"],
                "description": pool.get("description", ""),
                "include_deferred": bool(pool.get("include_deferred", True)),
            }
            existing_pool = session.query(Pool).filter(Pool.pool == name).one_or_none()
            if existing_pool is None:
                session.add(Pool(pool=name, **wanted_pool))
                report["created"].append(f"pool:{name}")
            elif {k: getattr(existing_pool, k) for k in wanted_pool} != wanted_pool:
                for key, value in wanted_pool.items():
                    setattr(existing_pool, key, value)
                report["updated"].append(f"pool:{name}")
            else:
                report["unchanged"].append(f"pool:{name}")
    return report


# Public defaults of the sandbox and the local profile: fine on loopback, never with a real org.
SANDBOX_DEFAULTS = {"GENESYS_WEBHOOK_SECRET": "sandbox-webhook-secret", "GENESYS_CLIENT_SECRET": "sandbox-secret",
                    "_AIRFLOW_WWW_USER_PASSWORD": "admin", "AWS_SECRET_ACCESS_KEY": "testing"}


def deployment_problems(env: Mapping[str, str]) -> tuple[list[str], list[str]]:
    """``(errors, warnings)`` of a deployment's environment: fail closed on a real org.

    With ``GENESYS_REGION`` set (a real org) a missing or public-default webhook signing secret, client
    secret or UI admin password, a missing or malformed Fernet key, or the local S3's ``testing`` keys
    without a local endpoint are errors: the start-up stops instead of running on a default. On the sandbox
    (no region) the settings file's public defaults apply and only an empty Fernet key is a warning; a
    malformed Fernet key is always an error.
    """
    errors: list[str] = []
    warnings: list[str] = []
    real = bool((env.get("GENESYS_REGION") or "").strip())
    gaps = errors if real else warnings
    where = f"GENESYS_REGION={env.get('GENESYS_REGION')!r} (a real org)" if real else "the sandbox"
    for name, what in (("GENESYS_WEBHOOK_SECRET", "the webhook signing secret"),
                       ("GENESYS_CLIENT_SECRET", "the OAuth client secret"),
                       ("_AIRFLOW_WWW_USER_PASSWORD", "the UI admin password")):
        value = env.get(name) or ""
        if not value and real:  # on the sandbox the settings file's public defaults apply
            errors.append(f"{name} ({what}) is not set; with {where} it must be")
        elif value == SANDBOX_DEFAULTS[name] and real:
            errors.append(f"{name} ({what}) is the public sandbox default {value!r}; set a real one")
    fernet = env.get("AIRFLOW__CORE__FERNET_KEY") or ""
    if not fernet:
        gaps.append("AIRFLOW__CORE__FERNET_KEY is empty: connection passwords would be stored unencrypted "
                    "(generate one: python -c \"from cryptography.fernet import Fernet; "
                    "print(Fernet.generate_key().decode())\")")
    else:
        from cryptography.fernet import Fernet

        try:
            for key in fernet.split(","):  # Airflow accepts a comma-separated list (key rotation)
                Fernet(key.strip().encode())
        except ValueError:
            errors.append("AIRFLOW__CORE__FERNET_KEY is not a valid Fernet key (32 url-safe base64 bytes)")
    if real and env.get("AWS_SECRET_ACCESS_KEY") == "testing" and not env.get("GENESYS_S3_ENDPOINT_URL"):
        errors.append("AWS_SECRET_ACCESS_KEY is the local S3's 'testing' key but no local endpoint is set; "
                      "use real credentials or an instance role (leave both keys empty)")
    return errors, warnings


def check(env: Mapping[str, str] | None = None) -> int:
    """Print the deployment's problems; 2 when there are errors (the start-up must stop), else 0."""
    import sys

    errors, warnings = deployment_problems(os.environ if env is None else env)
    for line in warnings:
        print(f"bootstrap: warning: {line}", file=sys.stderr)
    for line in errors:
        print(f"bootstrap: error: {line}", file=sys.stderr)
    if errors:
        print(f"bootstrap: refusing to start: {len(errors)} error(s) above (README: 'Start it')", file=sys.stderr)
        return 2
    return 0


def embedded_airflow_env(home: Path | str, stack_env: Mapping[str, str], bucket: str,
                         project_root: Path | str = DEFAULT_SETTINGS.parents[1], *,
                         connections_in_env: bool = True) -> dict[str, str]:
    """Environment for an embedded Airflow (SQLite, LocalExecutor) on the local stack.

    ``stack_env`` holds the variables the settings file expands (sandbox URL, S3 endpoint, ...), as
    given by ``genesys_sandbox.devstack.Stack.settings_env()``. With ``connections_in_env`` (tests, the
    demo) the settings file's connections are ``AIRFLOW_CONN_*`` variables too; ``make airflow`` passes
    False: there they live in the metadata DB only, so an edit in the UI is what tasks use.
    """
    home, root = Path(home), Path(project_root)
    env = {
        **stack_env,
        "AIRFLOW_HOME": str(home),
        "AIRFLOW__CORE__DAGS_FOLDER": str(root / "dags"),
        "AIRFLOW__CORE__PLUGINS_FOLDER": str(root / "plugins"),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__EXECUTOR": "LocalExecutor",
        "AIRFLOW__CORE__PARALLELISM": "4",
        "AIRFLOW__CORE__MAX_ACTIVE_TASKS_PER_DAG": "4",
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{home / 'airflow.db'}",
        "AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL": "10",
        "AIRFLOW__CORE__XCOM_BACKEND": "airflow.providers.common.io.xcom.backend.XComObjectStorageBackend",
        "AIRFLOW__COMMON_IO__XCOM_OBJECTSTORAGE_PATH": f"s3://aws_default@{bucket}/xcom",
        "AIRFLOW__COMMON_IO__XCOM_OBJECTSTORAGE_THRESHOLD": "65536",
        "AIRFLOW__COMMON_IO__XCOM_OBJECTSTORAGE_COMPRESSION": "gzip",
        "AIRFLOW__API_AUTH__JWT_SECRET": "genesys-embedded-jwt-secret-not-for-production",
        "AIRFLOW__API__SECRET_KEY": "genesys-embedded-api-secret-not-for-production",
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS": "admin:admin",
        "GENESYS_TASK_RETRY_DELAY": os.environ.get("GENESYS_TASK_RETRY_DELAY", "5"),
    }
    if connections_in_env:
        env.update(connection_env(load_settings(root / "config" / "airflow_settings.yaml", env={**os.environ, **env})))
    return env


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("settings", nargs="?", default=str(DEFAULT_SETTINGS))
    parser.add_argument("--print-env", action="store_true", help="print AIRFLOW_CONN_* lines instead")
    parser.add_argument("--reset", action="store_true",
                        help="overwrite existing connections with the file's (default: create missing ones only)")
    parser.add_argument("--relocate", action="append", default=[], metavar="OLD=NEW",
                        help="a local-stack URL moved (make airflow): rewrite connection values starting with OLD")
    parser.add_argument("--check", action="store_true",
                        help="only check the environment (fail closed on a real org) and exit 2 on errors")
    args = parser.parse_args(argv)
    status = check()
    if args.check or status:
        return status
    settings = load_settings(args.settings)
    if args.print_env:
        for key, value in connection_env(settings).items():
            print(f"{key}='{value}'")
        return 0
    relocate = dict(item.split("=", 1) for item in args.relocate)
    report = apply(settings, reset=args.reset, relocate=relocate)
    print(" ".join(f"{k}={','.join(v) or '-'}" for k, v in report.items()))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
