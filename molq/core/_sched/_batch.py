"""Helpers shared by the PBS and LSF renderers and parsers.

Rules of this module:
  Rule 1: pure: text in, values out; no files, clock or environment.
  Rule 2: a directive value with a newline, CR or NUL is a ConfigError.
  Rule 3: parsers raise SchedulerOutputError on text they cannot read, nothing else.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Final

from .._errors import ConfigError, SchedulerOutputError
from .._records import Observation, TerminalStatus
from .._spec import JobSpec
from .._state import JobState


STDOUT_KEY: Final = "molq.stdout_path"
STDERR_KEY: Final = "molq.stderr_path"
_PLAIN: Final = re.compile(r"^[A-Za-z0-9_./:=,+@%\[\]-]*$")
_EXIT_LINE: Final = re.compile(r"^\s*(-?\d{1,9})\s*$")
_OUTCOME_ORDER: Final = (
    JobState.CANCELLED,
    JobState.TIMED_OUT,
    JobState.FAILED,
    JobState.LOST,
)


def directive_value(name: str, value: str) -> str:
    """Check a directive value and quote it when it holds spaces or shell characters.

    Raises:
        ConfigError: the value has a newline, carriage return, NUL or double quote
            that cannot be expressed in a directive line.
    """
    if any(bad in value for bad in ("\n", "\r", "\0")):
        msg = f"{name} value {value!r} has a newline or NUL: not allowed in a directive"
        raise ConfigError(msg)
    if _PLAIN.match(value):
        return value
    if '"' in value or "\\" in value or "$" in value or "`" in value:
        msg = f'{name} value {value!r} needs quoting but has ", \\, $ or `'
        raise ConfigError(msg)
    return f'"{value}"'


def output_paths(spec: JobSpec, job_dir: str) -> tuple[str, str]:
    """Where stdout and stderr go: molq's metadata paths, the spec, or the job dir."""
    out = (
        spec.metadata.get(STDOUT_KEY)
        or spec.execution.output_file
        or f"{job_dir}/stdout"
    )
    err = (
        spec.metadata.get(STDERR_KEY)
        or spec.execution.error_file
        or f"{job_dir}/stderr"
    )
    return out, err


def literal_path(name: str, path: str, patterns: str, scheduler: str) -> str:
    """``path`` if it holds none of the ``%`` sequences the scheduler would expand.

    Raises:
        ConfigError: the path holds one of ``patterns``; the scheduler has no escape.
    """
    found = sorted({p for p in patterns.split() if p in path})
    if found:
        msg = (
            f"{name} {path!r} contains {', '.join(found)}, which {scheduler} replaces in "
            "output paths and cannot escape: choose a path without it"
        )
        raise ConfigError(msg)
    return path


def positive_int(name: str, text: str, *, low: int, high: int) -> int:
    """Parse ``text`` as an integer within ``[low, high]``.

    Raises:
        ConfigError: it is not an integer in range.
    """
    try:
        number = int(text.strip())
    except ValueError:
        number = low - 1
    if not low <= number <= high:
        msg = f"{name} must be an integer from {low} to {high}, got {text!r}"
        raise ConfigError(msg)
    return number


def parse_exit_code_file(text: str) -> int:
    """Parse the ``exit_code`` file written by the job body.

    Raises:
        SchedulerOutputError: the text is not one integer on one line.
    """
    match = _EXIT_LINE.match(text)
    if match is None:
        msg = f"exit_code file does not hold one integer: {text[:80]!r}"
        raise SchedulerOutputError(msg)
    return int(match.group(1))


def state_from_exit_code(code: int) -> JobState:
    """SUCCEEDED for 0, FAILED for anything else."""
    return JobState.SUCCEEDED if code == 0 else JobState.FAILED


def aggregate_state(states: Iterable[JobState]) -> JobState:
    """One state for a job array from its elements' states.

    Any element still active makes the array active (RUNNING if one runs). Once
    all are terminal: CANCELLED, TIMED_OUT, FAILED, LOST win in that order over
    SUCCEEDED.
    """
    seen = set(states)
    active = {s for s in seen if not s.is_terminal}
    if active:
        if JobState.RUNNING in active:
            return JobState.RUNNING
        return JobState.QUEUED if JobState.QUEUED in active else JobState.SUBMITTED
    for state in _OUTCOME_ORDER:
        if state in seen:
            return state
    return JobState.SUCCEEDED


def split_ids(ids: Iterable[str], size: int) -> list[list[str]]:
    """Chunk ids for commands that take many ids, keeping the order."""
    items = list(ids)
    return [items[i : i + size] for i in range(0, len(items), size)]


def exit_file_observation(text: str) -> Observation:
    """What the job's ``exit_code`` file says, for jobs the scheduler forgot.

    An unreadable file gives ``state=None`` with the problem as the reason.
    """
    try:
        code = parse_exit_code_file(text)
    except SchedulerOutputError as exc:
        return Observation(None, "exit_code file", reason=str(exc))
    reason = "from the job's exit_code file"
    return Observation(
        state_from_exit_code(code), "exit_code file", code, reason=reason
    )


def terminal_status(obs: Observation) -> TerminalStatus | None:
    """The TerminalStatus an observation implies, or None if it is not terminal."""
    if obs.state is None or not obs.state.is_terminal:
        return None
    return TerminalStatus(
        state=obs.state,
        exit_code=obs.exit_code,
        reason=obs.reason,
        finished_at=obs.finished_at,
        raw_state=obs.raw_state,
    )
