"""Public value types are frozen stdlib dataclasses whose stored bytes do not change (ADR 0025).

Rules of this module:
  Rule 1: ``sorted_fields`` only reorders ``__dataclass_fields__``; ``__init__``, ``repr`` and
          positional order stay as declared.
"""

from __future__ import annotations

import dataclasses
from typing import TypeVar


T = TypeVar("T", bound=type)


def sorted_fields(cls: T) -> T:
    """List a dataclass's fields alphabetically, so msgspec encodes it as it encoded the attrs class.

    msgspec writes an attrs instance's fields in sorted order and a dataclass's in
    ``__dataclass_fields__`` order; sorting that mapping keeps every event and projection
    byte-identical to what earlier molq wrote (ADR 0002's golden files, ADR 0017's byte compare).
    ``dataclasses.fields()`` therefore lists fields alphabetically.
    """
    if not dataclasses.is_dataclass(cls):
        msg = f"{cls.__name__} is not a dataclass"
        raise TypeError(msg)
    cls.__dataclass_fields__ = dict(sorted(cls.__dataclass_fields__.items()))
    return cls
