"""Clients of the emulated AWS, all made by one boto3 session per process.

A session of its own per client parses botocore's endpoint and service data again for each: that
was half of a local stack's start-up. Making clients from one session is not safe from two threads
at once (the runtime's pollers and servers make theirs as they start), hence the lock; the clients
themselves are.
"""

from __future__ import annotations

import functools
import threading
from typing import Any

_lock = threading.Lock()


@functools.cache
def _session() -> Any:
    import boto3  # not for the worker processes that import this package

    return boto3.session.Session()


def local_client(service: str, *, region: str | None, endpoint_url: str | None) -> Any:
    """A client of ``service`` at ``endpoint_url`` (None: moto in this process, ``mock_aws``).
    The emulation checks no credentials, but botocore will not sign without some, and a laptop
    need not have an AWS profile."""
    with _lock:
        return _session().client(
            service,
            region_name=region,
            endpoint_url=endpoint_url,
            aws_access_key_id="local",
            aws_secret_access_key="local",  # noqa: S106 - placeholder, checked by no one
        )
