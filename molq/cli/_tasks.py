"""Job arrays in the CLI: what ``inspect``, ``list``, ``--json`` and ``logs --task N`` show of tasks.

``inspect`` prints a tasks section, ``list`` one summary line per array job, the job
objects of ``--json`` a ``tasks`` summary, ``inspect --json`` an ``array`` object.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import click

from molq.cli._common import echo


if TYPE_CHECKING:
    from molq import ArrayTasks, JobRecord, JobStore


def _iso(epoch: float | None) -> str | None:
    """As ``_output.iso`` (ISO 8601 UTC, milliseconds); not imported from there, which imports this module."""
    import datetime as dt

    return (
        None if epoch is None else dt.datetime.fromtimestamp(epoch, dt.UTC).isoformat(timespec="milliseconds")
    )


def tasks_of(store: JobStore, record: JobRecord) -> ArrayTasks | None:
    """The recorded tasks of an array job; None for a job that is not an array."""
    from molq import is_array_job, job_tasks

    return job_tasks(store, record.job_id) if is_array_job(record) else None


def task_summary(store: JobStore, record: JobRecord) -> str | None:
    """``"4 succeeded, 1 failed"`` for an array job, None for any other job."""
    tasks = tasks_of(store, record)
    return None if tasks is None else tasks.summary()


def tasks_document(store: JobStore, record: JobRecord) -> dict[str, Any] | None:
    """``inspect --json``'s ``tasks``: the array spec, counts and one object per task."""
    from molq import task_log_paths

    tasks = tasks_of(store, record)
    if tasks is None:
        return None
    sid = record.scheduler_job_id or ""
    rows = []
    for task in tasks.tasks:
        out, err = task_log_paths(record.scheduler, record.metadata, sid, task.index)
        rows.append(
            {
                "index": task.index,
                "task_id": task.task_id,
                "state": task.state.value,
                "exit_code": task.exit_code,
                "reason": task.reason,
                "raw_state": task.raw_state,
                "started_at": _iso(task.started_at),
                "finished_at": _iso(task.finished_at),
                "stdout_path": out,
                "stderr_path": err,
            }
        )
    return {
        "array_spec": record.metadata.get("molq.array_spec"),
        "summary": tasks.summary(),
        "counts": tasks.counts(),
        "tasks": rows,
    }


def print_tasks(store: JobStore, record: JobRecord) -> None:
    """``inspect``'s tasks section: the summary, then one line per task."""
    document = tasks_document(store, record)
    if document is None:
        return
    echo(f"tasks:        {document['summary']} (array {document['array_spec']})")
    for row in document["tasks"]:
        code = "-" if row["exit_code"] is None else str(row["exit_code"])
        echo(f"  task {row['index']:<6} {row['state']:<10} exit {code:<4} {row['stdout_path']}")


def print_task_summaries(store: JobStore, records: Sequence[JobRecord]) -> None:
    """``list``'s summary line for each array job among ``records``."""
    from molq import is_array_job

    for record in records:
        if is_array_job(record):
            echo(f"tasks of {record.job_id}: {task_summary(store, record)}")


def task_paths(record: JobRecord, stream: str, task: int) -> list[tuple[str, str]]:
    """``[(stream name, path)]`` of one task of an array job, for ``logs --task``.

    Raises:
        click.ClickException: the job is not an array, or has no scheduler id yet.
    """
    from molq import is_array_job, task_log_paths

    if not is_array_job(record):
        msg = f"job {record.job_id} is not an array job: --task applies to arrays only"
        raise click.ClickException(msg)
    if record.scheduler_job_id is None:
        msg = f"job {record.job_id} was not submitted yet: its tasks have no output"
        raise click.ClickException(msg)
    out, err = task_log_paths(record.scheduler, record.metadata, record.scheduler_job_id, task)
    names = ("stdout", "stderr") if stream == "both" else (stream,)
    return [(name, out if name == "stdout" else err) for name in names]
