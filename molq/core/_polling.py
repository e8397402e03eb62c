"""Polling strategies: how long to wait before the next status check.

Rules of this module:
  Rule 1: strategies are pure: the caller passes elapsed time and poll count.
"""

from __future__ import annotations

from typing import Protocol

import attrs

from ._checks import check_number
from ._errors import ConfigError
from ._growth import capped_growth, check_finite


def _bounds(minimum: float, maximum: float, what: str) -> None:
    if minimum > maximum:
        msg = f"{what}: minimum ({minimum}) must not exceed maximum ({maximum})"
        raise ConfigError(msg)


class PollingStrategy(Protocol):
    """Decides the wait before the next poll."""

    def next_interval(self, *, elapsed: float, polls: int) -> float:
        """Seconds to wait, given seconds since waiting began and polls so far."""
        ...


@attrs.frozen
class FixedStrategy:
    """The same interval every time."""

    interval: float = 5.0

    def __attrs_post_init__(self) -> None:
        check_number("FixedStrategy.interval", self.interval, minimum=0)

    def next_interval(self, *, elapsed: float, polls: int) -> float:
        """Always ``interval``."""
        return self.interval


@attrs.frozen
class ExponentialBackoffStrategy:
    """Start fast, then back off geometrically up to a maximum (less scheduler load)."""

    initial: float = 1.0
    factor: float = 2.0
    maximum: float = 60.0

    def __attrs_post_init__(self) -> None:
        check_finite("ExponentialBackoffStrategy", "initial", self.initial, minimum=0)
        check_finite("ExponentialBackoffStrategy", "factor", self.factor, minimum=1)
        check_finite("ExponentialBackoffStrategy", "maximum", self.maximum, minimum=0)
        _bounds(self.initial, self.maximum, "ExponentialBackoffStrategy")

    def next_interval(self, *, elapsed: float, polls: int) -> float:
        """``initial * factor**polls`` capped at ``maximum``."""
        return capped_growth(self.initial, self.factor, polls, self.maximum)


@attrs.frozen
class AdaptiveStrategy:
    """Cadence from the expected runtime: quick at first, near the expected end, then slower.

    Without an expected runtime the interval grows with elapsed time (10% of it),
    between ``minimum`` and ``maximum``.
    """

    expected_runtime: float | None = None
    minimum: float = 0.05
    maximum: float = 30.0
    fraction: float = 0.1

    def __attrs_post_init__(self) -> None:
        if self.expected_runtime is not None:
            check_number("AdaptiveStrategy.expected_runtime", self.expected_runtime, minimum=0)
        check_number("AdaptiveStrategy.minimum", self.minimum, minimum=0)
        check_number("AdaptiveStrategy.maximum", self.maximum, minimum=0)
        check_number("AdaptiveStrategy.fraction", self.fraction, minimum=0)
        _bounds(self.minimum, self.maximum, "AdaptiveStrategy")

    def next_interval(self, *, elapsed: float, polls: int) -> float:
        """An interval proportional to elapsed time, tightened around the expected end."""
        base = elapsed * self.fraction
        if self.expected_runtime is not None:
            remaining = self.expected_runtime - elapsed
            base = remaining * 0.5 if remaining > 0 else max(base, self.expected_runtime * self.fraction)
        return max(self.minimum, min(self.maximum, base))
