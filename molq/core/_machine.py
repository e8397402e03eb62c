"""The job state machine: one transition table and ``evolve`` (``decide`` is in ``_decide``).

Rules of this module:
  Rule 1: every status change is in TRANSITIONS; nothing else moves ``state``.
  Rule 2: ``decide`` (``_decide``) judges commands against the current record and returns events.
  Rule 3: ``evolve`` applies an event without re-judging; an impossible history is
          a CorruptLogError.
  Rule 4: nothing here reads the clock: ``now`` is a parameter.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from typing import Any, Final, Protocol

from ._errors import CorruptLogError
from ._events import (
    JobArchived,
    JobCancelled,
    JobCancelRequested,
    JobCheckpointSaved,
    JobCleaned,
    JobCreated,
    JobDependencyRecorded,
    JobEvent,
    JobFailed,
    JobLogged,
    JobLost,
    JobQueued,
    JobResultSaved,
    JobRetryScheduled,
    JobSeenAgain,
    JobStarted,
    JobSubmitFailed,
    JobSubmitted,
    JobSucceeded,
    JobTaskChanged,
    JobTimedOut,
    JobUnseen,
    JobUsageRecorded,
    LogEvent,
    event_tag,
)
from ._records import JobRecord
from ._state import JobState


S = JobState
_FINISH: Final = {
    "job.succeeded": S.SUCCEEDED,
    "job.failed": S.FAILED,
    "job.cancelled": S.CANCELLED,
    "job.timed_out": S.TIMED_OUT,
    "job.lost": S.LOST,
}

TRANSITIONS: Final[Mapping[JobState, Mapping[str, JobState]]] = {
    S.CREATED: {
        "job.submitted": S.SUBMITTED,
        "job.submit_failed": S.FAILED,
        "job.cancelled": S.CANCELLED,
        "job.lost": S.LOST,
    },
    S.SUBMITTED: {"job.queued": S.QUEUED, "job.started": S.RUNNING, **_FINISH},
    S.QUEUED: {"job.started": S.RUNNING, **_FINISH},
    S.RUNNING: dict(_FINISH),
    S.SUCCEEDED: {},
    S.FAILED: {},
    S.CANCELLED: {},
    S.TIMED_OUT: {},
    S.LOST: {},
}
"""Single source of truth for status changes: state -> event tag -> new state."""

# Events that record a fact without moving the state, and where they may occur.
ANNOTATIONS: Final[Mapping[str, frozenset[JobState]]] = {
    "job.dependency_recorded": frozenset(JobState),
    "job.cancel_requested": frozenset(JobState),
    "job.unseen": frozenset({S.SUBMITTED, S.QUEUED, S.RUNNING}),
    "job.seen_again": frozenset({S.SUBMITTED, S.QUEUED, S.RUNNING}),
    "job.retry_scheduled": frozenset({S.FAILED, S.TIMED_OUT, S.CANCELLED, S.LOST, S.SUCCEEDED}),
    "job.cleaned": frozenset(JobState),
    "job.archived": frozenset(JobState),
    "job.log": frozenset(JobState),
    "job.checkpoint_saved": frozenset(JobState),
    "job.result_saved": frozenset(JobState),
    # a task's news may arrive after the array as a whole ended (accounting lags the queue)
    "job.task_changed": frozenset(JobState) - {S.CREATED},
    "job.usage_recorded": frozenset({S.SUCCEEDED, S.FAILED, S.CANCELLED, S.TIMED_OUT, S.LOST}),
}


def initial_record(event: JobCreated) -> JobRecord:
    """The record a ``job.created`` event starts."""
    return JobRecord(**_created_fields(event))


def _created_fields(event: JobCreated) -> dict[str, Any]:
    """The fields ``job.created`` sets; the others keep JobRecord's defaults."""
    spec = event.spec
    return {
        "job_id": event.job_id,
        "root_job_id": event.root_job_id,
        "attempt": event.attempt,
        "previous_attempt_job_id": event.previous_attempt_job_id,
        "retry_group_id": event.retry_group_id,
        "profile_name": event.profile_name,
        "cluster_name": event.cluster_name,
        "scheduler": event.scheduler,
        "state": S.CREATED,
        "scheduler_job_id": None,
        "submitted_at": None,
        "started_at": None,
        "finished_at": None,
        "exit_code": None,
        "failure_reason": None,
        "cwd": spec.cwd,
        "command_type": spec.command_type,
        "command_display": spec.display,
        "metadata": spec.metadata,
        "created_at": event.at,
        "version": 1,
        "job_name": spec.execution.job_name,
        "max_duration_seconds": spec.max_duration.seconds if spec.max_duration is not None else None,
    }


def evolve(record: JobRecord | None, event: JobEvent) -> JobRecord:
    """Apply one event to a record.

    Raises:
        CorruptLogError: the event cannot follow the record (impossible history).
    """
    if record is None:
        return initial_record(_first_event(event))
    new_state = _next_state(record, event)
    changes = _changes(record, event)
    changes["version"] = record.version + 1
    if new_state is not None:
        changes["state"] = new_state
    fields: dict[str, Any] = changes  # checked per event above
    return dataclasses.replace(record, **fields)


def _first_event(event: JobEvent) -> JobCreated:
    if isinstance(event, JobCreated):
        return event
    msg = f"job {event.job_id}: history starts with {event_tag(event)}, not job.created"
    raise CorruptLogError(msg)


def _next_state(record: _Current, event: JobEvent) -> JobState | None:
    """The state ``event`` moves ``record`` to (None: it only annotates); checks it may follow."""
    tag = event_tag(event)
    new_state = TRANSITIONS[record.state].get(tag)
    if new_state is None and record.state not in ANNOTATIONS.get(tag, frozenset()):
        msg = f"job {record.job_id}: {tag} cannot follow state {record.state.value}"
        raise CorruptLogError(msg)
    return new_state


class _Current(Protocol):
    """What ``evolve`` reads of the record it extends: a JobRecord or a fold's draft."""

    @property
    def job_id(self) -> str: ...
    @property
    def state(self) -> JobState: ...
    @property
    def raw_state(self) -> str | None: ...
    @property
    def started_at(self) -> float | None: ...
    @property
    def cancel_requested_at(self) -> float | None: ...
    @property
    def unseen_count(self) -> int: ...
    @property
    def first_unseen_at(self) -> float | None: ...
    @property
    def log_lines(self) -> int: ...
    @property
    def checkpoint_seq(self) -> int: ...
    @property
    def result_seq(self) -> int: ...


def _changes(record: _Current, event: JobEvent) -> dict[str, object]:  # noqa: PLR0912 - one case per event type
    """The fields an event sets on a record (one attrs.evolve per event keeps folds fast)."""
    match event:
        case JobSubmitted():
            return {"scheduler_job_id": event.scheduler_job_id, "submitted_at": event.at}
        case JobSubmitFailed():
            return {"failure_reason": event.reason, "finished_at": event.at}
        case JobQueued():
            return {"raw_state": event.raw_state or record.raw_state}
        case JobStarted():
            started = event.started_at if event.started_at is not None else event.at
            return {"started_at": started, "raw_state": event.raw_state or record.raw_state}
        case JobSucceeded() | JobFailed() | JobCancelled() | JobTimedOut():
            return {
                "exit_code": event.exit_code,
                "finished_at": event.finished_at if event.finished_at is not None else event.at,
                "failure_reason": event.reason,
                "raw_state": event.raw_state or record.raw_state,
                "started_at": record.started_at if record.started_at is not None else event.started_at,
            }
        case JobLost():
            return {"failure_reason": event.reason, "finished_at": event.at}
        case JobCancelRequested():
            return {"cancel_requested_at": record.cancel_requested_at if record.cancel_requested_at is not None else event.at}
        case JobRetryScheduled():
            return {"retry_due_at": event.due_at, "next_attempt_job_id": event.next_job_id}
        case JobCleaned():
            return {"cleaned_at": event.at}
        case JobArchived():
            return {"archived_at": event.at}
        case JobUnseen():
            return {
                "unseen_count": record.unseen_count + 1,
                "first_unseen_at": record.first_unseen_at if record.first_unseen_at is not None else event.at,
            }
        case JobSeenAgain():
            return {"unseen_count": 0, "first_unseen_at": None}
        case JobDependencyRecorded() | JobTaskChanged():
            return {}
        case JobLogged():
            return {"log_lines": max(record.log_lines, event.line)}
        case JobCheckpointSaved():
            return {"checkpoint_seq": max(record.checkpoint_seq, event.seq)}
        case JobResultSaved():
            return {"result_seq": max(record.result_seq, event.seq)}
        case JobUsageRecorded():
            return {"usage": event.usage}
        case JobCreated():
            msg = f"job {record.job_id}: created twice"
            raise CorruptLogError(msg)



def fold_job(events: Sequence[LogEvent]) -> JobRecord | None:
    """Fold a job's events, oldest first, into its record (None for no events).

    Raises:
        CorruptLogError: the history is impossible, or holds a sweep event.
    """
    record: JobRecord | None = None
    for event in events:
        if not isinstance(event, _JOB_EVENT_TYPES):
            msg = f"{event_tag(event)} is a sweep event, not part of a job's history"
            raise CorruptLogError(msg)
        record = evolve(record, event)
    return record


_JOB_EVENT_TYPES: Final = JobEvent.__args__


