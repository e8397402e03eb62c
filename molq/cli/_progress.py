"""Waiting for jobs with a Rich progress display on stderr."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TextColumn,
    TimeElapsedColumn,
)

from molq.cli._common import echo
from molq.dashboard._format import err, fmt_duration, runtime, short


if TYPE_CHECKING:
    from molq import EventPayload, JobRecord, JobState, JobStore, Submitor


def _progress() -> Progress:
    console = err()
    return Progress(
        SpinnerColumn(),
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=True,
        disable=not console.is_terminal,
    )


def wait_with_progress(submitor: Submitor, job_ids: list[str], timeout: float | None) -> list[JobRecord]:
    """Block until every job's family is final, showing how many are done.

    Raises:
        MolqTimeoutError: ``timeout`` passed first.
    """
    from molq import EventType

    store = submitor.store
    with _progress() as progress:
        task = progress.add_task(_describe(job_ids, {}), total=len(job_ids))

        def on_change(payload: EventPayload) -> None:
            states = {i: _latest_state(store, i) for i in job_ids}
            finished = sum(1 for s in states.values() if s is not None and s.is_terminal)
            progress.update(task, completed=finished, description=_describe(job_ids, states))

        submitor.on_event(EventType.STATUS_CHANGE, on_change)
        try:
            return submitor.watch_jobs(job_ids, timeout=timeout)
        finally:
            submitor.off_event(EventType.STATUS_CHANGE, on_change)


def _latest_state(store: JobStore, job_id: str) -> JobState | None:
    from molq.dashboard._model import latest_of

    record = latest_of(store, job_id)
    return None if record is None else record.state


def _describe(job_ids: list[str], states: dict[str, JobState | None]) -> str:
    if len(job_ids) == 1:
        state = states.get(job_ids[0]) or "waiting"
        return f"job {short(job_ids[0])}: {state}"
    running = sum(1 for s in states.values() if str(s) == "running")
    return f"{len(job_ids)} jobs ({running} running)"


def report_final(record: JobRecord, *, quiet: bool = False) -> int:
    """One line about how a job ended; the exit status is ``job_exit_status(record)``."""
    if not quiet:
        exit_code = "-" if record.exit_code is None else record.exit_code
        took = fmt_duration(runtime(record, time.time()))
        reason = f": {record.failure_reason}" if record.failure_reason else ""
        echo(f"Job {record.job_id} {record.state} (exit {exit_code}, ran {took}){reason}")
    from molq.cli._exit_status import job_exit_status

    return job_exit_status(record)
