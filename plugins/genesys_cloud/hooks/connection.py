"""How a ``genesys_cloud`` connection is read: fields, UI metadata and the resolved endpoint config.

No Airflow import here, not even indirectly at module level: the provider info
(``genesys_cloud.get_provider_info``) reads the UI metadata declaratively (Airflow >= 3.2 ``conn-fields`` /
``ui-field-behaviour``) without importing the hook, and Airflow imports it during provider discovery,
i.e. while ``import airflow`` is still running. ``genesys_cloud.exceptions`` imports Airflow (its
fail-fast errors subclass ``AirflowFailException``), so it and ``regions`` are imported in ``from_parts``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

DEFAULT_REQUESTS_PER_MINUTE = 300

# Extra fields of the connection form (provider-info "conn-fields" format).
CONN_FIELDS: dict[str, dict[str, Any]] = {
    "region": {
        "label": "Region domain",
        "description": "e.g. mypurecloud.ie or usw2.pure.cloud (leave empty when API base URL is set)",
        "schema": {"type": ["string", "null"]},
    },
    "api_base_url": {
        "label": "API base URL",
        "description": "Overrides the region, e.g. http://127.0.0.1:8080 for the local sandbox",
        "schema": {"type": ["string", "null"]},
    },
    "login_base_url": {
        "label": "Login base URL",
        "description": "OAuth host; defaults to the API base URL with api. replaced by login.",
        "schema": {"type": ["string", "null"]},
    },
    "sandbox": {
        "label": "Sandbox",
        "description": "true only for the local emulator: allows http and any host for the base URLs "
        "(refused together with a region)",
        "schema": {"type": ["boolean", "null"], "default": False},
    },
    "requests_per_minute": {
        "label": "Requests per minute",
        "description": "Client-side budget of this client's token (platform default 300)",
        "schema": {"type": ["integer", "null"], "default": DEFAULT_REQUESTS_PER_MINUTE},
    },
}

# Provider-info "ui-field-behaviour" (kebab-case keys); the hook returns the snake_case twin.
UI_FIELD_BEHAVIOUR: dict[str, Any] = {
    "hidden-fields": ["host", "schema", "port", "extra"],
    "relabeling": {"login": "Client ID", "password": "Client Secret"},
    "placeholders": {
        "login": "OAuth client id (client credentials grant)",
        "password": "OAuth client secret",
    },
}


def _extra_value(extra: dict[str, Any], name: str) -> Any:
    # Older UIs stored custom fields as extra__<conn_type>__<name>; accept both spellings.
    value = extra.get(name)
    if value in (None, ""):
        value = extra.get(f"extra__genesys_cloud__{name}")
    return None if value == "" else value


@dataclass(frozen=True)
class ConnectionConfig:
    """Everything the hook needs from a connection. The secret is kept out of ``repr``."""

    conn_id: str
    client_id: str
    client_secret: str = field(repr=False)
    api_base_url: str
    login_base_url: str
    region: str | None
    requests_per_minute: int
    sandbox: bool = False

    @property
    def cache_key(self) -> tuple[str, str, str]:
        """Key of the process-wide token cache and rate limiter (one token per client and host)."""
        return (self.conn_id, self.client_id, self.api_base_url)

    def is_api_origin(self, url: str) -> bool:
        """True when ``url`` goes to exactly the API's scheme, host and port (where the token may go)."""
        return _origin(url) == _origin(self.api_base_url)

    def is_login_origin(self, url: str) -> bool:
        return _origin(url) == _origin(self.login_base_url)

    @classmethod
    def from_parts(
        cls, conn_id: str, login: str | None, password: str | None, extra: dict[str, Any] | str | None
    ) -> ConnectionConfig:
        from genesys_cloud.exceptions import GenesysConfigError  # lazy: see the module docstring
        from genesys_cloud.regions import resolve_region

        if isinstance(extra, str):
            try:
                extra = json.loads(extra) if extra.strip() else {}
            except ValueError as exc:
                raise GenesysConfigError(f"Connection {conn_id!r}: extra is not valid JSON") from exc
        extra = dict(extra or {})
        if not login or not password:
            raise GenesysConfigError(
                f"Connection {conn_id!r} needs the OAuth client id in login and the client secret in password"
            )
        region = _extra_value(extra, "region")
        api = _extra_value(extra, "api_base_url")
        login_url = _extra_value(extra, "login_base_url")
        sandbox = _truthy(_extra_value(extra, "sandbox"))
        if sandbox and region:
            raise GenesysConfigError(
                f"Connection {conn_id!r}: extra.sandbox is true together with extra.region {region!r}; a real "
                "region never runs in sandbox mode (drop one of them)"
            )
        if api:
            api = str(api).rstrip("/")
            login_url = str(login_url or api.replace("//api.", "//login.", 1)).rstrip("/")
            if not sandbox:
                # Whoever may edit the connection but not read its password must not be able to point the
                # client secret (Basic auth) or the token at a host of their choosing.
                domain = resolve_region(str(region)).domain if region else None
                domain = _check_override(conn_id, "api_base_url", api, domain)
                _check_override(conn_id, "login_base_url", login_url, domain)
                region = domain
            else:
                for name, value in (("api_base_url", api), ("login_base_url", login_url)):
                    _check_sandbox_host(conn_id, name, _check_url_shape(conn_id, name, value, ("http", "https")))
        elif login_url:
            raise GenesysConfigError(f"Connection {conn_id!r}: extra.login_base_url needs extra.api_base_url")
        elif region:
            resolved = resolve_region(str(region))
            region, api, login_url = resolved.domain, resolved.api_base_url, resolved.login_base_url
        else:
            raise GenesysConfigError(
                f"Connection {conn_id!r} needs extra.region (e.g. mypurecloud.ie) or extra.api_base_url"
            )
        rpm_raw = _extra_value(extra, "requests_per_minute")
        try:
            rpm = int(rpm_raw) if rpm_raw is not None else DEFAULT_REQUESTS_PER_MINUTE
        except (TypeError, ValueError) as exc:
            raise GenesysConfigError(
                f"Connection {conn_id!r}: requests_per_minute must be an integer"
            ) from exc
        if rpm < 1:
            raise GenesysConfigError(f"Connection {conn_id!r}: requests_per_minute must be >= 1")
        return cls(
            conn_id=conn_id,
            client_id=str(login),
            client_secret=str(password),
            api_base_url=api,
            login_base_url=login_url,
            region=str(region) if region else None,
            requests_per_minute=rpm,
            sandbox=sandbox,
        )


def _truthy(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    return str(value).strip().lower() in {"1", "true", "yes", "on"} if value is not None else False


def _origin(url: str) -> tuple[str, str, int | None]:
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    try:
        port = parts.port or {"https": 443, "http": 80}.get(scheme)
    except ValueError:
        port = -1
    return scheme, (parts.hostname or "").lower(), port


def _check_url_shape(conn_id: str, name: str, value: str, schemes: tuple[str, ...]) -> str:
    """``value`` is a bare origin (no user:password@, no query) with an allowed scheme; returns its host."""
    from genesys_cloud.exceptions import GenesysConfigError

    try:
        parts = urlsplit(value)
        parts.port  # noqa: B018 - raises ValueError on a malformed port
    except ValueError:
        parts = None
    if (parts is None or parts.scheme.lower() not in schemes or not parts.hostname or parts.username is not None
            or parts.query or parts.fragment or "\\" in value):
        raise GenesysConfigError(
            f"Connection {conn_id!r}: extra.{name} {value!r} must be a plain {' or '.join(schemes)} URL"
            + ("" if "http" in schemes else " on the region's Genesys domain unless extra.sandbox is true")
        )
    return parts.hostname.lower()


# Hosts a ``sandbox: true`` connection may name: an emulator is local. Without this, ``sandbox`` would lift
# the host rule (and the sandbox-only approval switch) for any host: whoever may edit the connection could
# send the client secret to a server of theirs, or run a real org as a "sandbox". Loopback, single-label
# names (a compose service such as ``genesys-sandbox``) and the reserved non-public names of RFC 2606/6761;
# anything else only when the deployment lists it in GENESYS_SANDBOX_HOSTS (comma-separated, not editable
# from the connection form). A Genesys region domain never.
_LOCAL_SUFFIXES = (".local", ".localhost", ".test", ".internal", ".invalid", ".example")


def _check_sandbox_host(conn_id: str, name: str, host: str) -> None:
    import ipaddress
    import os

    from genesys_cloud.exceptions import GenesysConfigError
    from genesys_cloud.regions import REGION_DOMAINS

    host = host.lower().strip("[]")
    allowed = {h.strip().lower() for h in os.environ.get("GENESYS_SANDBOX_HOSTS", "").split(",") if h.strip()}
    if any(host == d or host.endswith("." + d) for d in REGION_DOMAINS.values()):
        raise GenesysConfigError(
            f"Connection {conn_id!r}: extra.sandbox is true but extra.{name} is a Genesys Cloud host ({host}); "
            "a real org never runs in sandbox mode (drop extra.sandbox)")
    try:
        local = ipaddress.ip_address(host).is_loopback
    except ValueError:
        local = host == "localhost" or "." not in host or host.endswith(_LOCAL_SUFFIXES)
    if not (local or host in allowed):
        raise GenesysConfigError(
            f"Connection {conn_id!r}: extra.sandbox is true but extra.{name} names {host}, which is not a local "
            "emulator host (loopback, a single-label service name, .local/.test/.internal; the deployment may "
            "allow others in GENESYS_SANDBOX_HOSTS)")


def _check_override(conn_id: str, name: str, value: str, domain: str | None) -> str:
    """An override of a real connection: https on the region's Genesys domain (or, with no region given,
    on one of the known region domains). Returns that domain."""
    from genesys_cloud.exceptions import GenesysConfigError
    from genesys_cloud.regions import REGION_DOMAINS

    host = _check_url_shape(conn_id, name, value, ("https",))
    candidates = [domain] if domain else sorted(REGION_DOMAINS.values(), key=len, reverse=True)
    for candidate in candidates:
        if host.endswith("." + candidate):
            return candidate
    where = f"the region {domain}" if domain else "a Genesys Cloud region domain"
    raise GenesysConfigError(
        f"Connection {conn_id!r}: extra.{name} host {host!r} is not on {where}; overrides must be https on "
        "the region's Genesys domain unless extra.sandbox is true (local emulator only)"
    )
