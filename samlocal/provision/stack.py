"""A provisioned stack: what the provisioner created, and how to reach its services."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from samlocal.provision.clients import local_client

Record = dict[str, str]
"""What the stack records per resource: ``physical_id``, ``type``, ``arn`` (and, for a table,
``stream_arn``)."""


@dataclass
class ProvisionedStack:
    """Physical ids of a stack's resources by logical id, the parameter values it was created
    with, and the endpoint that serves it (None: moto in this process, ``mock_aws``)."""

    name: str
    region: str | None
    endpoint_url: str | None
    resources: dict[str, Record] = field(default_factory=dict)
    parameters: dict[str, str] = field(default_factory=dict)
    """Values given for the template's parameters; the others keep their defaults."""
    api_url: str | None = None
    template: str | None = None
    """The template the stack was provisioned from."""

    client: Callable[[Any], Any] = field(init=False, repr=False, compare=False)
    """``stack.client("sqs")``: a client of the stack's endpoint."""

    def __post_init__(self) -> None:
        self.client = self._new_client

    def _new_client(self, service: Any) -> Any:
        return local_client(service, region=self.region, endpoint_url=self.endpoint_url)

    def physical_id(self, logical_id: str) -> str:
        return self.resources[logical_id]["physical_id"]

    def of_type(self, resource_type: str) -> dict[str, Record]:
        return {k: v for k, v in self.resources.items() if v.get("type") == resource_type}
