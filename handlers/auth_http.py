"""Response shapes shared by the functions that hand out tokens."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.event_handler import Response, content_types

from domain.auth_models import TokenPair

# RFC 6749 section 5.1: responses carrying tokens must not be cached by anyone.
NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}


def token_response(pair: TokenPair) -> Response[dict[str, Any]]:
    return Response(
        status_code=200,
        content_type=content_types.APPLICATION_JSON,
        body=pair.model_dump(mode="json"),
        headers=NO_STORE,
    )
