"""Response shapes shared by the functions that hand out tokens."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.event_handler import Response, content_types

from domain.auth_models import TokenPair
from domain.mfa_models import MfaRequired
from handlers.http import NO_STORE


def token_response(pair: TokenPair | MfaRequired) -> Response[dict[str, Any]]:
    return Response(
        status_code=200,
        content_type=content_types.APPLICATION_JSON,
        body=pair.model_dump(mode="json"),
        headers=NO_STORE,
    )
