"""Submitting one attempt: intent event, job directory, scheduler call, outcome event."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence

import attrs
import msgspec

from molq.core import (
    CompiledEdge,
    ConcurrencyConflict,
    ConfigError,
    InvalidTransition,
    JobEvent,
    JobRecord,
    JobState,
    MolqError,
    RecordSubmission,
    RecordSubmitFailure,
    Scheduler,
    SchedulerError,
    TransportError,
    decide,
    evolve,
)
from molq.core._context import with_context_env
from molq.core._events import JobCreated, JobDependencyRecorded
from molq.shell._submitter import SUBMITTER_KEY, submitter_token
from molq.shell.store._store import JobStore


log = logging.getLogger("molq.submit")
OUTCOME_RETRIES = 20  # a submission's outcome is worth many tries: without it the job stays CREATED


def create_and_submit(
    store: JobStore,
    scheduler: Scheduler,
    created: JobCreated,
    edges: Sequence[CompiledEdge] = (),
    *,
    clock: Callable[[], float],
    command: str | None = None,
) -> JobRecord:
    """Record the intent, then ask the scheduler; the outcome is recorded either way.

    ``command`` is the submission's display line when the caller already rendered it.

    Raises:
        SchedulerError / TransportError: the scheduler refused or could not be
            reached; a ``job.submit_failed`` event says why.
    """
    created = with_submitter(with_context_env(created))
    job_id = created.job_id
    intent: list[JobEvent] = [
        created,
        *(
            JobDependencyRecorded(
                job_id=job_id,
                at=created.at,
                dependency_job_id=edge.dependency_job_id,
                dependency_type=edge.dependency_type,
                scheduler_dependency=edge.native,
            )
            for edge in edges
        ),
    ]
    store.append(job_id, intent, expected_version=0, now=clock())
    record = None
    for event in intent:  # the record the append just projected, without reading it back
        record = evolve(record, event)
    return submit_recorded(store, scheduler, created, clock=clock, command=command, record=record)


def submit_recorded(
    store: JobStore,
    scheduler: Scheduler,
    created: JobCreated,
    *,
    clock: Callable[[], float],
    command: str | None = None,
    record: JobRecord | None = None,
) -> JobRecord:
    """Ask the scheduler to run a job whose intent is already in the log; record the outcome.

    ``record`` is the job's record as the log has it now, when the caller knows it.

    Raises:
        SchedulerError / TransportError: as ``create_and_submit``.
    """
    job_id = created.job_id
    if record is None:
        record = store.get_record(job_id)
    assert record is not None  # noqa: S101 - the intent was appended by the caller
    job_dir = created.job_dir or ""
    try:
        if command is None:
            command = scheduler.prepare(created.spec, job_dir).display
        scheduler_job_id = scheduler.submit(created.spec, job_dir)  # it makes the job dir
    except (SchedulerError, TransportError, ConfigError) as exc:
        _record_outcome(store, record, RecordSubmitFailure(reason=_reason(exc)), clock)
        raise
    record = _record_outcome(store, record, RecordSubmission(scheduler_job_id, command=command), clock)
    if record.state == JobState.CANCELLED and record.scheduler_job_id is None:
        # Cancelled while the scheduler was starting it: stop what started.
        try:
            scheduler.cancel(scheduler_job_id, job_dir=job_dir or None)
        except MolqError as exc:
            log.warning("job %s was cancelled during its submission; stopping it failed: %s", job_id, exc)
    return record


def with_submitter(created: JobCreated) -> JobCreated:
    """``created`` naming this process as its submitter (``molq.submitter``, ADR 0022).

    Recovery may then settle an interrupted submission at once when its submitter is
    gone, instead of waiting out the grace a live submitter needs.
    """
    spec = created.spec
    metadata = {**spec.metadata, SUBMITTER_KEY: submitter_token()}
    return msgspec.structs.replace(created, spec=attrs.evolve(spec, metadata=metadata))


def _record_outcome(
    store: JobStore, record: JobRecord, command: RecordSubmission | RecordSubmitFailure, clock: Callable[[], float]
) -> JobRecord:
    """Append the submission's outcome, judged again on a fresh record after a conflict.

    Another thread or process may append meanwhile (a cancel request, say); the
    outcome must still be recorded, or a started job would stay CREATED.
    """
    for attempt in range(OUTCOME_RETRIES):
        now = clock()
        try:
            events = decide(record, command, now=now)
        except InvalidTransition:
            return record  # settled meanwhile (cancelled before the scheduler answered)
        try:
            store.append(record.job_id, events, expected_version=record.version, now=now)
        except ConcurrencyConflict:
            fresh = store.get_record(record.job_id)
            if fresh is None or attempt == OUTCOME_RETRIES - 1:
                raise
            record = fresh
            continue
        for event in events:
            record = evolve(record, event)
        return record
    return record


def _reason(exc: Exception) -> str:
    text = str(exc).strip() or type(exc).__name__
    stderr = getattr(exc, "stderr", "")
    if stderr and stderr.strip() not in text:
        text += f": {stderr.strip()}"
    return f"submission failed: {text}"
