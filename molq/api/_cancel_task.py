"""Cancelling one task of a job array (the array and its other tasks run on)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from molq.core import ConfigError
from molq.core._tasks import is_array_job, task_scheduler_id


if TYPE_CHECKING:
    from molq.api._parts import SubmitorParts


def cancel_task(submitor: SubmitorParts, job_id: str, index: int) -> None:
    """Cancel task ``index`` of array job ``job_id`` (its latest attempt); the other tasks run on.

    The task's end is recorded as any task's is, by the next status pass (a
    ``job.task_changed`` to ``cancelled``); no request event is written, since the
    array job itself is not being cancelled.

    Raises:
        ConfigError: the job is not an active, submitted array job, or its scheduler
            has no per-task ids.
        SchedulerError: the scheduler refused the cancel.
    """
    latest = submitor.latest_attempt(job_id)
    if not is_array_job(latest):
        msg = f"job {latest.job_id} is not an array job: only an array's tasks can be cancelled one by one"
        raise ConfigError(msg)
    if latest.scheduler_job_id is None or latest.state.is_terminal:
        msg = f"job {latest.job_id} is {latest.state.value}: no task of it can be cancelled"
        raise ConfigError(msg)
    task_id = task_scheduler_id(latest.scheduler, latest.scheduler_job_id, index)
    submitor.target.scheduler_impl.cancel(task_id)
    submitor.reconciler.reconcile([latest.job_id])
