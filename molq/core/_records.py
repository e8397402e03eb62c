"""Read models: what molq knows about jobs, as immutable snapshots.

Rules of this module:
  Rule 1: these are projections or scheduler views; nothing here is stored directly.
"""

from __future__ import annotations

import attrs

from ._frozen import FrozenDict, freeze_required
from ._spec import CommandType, DependencyCondition
from ._state import JobState


@attrs.frozen
class JobRecord:
    """Immutable snapshot of one job attempt, folded from its events."""

    job_id: str
    root_job_id: str
    attempt: int
    previous_attempt_job_id: str | None
    retry_group_id: str | None
    profile_name: str | None
    cluster_name: str
    scheduler: str
    state: JobState
    scheduler_job_id: str | None
    submitted_at: float | None
    started_at: float | None
    finished_at: float | None
    exit_code: int | None
    failure_reason: str | None
    cwd: str
    command_type: CommandType
    command_display: str
    metadata: dict[str, str] = attrs.field(factory=FrozenDict, converter=freeze_required)
    cleaned_at: float | None = None
    created_at: float | None = None
    cancel_requested_at: float | None = None
    retry_due_at: float | None = None
    next_attempt_job_id: str | None = None
    archived_at: float | None = None
    raw_state: str | None = None
    unseen_count: int = 0
    first_unseen_at: float | None = None
    version: int = 0
    job_name: str | None = None
    max_duration_seconds: int | None = None
    log_lines: int = 0
    checkpoint_seq: int = 0
    result_seq: int = 0


@attrs.frozen
class StatusTransition:
    """One persisted lifecycle transition."""

    job_id: str
    old_state: JobState | None
    new_state: JobState
    timestamp: float
    reason: str | None = None


@attrs.frozen
class JobDependency:
    """A persisted dependency edge between two molq jobs."""

    job_id: str
    dependency_job_id: str
    dependency_type: DependencyCondition
    scheduler_dependency: str


@attrs.frozen
class QueueEntry:
    """One row of a scheduler's queue, as the scheduler reports it."""

    scheduler_job_id: str
    name: str | None = None
    user: str | None = None
    state: JobState = JobState.QUEUED
    raw_state: str = ""
    partition: str | None = None
    submit_time: float | None = None
    start_time: float | None = None


@attrs.frozen
class Observation:
    """What a scheduler said about one job at one poll.

    ``state`` is None when the scheduler does not know the job (absent from the
    queue and from accounting); absence is evidence, not a verdict.
    """

    state: JobState | None
    raw_state: str = ""
    exit_code: int | None = None
    started_at: float | None = None
    finished_at: float | None = None
    reason: str | None = None


@attrs.frozen
class TerminalStatus:
    """How a finished job ended, as resolved from accounting or exit files."""

    state: JobState
    exit_code: int | None = None
    reason: str | None = None
    finished_at: float | None = None
    raw_state: str = ""
