"""Run-time settings of the sandbox, filled from the CLI flags (see ``__main__.py``)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Literal

DEFAULT_CLIENT_ID = "sandbox-client"
DEFAULT_CLIENT_SECRET = "sandbox-secret"
DEFAULT_WEBHOOK_SECRET = "sandbox-webhook-secret"
# A permission set holding this grants every permission (the default client's set).
ALL_PERMISSIONS = "*"


@dataclass(frozen=True)
class ClientSpec:
    """An OAuth client-credentials client and the permissions its roles grant."""

    client_id: str
    client_secret: str
    permissions: frozenset[str] = frozenset({ALL_PERMISSIONS})

    def public(self) -> dict[str, Any]:
        return {"client_id": self.client_id, "permissions": sorted(self.permissions)}


def parse_client_spec(spec: str) -> ClientSpec:
    """``ID:SECRET:PERM1|PERM2|...`` (``*`` = all, empty = none) → :class:`ClientSpec`.

    Only the first two colons split: permissions themselves contain colons (``outbound:campaign:view``).
    """
    parts = spec.split(":", 2)
    if len(parts) != 3 or not parts[0] or not parts[1]:
        raise ValueError(f"client spec {spec!r} is not ID:SECRET:PERM1|PERM2|...")
    client_id, secret, perms = parts
    return ClientSpec(client_id, secret, frozenset(p.strip() for p in perms.split("|") if p.strip()))


@dataclass
class SandboxConfig:
    host: str = "127.0.0.1"
    port: int = 8765
    seed: int = 42
    # The sandbox's "now" at start/reset (ISO 8601); None = the real time at start.
    clock: str | None = None
    requests_per_minute: int = 300
    budget_per: Literal["token", "client"] = "token"
    # The ErrorBody ``code`` of a 429: the live string is unverified, so both plausible ones can be
    # emulated (clients must classify a 429 by its status, never by this string).
    rate_limit_code: Literal["too.many.requests", "too.many.requests.retry.after"] = "too.many.requests"
    # The answer to a PUT of an existing versioned entity without ``version``: genesys-api.md §2.3 says 409
    # ("a stale or missing version returns 409"); the live answer is unverified, so 400 (a required field
    # missing) can be emulated too. The pipelines never send such a PUT (the hook refuses it first).
    missing_version_status: Literal[409, 400] = 409
    token_ttl: int = 86400
    # Conversations per day the analytics half synthesises.
    scale: int = 2000
    faults: str = ""
    self_validation: bool = True
    client_id: str = DEFAULT_CLIENT_ID
    client_secret: str = DEFAULT_CLIENT_SECRET
    webhook_secret: str = DEFAULT_WEBHOOK_SECRET
    # How long a "hang" fault holds a request before answering (clients should time out first).
    hang_seconds: float = 120.0
    # Sandbox-clock seconds from submission until an analytics job is FULFILLED / an export COMPLETED
    # (the `slow_jobs` fault adds to both).
    job_seconds: float = 0.5
    export_seconds: float = 0.6
    # OAuth clients besides the default one (which always holds every permission).
    extra_clients: list[ClientSpec] = field(default_factory=list)

    def clients(self) -> list[ClientSpec]:
        """Every client the sandbox starts with: the all-permission default one first."""
        return [ClientSpec(self.client_id, self.client_secret), *self.extra_clients]

    def public(self) -> dict[str, Any]:
        """The settings without secrets (for ``GET /_sandbox/config``)."""
        data = asdict(self)
        data.pop("client_secret")
        data.pop("webhook_secret")
        data["extra_clients"] = [client.public() for client in self.extra_clients]
        return data
