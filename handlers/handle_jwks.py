"""GET /.well-known/jwks.json: the public keys that verify access tokens."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field
from pydantic.json_schema import SkipJsonSchema

from handlers.http import create_resolver, documented, lambda_handler
from handlers.router import Response, content_types
from handlers.stores import public_keys

app = create_resolver()


class PublicJwk(BaseModel):
    """An ES256 public key (RFC 7517/7518)."""

    # These models document the response: the function never builds their validators.
    model_config = ConfigDict(defer_build=True)

    kty: Literal["EC"]
    crv: Literal["P-256"]
    x: str
    y: str
    kid: str
    alg: Literal["ES256"]
    use: Literal["sig"]
    exp: int | SkipJsonSchema[None] = Field(
        default=None, description="Retired key: tokens it signed are refused after this instant"
    )


class Jwks(BaseModel):
    model_config = ConfigDict(defer_build=True)

    keys: list[PublicJwk]


@app.get("/.well-known/jwks.json", responses=documented(200, Jwks))
def jwks() -> Response[str]:
    keys = public_keys()
    return Response(
        status_code=200,
        content_type=content_types.APPLICATION_JSON,
        body=keys.jwks_text(),
        # Verifiers may cache as long as the functions do: a new key is published at least that
        # long before it signs, and an old one stays longer than its tokens live.
        headers={"Cache-Control": f"public, max-age={keys.cache_seconds}"},
    )


handler = lambda_handler(app)
