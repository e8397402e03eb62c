"""Recording what finished jobs used: one batched accounting call, one event per job.

The reconciler calls ``collect_usage`` after a pass: the jobs that ended in it get
their usage in one ``usage_many`` call (sacct / qstat -x -f / bjobs -a -l / a probe of
the local ``rusage`` files). ``record_usage`` also serves callers that ask later
(``molq.job_usage``, ``molq report``) for jobs that ended without it.
See docs/adr/0036-usage-from-accounting.md.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from typing import Protocol, runtime_checkable

from molq.core import (
    ConcurrencyConflict,
    JobRecord,
    JobSpec,
    JobState,
    MolqError,
    Scheduler,
    StatusTransition,
)
from molq.core._events import JobCreated, JobUsageRecorded
from molq.core._usage import JobUsage, complete_usage
from molq.shell.store._store import JobStore


log = logging.getLogger("molq.usage")

SOURCES = {"slurm": "sacct", "pbs": "qstat", "lsf": "bjobs", "local": "rusage"}
SPEC_CHUNK = 500  # job ids per query: far below SQLite's bound on bound variables
NOT_IN_ACCOUNTING = "the scheduler's accounting has no record of the job"


@runtime_checkable
class UsageSource(Protocol):
    """A scheduler adapter that can report finished jobs' usage (all four built-in ones)."""

    def usage_many(
        self, scheduler_job_ids: Sequence[str], *, job_dirs: Mapping[str, str] | None = None
    ) -> dict[str, JobUsage]:
        """``{scheduler id: usage}`` for the ids the accounting knows, in one batched query."""
        ...


class _Pass(Protocol):
    store: JobStore
    scheduler: Scheduler
    clock: Callable[[], float]

    def record_failure(self, operation: str, exc: MolqError) -> None: ...


def collect_usage(reconciler: _Pass, transitions: Sequence[StatusTransition], errors: list[str]) -> None:
    """Record the usage of the jobs ``transitions`` ended; a failed fetch is an error, not a crash."""
    ended = list(dict.fromkeys(t.job_id for t in transitions if t.new_state.is_terminal))
    if not ended or not isinstance(reconciler.scheduler, UsageSource):
        return
    records = [r for job_id in ended if (r := reconciler.store.get_record(job_id)) is not None]
    try:
        record_usage(reconciler.store, reconciler.scheduler, records, now=reconciler.clock())
    except MolqError as exc:
        errors.append(f"{reconciler.scheduler.name} usage query failed: {exc}")
        log.warning("usage query failed: %s", exc)
        reconciler.record_failure("usage", exc)


def wants_usage(record: JobRecord) -> bool:
    """Whether ``record`` ended on a scheduler and has no usage yet."""
    return (
        record.state.is_terminal
        and record.usage is None
        and bool(record.scheduler_job_id)
        and (record.state is not JobState.LOST or record.started_at is not None)
    )


def record_usage(store: JobStore, scheduler: Scheduler, records: Sequence[JobRecord], *, now: float) -> int:
    """Fetch the usage of ``records`` that want it in one call and append one event each.

    Returns:
        How many usage events were appended.

    Raises:
        MolqError: the accounting query failed (nothing is appended).
    """
    wanted = [r for r in records if wants_usage(r)]
    if not wanted or not isinstance(scheduler, UsageSource):
        return 0
    dirs = {r.scheduler_job_id: r.metadata.get("molq.job_dir", "") for r in wanted if r.scheduler_job_id}
    found = scheduler.usage_many(list(dirs), job_dirs=dirs)
    specs = _specs(store, [r.job_id for r in wanted])
    batch = [(r.job_id, (_event(r, specs[r.job_id], found, scheduler.name, now),), r.version) for r in wanted]
    try:
        store.append_batch(batch, now=now)
    except ConcurrencyConflict:
        return _one_by_one(store, batch, now)
    return len(batch)


def _specs(store: JobStore, job_ids: Sequence[str]) -> dict[str, JobSpec]:
    """Each job's spec from its ``job.created``, read in a few queries rather than one per job."""
    specs: dict[str, JobSpec] = {}
    for start in range(0, len(job_ids), SPEC_CHUNK):
        for recorded in store.events_of_type(job_ids[start : start + SPEC_CHUNK], "job.created"):
            if isinstance(recorded.event, JobCreated):
                specs[recorded.stream] = recorded.event.spec
    return specs  # every record folds from a job.created, so every job id is here


def _event(
    record: JobRecord, spec: JobSpec, found: dict[str, JobUsage], scheduler: str, now: float
) -> JobUsageRecorded:
    usage = found.get(record.scheduler_job_id or "") or JobUsage(
        source=SOURCES.get(scheduler, scheduler), note=NOT_IN_ACCOUNTING
    )
    resources = spec.resources
    elapsed = None
    if record.started_at is not None and record.finished_at is not None:
        elapsed = max(0.0, record.finished_at - record.started_at)
    usage = complete_usage(
        usage,
        elapsed_seconds=elapsed,
        requested_memory_bytes=resources.memory.n_bytes if resources.memory is not None else None,
        cpus=resources.cpu_count,
    )
    return JobUsageRecorded(job_id=record.job_id, at=now, usage=usage)


def _one_by_one(store: JobStore, batch: list[tuple[str, tuple[JobUsageRecorded], int]], now: float) -> int:
    """After a conflict: append each event on its job's fresh record, unless usage came meanwhile."""
    appended = 0
    for job_id, events, _ in batch:
        fresh = store.get_record(job_id)
        if fresh is None or not wants_usage(fresh):
            continue
        try:
            store.append(job_id, list(events), expected_version=fresh.version, now=now)
        except ConcurrencyConflict:
            continue  # another process is recording it
        appended += 1
    return appended
