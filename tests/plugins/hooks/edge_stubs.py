"""Small hostile HTTP servers on 127.0.0.1 for the hook's edge tests (real sockets: respx bypasses the
network layer the call deadline lives in). Each server records what it received, Authorization included,
so a test can prove a token never reached it.
"""

from __future__ import annotations

import json
import socket
import socketserver
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

#: A route answers with a full raw response (bytes) or an iterable of (bytes, delay-before-sending).
Answer = bytes | Iterable[tuple[bytes, float]]
Route = Callable[[str, str, dict[str, str]], Answer]


def raw(status: int, body: bytes = b"", headers: dict[str, str] | None = None, *, length: bool = True) -> bytes:
    head = [f"HTTP/1.1 {status} X", "Connection: close"]
    for key, value in (headers or {}).items():
        head.append(f"{key}: {value}")
    if length:
        head.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(head) + "\r\n\r\n").encode() + body


def jsonr(status: int, body: Any, headers: dict[str, str] | None = None) -> bytes:
    return raw(status, json.dumps(body).encode(), {"Content-Type": "application/json", **(headers or {})})


def token_answer() -> bytes:
    return jsonr(200, {"access_token": "edge-token-123", "expires_in": 3600})


@dataclass
class Seen:
    method: str
    path: str
    headers: dict[str, str]


@dataclass
class StubServer:
    route: Route
    seen: list[Seen] = field(default_factory=list)

    def __post_init__(self) -> None:
        stub = self

        class Handler(socketserver.BaseRequestHandler):
            def handle(self) -> None:
                sock: socket.socket = self.request
                sock.settimeout(10)
                data = b""
                try:
                    while b"\r\n\r\n" not in data:
                        chunk = sock.recv(65536)
                        if not chunk:
                            return
                        data += chunk
                    head, _, rest = data.partition(b"\r\n\r\n")
                    lines = head.decode("latin-1").split("\r\n")
                    method, path, _ = lines[0].split(" ", 2)
                    headers = {k.strip().lower(): v.strip() for k, _, v in (ln.partition(":") for ln in lines[1:])}
                    need = int(headers.get("content-length", "0") or 0)
                    while len(rest) < need:
                        rest += sock.recv(65536)
                    stub.seen.append(Seen(method, path, headers))
                    answer = stub.route(method, path, headers)
                    if isinstance(answer, bytes):
                        sock.sendall(answer)
                    else:
                        for piece, delay in answer:
                            if delay:
                                time.sleep(delay)
                            sock.sendall(piece)
                except OSError:
                    pass  # the client gave up (deadline, byte cap): that is the point

        class Server(socketserver.ThreadingTCPServer):
            daemon_threads = True
            allow_reuse_address = True

        self._server = Server(("127.0.0.1", 0), Handler)
        self.port = self._server.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}"
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    def authorizations(self) -> list[str]:
        return [s.headers["authorization"] for s in self.seen if "authorization" in s.headers]

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()


def trickle(total: int, every: float) -> Iterable[tuple[bytes, float]]:
    """A 200 JSON answer that declares ``total`` bytes and sends one byte every ``every`` seconds."""
    yield (b"HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Type: application/json\r\n"
           + f"Content-Length: {total}\r\n\r\n".encode(), 0.0)
    yield b'"', 0.0
    for _ in range(total - 1):
        yield b" ", every


def huge_chunked(total: int, chunk: int = 1 << 20) -> Iterable[tuple[bytes, float]]:
    """A 200 answer of ``total`` bytes with no Content-Length (chunked), sent as fast as it is read."""
    yield b"HTTP/1.1 200 OK\r\nConnection: close\r\nTransfer-Encoding: chunked\r\n\r\n", 0.0
    block = b"[" + b"1," * (chunk // 2 - 1)
    sent = 0
    while sent < total:
        yield f"{len(block):x}\r\n".encode() + block + b"\r\n", 0.0
        sent += len(block)
        block = b"1," * (chunk // 2)
    yield b"0\r\n\r\n", 0.0


def sandbox_extra(url: str, **extra: Any) -> dict[str, Any]:
    return {"api_base_url": url, "login_base_url": url, "requests_per_minute": 600000, "sandbox": True, **extra}
