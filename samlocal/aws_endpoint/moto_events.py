"""Hands moto's EventBridge deliveries to SQS targets to :mod:`samlocal.eventbridge.delivery`.

moto (checked up to 5.2.5) delivers to targets inside ``PutEvents`` itself: a deleted target
queue makes the whole call fail (after part of it was delivered), queue policies are ignored and
target dead-letter queues are never used; it also delivers for disabled rules and leaves `account`
out of the event. With this hook moto still matches rules and applies input transformers and
still serves every other target type (archives, log groups, buses); queue targets get the whole
event of enabled rules only, delivered by the local EventBridge delivery, as AWS does it.
``tests/unit/local/test_eventbridge_delivery.py`` pins moto's behaviour.

Archive replays: moto re-sends every archived event to every rule of the bus; EventBridge sends
them only to the rules in the replay's ``Destination.FilterArns`` when it is given (so a replay
for one new subscriber does not re-feed the others), and so does the local stack.
"""

from __future__ import annotations

import copy
from typing import Any

from moto.events.models import Archive, Replay, Rule
from moto.events.utils import EventTemplateParser

from samlocal.eventbridge.delivery import Delivery, TargetDelivery

_ORIGINAL = Rule.send_to_targets
_ORIGINAL_REPLAY = Replay.replay_events


def _is_queue(target: dict[str, Any]) -> bool:
    return str(target.get("Arn", "")).split(":")[2:3] == ["sqs"]


def install(delivery: TargetDelivery) -> None:
    """Routes every rule's queue targets, in this process, to ``delivery``."""

    def send_to_targets(self: Rule, original_event: Any, transform_input: bool = True) -> None:
        # A disabled rule matches nothing (moto would still deliver).
        if self.state != "ENABLED" or not self.event_pattern.matches_event(original_event):
            return
        others = [target for target in self.targets if not _is_queue(target)]
        if others:
            rest = copy.copy(self)
            rest.targets = others
            _ORIGINAL(rest, original_event, transform_input)
        for target in self.targets:
            if not _is_queue(target):
                continue
            transformer = target.get("InputTransformer")
            if transform_input and transformer:
                event = EventTemplateParser.parse(
                    input_template=transformer.get("InputTemplate"),
                    input_paths_map=transformer.get("InputPathsMap", {}),
                    event=original_event,
                )
            else:
                # The whole event, as AWS delivers it (moto's default template drops `account`).
                event = {
                    k: v for k, v in copy.deepcopy(original_event).items() if k != "ingestion-time"
                }
            delivery.submit(Delivery(self.arn, copy.deepcopy(target), event))

    Rule.send_to_targets = send_to_targets  # type: ignore[method-assign]
    Replay.replay_events = _replay_to_filtered_rules  # type: ignore[method-assign]


def _replay_to_filtered_rules(self: Replay, archive: Archive) -> None:
    """Moto's replay (each archived event, a new id and ``replay-name``, no input transformer),
    sent only to the rules ``FilterArns`` names, if any."""
    from moto.core.utils import unix_time
    from moto.events.models import ReplayState, events_backends
    from moto.moto_api._internal import mock_random

    only = set(self.destination.get("FilterArns") or [])
    bus_name = self.destination["Arn"].split("/")[-1]
    bus = events_backends[self.account_id][self.region].describe_event_bus(bus_name)
    for event in archive.events:
        for rule in list(bus.rules.values()):
            if only and rule.arn not in only:
                continue
            replayed: Any = {**event, "id": str(mock_random.uuid4()), "replay-name": self.name}
            rule.send_to_targets(replayed, transform_input=False)
    self.state = ReplayState.COMPLETED
    self.end_time = unix_time()


def uninstall() -> None:
    """Puts moto's own delivery back (tests)."""
    Rule.send_to_targets = _ORIGINAL  # type: ignore[method-assign]
    Replay.replay_events = _ORIGINAL_REPLAY  # type: ignore[method-assign]
