"""The template's DynamoDB stream event source mappings, read with Lambda's defaults.

Every ``Type: DynamoDB`` event of every function is one mapping, with its own stream,
``FilterCriteria``, batch settings, retry bounds and on-failure destination; the runtime runs
one poller per mapping, so a second function on the same table stream needs no code.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from samlocal.intrinsics import Resolver
from samlocal.stream_mapping.filter_criteria import validate
from samlocal.template import Template


@dataclass(frozen=True)
class StreamMapping:
    """One ``Type: DynamoDB`` event of a function, with Lambda's defaults."""

    function: str
    stream_arn: str
    batch_size: int = 100
    batching_window_s: float = 0.0
    starting_position: str = "TRIM_HORIZON"
    filters: tuple[Mapping[str, Any], ...] = ()
    report_item_failures: bool = False
    bisect_on_error: bool = False
    max_retries: int = -1
    max_record_age_s: int = -1
    on_failure: str | None = None
    enabled: bool = True
    event: str = ""
    """The event's name in the template (a function may have several)."""

    @property
    def name(self) -> str:
        return f"{self.function}.{self.event}" if self.event else self.function


def mappings_from_template(template: Template, resolver: Resolver) -> list[StreamMapping]:
    """Every DynamoDB stream event source of the template's functions, resolved."""
    mappings = []
    for event in template.function_events("DynamoDB", resolver.resource_enabled):
        properties = resolver.resolve(event.properties)
        mappings.append(_mapping(event.function, event.name, properties))
    return mappings


def _mapping(function: str, event: str, p: Mapping[str, Any]) -> StreamMapping:
    filters = tuple(
        json.loads(f["Pattern"]) if isinstance(f["Pattern"], str) else f["Pattern"]
        for f in p.get("FilterCriteria", {}).get("Filters", [])
    )
    for pattern in filters:
        try:
            validate(pattern)
        except ValueError as error:
            # CreateEventSourceMapping refuses it: the deploy would fail.
            raise ValueError(f"{function}: invalid FilterCriteria: {error}") from None
    destination = p.get("DestinationConfig", {}).get("OnFailure", {}).get("Destination")
    return StreamMapping(
        function=function,
        event=event,
        stream_arn=str(p["Stream"]),
        batch_size=int(p.get("BatchSize", 100)),
        batching_window_s=float(p.get("MaximumBatchingWindowInSeconds", 0)),
        starting_position=str(p.get("StartingPosition", "TRIM_HORIZON")),
        filters=filters,
        report_item_failures="ReportBatchItemFailures" in p.get("FunctionResponseTypes", []),
        bisect_on_error=bool(p.get("BisectBatchOnFunctionError", False)),
        max_retries=int(p.get("MaximumRetryAttempts", -1)),
        max_record_age_s=int(p.get("MaximumRecordAgeInSeconds", -1)),
        on_failure=str(destination) if destination else None,
        enabled=bool(p.get("Enabled", True)),
    )
