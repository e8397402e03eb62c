"""Read models: what molq knows about jobs, as immutable snapshots.

Rules of this module:
  Rule 1: these are projections or scheduler views; nothing here is stored directly.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

import attrs

from ._frozen import FrozenDict, freeze_required
from ._spec import CommandType, DependencyCondition
from ._state import JobState
from ._usage import JobUsage
from ._value import sorted_fields


@sorted_fields
@dataclass(frozen=True, slots=True)
class JobRecord:
    """Immutable snapshot of one job attempt, folded from its events.

    Only ``job_id``, ``cluster_name``, ``scheduler`` and ``state`` are required (as upstream);
    the fields after ``cleaned_at`` are molq's additions.
    """

    job_id: str
    cluster_name: str
    scheduler: str
    state: JobState
    scheduler_job_id: str | None = None
    submitted_at: float | None = None
    started_at: float | None = None
    finished_at: float | None = None
    exit_code: int | None = None
    failure_reason: str | None = None
    cwd: str = ""
    command_type: CommandType | Literal[""] = ""
    command_display: str = ""
    metadata: dict[str, str] = field(default_factory=FrozenDict)
    root_job_id: str = ""
    attempt: int = 1
    previous_attempt_job_id: str | None = None
    retry_group_id: str | None = None
    profile_name: str | None = None
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
    usage: JobUsage | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.metadata, FrozenDict):
            object.__setattr__(self, "metadata", freeze_required(self.metadata))
        if not self.root_job_id:
            object.__setattr__(self, "root_job_id", self.job_id)


@sorted_fields
@dataclass(frozen=True, slots=True)
class StatusTransition:
    """One persisted lifecycle transition."""

    job_id: str
    old_state: JobState | None
    new_state: JobState
    timestamp: float
    reason: str | None = None


@sorted_fields
@dataclass(frozen=True, slots=True)
class JobDependency:
    """A persisted dependency edge between two molq jobs."""

    job_id: str
    dependency_job_id: str
    dependency_type: DependencyCondition
    scheduler_dependency: str


@sorted_fields
@dataclass(frozen=True, slots=True)
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
