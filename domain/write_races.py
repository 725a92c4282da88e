"""Writes that lose a race: every change of a user is written on condition that nobody changed
the user since it was read (``version``); a write that loses is made again on a fresh read."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from domain.errors import VersionConflict, WriteContention

_T = TypeVar("_T")
# A write without If-Match that loses a race to another writer is redone on a fresh read this
# many times in all; If-Match asked for that exact version, so its loss is the caller's 412.
WRITE_ATTEMPTS = 3


def redone_on_lost_race(write: Callable[[], _T], attempts: int = WRITE_ATTEMPTS) -> _T:
    """``write`` (which reads, then writes conditionally on what it read), again while another
    writer changed the user in between; past ``attempts`` a 409 (WriteContention), not a 412."""
    for _ in range(attempts - 1):
        try:
            return write()
        except VersionConflict:
            continue
    try:
        return write()
    except VersionConflict as error:
        raise WriteContention from error
