"""Job states.

Rules of this module:
  Rule 1: the nine states and which are terminal are defined here and nowhere else.
"""

from __future__ import annotations

import enum


class JobState(str, enum.Enum):
    """Lifecycle state of a molq job."""

    CREATED = "created"
    SUBMITTED = "submitted"
    QUEUED = "queued"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELLED = "cancelled"
    TIMED_OUT = "timed_out"
    LOST = "lost"

    @property
    def is_terminal(self) -> bool:
        """Whether no further state change can happen."""
        return self in TERMINAL_STATES

    def __str__(self) -> str:
        return self.value


TERMINAL_STATES: frozenset[JobState] = frozenset(
    {
        JobState.SUCCEEDED,
        JobState.FAILED,
        JobState.CANCELLED,
        JobState.TIMED_OUT,
        JobState.LOST,
    }
)
ACTIVE_STATES: frozenset[JobState] = frozenset(JobState) - TERMINAL_STATES
