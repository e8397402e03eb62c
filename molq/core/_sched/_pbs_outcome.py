"""How a PBS job ended, judged from its qstat attributes (OpenPBS, PBS Pro, Torque).

Rules of this module:
  Rule 1: a terminal state only when ``job_state`` says finished (F, X; Torque C);
    unknown letters stay non-terminal (SUBMITTED), raw kept.
  Rule 2: PBS_STATE_MAP is the only mapping of active state letters.
  Rule 3: every terminal Observation says why in ``reason`` when it is not a plain exit.
  Rule 4: pure: the job's own ``exit_code`` file text is passed in by the caller.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Final

from .._errors import SchedulerOutputError
from .._records import Observation
from .._state import JobState
from ._batch import aggregate_state, exit_file_observation, state_from_exit_code


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
PRO_WALLTIME_EXIT: Final = -29  # JOB_EXEC_KILL_WALLTIME (OpenPBS / PBS Pro)
TORQUE_WALLTIME_EXIT: Final = -11  # JOB_EXEC_OVERLIMIT_WT (Torque 6 manual)
SUBSTATE_TERMINATED: Final = "91"  # OpenPBS history: deleted by qdel
SUBSTATE_FAILED: Final = "93"  # OpenPBS history: failed (an array: some subjob failed)
_QSTAT_TIME: Final = "%a %b %d %H:%M:%S %Y"


def observation_from_attrs(
    attrs: Mapping[str, str], *, exit_file: str | None = None, cancel_requested: bool = False
) -> Observation:
    """One Observation from one job's qstat attributes.

    ``exit_file`` is the text of the job's ``exit_code`` file, consulted only for a
    finished job the scheduler gives no exit status for (Slurm's Torque wrappers);
    ``cancel_requested`` says molq asked to cancel it (its ``cancel_requested``
    marker), which turns a kill by signal recorded there into CANCELLED.

    Raises:
        SchedulerOutputError: no ``job_state``, or a non-integer exit status.
    """
    raw = attrs.get("job_state", "").strip()
    if not raw:
        msg = "qstat -f job block has no job_state"
        raise SchedulerOutputError(msg)
    if raw in PBS_FINISHED:
        return _finished(attrs, raw, exit_file, cancel_requested=cancel_requested)
    state = PBS_STATE_MAP.get(raw)
    if state is None:
        return Observation(JobState.SUBMITTED, raw, reason=f"unrecognised PBS job_state {raw!r}")
    return Observation(state, raw, reason=attrs.get("comment"))


def needs_exit_file(attrs: Mapping[str, str]) -> bool:
    """Whether the job finished without the scheduler giving an exit status."""
    return attrs.get("job_state", "") in PBS_FINISHED and exit_status(attrs) is None


def exit_status(attrs: Mapping[str, str]) -> int | None:
    """``Exit_status`` (OpenPBS) or ``exit_status`` (Torque), if the job has one.

    Raises:
        SchedulerOutputError: the value is not an integer.
    """
    value = attrs.get("Exit_status", attrs.get("exit_status"))
    if value is None or not value.strip():
        return None
    try:
        return int(value)
    except ValueError:
        msg = f"Exit_status is not an integer: {value[:40]!r}"
        raise SchedulerOutputError(msg) from None


def _finished(attrs: Mapping[str, str], raw: str, exit_file: str | None, *, cancel_requested: bool) -> Observation:
    code = exit_status(attrs)
    if code is None:
        return _without_exit_status(attrs, raw, exit_file, cancel_requested=cancel_requested)
    if _walltime_killed(attrs, code):
        return Observation(JobState.TIMED_OUT, raw, code, reason=f"walltime exceeded (exit status {code})")
    if attrs.get("substate") == SUBSTATE_TERMINATED:
        return Observation(JobState.CANCELLED, raw, code, reason=f"deleted while running (qdel; exit status {code})")
    if attrs.get("array", "").lower() == "true":
        failed = attrs.get("substate") == SUBSTATE_FAILED
        state = JobState.FAILED if failed else JobState.SUCCEEDED
        return Observation(state, raw, None, reason="a subjob failed" if failed else None)
    reason = None
    if code >= 256:
        reason = f"killed by signal {code - 256}"
    elif code < 0:
        reason = f"PBS could not run the job (exit status {code})"
    return Observation(state_from_exit_code(code), raw, code, reason=reason)


def _without_exit_status(
    attrs: Mapping[str, str], raw: str, exit_file: str | None, *, cancel_requested: bool
) -> Observation:
    ran = "exec_host" in attrs or "stime" in attrs
    exhausted = _walltime_exhausted(attrs)
    if exit_file is not None:
        from_file = exit_file_observation(exit_file)
        signal = exit_file_signal(exit_file)
        if cancel_requested and signal is not None:
            reason = f"cancelled: killed by signal {signal} after molq asked to cancel (qdel)"
            return Observation(JobState.CANCELLED, raw, from_file.exit_code, reason=reason)
        if from_file.state is not None and not (exhausted and from_file.exit_code):
            return Observation(from_file.state, raw, from_file.exit_code, reason=from_file.reason)
    if ran and exhausted:
        return Observation(JobState.TIMED_OUT, raw, reason="walltime exceeded (ran for its whole limit)")
    if ran:
        reason = "ended without an exit status or exit_code file: deleted while running (qdel) or killed"
    elif attrs.get("substate") == SUBSTATE_TERMINATED:
        reason = "deleted before it ran (qdel)"
    elif "depend" in attrs:
        reason = f"dependency never satisfied ({attrs['depend']})"
    else:
        reason = "never ran: deleted (qdel) or its dependency was never satisfied"
    return Observation(JobState.CANCELLED, raw, reason=reason)


def exit_file_signal(exit_file: str | None) -> int | None:
    """The signal a shell reported as ``128 + N`` in the ``exit_code`` file, else None."""
    code = exit_file_observation(exit_file).exit_code if exit_file is not None else None
    return code - 128 if code is not None and 128 < code < 160 else None


def _walltime_killed(attrs: Mapping[str, str], code: int) -> bool:
    walltime_code = TORQUE_WALLTIME_EXIT if "exit_status" in attrs else PRO_WALLTIME_EXIT
    if code == walltime_code or "exceeded resource walltime" in attrs.get("comment", ""):
        return True
    signalled = code >= 256 or 128 < code < 256
    return signalled and _walltime_exhausted(attrs)


def _seconds(value: str | None) -> int | None:
    parts = (value or "").split(":")
    if len(parts) != 3 or not all(p.isdigit() for p in parts):
        return None
    hours, minutes, secs = (int(p) for p in parts)
    return hours * 3600 + minutes * 60 + secs


def _elapsed(attrs: Mapping[str, str]) -> int | None:
    used = _seconds(attrs.get("resources_used.walltime"))
    if used is not None:
        return used
    try:  # Slurm's Torque wrappers: mtime is the start, ctime the end
        start = datetime.strptime(attrs.get("mtime", ""), _QSTAT_TIME)
        end = datetime.strptime(attrs.get("ctime", ""), _QSTAT_TIME)
    except ValueError:
        return None
    return int((end - start).total_seconds())


def _walltime_exhausted(attrs: Mapping[str, str]) -> bool:
    used = _elapsed(attrs)
    limit = _seconds(attrs.get("Resource_List.walltime"))
    return used is not None and limit is not None and used >= limit


def observations(jobs: Mapping[str, Mapping[str, str]]) -> dict[str, Observation]:
    """``{job id: Observation}``; a finished array parent takes its subjobs' outcome.

    Raises:
        SchedulerOutputError: a job has no job_state or an unreadable exit status.
    """
    seen = {job_id: observation_from_attrs(attrs) for job_id, attrs in jobs.items()}
    for parent, tasks in array_tasks(jobs, seen).items():
        parent_obs = seen.get(parent)
        if parent_obs is not None and parent_obs.state is not None and parent_obs.state.is_terminal:
            seen[parent] = combine_tasks(parent_obs, tasks)
    return seen


def array_tasks(
    jobs: Mapping[str, Mapping[str, str]], seen: Mapping[str, Observation]
) -> dict[str, dict[str, Observation]]:
    """``{array id: {subjob id: Observation}}`` for the subjobs in ``jobs`` (``qstat -t``)."""
    tasks: dict[str, dict[str, Observation]] = {}
    for job_id, attrs in jobs.items():
        parent = attrs.get("array_id")
        if parent:
            tasks.setdefault(parent, {})[job_id] = seen[job_id]
    return tasks


def combine_tasks(parent: Observation, tasks: Mapping[str, Observation]) -> Observation:
    """A finished array's outcome: its worst subjob, with that subjob's exit code."""
    states = [obs.state for obs in tasks.values() if obs.state is not None]
    if not states or not all(s.is_terminal for s in states):
        return parent
    state = aggregate_state([*states, *([parent.state] if parent.state is JobState.FAILED else [])])
    worst = [(task, obs) for task, obs in tasks.items() if obs.state is state]
    codes = [(obs.exit_code, task) for task, obs in worst if obs.exit_code is not None]
    if state is JobState.SUCCEEDED:
        return Observation(state, parent.raw_state, 0)
    code, task = max(codes) if codes else (None, next((t for t, _ in worst), ""))
    if not task:
        return Observation(state, parent.raw_state, None, reason=parent.reason)
    detail = f"exit status {code}" if code is not None else tasks[task].reason or state.value
    return Observation(state, parent.raw_state, code, reason=f"subjob {task}: {detail}")


def confirm_success(obs: Observation, exit_file: str | None) -> Observation:
    """A SUCCEEDED job must have written its ``exit_code`` file; else it was killed early.

    OpenPBS reports ``Exit_status = 0`` and substate 92 ("finished") for a job deleted
    while it was starting: only the missing file tells. Pass the file's text, or None
    when the job wrote none.
    """
    if obs.state is not JobState.SUCCEEDED or exit_file is not None:
        return obs
    reason = "PBS says Exit_status 0 but the job wrote no exit_code file: killed before it finished (qdel)"
    return Observation(JobState.CANCELLED, obs.raw_state, obs.exit_code, reason=reason)
