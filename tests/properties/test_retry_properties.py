"""Retry and polling delays: every accepted policy gives a finite delay for any attempt."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from molq.core import ConfigError, RetryBackoff, backoff_delay
from molq.strategies import ExponentialBackoffStrategy


anything = st.floats(allow_nan=True, allow_infinity=True) | st.integers(-(10**400), 10**400)
attempts = st.integers(-5, 10**12)


def _backoff_or_none(**kwargs: object) -> RetryBackoff | None:
    try:
        return RetryBackoff(**kwargs)  # type: ignore[arg-type]
    except ConfigError:
        return None


def _sane(value: float, low: float) -> bool:
    try:
        return math.isfinite(float(value)) and value >= low
    except OverflowError:
        return False


@given(
    mode=st.sampled_from(["fixed", "exponential"]),
    initial=anything,
    maximum=anything,
    factor=anything,
    attempt=attempts,
    jitter=st.floats(0, 1e6),
)
def test_accepted_backoff_gives_finite_delay(mode, initial, maximum, factor, attempt, jitter):
    """Any RetryBackoff the constructor accepts gives a delay in [0, maximum] for every attempt."""
    backoff = _backoff_or_none(mode=mode, initial_seconds=initial, maximum_seconds=maximum, factor=factor)
    if backoff is None:
        assert not all(_sane(v, low) for v, low in ((initial, 0), (maximum, 0), (factor, 1)))
        return
    delay = backoff_delay(backoff, attempt, jitter=jitter)
    assert math.isfinite(delay)
    assert 0.0 <= delay <= backoff.maximum_seconds


@given(initial=anything, maximum=anything, factor=anything, polls=attempts)
def test_accepted_polling_gives_finite_interval(initial, maximum, factor, polls):
    """Any ExponentialBackoffStrategy accepted gives an interval in [0, maximum] for every poll."""
    try:
        strategy = ExponentialBackoffStrategy(initial=initial, factor=factor, maximum=maximum)
    except ConfigError:
        return
    interval = strategy.next_interval(elapsed=0.0, polls=polls)
    assert math.isfinite(interval)
    assert 0.0 <= interval <= strategy.maximum


@pytest.mark.parametrize("attempt", [1, 2, 3, 10, 60])
def test_matches_the_plain_formula_where_it_is_finite(attempt):
    """Below the cap the delay is exactly initial * factor ** (attempt - 1)."""
    backoff = RetryBackoff(initial_seconds=0.5, factor=1.5, maximum_seconds=1e300)
    assert backoff_delay(backoff, attempt) == pytest.approx(0.5 * 1.5 ** (attempt - 1))
