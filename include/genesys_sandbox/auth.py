"""OAuth client-credentials login (``POST /oauth/token``) and the bearer check of ``/api/v2`` calls."""

from __future__ import annotations

import base64
import binascii
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from genesys_pipelines.models.auth import OAuthError, TokenResponse
from genesys_sandbox.errors import error_response
from genesys_sandbox.responses import api_json

router = APIRouter()


@dataclass
class TokenInfo:
    token: str
    client_id: str
    issued_at: float
    expires_at: float
    revoked: bool = False


class TokenStore:
    """Issued tokens; ``clock`` is real (wall) time because expiry is about real elapsed time."""

    def __init__(self, ttl: int, clock: Callable[[], float] = time.time) -> None:
        self.ttl = ttl
        self.clock = clock
        self._tokens: dict[str, TokenInfo] = {}
        self._lock = threading.Lock()

    def issue(self, client_id: str) -> TokenInfo:
        now = self.clock()
        info = TokenInfo(secrets.token_urlsafe(32), client_id, now, now + self.ttl)
        with self._lock:
            self._tokens[info.token] = info
        return info

    def check(self, token: str) -> tuple[TokenInfo | None, str | None]:
        """(info, None) for a live token, else (info or None, the reason it is refused)."""
        info = self._tokens.get(token)
        if info is None:
            return None, "Invalid login credentials."
        if info.revoked:
            return info, "The access token has been revoked."
        if self.clock() >= info.expires_at:
            return info, "The access token has expired."
        return info, None

    def revoke(self, token: str) -> None:
        if token in self._tokens:
            self._tokens[token].revoked = True

    def all(self) -> list[TokenInfo]:
        with self._lock:
            return list(self._tokens.values())


def _oauth_error(status: int, error: str, description: str) -> JSONResponse:
    body = OAuthError(error=error, description=description, error_description=description).to_api()
    return JSONResponse(body, status_code=status)


def _basic_credentials(header: str | None) -> tuple[str, str] | None:
    if not header or not header.lower().startswith("basic "):
        return None
    try:
        decoded = base64.b64decode(header[6:].strip(), validate=True).decode()
    except (binascii.Error, UnicodeDecodeError):
        return None
    client_id, sep, secret = decoded.partition(":")
    return (client_id, secret) if sep else None


@router.post("/oauth/token")
async def token(request: Request) -> JSONResponse:
    state = request.app.state.sandbox
    credentials = _basic_credentials(request.headers.get("authorization"))
    if credentials is None:
        return _oauth_error(401, "invalid_client", "client authentication with HTTP Basic is required")
    client_id, secret = credentials
    if state.clients.authenticate(client_id, secret) is None:
        return _oauth_error(401, "invalid_client", "authentication failed")
    form = await request.form()
    grant = form.get("grant_type")
    if not grant:
        return _oauth_error(400, "invalid_request", "grant_type is required")
    if grant != "client_credentials":
        return _oauth_error(400, "unsupported_grant_type", f"grant type {grant} is not supported")
    info = state.tokens.issue(client_id)
    body = TokenResponse(access_token=info.token, token_type="bearer", expires_in=state.config.token_ttl)
    return api_json(request, TokenResponse, body.to_api())


def bearer_token(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    return value.strip() if scheme.lower() == "bearer" and value.strip() else None


def check_bearer(request: Request) -> tuple[TokenInfo | None, JSONResponse | None]:
    """The caller's token, or the 401 ErrorBody answer to send instead."""
    token = bearer_token(request)
    if token is None:
        return None, error_response(401, "No authentication bearer token specified in authorization header.")
    info, reason = request.app.state.sandbox.tokens.check(token)
    if reason is not None:
        return None, error_response(401, reason)
    return info, None
