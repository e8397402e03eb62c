"""Polling strategies used by JobMonitor and ``wait()``."""

from molq.core._polling import (
    AdaptiveStrategy as AdaptiveStrategy,
    ExponentialBackoffStrategy as ExponentialBackoffStrategy,
    FixedStrategy as FixedStrategy,
    PollingStrategy as PollingStrategy,
)


__all__ = ["AdaptiveStrategy", "ExponentialBackoffStrategy", "FixedStrategy", "PollingStrategy"]
