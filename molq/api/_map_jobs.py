"""``map_jobs``: a list of commands as one job array, and a handle over its tasks."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import attrs

from molq.core import ConfigError, JobRecord, JobScheduling, JobState
from molq.core._map import map_array_spec, map_command
from molq.core._tasks import ArrayTasks, task_log_paths
from molq.shell._array_tasks import job_tasks


if TYPE_CHECKING:
    from molq.api._handle import JobHandle
    from molq.api._submitor import Submitor


@attrs.frozen
class ArrayHandle:
    """The tasks of a ``map_jobs`` array: task k ran ``items[k - 1]``.

    Attributes:
        job: the handle of the one array job.
        items: the argv lists, in task order.
    """

    job: JobHandle
    items: tuple[tuple[str, ...], ...]
    _submitor: Submitor = attrs.field(repr=False, alias="submitor")

    def wait(self, timeout: float | None = None) -> JobRecord:
        """Block until the array ends (every task has); returns the array job's record."""
        return self.job.wait(timeout=timeout)

    def tasks(self) -> ArrayTasks:
        """Every task recorded so far, with state and exit code."""
        return job_tasks(self._submitor.store, self._submitor.latest_attempt(self.job.job_id).job_id)

    def failed(self) -> tuple[int, ...]:
        """Positions in ``items`` of the tasks that ended without success (failed, timed out, cancelled, lost)."""
        bad = (JobState.FAILED, JobState.TIMED_OUT, JobState.CANCELLED, JobState.LOST)
        return tuple(task.index - 1 for task in self.tasks().tasks if task.state in bad)

    def log_paths(self, position: int) -> tuple[str, str]:
        """Where the task that ran ``items[position]`` wrote its stdout and stderr."""
        record = self._submitor.latest_attempt(self.job.job_id)
        return task_log_paths(record.scheduler, record.metadata, record.scheduler_job_id or "", position + 1)


def map_jobs(
    submitor: Submitor,
    argvs: Sequence[Sequence[str]],
    *,
    max_parallel: int | None = None,
    scheduling: JobScheduling | None = None,
    **submit_kwargs: Any,
) -> ArrayHandle:
    """Submit ``argvs`` as one job array (task k runs ``argvs[k - 1]``), at most ``max_parallel`` at once.

    Other keywords (``resources``, ``execution``, ``after_success``, ...) are those of
    ``Submitor.submit_job``.

    Raises:
        ConfigError: no commands, an item that is not a non-empty list of strings, a
            ``max_parallel`` below 1, or a ``scheduling`` that already has an array spec.
    """
    if scheduling is not None and scheduling.array_spec is not None:
        msg = "map_jobs makes the array itself: leave scheduling.array_spec unset (use max_parallel)"
        raise ConfigError(msg)
    command = map_command(argvs)  # checks every item before anything is converted
    items = tuple(tuple(argv) for argv in argvs)
    spec = map_array_spec(len(items), max_parallel)
    array = dataclasses.replace(scheduling or JobScheduling(), array_spec=spec)
    job = submitor.submit_job(command=command, scheduling=array, **submit_kwargs)
    return ArrayHandle(job=job, items=items, submitor=submitor)
