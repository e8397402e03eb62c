"""Capped geometric growth (retry delays, poll intervals) and the finite-number check behind its settings."""

from __future__ import annotations

import pytest

from molq.core._errors import ConfigError
from molq.core._growth import capped_growth
from molq.core._polling import ExponentialBackoffStrategy


@pytest.mark.parametrize(
    ("initial", "factor", "steps", "maximum", "expected"),
    [
        (0, 2, 3, 10, 0),  # a zero start stays zero (no division by it)
        (1, 1, 50, 10, 1),
        (1, 2, 0, 10, 1),
        (1, 2, -3, 10, 1),
        (1, 2, 3, 10, 8),
        (1, 2, 4, 10, 10),
        (10, 2, 1, 10, 10),
        (1, 2, 10**9, 60, 60),  # no overflow however many steps
    ],
)
def test_capped_growth(initial: float, factor: float, steps: int, maximum: float, expected: float) -> None:
    assert capped_growth(initial, factor, steps, maximum) == expected


def test_an_int_past_the_float_range_is_refused() -> None:
    with pytest.raises(ConfigError, match=r"ExponentialBackoffStrategy\.maximum must be a finite number >= 0"):
        ExponentialBackoffStrategy(maximum=10**400)
