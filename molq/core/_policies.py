"""What happens to a job after it ends: whether it is tried again, and how long its traces are kept.

Rules of this module:
  Rule 1: values check themselves when made (``__post_init__``), so a bad policy is a
          ConfigError at the call that made it, never at the job's end.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, Literal

from ._checks import check_bool, check_int
from ._errors import ConfigError
from ._growth import check_finite
from ._state import JobState
from ._value import sorted_fields


def _convert(value_object: object, name: str, converter: Callable[[Any], object]) -> None:
    """Normalise one field of a frozen dataclass in ``__post_init__`` (runs on decode too)."""
    object.__setattr__(value_object, name, converter(getattr(value_object, name)))


@sorted_fields
@dataclass(frozen=True, slots=True)
class RetryBackoff:
    """Delay between attempts: fixed, or exponential up to a maximum."""

    mode: Literal["fixed", "exponential"] = "exponential"
    initial_seconds: float = 5.0
    maximum_seconds: float = 300.0
    factor: float = 2.0

    def __post_init__(self) -> None:
        if self.mode not in ("fixed", "exponential"):
            msg = f"RetryBackoff.mode must be 'fixed' or 'exponential', got {self.mode!r}"
            raise ConfigError(msg)
        check_finite("RetryBackoff", "initial_seconds", self.initial_seconds, minimum=0)
        check_finite("RetryBackoff", "maximum_seconds", self.maximum_seconds, minimum=0)
        check_finite("RetryBackoff", "factor", self.factor, minimum=1)


def _states(value: object) -> tuple[JobState, ...]:
    if isinstance(value, str | JobState) or not isinstance(value, Iterable):
        msg = f"retry_on_states must be a tuple of JobState, got {type(value).__name__} {value!r}"
        raise ConfigError(msg)
    try:
        return tuple(JobState(v) for v in value)
    except ValueError as exc:
        msg = f"retry_on_states: {exc}; expected states such as 'failed', 'timed_out', 'lost'"
        raise ConfigError(msg) from exc


def _codes(value: object) -> tuple[int, ...] | None:
    if value is None:
        return None
    if isinstance(value, str) or not isinstance(value, Iterable):
        msg = f"retry_on_exit_codes must be a tuple of integers, got {type(value).__name__} {value!r}"
        raise ConfigError(msg)
    codes = tuple(value)
    for code in codes:
        check_int("retry_on_exit_codes item", code, optional=False)
    return codes


@sorted_fields
@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """When a finished job is tried again, and how long to wait first."""

    max_attempts: int = 1
    retry_on_states: tuple[JobState, ...] = (JobState.FAILED, JobState.TIMED_OUT)
    retry_on_exit_codes: tuple[int, ...] | None = None
    backoff: RetryBackoff = field(default_factory=RetryBackoff)

    def __post_init__(self) -> None:
        _convert(self, "retry_on_states", _states)
        _convert(self, "retry_on_exit_codes", _codes)
        check_int("max_attempts", self.max_attempts, minimum=1, optional=False)
        backoff: object = self.backoff
        if not isinstance(backoff, RetryBackoff):
            msg = f"RetryPolicy.backoff must be a RetryBackoff, got {type(self.backoff).__name__}"
            raise ConfigError(msg)
        bad = [s for s in self.retry_on_states if not s.is_terminal]
        if bad:
            msg = f"retry_on_states must be terminal states, got {', '.join(s.value for s in bad)}"
            raise ConfigError(msg)


@sorted_fields
@dataclass(frozen=True, slots=True)
class RetentionPolicy:
    """How long job directories and terminal records are kept."""

    keep_job_dirs_for_days: int = 30
    keep_terminal_records_for_days: int = 90
    keep_failed_job_dirs: bool = True

    def __post_init__(self) -> None:
        check_int("keep_job_dirs_for_days", self.keep_job_dirs_for_days, minimum=0, optional=False)
        check_int("keep_terminal_records_for_days", self.keep_terminal_records_for_days, minimum=0, optional=False)
        check_bool("keep_failed_job_dirs", self.keep_failed_job_dirs)
