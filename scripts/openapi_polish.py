"""What code generators and readers need beyond what the resolvers describe: short operation ids,
tags, the bearer scheme on the routes the authorizer guards, ``servers`` and ``GET /users/me``.

Applied to the merged document by scripts/generate_openapi.py. Ids and tags come from one table
keyed by method and path, so they stay the same whatever router the handlers use; a route missing
from the table still gets a camelCase id (from its function's name) and a tag from its path.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Iterable
from typing import Any

BEARER = "bearerAuth"

TAGS = {
    "accounts": "Register, read, change and delete your own account",
    "sessions": "Log in (password, second factor, passkey), refresh and log out",
    "recovery": "Email verification and forgotten passwords",
    "mfa": "Second factor: TOTP and recovery codes",
    "passkeys": "Passkeys (WebAuthn) of your own account",
    "admin": "What only admins may do: list, disable and enable users, reset their MFA",
    "keys": "What other services need to verify access tokens",
}

OPERATIONS: dict[tuple[str, str], tuple[str, str]] = {
    ("get", "/.well-known/jwks.json"): ("getJwks", "keys"),
    ("get", "/.well-known/openid-configuration"): ("getOpenidConfiguration", "keys"),
    ("post", "/users"): ("createUser", "accounts"),
    ("get", "/users/me"): ("getCurrentUser", "accounts"),
    ("get", "/users/{user_id}"): ("getUser", "accounts"),
    ("patch", "/users/{user_id}"): ("updateUser", "accounts"),
    ("delete", "/users/{user_id}"): ("deleteUser", "accounts"),
    ("post", "/auth/login"): ("login", "sessions"),
    ("post", "/auth/refresh"): ("refreshTokens", "sessions"),
    ("post", "/auth/logout"): ("logout", "sessions"),
    ("post", "/auth/mfa"): ("verifySecondFactor", "sessions"),
    ("post", "/auth/passkey/options"): ("getPasskeySignInOptions", "sessions"),
    ("post", "/auth/passkey"): ("signInWithPasskey", "sessions"),
    ("post", "/auth/verify-email"): ("verifyEmail", "recovery"),
    ("post", "/auth/verify-email/resend"): ("resendVerificationEmail", "recovery"),
    ("post", "/auth/forgot-password"): ("forgotPassword", "recovery"),
    ("post", "/auth/reset-password"): ("resetPassword", "recovery"),
    ("get", "/users/me/mfa"): ("getMfaStatus", "mfa"),
    ("post", "/users/me/mfa/totp"): ("startTotpEnrolment", "mfa"),
    ("post", "/users/me/mfa/totp/confirm"): ("confirmTotp", "mfa"),
    ("delete", "/users/me/mfa/totp"): ("disableTotp", "mfa"),
    ("post", "/users/me/mfa/recovery-codes"): ("regenerateRecoveryCodes", "mfa"),
    ("post", "/users/me/passkeys/options"): ("getPasskeyRegistrationOptions", "passkeys"),
    ("post", "/users/me/passkeys"): ("registerPasskey", "passkeys"),
    ("get", "/users/me/passkeys"): ("listPasskeys", "passkeys"),
    ("patch", "/users/me/passkeys/{passkey_id}"): ("renamePasskey", "passkeys"),
    ("delete", "/users/me/passkeys/{passkey_id}"): ("removePasskey", "passkeys"),
    ("delete", "/users/me/password"): ("removePassword", "passkeys"),
    ("get", "/users"): ("listUsers", "admin"),
    ("post", "/users/{user_id}/disable"): ("disableUser", "admin"),
    ("post", "/users/{user_id}/enable"): ("enableUser", "admin"),
    ("delete", "/users/{user_id}/mfa"): ("resetUserMfa", "admin"),
}

SERVERS = [
    {"url": "http://127.0.0.1:3000", "description": "`userflow local` (make run)"},
    {
        "url": "https://{apiId}.execute-api.{region}.amazonaws.com",
        "description": "A deployed stack (its ApiUrl output)",
        "variables": {
            "apiId": {"default": "abc123", "description": "The HTTP API's id"},
            "region": {"default": "eu-west-1", "description": "The stack's region"},
        },
    },
]

ME_NOTE = "`me` names the caller's own record."


def route_shape(path: str) -> str:
    """A path with its parameters' names dropped: the template's ``{id}`` is the code's
    ``{user_id}``."""
    return re.sub(r"\{[^}]*\}", "{}", path)


def camel_case(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.capitalize() for part in rest)


def function_name(operation_id: str, method: str, path: str) -> str:
    """The handler function's name in a Powertools-style id (``get_user_users__user_id__get``)."""
    suffix = re.sub(r"\W", "_", path) + f"_{method}"
    return operation_id.removesuffix(suffix) or operation_id


def fallback_tag(path: str) -> str:
    if path.startswith("/.well-known/"):
        return "keys"
    if path.startswith("/auth/"):
        return "sessions"
    return "accounts"


def add_current_user(paths: dict[str, Any]) -> None:
    """``GET /users/me`` is its own route in the template, served by GET /users/{id}'s code."""
    by_id = paths.get("/users/{user_id}", {}).get("get")
    if by_id is None or "/users/me" in paths:
        return
    operation = copy.deepcopy(by_id)
    operation["summary"] = "GET /users/me"
    operation["description"] = "The caller's own record, with its version as the ETag."
    operation.pop("parameters", None)
    operation["responses"].pop("404", None)
    paths["/users/me"] = {"get": operation}
    for method in ("get", "patch", "delete"):
        if method in paths["/users/{user_id}"]:
            found = paths["/users/{user_id}"][method]
            found["description"] = " ".join(filter(None, (found.get("description"), ME_NOTE)))


def add_authorizer_refusals(responses: dict[str, Any]) -> None:
    """Every guarded route can answer the authorizer's 401 (no token) and 403 (token refused)."""
    template = next(iter(r for r in responses.values() if "ErrorBody" in repr(r)), None)
    for status, phrase in (("401", "Unauthorized"), ("403", "Forbidden")):
        if status not in responses and template is not None:
            responses[status] = {**copy.deepcopy(template), "description": phrase}


def plain_objects(schemas: dict[str, Any]) -> None:
    """An object schema with an ``anyOf`` of required-field alternatives (LogoutRequest: a
    ``refresh_token``, ``"all": true`` or both) becomes a plain object: generators turn such an
    ``anyOf`` into an untyped union. The rule stays in the description and in the code."""
    for schema in schemas.values():
        if schema.get("type") == "object" and "properties" in schema and "anyOf" in schema:
            alternatives = [
                " and ".join(f"`{name}`" for name in option.get("required", []))
                for option in schema.pop("anyOf")
            ]
            rule = f"Send at least one of: {', '.join(alternatives)}."
            schema["description"] = " ".join(filter(None, (schema.get("description"), rule)))


def drop_unused_schemas(document: dict[str, Any]) -> None:
    """Powertools adds its validation-error schemas whether or not an operation names them;
    generators would emit classes nothing returns."""
    schemas = document["components"]["schemas"]
    while True:
        text = repr(document["paths"]) + repr(schemas)
        unused = [name for name in schemas if f"#/components/schemas/{name}'" not in text]
        if not unused:
            return
        for name in unused:
            del schemas[name]


def polish(document: dict[str, Any], public_routes: Iterable[tuple[str, str]]) -> dict[str, Any]:
    """``public_routes``: (method, path) of the routes with no authorizer, as the template says."""
    public = {(method.lower(), route_shape(path)) for method, path in public_routes}
    paths: dict[str, Any] = document["paths"]
    add_current_user(paths)
    for path, operations in paths.items():
        for method, operation in operations.items():
            known = OPERATIONS.get((method, path))
            if known is None:
                name = function_name(operation.get("operationId", method), method, path)
                known = (camel_case(name), fallback_tag(path))
            operation["operationId"], tag = known
            operation["tags"] = [tag]
            guarded = (method, route_shape(path)) not in public
            operation["security"] = [{BEARER: []}] if guarded else []
            if guarded:
                add_authorizer_refusals(operation["responses"])
            operation["responses"] = dict(sorted(operation["responses"].items()))
    document["paths"] = dict(sorted(paths.items()))
    used = {op["tags"][0] for operations in paths.values() for op in operations.values()}
    document["tags"] = [
        {"name": name, "description": text} for name, text in TAGS.items() if name in used
    ]
    document["servers"] = SERVERS
    document["info"]["license"] = {"name": "Apache-2.0", "identifier": "Apache-2.0"}
    document["components"]["securitySchemes"] = {
        BEARER: {
            "type": "http",
            "scheme": "bearer",
            "bearerFormat": "JWT",
            "description": "The access_token of POST /auth/login (or /auth/refresh, /auth/mfa, "
            "/auth/passkey)",
        }
    }
    plain_objects(document["components"]["schemas"])
    drop_unused_schemas(document)
    return document
