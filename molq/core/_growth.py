"""Geometric growth with a cap, computed without overflow.

Rules of this module:
  Rule 1: the cap is applied before the power is taken, so no attempt or poll
          number, however large, raises OverflowError or yields inf/nan.
"""

from __future__ import annotations

import math

from ._errors import ConfigError


def capped_growth(initial: float, factor: float, steps: int, maximum: float) -> float:
    """``min(maximum, initial * factor ** steps)`` for finite ``initial, maximum >= 0``, ``factor >= 1``."""
    steps = max(0, steps)
    if initial >= maximum:
        return maximum
    if initial == 0 or factor == 1 or steps == 0:
        return initial
    # initial * factor**steps >= maximum  <=>  steps * log(factor) >= log(maximum / initial)
    if steps * math.log(factor) >= math.log(maximum / initial):
        return maximum
    return min(maximum, initial * factor**steps)


def check_finite(owner: str, name: str, value: object, *, minimum: float) -> None:
    """Refuse a value that is not a finite real number ``>= minimum``, naming the field.

    Raises:
        ConfigError: with ``owner.name`` and the value.
    """
    if not _finite_at_least(value, minimum):
        msg = f"{owner}.{name} must be a finite number >= {minimum:g}, got {value!r}"
        raise ConfigError(msg)


def _finite_at_least(value: object, minimum: float) -> bool:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return False
    try:
        as_float = float(value)
    except OverflowError:  # an int past the float range
        return False
    return math.isfinite(as_float) and as_float >= minimum
