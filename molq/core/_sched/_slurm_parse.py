"""Reading what Slurm says: sbatch, squeue, sacct and scontrol output into Observations, and combining that evidence.

Rules: parsers skip lines they cannot read, and never report a terminal state the text does
not name (a state missing from SLURM_STATES becomes None); times are epoch seconds only.
Rendering scripts and building command lines stay in ``_slurm``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Final

import attrs

from .._errors import SchedulerOutputError
from .._records import Observation, QueueEntry
from .._state import JobState
from ._body import EXIT_CODE_FILE


_ID: Final = re.compile(r"(\d+)(?:[_+](?:\d+|\[[0-9,%:\-]+\]))?", re.ASCII)
_EPOCH: Final = re.compile(r"[0-9]{1,12}", re.ASCII)
_EXIT: Final = re.compile(r"([0-9]{1,3}):([0-9]{1,3})", re.ASCII)
_SBATCH_ID: Final = re.compile(r"(\d+)(?:;\S+)?", re.ASCII)
_KEY_VALUE: Final = re.compile(r"(?:^|\s)([A-Za-z]+)=(\S*)")


_Q, _R, _OK = JobState.QUEUED, JobState.RUNNING, JobState.SUCCEEDED
_F, _C, _T = JobState.FAILED, JobState.CANCELLED, JobState.TIMED_OUT
SLURM_STATES: Final[Mapping[str, JobState]] = {
    **dict.fromkeys(
        (
            *("PENDING", "CONFIGURING", "REQUEUED", "REQUEUE_FED", "REQUEUE_HOLD"),
            *("RESV_DEL_HOLD", "SPECIAL_EXIT", "POWER_UP_NODE"),
        ),
        _Q,
    ),
    **dict.fromkeys(
        (
            *("RUNNING", "COMPLETING", "STAGE_OUT", "SUSPENDED", "STOPPED"),
            *("SIGNALING", "RESIZING", "UPDATE_DB"),
        ),
        _R,
    ),
    "COMPLETED": _OK,
    **dict.fromkeys(("FAILED", "NODE_FAIL", "PREEMPTED", "OUT_OF_MEMORY"), _F),
    "BOOT_FAIL": _F,
    **dict.fromkeys(("CANCELLED", "REVOKED"), _C),
    **dict.fromkeys(("TIMEOUT", "DEADLINE"), _T),
}
_PLAIN_NAMES: Final = frozenset({"PENDING", "RUNNING", "COMPLETED", "FAILED", "CANCELLED", "TIMEOUT"})
_SEVERITY: Final = (_F, _T, _C, JobState.LOST, _OK)
# -- parsing -----------------------------------------------------------------------


def parse_sbatch_output(stdout: str) -> str:
    """The job id from ``sbatch --parsable``: ``123`` or ``123;cluster``.

    Raises:
        SchedulerOutputError: no line is a job id.
    """
    for line in reversed(stdout.split("\n")):
        match = _SBATCH_ID.fullmatch(line.strip())
        if match:
            return match.group(1)
    msg = f"sbatch printed no job id: {stdout[:200]!r}"
    raise SchedulerOutputError(msg)


def slurm_state(raw: str) -> JobState | None:
    """Map a SLURM state (``COMPLETED``, ``CANCELLED by 0``, ``RUNNING+``) to ours.

    Returns:
        The state, or None for a state this table does not know.
    """
    return SLURM_STATES.get(_native(raw))


def _native(raw: str) -> str:
    words = raw.split()
    return words[0].rstrip("+") if words else ""


def parse_exit_code(text: str) -> int | None:
    """``3:0`` → 3; a signal ``0:15`` → 143 (128 + signal), as a shell reports it."""
    match = _EXIT.fullmatch(text.strip())
    if match is None:
        return None
    code, signal = int(match.group(1)), int(match.group(2))
    return 128 + signal if signal else code


def parse_exit_code_file(text: str) -> int | None:
    """The exit status written by the job body to ``exit_code``, if it is one."""
    stripped = text.strip()
    if not _EPOCH.fullmatch(stripped) or int(stripped) > 255:
        return None
    return int(stripped)


def exit_file_observation(text: str) -> Observation | None:
    """What an ``exit_code`` file alone says: the script ran to the end."""
    code = parse_exit_code_file(text)
    if code is None:
        return None
    state = _OK if code == 0 else _F
    return Observation(state=state, exit_code=code, reason=f"{EXIT_CODE_FILE} file")


def _epoch(text: str) -> float | None:
    stripped = text.strip()
    if not _EPOCH.fullmatch(stripped) or int(stripped) == 0:
        return None
    return float(stripped)


def observation(
    raw: str, *, exit_text: str = "", start: str = "", end: str = "", reason: str = ""
) -> Observation:
    """One job's fields, as printed by SLURM, turned into an Observation."""
    state = slurm_state(raw)
    native = _native(raw)
    note = reason.strip()
    if state is not None and native not in _PLAIN_NAMES:
        note = native
    exit_code = parse_exit_code(exit_text)
    if state is _OK and exit_code is None:
        exit_code = 0
    ended = state is not None and state.is_terminal
    return Observation(
        state=state,
        raw_state=raw.strip(),
        exit_code=exit_code if ended else None,
        started_at=_epoch(start) if state is not None and state is not _Q else None,
        finished_at=_epoch(end) if ended else None,
        reason=note if note not in ("", "None", "(null)") else None,
    )


def _rows(stdout: str, width: int) -> Iterable[list[str]]:
    for line in stdout.split("\n"):
        fields = line.lstrip().split("|", width - 1)
        if len(fields) == width and _ID.fullmatch(fields[0]):
            yield fields


def parse_squeue(stdout: str) -> dict[str, Observation]:
    """Parse ``squeue -o SQUEUE_FORMAT`` by id; array tasks also under their base id."""
    rows = {
        job_id: observation(raw, start=start, end=end, reason=reason)
        for job_id, raw, start, end, reason in _rows(stdout, 5)
    }
    return _with_parents(rows)


def parse_sacct(stdout: str) -> dict[str, Observation]:
    """Parse ``sacct -X -P -n -o SACCT_FIELDS`` by id; tasks also under the base id."""
    rows = {
        job_id: observation(raw, exit_text=code, start=start, end=end)
        for job_id, raw, code, start, end in _rows(stdout, 5)
    }
    return _with_parents(rows)


def parse_scontrol_show_job(stdout: str) -> Observation | None:
    """Parse ``scontrol show job``; an array's task records are combined into one."""
    records = [_scontrol_record(chunk) for chunk in re.split(r"\n[ \t\r]*\n", stdout)]
    found = [record for record in records if record is not None]
    return combine(found) if found else None


def _scontrol_record(text: str) -> Observation | None:
    lines = text.strip().split("\n")
    if not lines or not lines[0].startswith("JobId="):
        return None
    fields: dict[str, str] = {}
    for line in lines[1:]:  # line 0 holds JobName, which the user chose
        for key, value in _KEY_VALUE.findall(line):
            fields.setdefault(key, value)
    if "JobState" not in fields:
        return None
    return observation(
        fields["JobState"],
        exit_text=fields.get("ExitCode", ""),
        start=fields.get("StartTime", ""),
        end=fields.get("EndTime", ""),
        reason=fields.get("Reason", ""),
    )


def parse_queue(stdout: str) -> list[QueueEntry]:
    """Parse ``squeue -o QUEUE_FORMAT`` rows; unknown states are listed as QUEUED."""
    entries = []
    for job_id, raw, partition, user, submit, start, name in _rows(stdout, 7):
        state = slurm_state(raw) or _Q
        entries.append(
            QueueEntry(
                scheduler_job_id=job_id,
                name=name or None,
                user=user or None,
                state=state,
                raw_state=raw,
                partition=partition or None,
                submit_time=_epoch(submit),
                start_time=None if state is _Q else _epoch(start),
            )
        )
    return entries


# -- combining evidence ------------------------------------------------------------


def _with_parents(rows: dict[str, Observation]) -> dict[str, Observation]:
    tasks: dict[str, list[Observation]] = {}
    for job_id, obs in rows.items():
        match = _ID.fullmatch(job_id)
        if match and match.group(1) != job_id:
            tasks.setdefault(match.group(1), []).append(obs)
    parents = {base: combine(obs) for base, obs in tasks.items() if base not in rows}
    return {**rows, **parents}


def combine(parts: Sequence[Observation]) -> Observation:
    """One Observation for an array from its tasks: active while any task is active.

    A finished array takes its most severe task state (FAILED, TIMED_OUT,
    CANCELLED, LOST, SUCCEEDED) and the largest exit code among those tasks.
    """
    if len(parts) == 1:
        return parts[0]
    states = {part.state for part in parts}
    state: JobState | None
    if all(state is not None and state.is_terminal for state in states) and parts:
        state = next(s for s in _SEVERITY if s in states)
    else:
        state = _R if _R in states else (_Q if _Q in states else None)
    chosen = [part for part in parts if part.state is state]
    codes = [part.exit_code for part in chosen if part.exit_code is not None]
    starts = [part.started_at for part in parts if part.started_at is not None]
    ends = [part.finished_at for part in parts if part.finished_at is not None]
    ended = state is not None and state.is_terminal
    return Observation(
        state=state,
        raw_state=",".join(dict.fromkeys(part.raw_state for part in parts)),
        exit_code=max(codes) if codes and ended else None,
        started_at=min(starts) if starts and state is not _Q else None,
        finished_at=max(ends) if ends and ended else None,
        reason=next((part.reason for part in chosen if part.reason), None),
    )


def needs_accounting(obs: Observation | None) -> bool:
    """Whether to ask further: the job is absent, or ended with no exit code."""
    return obs is None or (obs.state is not None and obs.state.is_terminal and obs.exit_code is None)


def corroborate(first: Observation | None, other: Observation | None) -> Observation | None:
    """Keep ``first``'s verdict; fill gaps from ``other`` if both agree on the state.

    ``first`` is the fresher source (squeue before sacct before scontrol before the
    exit code file); a disagreeing ``other`` is ignored, as sacct can lag behind.
    """
    if first is None:
        return other
    if other is None or other.state is not first.state:
        return first
    return attrs.evolve(
        first,
        exit_code=first.exit_code if first.exit_code is not None else other.exit_code,
        started_at=first.started_at or other.started_at,
        finished_at=first.finished_at or other.finished_at,
        reason=first.reason or other.reason,
    )
