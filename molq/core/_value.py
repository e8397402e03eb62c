"""Public value types are frozen stdlib dataclasses whose stored bytes do not change (ADR 0025).

Rules of this module:
  Rule 1: ``sorted_fields`` only reorders ``__dataclass_fields__``; ``__init__``, ``repr`` and
          positional order stay as declared.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path, PurePath
from typing import Any, TypeVar


T = TypeVar("T", bound=type)


def encode_extra(value: Any) -> Any:
    """Msgspec ``enc_hook``: a path is stored as its text (``Script.file_path``)."""
    if isinstance(value, PurePath):
        return str(value)
    msg = f"cannot encode {type(value).__name__}"
    raise NotImplementedError(msg)


def decode_extra(kind: type, value: Any) -> Any:
    """Msgspec ``dec_hook``: stored path text becomes a ``Path`` again."""
    if kind is Path and isinstance(value, str):
        return Path(value)
    msg = f"cannot decode {kind!r}"
    raise NotImplementedError(msg)


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
