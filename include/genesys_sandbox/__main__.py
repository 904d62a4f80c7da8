"""``python -m genesys_sandbox --host 127.0.0.1 --port 8765 [--seed N] [--clock ISO] [--faults SPEC] ...``"""

from __future__ import annotations

import argparse
import sys

import uvicorn

from genesys_sandbox.app import create_app
from genesys_sandbox.clock import parse_instant
from genesys_sandbox.config import (
    DEFAULT_CLIENT_ID,
    DEFAULT_CLIENT_SECRET,
    DEFAULT_WEBHOOK_SECRET,
    SandboxConfig,
    parse_client_spec,
)
from genesys_sandbox.faults import FaultSpecError, parse_fault_spec


def parse_args(argv: list[str] | None = None) -> SandboxConfig:
    parser = argparse.ArgumentParser(prog="genesys_sandbox", description="Local Genesys Cloud API emulator")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--seed", type=int, default=42, help="seed of the synthetic org and its data")
    parser.add_argument("--clock", help="the sandbox's 'now' at start (ISO 8601); default: real time")
    parser.add_argument("--requests-per-minute", type=int, default=300, help="API budget per token/client")
    parser.add_argument("--budget-per", choices=("token", "client"), default="token")
    parser.add_argument("--rate-limit-code", choices=("too.many.requests", "too.many.requests.retry.after"),
                        default="too.many.requests", help="ErrorBody code of a 429 (the live one is unverified)")
    parser.add_argument("--missing-version-status", type=int, choices=(409, 400), default=409,
                        help="answer to a PUT of an existing entity without version (genesys-api.md: 409)")
    parser.add_argument("--token-ttl", type=int, default=86400, help="expires_in of issued tokens, seconds")
    parser.add_argument("--scale", type=int, default=2000, help="conversations per day")
    parser.add_argument("--faults", default="", help="fault spec, e.g. 'latency=0.2-1.0,5xx=0.1' (README)")
    parser.add_argument("--no-self-validation", action="store_true", help="skip model checks of responses")
    parser.add_argument("--client-id", default=DEFAULT_CLIENT_ID)
    parser.add_argument("--client-secret", default=DEFAULT_CLIENT_SECRET)
    parser.add_argument("--webhook-secret", default=DEFAULT_WEBHOOK_SECRET)
    parser.add_argument("--hang-seconds", type=float, default=120.0, help="how long a 'hang' fault holds")
    parser.add_argument("--job-seconds", type=float, default=0.5, help="analytics job: seconds to FULFILLED")
    parser.add_argument("--export-seconds", type=float, default=0.6, help="reporting export: seconds to COMPLETED")
    parser.add_argument(
        "--client",
        action="append",
        default=[],
        metavar="ID:SECRET:PERM1|PERM2",
        help="extra OAuth client with these permissions ('*' = all); repeatable",
    )
    args = parser.parse_args(argv)
    try:
        extra_clients = [parse_client_spec(spec) for spec in args.client]
        ids = [args.client_id, *(c.client_id for c in extra_clients)]
        if len(set(ids)) != len(ids):
            raise ValueError("--client ids must differ from each other and from --client-id")
        parse_fault_spec(args.faults)
        if args.clock:
            parse_instant(args.clock)
    except (FaultSpecError, ValueError) as exc:
        parser.error(str(exc))
    for name in ("requests_per_minute", "token_ttl", "scale"):
        if getattr(args, name) < 1:
            parser.error(f"--{name.replace('_', '-')} must be at least 1")
    for name in ("job_seconds", "export_seconds"):
        if getattr(args, name) < 0:
            parser.error(f"--{name.replace('_', '-')} must not be negative")
    return SandboxConfig(
        host=args.host,
        port=args.port,
        seed=args.seed,
        clock=args.clock,
        requests_per_minute=args.requests_per_minute,
        budget_per=args.budget_per,
        rate_limit_code=args.rate_limit_code,
        missing_version_status=args.missing_version_status,
        token_ttl=args.token_ttl,
        scale=args.scale,
        faults=args.faults,
        self_validation=not args.no_self_validation,
        client_id=args.client_id,
        client_secret=args.client_secret,
        webhook_secret=args.webhook_secret,
        hang_seconds=args.hang_seconds,
        job_seconds=args.job_seconds,
        export_seconds=args.export_seconds,
        extra_clients=extra_clients,
    )


def main(argv: list[str] | None = None) -> int:
    config = parse_args(argv)
    uvicorn.run(create_app(config), host=config.host, port=config.port, log_level="info", timeout_graceful_shutdown=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
