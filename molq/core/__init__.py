"""molq's functional core: immutable values and pure functions, no I/O.

Nothing under ``molq.core`` reads the clock, the environment, files, processes or
the network; the shell passes such facts in.
"""

from ._commands import (
    ArchiveJob as ArchiveJob,
    Command as Command,
    MarkCleaned as MarkCleaned,
    MarkLost as MarkLost,
    Observe as Observe,
    RecordDependency as RecordDependency,
    RecordSubmission as RecordSubmission,
    RecordSubmitFailure as RecordSubmitFailure,
    RequestCancel as RequestCancel,
    ScheduleRetry as ScheduleRetry,
)
from ._deps import (
    CompiledEdge as CompiledEdge,
    Dialect as Dialect,
    compile_dependencies as compile_dependencies,
    merge_dependency_refs as merge_dependency_refs,
    native_edge as native_edge,
)
from ._errors import (
    ConcurrencyConflict as ConcurrencyConflict,
    ConfigError as ConfigError,
    CorruptLogError as CorruptLogError,
    DependencyCycle as DependencyCycle,
    DependencyError as DependencyError,
    InvalidTransition as InvalidTransition,
    JobNotFoundError as JobNotFoundError,
    MolqError as MolqError,
    MolqTimeoutError as MolqTimeoutError,
    SchedulerError as SchedulerError,
    SchedulerOutputError as SchedulerOutputError,
    SchemaVersionError as SchemaVersionError,
    SpecError as SpecError,
    StoreError as StoreError,
    TransportError as TransportError,
)
from ._events import (
    JobEvent as JobEvent,
    Recorded as Recorded,
    decode_event as decode_event,
    encode_event as encode_event,
    event_tag as event_tag,
)
from ._frozen import FrozenDict as FrozenDict
from ._machine import TRANSITIONS as TRANSITIONS, decide as decide, evolve as evolve, fold_job as fold_job
from ._ports import (
    Completed as Completed,
    Scheduler as Scheduler,
    SchedulerCapabilities as SchedulerCapabilities,
    Submission as Submission,
    Transport as Transport,
)
from ._records import (
    JobDependency as JobDependency,
    JobRecord as JobRecord,
    Observation as Observation,
    QueueEntry as QueueEntry,
    StatusTransition as StatusTransition,
    TerminalStatus as TerminalStatus,
)
from ._retry import RetryDecision as RetryDecision, backoff_delay as backoff_delay, decide_retry as decide_retry
from ._spec import (
    DependencyCondition as DependencyCondition,
    DependencyRef as DependencyRef,
    JobExecution as JobExecution,
    JobResources as JobResources,
    JobScheduling as JobScheduling,
    JobSpec as JobSpec,
    RetentionPolicy as RetentionPolicy,
    RetryBackoff as RetryBackoff,
    RetryPolicy as RetryPolicy,
    Script as Script,
    SubmitorDefaults as SubmitorDefaults,
)
from ._state import JobState as JobState
from ._units import Duration as Duration, Memory as Memory
from ._validate import check_capabilities as check_capabilities
