"""``decide``: judge a command against the current record and return the events it causes.

The other half of the state machine (``_machine``: the transition table, ``evolve``, ``fold_job``).
Nothing here reads the clock: ``now`` is a parameter.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

from ._commands import (
    ArchiveJob,
    Command,
    ExpireDuration,
    MarkCleaned,
    MarkLost,
    Observe,
    RecordDependency,
    RecordSubmission,
    RecordSubmitFailure,
    RequestCancel,
    ScheduleRetry,
)
from ._errors import InvalidTransition
from ._events import (
    JobArchived,
    JobCancelled,
    JobCancelRequested,
    JobCleaned,
    JobDependencyRecorded,
    JobEvent,
    JobFailed,
    JobLost,
    JobQueued,
    JobRetryScheduled,
    JobSeenAgain,
    JobStarted,
    JobSubmitFailed,
    JobSubmitted,
    JobSucceeded,
    JobTimedOut,
    JobUnseen,
)
from ._machine import ANNOTATIONS, TRANSITIONS
from ._records import JobRecord, Observation
from ._state import JobState


S = JobState


def decide(record: JobRecord | None, command: Command, *, now: float) -> tuple[JobEvent, ...]:  # noqa: PLR0912 - one case per command
    """Judge a command against the current record and return the events it causes.

    Observations that are stale or repeat what is known return ``()``; user
    commands that cannot apply raise InvalidTransition.
    """
    if record is None:
        msg = f"no such job for command {type(command).__name__}"
        raise InvalidTransition(msg)
    job_id = record.job_id
    match command:
        case Observe():
            return _decide_observation(record, command, now)
        case RecordSubmission():
            _require(record, "job.submitted", command)
            return (
                JobSubmitted(
                    job_id=job_id,
                    at=now,
                    scheduler_job_id=command.scheduler_job_id,
                    command=command.command,
                    adopted=command.adopted,
                ),
            )
        case RecordSubmitFailure():
            _require(record, "job.submit_failed", command)
            return (JobSubmitFailed(job_id=job_id, at=now, reason=command.reason),)
        case MarkLost():
            if record.state.is_terminal:
                return ()
            return (JobLost(job_id=job_id, at=now, reason=command.reason),)
        case RequestCancel():
            if record.cancel_requested_at is not None:
                return ()
            if record.state.is_terminal and record.next_attempt_job_id is None:
                return ()
            requested = JobCancelRequested(job_id=job_id, at=now, reason=command.reason)
            if record.state == S.CREATED and command.before_submission:
                reason = command.reason or "cancelled before submission"
                return (requested, JobCancelled(job_id=job_id, at=now, reason=reason))
            return (requested,)
        case ScheduleRetry():
            _require(record, "job.retry_scheduled", command)
            if record.next_attempt_job_id is not None:
                return ()
            return (
                JobRetryScheduled(
                    job_id=job_id,
                    at=now,
                    due_at=now + command.delay,
                    next_job_id=command.next_job_id,
                    delay=command.delay,
                ),
            )
        case RecordDependency():
            return (
                JobDependencyRecorded(
                    job_id=job_id,
                    at=now,
                    dependency_job_id=command.dependency_job_id,
                    dependency_type=command.dependency_type,
                    scheduler_dependency=command.scheduler_dependency,
                ),
            )
        case MarkCleaned():
            if record.cleaned_at is not None:
                return ()
            return (JobCleaned(job_id=job_id, at=now, removed=command.removed),)
        case ArchiveJob():
            if record.archived_at is not None:
                return ()
            return (JobArchived(job_id=job_id, at=now, reason=command.reason),)
        case ExpireDuration():
            if "job.timed_out" not in TRANSITIONS[record.state] or record.state == S.CREATED:
                return ()
            return (JobTimedOut(job_id=job_id, at=now, finished_at=now, reason=command.reason),)


def _require(record: JobRecord, tag: str, command: Command) -> None:
    allowed = tag in TRANSITIONS[record.state] or record.state in ANNOTATIONS.get(tag, frozenset())
    if not allowed:
        msg = f"job {record.job_id} is {record.state.value}: {type(command).__name__} does not apply"
        raise InvalidTransition(msg)


def _decide_observation(record: JobRecord, command: Observe, now: float) -> tuple[JobEvent, ...]:
    obs = command.observation
    if record.state.is_terminal or record.state == S.CREATED:
        return ()
    if obs.state is None:
        return _decide_absence(record, command, now)
    seen_again: tuple[JobEvent, ...] = ()
    if record.unseen_count:
        seen_again = (JobSeenAgain(job_id=record.job_id, at=now),)
    return seen_again + _decide_state(record, obs, now)


def _decide_absence(record: JobRecord, command: Observe, now: float) -> tuple[JobEvent, ...]:
    submitted = record.submitted_at if record.submitted_at is not None else now
    if now - submitted < command.submission_grace:
        return ()
    detail = command.observation.reason or "not in the queue or accounting"
    unseen = JobUnseen(job_id=record.job_id, at=now, detail=detail)
    count = record.unseen_count + 1
    since = record.first_unseen_at if record.first_unseen_at is not None else now
    if count >= command.absences_before_lost and now - since >= command.seconds_before_lost:
        reason = f"unseen by the scheduler for {count} polls over {now - since:.0f}s ({detail})"
        return (unseen, JobLost(job_id=record.job_id, at=now, reason=reason))
    return (unseen,)


def _decide_state(record: JobRecord, obs: Observation, now: float) -> tuple[JobEvent, ...]:
    target = obs.state
    if target is None or target == record.state:
        return ()
    job_id = record.job_id
    if target == S.QUEUED:
        if "job.queued" not in TRANSITIONS[record.state]:
            return ()
        return (JobQueued(job_id=job_id, at=now, raw_state=obs.raw_state),)
    if target == S.RUNNING:
        if "job.started" not in TRANSITIONS[record.state]:
            return ()
        return (JobStarted(job_id=job_id, at=now, started_at=obs.started_at, raw_state=obs.raw_state),)
    if target in (S.CREATED, S.SUBMITTED):
        return ()
    if target == S.LOST:
        return (JobLost(job_id=job_id, at=now, reason=obs.reason or "scheduler reports the job lost"),)
    finished_type = _FINISHED_EVENTS[target]
    # A job that ran and ended between two polls: its start is a fact the scheduler
    # reports, so the history says it ran (and job_started fires) instead of skipping it.
    started: tuple[JobEvent, ...] = ()
    if obs.started_at is not None and "job.started" in TRANSITIONS[record.state]:
        started = (JobStarted(job_id=job_id, at=now, started_at=obs.started_at, raw_state=obs.raw_state),)
    return (
        *started,
        finished_type(
            job_id=job_id,
            at=now,
            exit_code=obs.exit_code,
            finished_at=obs.finished_at,
            reason=obs.reason,
            raw_state=obs.raw_state,
            started_at=obs.started_at,
        ),
    )


_FINISHED_EVENTS: Final[Mapping[JobState, type[JobSucceeded | JobFailed | JobCancelled | JobTimedOut]]] = {
    S.SUCCEEDED: JobSucceeded,
    S.FAILED: JobFailed,
    S.CANCELLED: JobCancelled,
    S.TIMED_OUT: JobTimedOut,
}
