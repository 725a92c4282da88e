"""The subscribers' fold rule (Userflow docs/events.md, "Ordering and duplicates"): events arrive at
least once and in any order, from live delivery, an archive replay or a rebuild from the table,
mixed freely. Per user, keep the event with the greatest ``user.version``:

1. drop an event whose ``event_id`` was applied already (the same change, again);
2. drop an event whose ``user.version`` is not greater than the one kept for that user;
3. otherwise keep it: the user is ``detail.user``, or gone if the event is ``UserDeleted``.

Every event type carries ``user``, security events included, so all of them fold the same way.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from userflow_events.models import Event, User


@dataclass
class Fold:
    """Users as the events seen so far say they are. ``seen`` grows with every applied event:
    keep it as long as duplicates may arrive (EventBridge retries for up to 24 h; a replay any
    time), or rely on rule 2 alone, which drops them too."""

    versions: dict[str, int] = field(default_factory=dict)
    current: dict[str, User] = field(default_factory=dict)
    seen: set[str] = field(default_factory=set)

    def apply(self, event: Event) -> bool:
        """Whether the event changed what is known (False: a duplicate or an older version)."""
        detail = event.detail
        if detail.event_id in self.seen:
            return False
        self.seen.add(detail.event_id)
        user = detail.user
        if user.version <= self.versions.get(user.id, 0):
            return False
        self.versions[user.id] = user.version
        if event.detail_type == "UserDeleted":
            self.current.pop(user.id, None)
        else:
            self.current[user.id] = user
        return True

    def apply_all(self, events: Iterable[Event]) -> int:
        """How many of ``events`` changed what is known."""
        return sum(self.apply(event) for event in events)

    @property
    def users(self) -> dict[str, User]:
        """The users that exist, by id."""
        return dict(self.current)
