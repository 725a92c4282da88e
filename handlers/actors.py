"""Who the request being served comes from: the caller the Lambda authorizer vouched for, its
address, and the actor (domain/actors.py) the repositories store with each change, remembered for
this request only (a warm container serves the next request with a new correlation id, so nothing
carries over)."""

from __future__ import annotations

from contextvars import ContextVar
from typing import TYPE_CHECKING

from domain.access import Caller
from domain.actors import Actor, actor_of_caller
from domain.errors import AuthenticationFailed
from handlers.observability import logger

if TYPE_CHECKING:
    from handlers.router import Router

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


def current_caller(app: Router) -> Caller:
    """The caller as the Lambda authorizer vouched for it; never from headers or body."""
    context = app.current_event.request_context.authorizer.get_lambda or {}
    user_id, family_id = context.get("sub"), context.get("sid")
    if not user_id or not family_id:
        raise AuthenticationFailed("Missing authorizer context")
    try:
        session_generation = int(context["gen"])
        auth_time = int(context["auth_time"])
    except (KeyError, TypeError, ValueError) as error:
        raise AuthenticationFailed("Missing authorizer context") from error
    logger.append_keys(user_id=str(user_id))
    remember_caller(str(user_id))
    return Caller(
        user_id=str(user_id),
        roles=_names(context.get("roles")),
        session_generation=session_generation,
        family_id=str(family_id),
        auth_time=auth_time,
        amr=tuple(sorted(_names(context.get("amr")))),
    )


def _names(joined: object) -> frozenset[str]:
    """Roles and methods travel comma-joined in the authorizer context (only strings, numbers
    and booleans may)."""
    return frozenset(filter(None, str(joined or "").split(",")))


def source_ip(app: Router) -> str:
    """The client address as API Gateway saw it (never a header the client could forge)."""
    return str(app.current_event.request_context.http.source_ip)
