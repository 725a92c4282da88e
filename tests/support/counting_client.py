"""A boto3 client that counts the calls of one operation: how often a poller reads, say."""

from __future__ import annotations

from typing import Any


class CountingClient:
    def __init__(self, client: Any, operation: str) -> None:
        self.client = client
        self.operation = operation
        self.calls = 0

    def __getattr__(self, name: str) -> Any:
        attribute = getattr(self.client, name)
        if name != self.operation:
            return attribute

        def counted(**arguments: Any) -> Any:
            self.calls += 1
            return attribute(**arguments)

        return counted
