"""Logger, Tracer and Metrics, configured once; service names come from POWERTOOLS_* env vars."""

from functools import cache

from aws_lambda_powertools import Logger, Metrics, Tracer

logger = Logger()
metrics = Metrics()


@cache
def tracer() -> Tracer:
    """Created on first use: it loads the X-Ray SDK (~100 ms of cold start), which the
    authorizer, the hottest function, never needs."""
    return Tracer()
