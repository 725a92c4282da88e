"""Lambda authorizer (HTTP API, payload 2.0, simple responses): verifies the bearer access token.

Only the public JWKS is read: the authorizer verifies the token itself (signature, ``typ``,
claims) and reads no table. The caller's id and roles, the token's session generation and session
(``sid``), ``auth_time`` and ``amr`` go into the authorizer context, the only place handlers take
the caller from; whether the session was revoked since is checked on the caller's item, which every
protected route reads anyway (docs/api/auth.md, "Sessions"). Where ``MfaPolicy`` covers the
caller and the token's ``amr`` holds no second factor, only the enrolment routes are admitted
(domain/mfa_policy.py). Tokens are never logged, only why one was refused.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from domain.mfa_policy import MfaPolicy
from domain.token_verifier import InvalidToken
from handlers.cold_start import started
from handlers.observability import logger, metrics
from handlers.settings import AuthorizerSettings, load
from handlers.stores import public_keys

DENY: dict[str, Any] = {"isAuthorized": False}


@cache
def mfa_policy() -> MfaPolicy:
    return load(AuthorizerSettings).mfa_policy


MAX_TOKEN_LENGTH = 4096


def bearer_token(headers: dict[str, str] | None) -> str | None:
    scheme, _, token = (headers or {}).get("authorization", "").strip().partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token or len(token) > MAX_TOKEN_LENGTH:
        return None
    return token


@started
@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP)
# Cold starts only (OperationsDashboard): the authorizer runs before every protected request.
@metrics.log_metrics(capture_cold_start_metric=True)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    token = bearer_token(event.get("headers"))
    if token is None:
        logger.info("Access denied", extra={"reason": "no bearer token"})
        return DENY
    try:
        claims = public_keys().verify(token)
    except InvalidToken as error:
        logger.info("Access denied", extra={"reason": str(error)})
        return DENY
    if not mfa_policy().admits(claims.roles, claims.amr, str(event.get("routeKey", ""))):
        # An enrolment-only token (domain/mfa_policy.py): verdicts are not cached per token
        # (ReauthorizeEvery: 0), so deciding by route is sound.
        logger.info("Access denied", extra={"reason": "MfaPolicy: enrolment-only token"})
        return DENY
    return {
        "isAuthorized": True,
        "context": {
            "sub": claims.sub,
            "roles": ",".join(claims.roles),
            "gen": claims.session_generation,
            "sid": claims.family_id,
            "auth_time": claims.auth_time,
            "amr": ",".join(claims.amr),
        },
    }
