"""Retry decisions: pure, with jitter passed in by the shell.

Rules of this module:
  Rule 1: delay = min(maximum, initial * factor ** (attempt - 1) + jitter); fixed mode
          uses initial + jitter, capped the same way.
  Rule 2: the cap applies before the power (capped_growth), so any attempt number
          gives a finite delay.
"""

from __future__ import annotations

import attrs

from ._growth import capped_growth
from ._policies import RetryBackoff, RetryPolicy
from ._records import JobRecord


@attrs.frozen
class RetryDecision:
    """Whether to try again, after how long, and why."""

    retry: bool
    delay: float = 0.0
    reason: str = ""


def backoff_delay(backoff: RetryBackoff, attempt: int, *, jitter: float = 0.0) -> float:
    """Seconds to wait before the attempt after ``attempt`` (1-based)."""
    if backoff.mode == "fixed":
        base = backoff.initial_seconds
    else:
        base = capped_growth(backoff.initial_seconds, backoff.factor, attempt - 1, backoff.maximum_seconds)
    return max(0.0, min(backoff.maximum_seconds, base + jitter))


def decide_retry(policy: RetryPolicy, record: JobRecord, *, jitter: float = 0.0) -> RetryDecision:
    """Decide whether a terminal attempt should be retried under ``policy``."""
    if not record.state.is_terminal:
        return RetryDecision(retry=False, reason="attempt still active")
    if record.attempt >= policy.max_attempts:
        return RetryDecision(retry=False, reason=f"attempt {record.attempt} of {policy.max_attempts}")
    if record.state not in policy.retry_on_states:
        return RetryDecision(retry=False, reason=f"state {record.state.value} is not retried")
    codes = policy.retry_on_exit_codes
    if codes is not None and record.exit_code not in codes:
        return RetryDecision(retry=False, reason=f"exit code {record.exit_code} is not retried")
    delay = backoff_delay(policy.backoff, record.attempt, jitter=jitter)
    return RetryDecision(retry=True, delay=delay, reason=f"{record.state.value}; attempt {record.attempt + 1} in {delay:g}s")
