"""Per-source limits around an unauthenticated route (domain/source_limits.py): the request is
counted (429 over a limit) before any work, and its failure, if it fails as a guess would, after."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from domain.errors import AuthenticationFailed, EmailAlreadyExists, InvalidRecoveryToken
from handlers.actors import source_ip
from handlers.dependencies import source_limiter
from handlers.router import Router

COUNTED_FAILURES = (AuthenticationFailed, InvalidRecoveryToken, EmailAlreadyExists)
"""What a guesser meets: wrong credentials, a dead token, an address that exists."""


@contextmanager
def limited_by_source(app: Router, route: str) -> Iterator[str]:
    """Yields the source address (for the mail limits)."""
    address = source_ip(app)
    limiter = source_limiter()
    limiter.admit(address, route)
    try:
        yield address
    except COUNTED_FAILURES:
        limiter.count_failure(address)
        raise
