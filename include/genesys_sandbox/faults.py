"""Fault injection: the ``--faults`` grammar, its parser and the engine the middleware and routers consult.

Grammar: comma-separated ``key=value`` items, e.g.
``latency=0.2-1.0,5xx=0.1,429=0.1,hang=0.02,revoke_every=50,malformed=truncated|html:0.05``.

=================  ===========================================================================
``latency=S|A-B``   add S seconds (or uniform A..B) before every API answer
``5xx=RATE``        answer 500/502/503; a write (non-GET) is applied first, then its answer lost
``429=RATE``        answer 429 + Retry-After + ErrorBody.limit, as in a burst
``hang=RATE``       hold the request ``hang_for`` seconds (default: config.hang_seconds), then 504
``hang_for=S``      how long a hung request is held
``revoke_every=N``  revoke the calling token on every N-th API request (that request gets 401)
``lost_write=RATE`` a write is applied, then answered 504 (its response lost in transit)
``version_bump=R``  after a GET of a campaign/schedule, another "writer" bumps its version before the
                    next write, which then gets 409; ``version_bump_once=N``: the same race on the
                    next N read-then-write cycles only, drawing nothing from the RNG (a reproducible
                    409: with N=1 a client that re-reads and retries once succeeds)
``job_fail=RATE``   analytics jobs end FAILED;  ``job_fail_once=N``: the first N jobs fail
``export_fail=R``   reporting exports end FAILED; ``export_fail_once=N``: the first N exports fail
``slow_jobs=S``     async jobs and exports take S more seconds to finish (on top of the
                    ``--job-seconds`` / ``--export-seconds`` settings)
``malformed=K|K:R`` corrupt successful reads (GET, POST .../query) with rate R (default 1); kinds K:
                    ``missing_field``, ``wrong_type``, ``unknown_enum``, ``truncated``, ``html``,
                    ``empty``, ``oversized``
``hostile=K@T#N``   the N-th (default 1) successful GET of one entity route T answers valid JSON
                    that is wrong (a write-safety probe, issue 17): T is ``schedule`` (a campaign's
                    schedule) or ``campaign``; kinds K: ``null``, ``empty_list``, ``empty_object``,
                    ``intervals_missing``, ``zero_interval``, ``wrong_zone``, ``abandon_negative``,
                    ``version_missing``. N=1 is a writer's planning read, N=2 its re-read before the
                    PUT. Counted per route since the last configure (reset or new spec); no RNG draw
=================  ===========================================================================

Rates are probabilities in [0, 1]. Faults touch ``/api/v2/...`` only, never ``/oauth/token`` or the
admin API. Decisions come from one RNG seeded from the sandbox seed, so a run is reproducible for the
same request sequence; per-job decisions hash (seed, job id) so they do not depend on request order.
"""

from __future__ import annotations

import json
import random
import threading
from dataclasses import dataclass, field, fields
from typing import Any

HOSTILE_KINDS = ("null", "empty_list", "empty_object", "intervals_missing", "zero_interval", "wrong_zone",
                 "abandon_negative", "version_missing")
#: ``hostile=`` targets → the route template whose GETs they count.
HOSTILE_ROUTES = {"schedule": "/api/v2/outbound/schedules/campaigns/{campaignId}",
                  "campaign": "/api/v2/outbound/campaigns/{campaignId}"}
MALFORMED_KINDS = ("missing_field", "wrong_type", "unknown_enum", "truncated", "html", "empty", "oversized")
# JSON keys whose values are enums somewhere in the API (targets of ``unknown_enum``).
ENUM_KEYS = (
    "campaignStatus",
    "dialingMode",
    "state",
    "status",
    "mediaType",
    "purpose",
    "segmentType",
    "direction",
    "retentionType",
    "originatingDirection",
)
OVERSIZED_PADDING = 4 * 1024 * 1024


class FaultSpecError(ValueError):
    """The spec does not follow the grammar; the message names the offending item."""


@dataclass
class FaultSpec:
    latency: tuple[float, float] = (0.0, 0.0)
    rate_5xx: float = 0.0
    rate_429: float = 0.0
    hang: float = 0.0
    hang_for: float | None = None
    revoke_every: int = 0
    lost_write: float = 0.0
    version_bump: float = 0.0
    version_bump_once: int = 0
    job_fail: float = 0.0
    job_fail_once: int = 0
    export_fail: float = 0.0
    export_fail_once: int = 0
    slow_jobs: float = 0.0
    malformed: tuple[str, ...] = ()
    malformed_rate: float = 0.0
    hostile: tuple[str, str, int] | None = None
    text: str = ""

    def active(self) -> dict[str, Any]:
        """The non-default settings (what ``GET /_sandbox/faults`` shows)."""
        default = FaultSpec()
        return {
            f.name: getattr(self, f.name)
            for f in fields(self)
            if f.name != "text" and getattr(self, f.name) != getattr(default, f.name)
        }


def _rate(key: str, value: str) -> float:
    try:
        rate = float(value)
    except ValueError:
        raise FaultSpecError(f"{key}: {value!r} is not a number") from None
    if not 0.0 <= rate <= 1.0:
        raise FaultSpecError(f"{key}: rate {rate} is outside [0, 1]")
    return rate


def _seconds(key: str, value: str) -> float:
    try:
        seconds = float(value)
    except ValueError:
        raise FaultSpecError(f"{key}: {value!r} is not a number of seconds") from None
    if seconds < 0:
        raise FaultSpecError(f"{key}: seconds must not be negative")
    return seconds


def _count(key: str, value: str) -> int:
    if not value.isdigit():
        raise FaultSpecError(f"{key}: {value!r} is not a whole number")
    return int(value)


def parse_fault_spec(text: str | None) -> FaultSpec:
    spec = FaultSpec(text=(text or "").strip())
    for item in filter(None, (part.strip() for part in spec.text.split(","))):
        key, sep, value = item.partition("=")
        key, value = key.strip(), value.strip()
        if not sep or not value:
            raise FaultSpecError(f"{item!r}: expected key=value")
        if key == "latency":
            low, _, high = value.partition("-")
            spec.latency = (_seconds(key, low), _seconds(key, high or low))
            if spec.latency[0] > spec.latency[1]:
                raise FaultSpecError("latency: range must be MIN-MAX")
        elif key == "5xx":
            spec.rate_5xx = _rate(key, value)
        elif key == "429":
            spec.rate_429 = _rate(key, value)
        elif key in ("hang", "lost_write", "version_bump", "job_fail", "export_fail"):
            setattr(spec, key, _rate(key, value))
        elif key in ("hang_for", "slow_jobs"):
            setattr(spec, key, _seconds(key, value))
        elif key in ("revoke_every", "job_fail_once", "export_fail_once", "version_bump_once"):
            setattr(spec, key, _count(key, value))
        elif key == "malformed":
            kinds, _, rate = value.partition(":")
            chosen = tuple(k.strip() for k in kinds.split("|") if k.strip())
            unknown = [k for k in chosen if k not in MALFORMED_KINDS]
            if unknown or not chosen:
                raise FaultSpecError(f"malformed: unknown kind(s) {unknown}; use {'|'.join(MALFORMED_KINDS)}")
            spec.malformed = chosen
            spec.malformed_rate = _rate(key, rate) if rate else 1.0
        elif key == "hostile":
            spec.hostile = _hostile(value)
        else:
            raise FaultSpecError(f"unknown fault {key!r}")
    return spec


def _hostile(value: str) -> tuple[str, str, int]:
    kind, _, rest = value.partition("@")
    target, _, nth = rest.partition("#")
    if kind not in HOSTILE_KINDS:
        raise FaultSpecError(f"hostile: unknown kind {kind!r}; use {'|'.join(HOSTILE_KINDS)}")
    if target not in HOSTILE_ROUTES:
        raise FaultSpecError(f"hostile: unknown target {target!r}; use {'|'.join(HOSTILE_ROUTES)} (KIND@TARGET#N)")
    if nth and (not nth.isdigit() or int(nth) < 1):
        raise FaultSpecError(f"hostile: #{nth} is not a read number (1, 2, ...)")
    return kind, target, int(nth or 1)


@dataclass
class RequestFaults:
    """What the engine decided for one API request (in the order the middleware applies them)."""

    revoke: bool = False
    latency: float = 0.0
    hang: float | None = None
    status_429: bool = False
    status_5xx: int | None = None
    lost_write: bool = False
    malformed: str | None = None

    def names(self) -> list[str]:
        out = [n for n in ("revoke", "status_429", "lost_write") if getattr(self, n)]
        out += [f"{n}={getattr(self, n)}" for n in ("hang", "status_5xx", "malformed") if getattr(self, n)]
        return out


@dataclass
class FaultEngine:
    seed: int
    default_hang: float = 120.0
    spec: FaultSpec = field(default_factory=FaultSpec)
    _rng: random.Random = field(init=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, init=False)
    _api_requests: int = field(default=0, init=False)
    _failed_once: dict[str, set[str]] = field(default_factory=dict, init=False)
    _pending_bumps: set[tuple[str, str]] = field(default_factory=set, init=False)
    _bumps_left: int = field(default=0, init=False)
    _hostile_reads: int = field(default=0, init=False)
    injected: dict[str, int] = field(default_factory=dict, init=False)

    def __post_init__(self) -> None:
        self.configure(self.spec.text)

    def configure(self, text: str | None) -> FaultSpec:
        """Replace the spec (raises FaultSpecError) and restart the deterministic decision stream."""
        spec = parse_fault_spec(text)
        with self._lock:
            self.spec = spec
            self._rng = random.Random(f"{self.seed}:faults:{spec.text}")
            self._api_requests = 0
            self._failed_once = {"job": set(), "export": set()}
            self._pending_bumps = set()
            self._bumps_left = spec.version_bump_once
            self._hostile_reads = 0
            self.injected = {}
        return spec

    def _count(self, name: str) -> None:
        self.injected[name] = self.injected.get(name, 0) + 1

    def decide(self, method: str, path: str = "") -> RequestFaults:
        """Draw the faults of one API request.

        Reads are GETs and the read-only POST queries (``.../query``): only they get malformed bodies.
        """
        spec, out = self.spec, RequestFaults()
        read = method.upper() == "GET" or path.endswith("/query")
        write = method.upper() != "GET"
        with self._lock:
            rng = self._rng
            self._api_requests += 1
            if spec.revoke_every and self._api_requests % spec.revoke_every == 0:
                out.revoke = True
            low, high = spec.latency
            out.latency = rng.uniform(low, high) if high > 0 else 0.0
            if spec.hang and rng.random() < spec.hang:
                out.hang = spec.hang_for if spec.hang_for is not None else self.default_hang
            elif spec.rate_429 and rng.random() < spec.rate_429:
                out.status_429 = True
            elif spec.rate_5xx and rng.random() < spec.rate_5xx:
                out.status_5xx = rng.choice((500, 502, 503))
            elif write and spec.lost_write and rng.random() < spec.lost_write:
                out.lost_write = True
            elif read and spec.malformed and rng.random() < spec.malformed_rate:
                out.malformed = rng.choice(spec.malformed)
            for name in out.names():
                self._count(name.split("=")[0])
        return out

    def hostile_for(self, method: str, template: str) -> str | None:
        """The ``hostile=`` kind this request's answer gets (its N-th GET of the target route), or None."""
        hostile = self.spec.hostile
        if hostile is None or method.upper() != "GET" or template != HOSTILE_ROUTES[hostile[1]]:
            return None
        with self._lock:
            self._hostile_reads += 1
            if self._hostile_reads != hostile[2]:
                return None
            self._count("hostile")
        return hostile[0]

    # Hooks for the routers -------------------------------------------------------------------

    def _fails(self, kind: str, item_id: str, rate: float, once: int) -> bool:
        with self._lock:
            failed = self._failed_once.setdefault(kind, set())
            if item_id in failed:
                return True
            if len(failed) < once:
                failed.add(item_id)
                self._count(f"{kind}_fail")
                return True
        if rate and random.Random(f"{self.seed}:{kind}:{item_id}").random() < rate:
            with self._lock:
                self._count(f"{kind}_fail")
            return True
        return False

    def should_fail_job(self, job_id: str) -> bool:
        """Whether async analytics job ``job_id`` ends FAILED (stable for a given id)."""
        return self._fails("job", job_id, self.spec.job_fail, self.spec.job_fail_once)

    def should_fail_export(self, export_id: str) -> bool:
        """Whether reporting export ``export_id`` ends FAILED (stable for a given id)."""
        return self._fails("export", export_id, self.spec.export_fail, self.spec.export_fail_once)

    def job_delay_seconds(self) -> float:
        """Extra seconds every async job / export takes (``slow_jobs``), on top of ``--job-seconds`` /
        ``--export-seconds``."""
        return self.spec.slow_jobs

    def note_read(self, kind: str, entity_id: str) -> None:
        """A GET of a versioned entity: maybe another writer will change it before the next write.

        ``version_bump_once`` races come first and draw nothing from the RNG, so the request
        decisions of the rest of the run do not depend on them. A read of an entity whose bump is
        still pending does not use up another one.
        """
        key = (kind, entity_id)
        with self._lock:
            if self._bumps_left > 0 and key not in self._pending_bumps:
                self._bumps_left -= 1
                self._pending_bumps.add(key)
            elif self.spec.version_bump and self._rng.random() < self.spec.version_bump:
                self._pending_bumps.add(key)

    def take_version_bump(self, kind: str, entity_id: str) -> bool:
        """True once after a read that drew a bump: the caller bumps the stored version first."""
        with self._lock:
            if (kind, entity_id) in self._pending_bumps:
                self._pending_bumps.discard((kind, entity_id))
                self._count("version_bump")
                return True
        return False


# Body corruption ------------------------------------------------------------------------------


def _first_dict_with(value: Any, predicate: Any) -> dict | None:
    if isinstance(value, dict):
        if predicate(value):
            return value
        children = list(value.values())
    elif isinstance(value, list):
        children = value
    else:
        return None
    for child in children:
        found = _first_dict_with(child, predicate)
        if found is not None:
            return found
    return None


def malform_body(kind: str, body: bytes) -> tuple[int, bytes, str]:
    """Corrupt a successful JSON answer: returns (status, body, media type)."""
    if kind == "truncated":
        return 200, body[: max(1, len(body) // 2)], "application/json"
    if kind == "html":
        page = b"<html><head><title>502 Bad Gateway</title></head><body><h1>502 Bad Gateway</h1></body></html>"
        return 502, page, "text/html"
    if kind == "empty":
        return 200, b"", "application/json"
    if kind == "oversized":
        # Still valid JSON, just far larger than any page should be.
        return 200, body + b" " * OVERSIZED_PADDING, "application/json"
    try:
        data = json.loads(body)
    except ValueError:
        return 200, body[: len(body) // 2], "application/json"
    if kind == "missing_field":
        target = _first_dict_with(data, lambda d: "id" in d) or _first_dict_with(data, bool)
        if target:
            target.pop("id" if "id" in target else next(iter(target)))
    elif kind == "wrong_type":
        target = _first_dict_with(
            data, lambda d: any(isinstance(v, int | float) and not isinstance(v, bool) for v in d.values())
        )
        if target:
            key = next(k for k, v in target.items() if isinstance(v, int | float) and not isinstance(v, bool))
            target[key] = f"not-a-number-{target[key]}"
        elif isinstance(data, dict) and data:
            data[next(iter(data))] = 12345
    elif kind == "unknown_enum":
        target = _first_dict_with(data, lambda d: any(k in d and isinstance(d[k], str) for k in ENUM_KEYS))
        if target:
            key = next(k for k in ENUM_KEYS if k in target and isinstance(target[k], str))
            target[key] = "SANDBOX_UNKNOWN_VALUE"
    return 200, json.dumps(data).encode(), "application/json"


def hostile_body(kind: str, body: bytes) -> bytes:
    """A successful entity answer made valid-but-wrong JSON (``hostile=``)."""
    if kind == "null":
        return b"null"
    if kind == "empty_list":
        return b"[]"
    if kind == "empty_object":
        return b"{}"
    data = json.loads(body)
    if kind == "intervals_missing":
        data.pop("intervals", None)
    elif kind == "zero_interval":
        first = (data.get("intervals") or [{"start": "2026-06-12T09:00:00.000Z"}])[0]
        data["intervals"] = [{"start": first["start"], "end": first["start"]}]
    elif kind == "wrong_zone":
        data["timeZone"] = "Pacific/Kiritimati" if data.get("timeZone") != "Pacific/Kiritimati" else "UTC"
    elif kind == "abandon_negative":
        data["abandonRate"] = -3.0
    elif kind == "version_missing":
        data.pop("version", None)
    return json.dumps(data).encode()
