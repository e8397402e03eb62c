"""Polling strategies: the interval before the next status check."""

from __future__ import annotations

import pytest

from molq.core import ConfigError
from molq.strategies import AdaptiveStrategy, ExponentialBackoffStrategy, FixedStrategy


@pytest.mark.parametrize(("elapsed", "polls"), [(0.0, 0), (10.0, 3), (1e6, 1000)])
def test_fixed(elapsed, polls):
    """FixedStrategy always returns its interval."""
    assert FixedStrategy(2.5).next_interval(elapsed=elapsed, polls=polls) == 2.5


class TestExponential:
    @pytest.mark.parametrize(("polls", "interval"), [(0, 1.0), (1, 2.0), (3, 8.0), (6, 60.0)])
    def test_grows_then_caps(self, polls, interval):
        """initial * factor ** polls, capped at maximum."""
        s = ExponentialBackoffStrategy()
        assert s.next_interval(elapsed=0.0, polls=polls) == interval

    def test_negative_polls(self):
        """A negative poll count is treated as zero."""
        s = ExponentialBackoffStrategy(initial=0.5)
        assert s.next_interval(elapsed=0.0, polls=-3) == 0.5

    def test_custom(self):
        """Initial, factor and maximum are honoured."""
        s = ExponentialBackoffStrategy(initial=0.1, factor=10.0, maximum=5.0)
        intervals = [s.next_interval(elapsed=0.0, polls=n) for n in range(4)]
        assert intervals == pytest.approx([0.1, 1.0, 5.0, 5.0])


class TestAdaptive:
    @pytest.mark.parametrize(("elapsed", "interval"), [(0.0, 0.05), (0.1, 0.05), (20.0, 2.0), (1000.0, 30.0)])
    def test_without_expected_runtime(self, elapsed, interval):
        """Without an expected runtime: 10% of elapsed, between minimum and maximum."""
        s = AdaptiveStrategy()
        assert s.next_interval(elapsed=elapsed, polls=0) == pytest.approx(interval)

    def test_before_expected_end(self):
        """Before the expected end: half the remaining time, capped."""
        s = AdaptiveStrategy(expected_runtime=10.0)
        assert s.next_interval(elapsed=4.0, polls=0) == pytest.approx(3.0)
        assert s.next_interval(elapsed=9.99, polls=0) == pytest.approx(0.05)
        long = AdaptiveStrategy(expected_runtime=1000.0)
        assert long.next_interval(elapsed=0.0, polls=0) == 30.0

    def test_after_expected_end(self):
        """Past the expected end: the larger of 10% of elapsed and 10% of expected."""
        s = AdaptiveStrategy(expected_runtime=10.0)
        assert s.next_interval(elapsed=12.0, polls=0) == pytest.approx(1.2)
        assert s.next_interval(elapsed=10.0, polls=0) == pytest.approx(1.0)

    def test_always_within_bounds(self):
        """Every interval lies within [minimum, maximum]."""
        s = AdaptiveStrategy(expected_runtime=50.0, minimum=0.5, maximum=4.0)
        for elapsed in (0.0, 1.0, 49.0, 50.0, 51.0, 500.0):
            assert 0.5 <= s.next_interval(elapsed=elapsed, polls=0) <= 4.0


class TestExponentialNeverOverflows:
    def test_far_poll(self):
        """A poll count past the float range gives the maximum, not OverflowError."""
        s = ExponentialBackoffStrategy()
        assert s.next_interval(elapsed=0.0, polls=5000) == 60.0

    @pytest.mark.parametrize("kwargs", [{"factor": float("inf")}, {"maximum": float("nan")}, {"initial": -1.0}])
    def test_impossible_values_refused(self, kwargs):
        """Values that cannot give a finite interval are a ConfigError naming the field."""
        with pytest.raises(ConfigError, match=f"ExponentialBackoffStrategy.{next(iter(kwargs))}"):
            ExponentialBackoffStrategy(**kwargs)
