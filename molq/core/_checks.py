"""Type checks for values a user hands to molq: wrong types are refused, never converted.

Rules of this module:
  Rule 1: a check raises ConfigError naming the field, the expected type and the value given.
  Rule 2: ``bool`` is not an int and an int-valued float is not an int (``2.9`` never becomes ``2``).
"""

from __future__ import annotations

import math
from collections.abc import Mapping

from ._errors import ConfigError


def _refuse(name: str, expected: str, value: object) -> ConfigError:
    return ConfigError(f"{name} must be {expected}, got {type(value).__name__} {value!r}")


def check_int(name: str, value: object, *, minimum: int | None = None, optional: bool = True) -> None:
    """Refuse anything but an ``int`` (at least ``minimum``); ``None`` passes when optional."""
    if value is None and optional:
        return
    if isinstance(value, bool) or not isinstance(value, int):
        raise _refuse(name, "an integer", value)
    if minimum is not None and value < minimum:
        raise _refuse(name, f"an integer >= {minimum}", value)


def check_number(name: str, value: object, *, minimum: float | None = None) -> None:
    """Refuse anything but a finite int or float (at least ``minimum``)."""
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise _refuse(name, "a finite number", value)
    if minimum is not None and value < minimum:
        raise _refuse(name, f"a number >= {minimum}", value)


def check_bool(name: str, value: object) -> None:
    """Refuse anything but ``True`` or ``False`` (``"false"`` is not false)."""
    if not isinstance(value, bool):
        raise _refuse(name, "a boolean (true or false)", value)


def check_str(name: str, value: object, *, optional: bool = True) -> None:
    """Refuse anything but a ``str``; ``None`` passes when optional."""
    if value is None and optional:
        return
    if not isinstance(value, str):
        raise _refuse(name, "a string", value)


def check_str_mapping(name: str, value: object) -> None:
    """Refuse anything but a mapping of strings to strings (``None`` passes)."""
    if value is None:
        return
    if not isinstance(value, Mapping):
        raise _refuse(name, "a dict of strings to strings", value)
    for key, item in value.items():
        if not isinstance(key, str) or not isinstance(item, str):
            msg = f"{name} must map strings to strings, got {key!r}: {type(item).__name__} {item!r}"
            raise ConfigError(msg)
