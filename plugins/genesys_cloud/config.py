"""Environment-driven knobs of the provider, read at call time (cheap to import: no Airflow here)."""

from __future__ import annotations

import os
from dataclasses import dataclass


def _float(name: str, default: float) -> float:
    raw = os.environ.get(name, "").strip()
    return float(raw) if raw else default


def _int(name: str, default: int) -> int:
    raw = os.environ.get(name, "").strip()
    return int(raw) if raw else default


def _str(name: str, default: str) -> str:
    return os.environ.get(name, "").strip() or default


@dataclass(frozen=True)
class Settings:
    """One snapshot of the provider's settings (see :func:`settings`)."""

    http_timeout: float = 30.0
    http_connect_timeout: float = 10.0
    retry_max_attempts: int = 6
    retry_max_seconds: float = 300.0
    retry_backoff_base: float = 1.0
    task_retry_delay: float = 60.0
    poll_interval: float = 15.0
    bucket: str = "genesys-pipelines"
    aws_conn_id: str = "aws_default"
    webhook_conn_id: str = "genesys_webhook_default"
    audit_conn_id: str = "genesys_audit"
    api_pool: str = "genesys_api"
    max_response_bytes: int = 64 * 1024 * 1024
    retry_after_max_s: float = 120.0
    call_deadline_s: float = 60.0
    max_pages: int = 10_000
    max_download_bytes: int = 256 * 1024 * 1024
    download_hosts: tuple[str, ...] = ()


def settings() -> Settings:
    """Read the settings from the environment now (tests and deployments may change them at any time)."""
    return Settings(
        http_timeout=_float("GENESYS_HTTP_TIMEOUT", 30.0),
        http_connect_timeout=_float("GENESYS_HTTP_CONNECT_TIMEOUT", 10.0),
        retry_max_attempts=max(1, _int("GENESYS_RETRY_MAX_ATTEMPTS", 6)),
        retry_max_seconds=_float("GENESYS_RETRY_MAX_SECONDS", 300.0),
        retry_backoff_base=_float("GENESYS_RETRY_BACKOFF_BASE", 1.0),
        task_retry_delay=_float("GENESYS_TASK_RETRY_DELAY", 60.0),
        poll_interval=_float("GENESYS_POLL_INTERVAL", 15.0),
        bucket=_str("GENESYS_BUCKET", "genesys-pipelines"),
        aws_conn_id=_str("GENESYS_AWS_CONN_ID", "aws_default"),
        webhook_conn_id=_str("GENESYS_WEBHOOK_CONN_ID", "genesys_webhook_default"),
        audit_conn_id=_str("GENESYS_AUDIT_CONN_ID", "genesys_audit"),
        api_pool=_str("GENESYS_API_POOL", "genesys_api"),
        # A bound on one answer's body: far above the largest page (10,000 job results), far below memory.
        max_response_bytes=max(1, _int("GENESYS_MAX_RESPONSE_BYTES", 64 * 1024 * 1024)),
        # A 429 asking for longer than this fails the call (naming the advertised wait) instead of
        # stalling every request of the token: one hostile or broken answer must not freeze a process.
        retry_after_max_s=max(0.0, _float("GENESYS_RETRY_AFTER_MAX_S", 120.0)),
        # One HTTP attempt (connect + send + the whole body) never runs longer than this.
        call_deadline_s=max(0.1, _float("GENESYS_CALL_DEADLINE_S", 60.0)),
        # Every paginator stops here (endless nextUri, huge pageCount, ever-new cursors).
        max_pages=max(1, _int("GENESYS_MAX_PAGES", 10_000)),
        max_download_bytes=max(1, _int("GENESYS_MAX_DOWNLOAD_BYTES", 256 * 1024 * 1024)),
        # Extra hosts a download may be fetched from or redirected to (never with the token), comma-separated;
        # a leading "." allows every subdomain (".s3.amazonaws.com").
        download_hosts=tuple(
            h.strip().lower() for h in os.environ.get("GENESYS_DOWNLOAD_HOSTS", "").split(",") if h.strip()
        ),
    )
