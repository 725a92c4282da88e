"""Logger, Tracer and Metrics, configured once; service names come from POWERTOOLS_* env vars."""

from aws_lambda_powertools import Logger, Metrics, Tracer

logger = Logger()
tracer = Tracer()
metrics = Metrics()
