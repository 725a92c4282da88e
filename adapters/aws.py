"""Cached boto3 clients, created on first use so that cold starts import only what they need."""

from __future__ import annotations

from functools import cache
from typing import Any

import boto3


@cache
def client(service: str) -> Any:
    return boto3.session.Session().client(service)  # type: ignore[call-overload]
