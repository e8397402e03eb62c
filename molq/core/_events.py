"""Events: every fact molq records about a job, as frozen, tagged msgspec Structs.

Rules of this module:
  Rule 1: tags are stable dotted literals; a stored tag is never renamed.
  Rule 2: new fields get defaults; no field changes type; no array_like; no
          forbid_unknown_fields, so an older molq can read a newer log.
  Rule 3: times are epoch seconds supplied by the shell; nothing here reads the clock.
"""

from __future__ import annotations

from typing import Final, TypeAlias

import msgspec

from ._cluster_events import SchedulerCommandFailed
from ._policies import RetryPolicy
from ._records import Observation  # noqa: F401 - re-exported for event consumers
from ._spec import DependencyCondition, JobSpec
from ._state import JobState
from ._sweep_events import SweepCreated, SweepEvent
from ._usage import JobUsage
from ._value import decode_extra, encode_extra


EVENT_SCHEMA_VERSION: Final = 1


class _Event(msgspec.Struct, frozen=True, kw_only=True, tag_field="type"):
    job_id: str
    at: float


class JobCreated(_Event, frozen=True, kw_only=True, tag="job.created"):
    """Intent: molq is about to ask the scheduler to run this attempt."""

    cluster_name: str
    scheduler: str
    root_job_id: str
    attempt: int = 1
    previous_attempt_job_id: str | None = None
    retry_group_id: str | None = None
    profile_name: str | None = None
    spec: JobSpec
    retry: RetryPolicy = msgspec.field(default_factory=RetryPolicy)
    job_dir: str | None = None


class JobSubmitted(_Event, frozen=True, kw_only=True, tag="job.submitted"):
    """The scheduler accepted the job (or a crashed submission was adopted)."""

    scheduler_job_id: str
    command: str = ""
    adopted: bool = False


class JobSubmitFailed(_Event, frozen=True, kw_only=True, tag="job.submit_failed"):
    """The scheduler refused the job or could not be asked."""

    reason: str


class JobDependencyRecorded(_Event, frozen=True, kw_only=True, tag="job.dependency_recorded"):
    """An edge from this job to an upstream job, with its compiled native string."""

    dependency_job_id: str
    dependency_type: DependencyCondition
    scheduler_dependency: str


class JobQueued(_Event, frozen=True, kw_only=True, tag="job.queued"):
    """The scheduler reports the job waiting in its queue."""

    raw_state: str = ""


class JobStarted(_Event, frozen=True, kw_only=True, tag="job.started"):
    """The job began executing."""

    started_at: float | None = None
    raw_state: str = ""


class _Finished(_Event, frozen=True, kw_only=True):
    exit_code: int | None = None
    finished_at: float | None = None
    reason: str | None = None
    raw_state: str = ""
    started_at: float | None = None


class JobSucceeded(_Finished, frozen=True, kw_only=True, tag="job.succeeded"):
    """The job finished with exit code 0."""


class JobFailed(_Finished, frozen=True, kw_only=True, tag="job.failed"):
    """The job finished unsuccessfully."""


class JobCancelled(_Finished, frozen=True, kw_only=True, tag="job.cancelled"):
    """The job was cancelled (by molq, a user or the scheduler)."""


class JobTimedOut(_Finished, frozen=True, kw_only=True, tag="job.timed_out"):
    """The job ran past its time limit and was stopped."""


class JobLost(_Event, frozen=True, kw_only=True, tag="job.lost"):
    """molq can no longer know how the job ended; ``reason`` says why."""

    reason: str


class JobCancelRequested(_Event, frozen=True, kw_only=True, tag="job.cancel_requested"):
    """A user asked for the job to be cancelled."""

    reason: str | None = None


class JobUnseen(_Event, frozen=True, kw_only=True, tag="job.unseen"):
    """The scheduler did not report the job at one poll (neither queue nor accounting)."""

    detail: str = ""


class JobSeenAgain(_Event, frozen=True, kw_only=True, tag="job.seen_again"):
    """The scheduler reports the job again after one or more unseen polls."""


class JobRetryScheduled(_Event, frozen=True, kw_only=True, tag="job.retry_scheduled"):
    """A new attempt will be created at ``due_at`` with id ``next_job_id``."""

    due_at: float
    next_job_id: str
    delay: float = 0.0


class JobCleaned(_Event, frozen=True, kw_only=True, tag="job.cleaned"):
    """The job's directory and artifacts were removed."""

    removed: tuple[str, ...] = ()


class JobArchived(_Event, frozen=True, kw_only=True, tag="job.archived"):
    """Retention hid the record from listings; its events stay in the log."""

    reason: str = "retention"


class JobLogged(_Event, frozen=True, kw_only=True, tag="job.log"):
    """The running job logged a line through ``molq.context().log``."""

    message: str
    level: str = "INFO"
    logged_at: float | None = None
    line: int = 0


class JobCheckpointSaved(_Event, frozen=True, kw_only=True, tag="job.checkpoint_saved"):
    """The job saved checkpoint number ``seq``; ``data`` is its JSON text."""

    seq: int
    data: str
    saved_at: float | None = None


class JobResultSaved(_Event, frozen=True, kw_only=True, tag="job.result_saved"):
    """The job saved result number ``seq``; ``data`` is its JSON text."""

    seq: int
    data: str
    saved_at: float | None = None


class JobTaskChanged(_Event, frozen=True, kw_only=True, tag="job.task_changed"):
    """One task of a job array changed state (docs/adr: arrays, events per task).

    ``index`` is the array index the scheduler gave the task (``123_4``, ``123[4]``:
    4); ``task_id`` is the scheduler's own name for it. The parent job's state is not
    moved by this event: it follows the scheduler's view of the whole array.
    """

    index: int
    state: JobState
    exit_code: int | None = None
    reason: str | None = None
    raw_state: str = ""
    task_id: str = ""
    started_at: float | None = None
    finished_at: float | None = None
class JobUsageRecorded(_Event, frozen=True, kw_only=True, tag="job.usage_recorded"):
    """What the finished job used, from the scheduler's accounting (once per attempt)."""

    usage: JobUsage


JobEvent: TypeAlias = (
    JobCreated
    | JobSubmitted
    | JobSubmitFailed
    | JobDependencyRecorded
    | JobQueued
    | JobStarted
    | JobSucceeded
    | JobFailed
    | JobCancelled
    | JobTimedOut
    | JobLost
    | JobCancelRequested
    | JobUnseen
    | JobSeenAgain
    | JobRetryScheduled
    | JobCleaned
    | JobArchived
    | JobLogged
    | JobCheckpointSaved
    | JobResultSaved
    | JobTaskChanged
    | JobUsageRecorded
)

LogEvent: TypeAlias = JobEvent | SweepEvent | SchedulerCommandFailed
"""Everything the log stores: job events (stream = job id), sweep events (stream = sweep
id) and cluster events (stream = ``cluster/<name>``)."""

FinishedEvent: TypeAlias = JobSucceeded | JobFailed | JobCancelled | JobTimedOut


class Recorded(msgspec.Struct, frozen=True, kw_only=True):
    """The envelope: position in the log plus the event. Only ``event`` is encoded."""

    seq: int
    stream: str
    version: int
    recorded_at: float
    event: LogEvent


def event_data(event: msgspec.Struct) -> dict[str, object]:
    """An event as plain JSON-ready values, its ``type`` tag included (paths become their text)."""
    data: dict[str, object] = msgspec.to_builtins(event, enc_hook=encode_extra)
    return data


def event_tag(event: LogEvent) -> str:
    """Return the stable tag an event is stored under."""
    return type(event).__struct_config__.tag  # type: ignore[return-value]


_ENCODER: Final = msgspec.json.Encoder(enc_hook=encode_extra)
_DECODER: Final[msgspec.json.Decoder[LogEvent]] = msgspec.json.Decoder(LogEvent, dec_hook=decode_extra)


# Spec fields added after v1, left out of the bytes while empty: a log written before them
# re-encodes to the very same bytes (the golden files), and a spec without them reads the same.
_LATER_SPEC_FIELDS: Final = ("script_directives",)
_LATER_SCHEDULING_FIELDS: Final = ("extra_flags",)


def encode_event(event: LogEvent) -> bytes:
    """Encode an event as JSON bytes (readable with plain sqlite3)."""
    if not isinstance(event, JobCreated | SweepCreated):
        return _ENCODER.encode(event)
    data = msgspec.to_builtins(event, enc_hook=encode_extra)
    _drop_empty(data["spec"], _LATER_SPEC_FIELDS)
    _drop_empty(data["spec"]["scheduling"], _LATER_SCHEDULING_FIELDS)
    return _ENCODER.encode(data)


def _drop_empty(fields: dict[str, object], names: tuple[str, ...]) -> None:
    for name in names:
        if name in fields and not fields[name]:  # () or []
            del fields[name]


def decode_event(data: bytes | str) -> LogEvent:
    """Decode stored JSON into an event.

    Raises:
        msgspec.ValidationError / msgspec.DecodeError: the bytes are not an event.
    """
    return _DECODER.decode(data)
