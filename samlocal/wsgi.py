"""WSGI's types, for the middleware the emulator puts in front of moto's server app."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

Environ = dict[str, Any]
StartResponse = Callable[..., Any]
WsgiApp = Callable[[Environ, StartResponse], Iterable[bytes]]
Middleware = Callable[[WsgiApp], WsgiApp]
"""Wraps the AWS endpoint's app: ``middleware(app) -> app``."""
