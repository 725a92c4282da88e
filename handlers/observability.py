"""Logger, Tracer and Metrics, configured once (service names from POWERTOOLS_* env vars), and the
security outcomes the domain reports, counted and logged with them."""

import os
from collections.abc import Callable
from functools import cache
from typing import Any

from aws_lambda_powertools import Logger, Metrics, Tracer

from handlers.snapstart import register_hooks

logger = Logger()
metrics = Metrics()
register_hooks()  # every function imports this module once, during INIT

Handler = Callable[[dict[str, Any], Any], Any]


@cache
def tracer() -> Tracer:
    """Created on first use: it loads the X-Ray SDK (~100-400 ms of cold start)."""
    return Tracer()


def tracing_enabled() -> bool:
    """Powertools' switch. The template turns the SDK on only with the DetailedTracing parameter:
    Lambda's active tracing records every invocation without it, and the SDK costs ~80 ms of every
    cold start (the stream processor's included: its INIT is billed like any other)."""
    return os.environ.get("POWERTOOLS_TRACE_DISABLED", "false").lower() != "true"


def traced(handler: Handler, *, capture_response: bool = True) -> Handler:
    """``handler`` inside an X-Ray subsegment when tracing is on; the SDK is loaded by the first
    traced call, never when tracing is off."""
    wrapped: list[Handler] = []

    def entry(event: dict[str, Any], context: Any) -> Any:
        if not tracing_enabled():
            return handler(event, context)
        if not wrapped:
            wrapped.append(
                tracer().capture_lambda_handler(handler, capture_response=capture_response)
            )
        return wrapped[0](event, context)

    return entry


# A throttle, a stolen refresh token, a cloned passkey (domain/auth_service.py and
# domain/passkey_assertions.py name them): warnings, not routine.
WARNING_OUTCOMES = frozenset(
    {"LoginThrottled", "LoginResetRequired", "RefreshReuseDetected", "PasskeyCloneDetected"}
)


def record_outcome(name: str, *, user_id: str | None = None, family_id: str | None = None) -> None:
    """Counts ``name`` and, when it concerns a user, logs one line naming them: "which account
    was locked, whose tokens were stolen, did X get the reset mail" is answered by user id."""
    metrics.add_metric(name=name, unit="Count", value=1)
    if user_id is None:
        return
    details = {"outcome": name, "user_id": user_id}
    if family_id is not None:
        details["family_id"] = family_id
    (logger.warning if name in WARNING_OUTCOMES else logger.info)(name, extra=details)
