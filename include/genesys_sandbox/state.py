"""Everything the sandbox remembers between requests, reachable as ``request.app.state.sandbox``."""

from __future__ import annotations

import threading
import time
from collections import Counter, deque
from dataclasses import dataclass, field
from typing import Any

from genesys_sandbox.auth import TokenStore
from genesys_sandbox.clock import SandboxClock, format_instant
from genesys_sandbox.config import SandboxConfig
from genesys_sandbox.faults import FaultEngine
from genesys_sandbox.limits import RateBudget
from genesys_sandbox.org import Org, build_org
from genesys_sandbox.permissions import ClientRegistry

JOURNAL_SIZE = 10_000


@dataclass
class WebhookInbox:
    """Deliveries received per webhook name, deduplicated on ``Idempotency-Key``."""

    deliveries: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    keys: dict[str, set[str]] = field(default_factory=dict)

    def add(self, name: str, key: str | None, delivery: dict[str, Any]) -> bool:
        """Store a delivery; False (and nothing stored) when ``key`` was already received."""
        seen = self.keys.setdefault(name, set())
        if key is not None and key in seen:
            return False
        if key is not None:
            seen.add(key)
        self.deliveries.setdefault(name, []).append(delivery)
        return True


class SandboxState:
    """Config, clock, org, clients, tokens, budget, counters, write log, webhook inbox and fault engine.

    Clients and tokens survive a reset (like an org's OAuth clients survive its data changing).
    ``extensions`` is free space for routers that keep their own state (analytics jobs, exports);
    it is emptied on reset.
    """

    def __init__(self, config: SandboxConfig) -> None:
        self.config = config
        self.lock = threading.RLock()
        self.clients = ClientRegistry(config.clients())
        self.tokens = TokenStore(config.token_ttl)
        self.budget = RateBudget(config.requests_per_minute)
        self.faults = FaultEngine(seed=config.seed, default_hang=config.hang_seconds)
        self.faults.configure(config.faults)
        self.reset(config.seed, config.clock)

    def reset(self, seed: int | None = None, clock: str | None = None) -> None:
        """Rebuild the org and forget counters, writes, webhooks and router state (tokens stay valid)."""
        with self.lock:
            if seed is not None:
                self.config.seed = seed
            if clock is not None:
                self.config.clock = clock
            self.clock = SandboxClock(self.config.clock)
            self.org: Org = build_org(self.config.seed, self.clock.now())
            self.counters: Counter[str] = Counter()
            self.writes: list[dict[str, Any]] = []
            # The request journal (``GET /_sandbox/requests``): the last JOURNAL_SIZE API requests.
            self.journal: deque[dict[str, Any]] = deque(maxlen=JOURNAL_SIZE)
            self.journal_seq = 0
            self.webhooks = WebhookInbox()
            self.extensions: dict[str, Any] = {}
            self.faults.seed = self.config.seed
            self.faults.configure(self.faults.spec.text)
            self.started = time.time()

    def record_request(self, method: str, template: str, status: int, note: dict[str, Any] | None,
                       query: list[str] | None = None) -> None:
        """Journal one API request: method, path template, status, the query parameter names sent and what
        the route noted (interval)."""
        with self.lock:
            self.journal_seq += 1
            self.journal.append({"seq": self.journal_seq, "method": method, "path": template, "status": status,
                                 "query": list(query or []), **(note or {})})

    def count(self, key: str) -> None:
        with self.lock:
            self.counters[key] += 1

    def record_write(
        self, method: str, path: str, template: str, body: Any, status: int, fault: str | None = None
    ) -> None:
        with self.lock:
            self.writes.append(
                {
                    "seq": len(self.writes) + 1,
                    "at": format_instant(self.clock.now()),
                    "method": method,
                    "path": path,
                    "template": template,
                    "body": body,
                    "status": status,
                    **({"fault": fault} if fault else {}),
                }
            )
