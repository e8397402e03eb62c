"""Polling strategies refuse bad settings with a message naming the strategy and the field."""

from __future__ import annotations

import pytest

from molq.core._errors import ConfigError
from molq.core._polling import AdaptiveStrategy, ExponentialBackoffStrategy, FixedStrategy


@pytest.mark.parametrize(
    ("make", "start"),
    [
        (lambda: FixedStrategy(-1), "FixedStrategy.interval must be a number >= 0, got int -1"),
        (lambda: FixedStrategy("5"), "FixedStrategy.interval must be a finite number, got str '5'"),
        (lambda: AdaptiveStrategy(expected_runtime=-1), "AdaptiveStrategy.expected_runtime must be a number >= 0"),
        (lambda: AdaptiveStrategy(minimum=-1), "AdaptiveStrategy.minimum must be a number >= 0"),
        (lambda: AdaptiveStrategy(maximum=-1, minimum=0), "AdaptiveStrategy.maximum must be a number >= 0"),
        (lambda: AdaptiveStrategy(fraction=-0.5), "AdaptiveStrategy.fraction must be a number >= 0"),
        (lambda: AdaptiveStrategy(minimum=5, maximum=4), "AdaptiveStrategy: minimum (5) must not exceed maximum (4)"),
        (lambda: ExponentialBackoffStrategy(initial=5, maximum=4),
         "ExponentialBackoffStrategy: minimum (5) must not exceed maximum (4)"),
        (lambda: ExponentialBackoffStrategy(initial=-1), "ExponentialBackoffStrategy.initial must be a finite number >= 0, got -1"),
        (lambda: ExponentialBackoffStrategy(factor=0.5), "ExponentialBackoffStrategy.factor must be a finite number >= 1, got 0.5"),
        (lambda: ExponentialBackoffStrategy(maximum=float("inf")), "ExponentialBackoffStrategy.maximum must be a finite number >= 0, got inf"),
    ],
)
def test_refusals(make: object, start: str) -> None:
    with pytest.raises(ConfigError) as info:
        make()  # type: ignore[operator]
    assert str(info.value).startswith(start)


def test_edges_accepted() -> None:
    FixedStrategy(0)
    AdaptiveStrategy(expected_runtime=0, minimum=0, maximum=0, fraction=0)
    AdaptiveStrategy(expected_runtime=0.5, minimum=0.5, maximum=0.5, fraction=0.5)
    ExponentialBackoffStrategy(initial=3, factor=1, maximum=3)
    assert FixedStrategy(0.5).next_interval(elapsed=10, polls=3) == 0.5
