"""molq's functional core: immutable values and pure functions, no I/O.

Nothing under ``molq.core`` reads the clock, the environment, files, processes or
the network; the shell passes such facts in.
"""

from molq.core._decide import decide as decide

from ._commands import (
    ArchiveJob as ArchiveJob,
)
from ._commands import (
    Command as Command,
)
from ._commands import (
    MarkCleaned as MarkCleaned,
)
from ._commands import (
    MarkLost as MarkLost,
)
from ._commands import (
    Observe as Observe,
)
from ._commands import (
    RecordDependency as RecordDependency,
)
from ._commands import (
    RecordSubmission as RecordSubmission,
)
from ._commands import (
    RecordSubmitFailure as RecordSubmitFailure,
)
from ._commands import (
    RequestCancel as RequestCancel,
)
from ._commands import (
    ScheduleRetry as ScheduleRetry,
)
from ._dep_preview import DependencyPreview as DependencyPreview
from ._dep_preview import DependencyPreviewItem as DependencyPreviewItem
from ._dep_preview import dependency_relation_state as dependency_relation_state
from ._deps import (
    CompiledEdge as CompiledEdge,
)
from ._deps import (
    Dialect as Dialect,
)
from ._deps import (
    compile_dependencies as compile_dependencies,
)
from ._deps import (
    merge_dependency_refs as merge_dependency_refs,
)
from ._deps import (
    native_edge as native_edge,
)
from ._errors import CommandError as CommandError
from ._errors import (
    ConcurrencyConflict as ConcurrencyConflict,
)
from ._errors import (
    ConfigError as ConfigError,
)
from ._errors import (
    CorruptLogError as CorruptLogError,
)
from ._errors import (
    DependencyCycle as DependencyCycle,
)
from ._errors import (
    DependencyError as DependencyError,
)
from ._errors import (
    InvalidTransition as InvalidTransition,
)
from ._errors import (
    JobNotFoundError as JobNotFoundError,
)
from ._errors import (
    MolqError as MolqError,
)
from ._errors import (
    MolqTimeoutError as MolqTimeoutError,
)
from ._errors import (
    SchedulerError as SchedulerError,
)
from ._errors import (
    SchedulerOutputError as SchedulerOutputError,
)
from ._errors import (
    SchemaVersionError as SchemaVersionError,
)
from ._errors import ScriptError as ScriptError
from ._errors import (
    SpecError as SpecError,
)
from ._errors import (
    StoreError as StoreError,
)
from ._errors import SubmitError as SubmitError
from ._errors import (
    TransportError as TransportError,
)
from ._events import (
    JobEvent as JobEvent,
)
from ._events import (
    Recorded as Recorded,
)
from ._events import (
    decode_event as decode_event,
)
from ._events import (
    encode_event as encode_event,
)
from ._events import (
    event_tag as event_tag,
)
from ._frozen import FrozenDict as FrozenDict
from ._function_errors import JobFailedError as JobFailedError
from ._function_errors import RemoteTraceback as RemoteTraceback
from ._function_errors import ResultUnavailableError as ResultUnavailableError
from ._function_errors import RuntimeMismatchError as RuntimeMismatchError
from ._machine import TRANSITIONS as TRANSITIONS
from ._machine import evolve as evolve
from ._machine import fold_job as fold_job
from ._policies import RetentionPolicy as RetentionPolicy
from ._policies import RetryBackoff as RetryBackoff
from ._policies import RetryPolicy as RetryPolicy
from ._ports import (
    Completed as Completed,
)
from ._ports import (
    Scheduler as Scheduler,
)
from ._ports import (
    SchedulerCapabilities as SchedulerCapabilities,
)
from ._ports import (
    Submission as Submission,
)
from ._ports import (
    Transport as Transport,
)
from ._records import (
    JobDependency as JobDependency,
)
from ._records import (
    JobRecord as JobRecord,
)
from ._records import (
    Observation as Observation,
)
from ._records import (
    QueueEntry as QueueEntry,
)
from ._records import (
    StatusTransition as StatusTransition,
)
from ._records import (
    TerminalStatus as TerminalStatus,
)
from ._retry import RetryDecision as RetryDecision
from ._retry import backoff_delay as backoff_delay
from ._retry import decide_retry as decide_retry
from ._spec import (
    DependencyCondition as DependencyCondition,
)
from ._spec import (
    DependencyRef as DependencyRef,
)
from ._spec import (
    JobExecution as JobExecution,
)
from ._spec import (
    JobResources as JobResources,
)
from ._spec import (
    JobScheduling as JobScheduling,
)
from ._spec import (
    JobSpec as JobSpec,
)
from ._spec import (
    Script as Script,
)
from ._spec import (
    SubmitorDefaults as SubmitorDefaults,
)
from ._state import JobState as JobState
from ._units import Duration as Duration
from ._units import Memory as Memory
from ._validate import check_capabilities as check_capabilities
