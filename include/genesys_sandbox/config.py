"""Run-time settings of the sandbox, filled from the CLI flags (see ``__main__.py``)."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, Literal

DEFAULT_CLIENT_ID = "sandbox-client"
DEFAULT_CLIENT_SECRET = "sandbox-secret"
DEFAULT_WEBHOOK_SECRET = "sandbox-webhook-secret"


@dataclass
class SandboxConfig:
    host: str = "127.0.0.1"
    port: int = 8765
    seed: int = 42
    # The sandbox's "now" at start/reset (ISO 8601); None = the real time at start.
    clock: str | None = None
    requests_per_minute: int = 300
    budget_per: Literal["token", "client"] = "token"
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

    def public(self) -> dict[str, Any]:
        """The settings without secrets (for ``GET /_sandbox/config``)."""
        data = asdict(self)
        data.pop("client_secret")
        data.pop("webhook_secret")
        return data
