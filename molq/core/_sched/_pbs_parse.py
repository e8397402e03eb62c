"""PBS Pro / Torque parsers: ``qstat -f`` (and ``-x -f``), qstat errors, queues.

Rules of this module:
  Rule 1: arbitrary text only ever raises SchedulerOutputError.
  Rule 2: a terminal state only when ``job_state`` says finished (F, X; Torque C);
    unknown letters stay non-terminal (SUBMITTED), raw kept.
  Rule 3: PBS_STATE_MAP is the only mapping of active state letters.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Final

from .._errors import SchedulerOutputError
from .._records import Observation, QueueEntry
from .._state import JobState
from ._batch import state_from_exit_code


PBS_STATE_MAP: Final[Mapping[str, JobState]] = {
    "Q": JobState.QUEUED,  # queued, eligible to run
    "H": JobState.QUEUED,  # held (also: waiting on a dependency)
    "W": JobState.QUEUED,  # waiting for its execution time
    "T": JobState.QUEUED,  # being moved to a new location
    "R": JobState.RUNNING,
    "E": JobState.RUNNING,  # exiting after having run
    "B": JobState.RUNNING,  # array job: at least one subjob has started
    "S": JobState.RUNNING,  # suspended
    "U": JobState.RUNNING,  # suspended: workstation busy
}
PBS_FINISHED: Final = frozenset({"F", "X", "C"})
PRO_WALLTIME_EXIT: Final = -29  # JOB_EXEC_KILL_WALLTIME (PBS Pro / OpenPBS)
TORQUE_WALLTIME_EXIT: Final = -11  # JOB_EXEC_OVERLIMIT_WT (Torque 6)
SUBSTATE_TERMINATED: Final = "91"  # PBS Pro history: deleted by qdel

_JOB_ID: Final = re.compile(r"^Job Id:\s*(\S+)\s*$")
_ATTR: Final = re.compile(r"^\s+([A-Za-z_][\w.]*) = ?(.*)$")
_UNKNOWN: Final = re.compile(r"Unknown Job Id(?: Error)?\s+(\S+)")
_FINISHED: Final = re.compile(r"^\S+:\s+(\S+)\s+Job has finished")
_CLOCK: Final = re.compile(r"^(\d+):([0-5]\d):([0-5]\d)$")


def parse_qstat_full(text: str) -> dict[str, dict[str, str]]:
    """Split ``qstat -f`` output into ``{job id: {attribute: value}}``.

    Continuation lines (a tab, or deeper indent without `` = ``) extend the
    previous value, as PBS Pro wraps long values.

    Raises:
        SchedulerOutputError: a line is neither a ``Job Id:`` header, an attribute
            nor a continuation.
    """
    jobs: dict[str, dict[str, str]] = {}
    current: dict[str, str] | None = None
    last = ""
    for line in text.split("\n"):
        if not line.strip():
            continue
        header = _JOB_ID.match(line)
        if header:
            current = jobs.setdefault(header.group(1), {})
            last = ""
            continue
        attr = _ATTR.match(line) if not line.startswith("\t") else None
        if current is not None and attr:
            last = attr.group(1)
            current[last] = attr.group(2).strip()
        elif current is not None and last and line[:1].isspace():
            current[last] += line.strip()
        else:
            msg = f"unexpected line in qstat -f output: {line[:120]!r}"
            raise SchedulerOutputError(msg)
    return jobs


def _int_attr(attrs: Mapping[str, str], name: str) -> int | None:
    value = attrs.get(name)
    if value is None:
        return None
    try:
        return int(value)
    except ValueError:
        msg = f"{name} is not an integer: {value[:40]!r}"
        raise SchedulerOutputError(msg) from None


def _seconds(value: str | None) -> int | None:
    match = _CLOCK.match(value or "")
    if match is None:
        return None
    hours, minutes, secs = (int(g) for g in match.groups())
    return hours * 3600 + minutes * 60 + secs


def _walltime_exhausted(attrs: Mapping[str, str]) -> bool:
    used = _seconds(attrs.get("resources_used.walltime"))
    limit = _seconds(attrs.get("Resource_List.walltime"))
    return used is not None and limit is not None and used >= limit


def _finished(attrs: Mapping[str, str], raw: str) -> Observation:
    torque = "exit_status" in attrs
    code = _int_attr(attrs, "exit_status" if torque else "Exit_status")
    walltime_code = TORQUE_WALLTIME_EXIT if torque else PRO_WALLTIME_EXIT
    signalled = code is not None and (code >= 256 or 128 < code < 256)
    if code == walltime_code or (signalled and _walltime_exhausted(attrs)):
        return Observation(
            JobState.TIMED_OUT,
            raw,
            code,
            reason=f"walltime exceeded (exit status {code})",
        )
    if attrs.get("substate") == SUBSTATE_TERMINATED:
        return Observation(
            JobState.CANCELLED, raw, code, reason="deleted (qdel or dependency)"
        )
    if code is None:
        return Observation(
            JobState.FAILED, raw, None, reason="finished without an exit status"
        )
    reason = None
    if code >= 256:
        reason = f"killed by signal {code - 256}"
    elif code < 0:
        reason = f"PBS could not run the job (exit status {code})"
    return Observation(state_from_exit_code(code), raw, code, reason=reason)


def observation_from_attrs(attrs: Mapping[str, str]) -> Observation:
    """One Observation from one job's ``qstat -f`` attributes.

    Raises:
        SchedulerOutputError: no ``job_state``, or a non-integer exit status.
    """
    raw = attrs.get("job_state", "").strip()
    if not raw:
        msg = "qstat -f job block has no job_state"
        raise SchedulerOutputError(msg)
    if raw in PBS_FINISHED:
        return _finished(attrs, raw)
    state = PBS_STATE_MAP.get(raw)
    if state is None:
        return Observation(
            JobState.SUBMITTED, raw, reason=f"unrecognised PBS job_state {raw!r}"
        )
    return Observation(state, raw, reason=attrs.get("comment"))


def parse_status(text: str) -> dict[str, Observation]:
    """``{job id: Observation}`` for every job in ``qstat -f`` / ``qstat -x -f`` output.

    Raises:
        SchedulerOutputError: the text is not qstat -f output.
    """
    return {
        job_id: observation_from_attrs(attrs)
        for job_id, attrs in parse_qstat_full(text).items()
    }


def parse_qstat_errors(
    stderr: str,
) -> tuple[frozenset[str], frozenset[str], tuple[str, ...]]:
    """Sort qstat stderr lines: unknown ids, finished ids (Pro, no -x), others."""
    unknown: set[str] = set()
    finished: set[str] = set()
    other: list[str] = []
    for line in stderr.split("\n"):
        if not line.strip():
            continue
        if match := _UNKNOWN.search(line):
            unknown.add(match.group(1))
        elif match := _FINISHED.match(line):
            finished.add(match.group(1))
        else:
            other.append(line.strip())
    return frozenset(unknown), frozenset(finished), tuple(other)


def sequence_key(job_id: str) -> str:
    """The part of a PBS id before the server name (``12[].srv`` -> ``12[]``)."""
    return job_id.split(".", 1)[0]


def match_ids(
    requested: Sequence[str], found: Mapping[str, Observation]
) -> dict[str, Observation]:
    """Key observations by the ids molq asked for, matching ``12`` to ``12.server``."""
    by_seq = {sequence_key(job_id): obs for job_id, obs in found.items()}
    result: dict[str, Observation] = {}
    for job_id in requested:
        obs = found.get(job_id) or by_seq.get(sequence_key(job_id))
        if obs is not None:
            result[job_id] = obs
    return result


def parse_queue(text: str, *, user: str | None = None) -> list[QueueEntry]:
    """Queue entries from ``qstat -f`` output, optionally only ``user``'s.

    Raises:
        SchedulerOutputError: the text is not qstat -f output.
    """
    entries = []
    for job_id, attrs in parse_qstat_full(text).items():
        owner = attrs.get("Job_Owner", "").split("@", 1)[0] or None
        if user is not None and owner != user:
            continue
        obs = observation_from_attrs(attrs)
        entries.append(
            QueueEntry(
                scheduler_job_id=job_id,
                name=attrs.get("Job_Name"),
                user=owner,
                state=obs.state or JobState.SUBMITTED,
                raw_state=obs.raw_state,
                partition=attrs.get("queue"),
            )
        )
    return entries


def qdel_outcome(returncode: int, stderr: str) -> str:
    """Classify qdel's reply: ``deleted``, ``finished``, ``unknown`` or ``error``."""
    if "Unknown Job Id" in stderr:
        return "unknown"
    if "Job has finished" in stderr or "invalid for state of job" in stderr:
        return "finished"
    return "deleted" if returncode == 0 else "error"
