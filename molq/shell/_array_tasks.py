"""Per-task observations of job arrays, recorded as ``job.task_changed`` events in a pass.

A step of a reconciliation pass (like ``_job_context``): for each array job the pass
polled, ask the scheduler about its tasks and append what changed. The parent's own
state is left to the pass's ordinary poll (docs/adr: arrays, events per task).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Protocol, runtime_checkable

from molq.core import ConcurrencyConflict, JobRecord, MolqError, Observation
from molq.core._tasks import ArrayTasks, fold_tasks, is_array_job, task_events


if TYPE_CHECKING:
    from molq.shell._pass import ReconcilePass, ReconcileReport
    from molq.shell.store._store import JobStore


log = logging.getLogger("molq.reconcile")
TASK_TAG = "job.task_changed"


@runtime_checkable
class TaskObserver(Protocol):
    """A scheduler that can report an array's tasks one by one."""

    def array_tasks(self, scheduler_job_id: str) -> dict[str, Observation]:
        """``{task id: Observation}`` for the array ``scheduler_job_id``."""


def job_tasks(store: JobStore, job_id: str) -> ArrayTasks:
    """The tasks of ``job_id`` folded from its ``job.task_changed`` events (none for a plain job)."""
    return fold_tasks(recorded.event for recorded in store.events_of_type([job_id], TASK_TAG))


def record_array_tasks(rec: ReconcilePass, records: Sequence[JobRecord], report: ReconcileReport) -> None:
    """Ask about the tasks of every array among ``records`` and append what changed."""
    scheduler = rec.scheduler
    if not isinstance(scheduler, TaskObserver):
        return
    for record in records:
        if not is_array_job(record) or record.scheduler_job_id is None:
            continue
        try:
            observed = scheduler.array_tasks(record.scheduler_job_id)
        except MolqError as exc:
            report.errors.append(f"{rec.scheduler.name} task query for {record.job_id} failed: {exc}")
            log.warning("task query failed for %s: %s", record.job_id, exc)
            continue
        append_task_events(rec.store, record.job_id, observed, now=rec.clock())


def append_task_events(
    store: JobStore, job_id: str, observed: Mapping[str, Observation], *, now: float
) -> int:
    """Append the task events ``observed`` adds to the log; returns how many (0 on a lost race)."""
    version = store.stream_version(job_id)
    events = task_events(job_tasks(store, job_id), job_id, observed, now=now)
    if not events:
        return 0
    try:
        store.append(job_id, events, expected_version=version, now=now)
    except ConcurrencyConflict:
        return 0  # another writer moved the job: the next pass sees the tasks again
    return len(events)
