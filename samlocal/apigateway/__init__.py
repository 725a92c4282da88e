"""API Gateway's part: an HTTP API (payload format 2.0) in front of the template's functions —
the listener and its limits (``server``, ``http_framing``), one request's way through
(``gateway``: routes, authorizers, CORS as middleware) and the events and responses as API
Gateway shapes them (``events``, ``responses``)."""

from samlocal.apigateway.cors import cors_from_template, cors_middleware
from samlocal.apigateway.gateway import Gateway, Middleware, Request
from samlocal.apigateway.responses import Response
from samlocal.apigateway.routes import api_from_template
from samlocal.apigateway.server import GatewayServer

__all__ = [
    "Gateway",
    "GatewayServer",
    "Middleware",
    "Request",
    "Response",
    "api_from_template",
    "cors_from_template",
    "cors_middleware",
]
