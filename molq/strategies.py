"""Polling strategies used by JobMonitor and ``wait()``."""

from molq.core._polling import (
    AdaptiveStrategy as AdaptiveStrategy,
)
from molq.core._polling import (
    ExponentialBackoffStrategy as ExponentialBackoffStrategy,
)
from molq.core._polling import (
    FixedStrategy as FixedStrategy,
)
from molq.core._polling import (
    PollingStrategy as PollingStrategy,
)


__all__ = ["AdaptiveStrategy", "ExponentialBackoffStrategy", "FixedStrategy", "PollingStrategy"]
