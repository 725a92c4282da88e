"""The actor of the request being served (domain/actors.py), for the repositories to store with
each change: the caller the authorizer vouched for, remembered for this request only (a warm
container serves the next request with a new correlation id, so nothing carries over)."""

from __future__ import annotations

from contextvars import ContextVar

from domain.actors import Actor, actor_of_caller
from handlers.observability import logger

_caller: ContextVar[tuple[str | None, str] | None] = ContextVar("caller", default=None)


def remember_caller(user_id: str) -> None:
    _caller.set((logger.get_correlation_id(), user_id))


def request_actor(user_id: str) -> Actor:
    """Who this request changes ``user_id`` as: the signed-in caller (the user or an admin),
    else the user themself (sign-in, reset and verification links)."""
    remembered = _caller.get()
    if remembered is None or remembered[0] != logger.get_correlation_id():
        return actor_of_caller(None, user_id)
    return actor_of_caller(remembered[1], user_id)
