"""Commands: what the shell asks the state machine to judge (imperative names)."""

from __future__ import annotations

from typing import TypeAlias

import attrs

from ._records import Observation
from ._spec import DependencyCondition


@attrs.frozen
class RecordSubmission:
    """The scheduler accepted the job under ``scheduler_job_id``."""

    scheduler_job_id: str
    command: str = ""
    adopted: bool = False


@attrs.frozen
class RecordSubmitFailure:
    """The scheduler refused the job, or could not be reached."""

    reason: str


@attrs.frozen
class Observe:
    """The scheduler reported this about the job.

    An observation with state None means the scheduler did not know the job; it
    becomes LOST only after ``absences_before_lost`` such polls spanning at least
    ``seconds_before_lost`` seconds. Absences within ``submission_grace`` seconds
    of the submission are not evidence (the job may not be visible yet).
    """

    observation: Observation
    absences_before_lost: int = 3
    seconds_before_lost: float = 60.0
    submission_grace: float = 10.0


@attrs.frozen
class MarkLost:
    """molq can no longer know the job's outcome."""

    reason: str


@attrs.frozen
class RequestCancel:
    """A user asked for cancellation.

    ``before_submission`` cancels a job still in CREATED outright (no scheduler id).
    """

    reason: str | None = None
    before_submission: bool = False


@attrs.frozen
class ScheduleRetry:
    """Create attempt ``next_job_id`` after ``delay`` seconds."""

    next_job_id: str
    delay: float


@attrs.frozen
class RecordDependency:
    """Persist an edge to an upstream job."""

    dependency_job_id: str
    dependency_type: DependencyCondition
    scheduler_dependency: str


@attrs.frozen
class MarkCleaned:
    """The job's artifacts were removed."""

    removed: tuple[str, ...] = ()


@attrs.frozen
class ArchiveJob:
    """Hide the record from listings (events are kept)."""

    reason: str = "retention"


@attrs.frozen
class ExpireDuration:
    """The job ran past its ``max_duration``: end it TIMED_OUT with ``reason``."""

    reason: str = "duration limit reached"


Command: TypeAlias = (
    RecordSubmission
    | RecordSubmitFailure
    | Observe
    | MarkLost
    | RequestCancel
    | ScheduleRetry
    | RecordDependency
    | MarkCleaned
    | ArchiveJob
    | ExpireDuration
)
