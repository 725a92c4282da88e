"""GET /.well-known/jwks.json: the public keys that verify access tokens."""

from __future__ import annotations

from aws_lambda_powertools.event_handler import Response, content_types

from handlers.dependencies import public_keys
from handlers.http import create_resolver, documented, lambda_handler

app = create_resolver()


@app.get("/.well-known/jwks.json", responses=documented(200, None))
def jwks() -> Response[str]:
    return Response(
        status_code=200,
        content_type=content_types.APPLICATION_JSON,
        body=public_keys().jwks_text(),
        # Verifiers may cache as long as the functions do; rotation keeps old keys longer.
        headers={"Cache-Control": "public, max-age=300"},
    )


handler = lambda_handler(app)
