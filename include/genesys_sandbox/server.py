"""Run the sandbox in a background thread (tests, benchmarks, the dev stack)."""

from __future__ import annotations

import socket
import threading
import time
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

import uvicorn
from fastapi import FastAPI

from genesys_sandbox.app import create_app
from genesys_sandbox.config import SandboxConfig

if TYPE_CHECKING:
    from genesys_sandbox.state import SandboxState


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]


@dataclass
class SandboxHandle:
    url: str
    app: FastAPI
    server: uvicorn.Server
    thread: threading.Thread

    @property
    def state(self) -> SandboxState:
        return self.app.state.sandbox

    def stop(self, timeout: float = 10.0) -> None:
        self.server.should_exit = True
        self.thread.join(timeout)

    def __enter__(self) -> SandboxHandle:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def run_in_thread(config: SandboxConfig | None = None, startup_timeout: float = 15.0) -> SandboxHandle:
    """Start uvicorn on ``config.host``; port 0 (or None) picks a free one. Returns once it serves."""
    config = config or SandboxConfig(port=0)
    if not config.port:
        config = replace(config, port=free_port(config.host))
    app = create_app(config)
    server = uvicorn.Server(
        uvicorn.Config(
            app,
            host=config.host,
            port=config.port,
            log_level="warning",
            access_log=False,
            # Hung requests (fault "hang") must not hold up stop().
            timeout_graceful_shutdown=1,
        )
    )
    thread = threading.Thread(target=server.run, name="genesys-sandbox", daemon=True)
    thread.start()
    deadline = time.monotonic() + startup_timeout
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            server.should_exit = True
            raise RuntimeError(f"sandbox did not start on {config.host}:{config.port}")
        time.sleep(0.02)
    return SandboxHandle(f"http://{config.host}:{config.port}", app, server, thread)
