"""LSF output parsers: ``bjobs -noheader -o`` rows, bjobs/bkill messages, queues.

Rules of this module:
  Rule 1: arbitrary text only ever raises SchedulerOutputError.
  Rule 2: a terminal state only for DONE or EXIT; UNKWN, ZOMBI and unknown
    words stay non-terminal (SUBMITTED), raw kept.
  Rule 3: LSF_STATE_MAP and CANCEL_REASONS are the only state tables.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Final, Literal, TypeAlias

import attrs

from .._errors import SchedulerOutputError
from .._records import Observation, QueueEntry
from .._state import JobState
from ._batch import aggregate_state


BJOBS_FIELDS: Final = (
    "jobid",
    "jobindex",
    "stat",
    "exit_code",
    "exit_reason",
    "user",
    "queue",
    "job_name",
)
BJOBS_FORMAT: Final = " ".join(BJOBS_FIELDS) + " delimiter='|'"
LSF_STATE_MAP: Final[Mapping[str, JobState]] = {
    "PEND": JobState.QUEUED,
    "PSUSP": JobState.QUEUED,  # suspended by its owner while pending
    "WAIT": JobState.QUEUED,  # chunk job member waiting
    "PROV": JobState.QUEUED,  # waiting for host provisioning
    "RUN": JobState.RUNNING,
    "USUSP": JobState.RUNNING,  # suspended by its owner while running
    "SSUSP": JobState.RUNNING,  # suspended by LSF while running
}
TIMEOUT_REASONS: Final = frozenset({"TERM_RUNLIMIT", "TERM_DEADLINE"})
CANCEL_REASONS: Final = frozenset(
    {
        "TERM_OWNER",
        "TERM_ADMIN",
        "TERM_FORCE_OWNER",
        "TERM_FORCE_ADMIN",
        "TERM_BUCKET_KILL",
        "TERM_ORPHAN_SYSTEM",
        "TERM_REMOVE_HUNG_JOB",
    }
)
KillOutcome: TypeAlias = Literal["terminating", "finished", "unknown", "error"]

_TERM: Final = re.compile(r"\bTERM_[A-Z_]+")
_NOT_FOUND: Final = re.compile(r"Job <(\d+(?:\[\d+\])?)> is not found")
_BENIGN: Final = re.compile(r"^No (?:unfinished |matching )?job(?:s)? found")
_EXIT_CODE: Final = re.compile(r"-?\d+")


@attrs.frozen
class BjobsRow:
    """One ``bjobs -o`` row (one job, or one element of a job array)."""

    job_id: str
    index: int
    stat: str
    exit_code: int | None
    exit_reason: str
    user: str | None
    queue: str | None
    name: str | None


def _opt(value: str) -> str | None:
    value = value.strip()
    return None if value in ("", "-") else value


def _row(line: str) -> BjobsRow:
    fields = line.split("|", len(BJOBS_FIELDS) - 1)
    if len(fields) != len(BJOBS_FIELDS):
        msg = f"bjobs row has {len(fields)} fields, expected 8: {line[:120]!r}"
        raise SchedulerOutputError(msg)
    job_id, index, stat, code = (f.strip() for f in fields[:4])
    index = "0" if index == "-" else index
    code = code or "-"
    ok = job_id.isdigit() and index.isdecimal() and stat.isalpha()
    if not ok or not (code == "-" or _EXIT_CODE.fullmatch(code)):
        msg = f"unreadable bjobs row: {line[:120]!r}"
        raise SchedulerOutputError(msg)
    return BjobsRow(
        job_id=job_id,
        index=int(index),
        stat=stat,
        exit_code=None if code == "-" else int(code),
        exit_reason=_opt(fields[4]) or "",
        user=_opt(fields[5]),
        queue=_opt(fields[6]),
        name=_opt(fields[7]),
    )


def parse_bjobs_rows(text: str) -> list[BjobsRow]:
    """Rows of ``bjobs -noheader -o "<BJOBS_FORMAT>"`` output.

    Raises:
        SchedulerOutputError: a line is not a row of that format.
    """
    return [_row(line) for line in text.split("\n") if line.strip()]


def _exited(row: BjobsRow) -> Observation:
    match = _TERM.search(row.exit_reason)
    keyword = match.group(0) if match else ""
    reason = row.exit_reason or None
    if keyword in TIMEOUT_REASONS:
        return Observation(JobState.TIMED_OUT, row.stat, row.exit_code, reason=reason)
    if keyword in CANCEL_REASONS:
        return Observation(JobState.CANCELLED, row.stat, row.exit_code, reason=reason)
    return Observation(JobState.FAILED, row.stat, row.exit_code, reason=reason)


def observation_from_row(row: BjobsRow) -> Observation:
    """What one bjobs row says: DONE/EXIT are terminal, the rest are not."""
    if row.stat == "DONE":
        return Observation(JobState.SUCCEEDED, row.stat, row.exit_code or 0)
    if row.stat == "EXIT":
        return _exited(row)
    state = LSF_STATE_MAP.get(row.stat)
    if state is None:
        why = f"LSF reports {row.stat}: status not known"
        return Observation(JobState.SUBMITTED, row.stat, reason=why)
    return Observation(state, row.stat)


def merge_elements(observations: list[Observation]) -> Observation:
    """One observation for a job from those of its array elements."""
    if len(observations) == 1:
        return observations[0]
    state = aggregate_state(obs.state for obs in observations if obs.state)
    codes = [obs.exit_code for obs in observations if obs.exit_code]
    raws = ",".join(sorted({obs.raw_state for obs in observations}))
    reasons = sorted({obs.reason for obs in observations if obs.reason})
    reason = f"array of {len(observations)}" + (
        f": {'; '.join(reasons)}" if reasons else ""
    )
    exit_code = codes[0] if codes else (0 if state == JobState.SUCCEEDED else None)
    return Observation(state, raws, exit_code, reason=reason)


def parse_status(text: str) -> dict[str, Observation]:
    """``{job id: Observation}``; a job array's elements fold into one observation.

    Raises:
        SchedulerOutputError: the text is not bjobs -o output.
    """
    grouped: dict[str, list[Observation]] = {}
    for row in parse_bjobs_rows(text):
        grouped.setdefault(row.job_id, []).append(observation_from_row(row))
    return {job_id: merge_elements(obs) for job_id, obs in grouped.items()}


def parse_bjobs_errors(stderr: str) -> tuple[frozenset[str], tuple[str, ...]]:
    """Ids bjobs does not know, and stderr lines that are real errors."""
    unknown: set[str] = set()
    other: list[str] = []
    for line in stderr.split("\n"):
        text = line.strip()
        if match := _NOT_FOUND.search(text):
            unknown.add(match.group(1))
        elif text and not _BENIGN.match(text):
            other.append(text)
    return frozenset(unknown), tuple(other)


def parse_queue(text: str) -> list[QueueEntry]:
    """Queue entries from bjobs -o rows; array elements appear as ``id[index]``.

    Raises:
        SchedulerOutputError: the text is not bjobs -o output.
    """
    entries = []
    for row in parse_bjobs_rows(text):
        obs = observation_from_row(row)
        entries.append(
            QueueEntry(
                scheduler_job_id=f"{row.job_id}[{row.index}]"
                if row.index
                else row.job_id,
                name=row.name,
                user=row.user,
                state=obs.state or JobState.SUBMITTED,
                raw_state=row.stat,
                partition=row.queue,
            )
        )
    return entries


def bkill_outcome(returncode: int, output: str) -> KillOutcome:
    """Classify bkill's reply: terminating, already finished, unknown id, or error."""
    if "is being terminated" in output or "is being signaled" in output:
        return "terminating"
    if "Operation is in progress" in output:  # OpenLava, bkill of a running array (rc 255)
        return "terminating"
    if "Job has already finished" in output:
        return "finished"
    if "No matching job found" in output or "is not found" in output:
        return "unknown"
    return "terminating" if returncode == 0 and not output.strip() else "error"
