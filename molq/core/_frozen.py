"""A read-only, hashable dict for mapping fields of frozen value types."""

from __future__ import annotations

from collections.abc import Mapping
from typing import NoReturn


class FrozenDict(dict[str, str]):
    """A ``dict`` that refuses mutation and can be hashed.

    The public API promises ``dict`` fields (``env``, ``metadata``); this keeps that
    promise while the value objects that hold them stay truly immutable.
    """

    __slots__ = ()

    def __hash__(self) -> int:  # type: ignore[override]
        return hash(tuple(sorted(self.items())))

    def _refuse(self, *args: object, **kwargs: object) -> NoReturn:
        msg = "this mapping is immutable; build a new one instead"
        raise TypeError(msg)

    __setitem__ = _refuse
    __delitem__ = _refuse
    clear = _refuse
    pop = _refuse
    popitem = _refuse
    setdefault = _refuse
    update = _refuse
    __ior__ = _refuse


def freeze(value: Mapping[str, str] | None) -> FrozenDict | None:
    """Return ``value`` as a FrozenDict (``None`` stays ``None``)."""
    if value is None or isinstance(value, FrozenDict):
        return value
    return FrozenDict(value)


def freeze_required(value: Mapping[str, str] | None) -> FrozenDict:
    """Return ``value`` as a FrozenDict, ``None`` becoming an empty one."""
    return FrozenDict() if value is None else FrozenDict(value)
