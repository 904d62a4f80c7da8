"""OAuth client-credentials token exchange (``POST /oauth/token`` on the login host).

The token endpoint speaks OAuth's snake_case, not the Platform API's camelCase, so these models set
their own aliases instead of the camelCase generator.
"""

from __future__ import annotations

from typing import Literal

from pydantic import ConfigDict

from genesys_pipelines.models.common import GenesysModel

__all__ = ["OAuthError", "TokenResponse"]


class _OAuthModel(GenesysModel):
    # OAuth field names are already snake_case on the wire.
    model_config = ConfigDict(alias_generator=None, populate_by_name=True, extra="allow")


class TokenResponse(_OAuthModel):
    access_token: str
    token_type: Literal["bearer"] = "bearer"
    expires_in: int


class OAuthError(_OAuthModel):
    """RFC 6749 §5.2 error body, as the login host answers a bad client or grant."""

    error: Literal[
        "invalid_request",
        "invalid_client",
        "invalid_grant",
        "unauthorized_client",
        "unsupported_grant_type",
        "invalid_scope",
    ]
    description: str | None = None
    error_description: str | None = None
