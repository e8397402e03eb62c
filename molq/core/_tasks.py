"""The tasks of a job array: per-task state folded from ``job.task_changed`` events.

Rules of this module:
  Rule 1: pure: events and observations in, values and events out; no clock, no I/O.
  Rule 2: ``fold_tasks(events)`` equals ``functools.reduce(evolve_tasks, events, NO_TASKS)``
          (tests/properties/test_task_fold.py proves it).
  Rule 3: a task that ended stays ended: a later observation of it as active is stale
          (a queue row outliving its accounting record) and records nothing.
  Rule 4: the parent job's state is not computed here; the scheduler's view of the whole
          array moves it (docs/adr: arrays, events per task).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Final

import attrs

from ._errors import ConfigError
from ._events import JobTaskChanged, LogEvent
from ._records import JobRecord, Observation
from ._state import JobState


# 123_4 (Slurm), 123[4] and 123[4].server (PBS), 123[4] (LSF): the index is the number after _ or in [].
_TASK_ID: Final = re.compile(r"^[0-9]+(?:_([0-9]+)|\[([0-9]+)\])(?:\.\S*)?$", re.ASCII)
_SUMMARY_ORDER: Final = (
    JobState.SUCCEEDED,
    JobState.FAILED,
    JobState.TIMED_OUT,
    JobState.CANCELLED,
    JobState.LOST,
    JobState.RUNNING,
    JobState.QUEUED,
    JobState.SUBMITTED,
    JobState.CREATED,
)


@attrs.frozen
class TaskRecord:
    """What molq knows about one task of a job array.

    Attributes:
        index: the array index.
        state: the task's last recorded state.
        exit_code: its exit code once known.
        reason: why it ended as it did, when the scheduler says.
        raw_state: the scheduler's own word for the state.
        task_id: the scheduler's id for the task (``123_4``, ``123[4]``).
        started_at, finished_at: epoch seconds, when known.
        changed_at: when the last event for the task was recorded.
        transitions: how many ``job.task_changed`` events the task has.
    """

    index: int
    state: JobState
    exit_code: int | None = None
    reason: str | None = None
    raw_state: str = ""
    task_id: str = ""
    started_at: float | None = None
    finished_at: float | None = None
    changed_at: float = 0.0
    transitions: int = 0


@attrs.frozen
class ArrayTasks:
    """All recorded tasks of one array job, ordered by index."""

    tasks: tuple[TaskRecord, ...] = ()

    def get(self, index: int) -> TaskRecord | None:
        """The task with ``index``, or None if none was recorded."""
        return next((task for task in self.tasks if task.index == index), None)

    def counts(self) -> dict[str, int]:
        """``{state: number of tasks}`` for the states that occur, in summary order."""
        found: dict[JobState, int] = {}
        for task in self.tasks:
            found[task.state] = found.get(task.state, 0) + 1
        return {state.value: found[state] for state in _SUMMARY_ORDER if state in found}

    def summary(self) -> str:
        """``"998 succeeded, 2 failed"``; ``"no tasks seen"`` before the first event."""
        parts = [f"{count} {state}" for state, count in self.counts().items()]
        return ", ".join(parts) if parts else "no tasks seen"

    def indices(self, state: JobState) -> tuple[int, ...]:
        """The indices of the tasks in ``state``, ascending."""
        return tuple(task.index for task in self.tasks if task.state is state)

    def all_succeeded(self) -> bool:
        """Whether tasks were seen and every one of them succeeded."""
        return bool(self.tasks) and all(task.state is JobState.SUCCEEDED for task in self.tasks)


NO_TASKS: Final = ArrayTasks()


def task_index(task_id: str) -> int | None:
    """The array index in a scheduler's task id (``123_4``, ``123[4]``, ``123[4].pbs``), or None."""
    match = _TASK_ID.match(task_id)
    if match is None:
        return None
    return int(match.group(1) or match.group(2))


def _apply(tasks: dict[int, TaskRecord], event: JobTaskChanged) -> None:
    before = tasks.get(event.index)
    tasks[event.index] = TaskRecord(
        index=event.index,
        state=event.state,
        exit_code=event.exit_code,
        reason=event.reason,
        raw_state=event.raw_state,
        task_id=event.task_id or (before.task_id if before else ""),
        started_at=event.started_at
        if event.started_at is not None
        else (before.started_at if before else None),
        finished_at=event.finished_at,
        changed_at=event.at,
        transitions=(before.transitions if before else 0) + 1,
    )


def _frozen(tasks: dict[int, TaskRecord]) -> ArrayTasks:
    return ArrayTasks(tuple(tasks[index] for index in sorted(tasks)))


def evolve_tasks(tasks: ArrayTasks, event: LogEvent) -> ArrayTasks:
    """``tasks`` after one event; events other than ``job.task_changed`` change nothing."""
    if not isinstance(event, JobTaskChanged):
        return tasks
    found = {task.index: task for task in tasks.tasks}
    _apply(found, event)
    return _frozen(found)


def fold_tasks(events: Iterable[LogEvent], tasks: ArrayTasks = NO_TASKS) -> ArrayTasks:
    """Fold a job's events (oldest first) into its tasks, building the result once."""
    found = {task.index: task for task in tasks.tasks}
    for event in events:
        if isinstance(event, JobTaskChanged):
            _apply(found, event)
    return _frozen(found)


def _is_news(before: TaskRecord | None, obs: Observation) -> bool:
    if obs.state is None:
        return False
    if before is None:
        return True
    if before.state.is_terminal:  # Rule 3; a late exit code still counts
        return obs.state is before.state and before.exit_code is None and obs.exit_code is not None
    return obs.state is not before.state


def task_events(
    tasks: ArrayTasks, job_id: str, observed: Mapping[str, Observation], *, now: float
) -> tuple[JobTaskChanged, ...]:
    """The ``job.task_changed`` events that ``observed`` (task id -> Observation) adds to ``tasks``.

    Ids that name no task (the array itself, ``123_[5-9]`` pending ranges) are skipped;
    so are observations that repeat what is recorded.
    """
    by_index = {task.index: task for task in tasks.tasks}
    events = []
    for task_id in sorted(observed, key=lambda key: (task_index(key) or 0, key)):
        index = task_index(task_id)
        obs = observed[task_id]
        if index is None or obs.state is None or not _is_news(by_index.get(index), obs):
            continue
        event = JobTaskChanged(
            job_id=job_id,
            at=now,
            index=index,
            state=obs.state,
            exit_code=obs.exit_code,
            reason=obs.reason,
            raw_state=obs.raw_state,
            task_id=task_id,
            started_at=obs.started_at,
            finished_at=obs.finished_at,
        )
        events.append(event)
        _apply(by_index, event)
    return tuple(events)


def slurm_task_log_path(template: str, scheduler_job_id: str, index: int) -> str:
    """Where Slurm writes one task's stdout/stderr, from the path molq recorded for the array.

    molq renders an array's ``--output`` as ``<path>.%A_%a`` unless the path already
    names the task with ``%a`` (``_sched._slurm``); this is the inverse.
    """
    if "%a" not in template:
        return f"{template}.{scheduler_job_id}_{index}"
    return template.replace("%A", scheduler_job_id).replace("%a", str(index))


ARRAY_SPEC_KEY: Final = "molq.array_spec"
"""Metadata key under which molq records a job's array spec (``0-99%10``); its presence marks an array."""


def is_array_job(record: JobRecord) -> bool:
    """Whether the job was submitted as an array (its metadata holds the array spec)."""
    return bool(record.metadata.get(ARRAY_SPEC_KEY))


def task_log_paths(
    scheduler: str, metadata: Mapping[str, str], scheduler_job_id: str, index: int
) -> tuple[str, str]:
    """Where one task's stdout and stderr are, from an array job's recorded paths.

    Each task has its own files: Slurm ``<path>.<id>_<index>`` (``%A_%a``), OpenPBS
    ``<path>.<index>`` (``^array_index^``), LSF ``<path>.<index>`` (``$LSB_JOBINDEX``).
    Other schedulers' paths are the array's. A stream with no recorded path is ``""``.
    """

    def per_task(template: str) -> str:
        if not template:
            return ""
        if scheduler == "slurm":
            return slurm_task_log_path(template, scheduler_job_id, index)
        if scheduler == "pbs":
            return pbs_task_log_path(template, index)
        return f"{template}.{index}" if scheduler == "lsf" else template

    return per_task(metadata.get("molq.stdout_path", "")), per_task(metadata.get("molq.stderr_path", ""))


def pbs_task_log_path(template: str, index: int) -> str:
    """Where OpenPBS writes one subjob's output: the inverse of ``_sched._pbs.pbs_task_log_pattern``."""
    marker = "^array_index^"
    return template.replace(marker, str(index)) if marker in template else f"{template}.{index}"


def task_scheduler_id(scheduler: str, scheduler_job_id: str, index: int) -> str:
    """The scheduler's id for one task: ``123_4`` (Slurm), ``123[4].server`` (PBS), ``123[4]`` (LSF).

    Raises:
        ConfigError: the scheduler has no per-task ids, or ``index`` is negative.
    """
    if index < 0:
        msg = f"task index must be 0 or more, got {index}"
        raise ConfigError(msg)
    if scheduler == "slurm":
        return f"{scheduler_job_id}_{index}"
    if scheduler == "pbs" and "[]" in scheduler_job_id:
        return scheduler_job_id.replace("[]", f"[{index}]", 1)
    if scheduler == "lsf":
        return f"{scheduler_job_id}[{index}]"
    msg = f"{scheduler} job {scheduler_job_id!r} has no per-task ids: only SLURM, OpenPBS and LSF arrays do"
    raise ConfigError(msg)
