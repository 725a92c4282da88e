"""GET /.well-known/openid-configuration: where services that verify our access tokens find the
issuer and the keys (the parts of OpenID Connect Discovery 1.0 that apply: this API issues
access tokens, not ID tokens, and has no authorization endpoint)."""

from __future__ import annotations

from functools import cache
from typing import Literal

from pydantic import BaseModel, Field

from handlers.http import create_resolver, documented, lambda_handler
from handlers.router import Response, content_types
from handlers.settings import DiscoverySettings, load

app = create_resolver()

CLAIMS = ["sub", "iss", "aud", "exp", "iat", "jti", "roles", "auth_time", "amr"]


class OpenIdConfiguration(BaseModel):
    """OpenID Connect Discovery metadata: verify ``iss`` against ``issuer`` and signatures with
    the keys at ``jwks_uri``."""

    issuer: str = Field(description="The exact `iss` claim of access tokens")
    jwks_uri: str = Field(description="The public keys (JWKS) that verify access tokens")
    subject_types_supported: list[Literal["public"]]
    id_token_signing_alg_values_supported: list[Literal["ES256"]] = Field(
        description="The one algorithm access tokens are signed with (pin it when verifying)"
    )
    token_endpoint_auth_methods_supported: list[Literal["none"]]
    claims_supported: list[str]


@cache
def discovery_settings() -> DiscoverySettings:
    return load(DiscoverySettings)


def public_base_url() -> str:
    """The URL this request reached (a custom domain included), as API Gateway saw it."""
    event = app.current_event
    scheme = event.headers.get("x-forwarded-proto", "https").split(",")[0].strip()
    return f"{scheme}://{event.request_context.domain_name}"


@app.get("/.well-known/openid-configuration", responses=documented(200, OpenIdConfiguration))
def openid_configuration() -> Response[str]:
    settings = discovery_settings()
    document = OpenIdConfiguration(
        issuer=settings.issuer,
        jwks_uri=f"{public_base_url()}/.well-known/jwks.json",
        subject_types_supported=["public"],
        id_token_signing_alg_values_supported=["ES256"],
        token_endpoint_auth_methods_supported=["none"],
        claims_supported=CLAIMS,
    )
    return Response(
        status_code=200,
        content_type=content_types.APPLICATION_JSON,
        body=document.model_dump_json(),
        headers={"Cache-Control": f"public, max-age={settings.discovery_cache_seconds}"},
    )


handler = lambda_handler(app)
