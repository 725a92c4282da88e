"""moto's instance tracker, holding its instances weakly so that a long-running stack frees them.

moto's ``BaseModel.__new__`` appends every model instance it ever creates to its class's
``instances_tracked`` list, for the server's ``/moto-api/data.json`` dashboard. In a test that
lasts a second this costs nothing; in a stack that serves traffic for hours it keeps every
DynamoDB item version, stream record, query result copy and SQS message alive for good (issue 29:
the local stack's memory grew with every request). Here the tracker keeps weak references
instead: the dashboard still lists every live instance, and the rest is freed.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable, Iterator
from typing import Any

from moto.core.common_models import BaseModel

_ORIGINAL_NEW = BaseModel.__new__


class WeakInstances:
    """The ``list`` moto's tracker appends to, holding live instances only. Objects that refuse
    weak references (none of moto's models today) are held strongly, as moto would."""

    def __init__(self, existing: list[Any] = ()) -> None:  # type: ignore[assignment]
        self._refs: dict[int, weakref.ref[Any]] = {}
        self._strong: list[Any] = []
        for instance in existing:
            self.append(instance)

    def append(self, instance: Any) -> None:
        key = id(instance)

        def forget(_: weakref.ref[Any], key: int = key, refs: dict[int, Any] = self._refs) -> None:
            refs.pop(key, None)

        try:
            self._refs[key] = weakref.ref(instance, forget)
        except TypeError:
            self._strong.append(instance)

    def __iter__(self) -> Iterator[Any]:
        live = [ref() for ref in list(self._refs.values())]
        return iter([*(instance for instance in live if instance is not None), *self._strong])

    def __len__(self) -> int:
        return len(self._refs) + len(self._strong)


def _tracked_weakly(cls: type[Any]) -> WeakInstances:
    """``cls``'s own tracker, made weak the first time (moto's reset puts a list back)."""
    tracked = cls.__dict__.get("instances_tracked")
    if not isinstance(tracked, WeakInstances):
        tracked = WeakInstances(tracked or [])
        cls.instances_tracked = tracked
    return tracked


def _weakly_tracked_new(original: Callable[..., Any]) -> Callable[..., Any]:
    def __new__(cls: type[Any], *args: Any, **kwargs: Any) -> Any:
        instance = super(BaseModel, cls).__new__(cls)
        _tracked_weakly(cls).append(instance)
        return instance

    __new__.__wrapped__ = original  # type: ignore[attr-defined]
    return __new__


def install() -> None:
    """Makes every moto model class track its instances weakly, in this process (idempotent)."""
    BaseModel.__new__ = _weakly_tracked_new(_ORIGINAL_NEW)  # type: ignore[method-assign]


def uninstall() -> None:
    """Puts moto's tracker back (tests start servers in-process)."""
    BaseModel.__new__ = _ORIGINAL_NEW  # type: ignore[method-assign]
