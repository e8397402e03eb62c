"""molq: submit, track and audit batch jobs on local, SLURM, PBS and LSF clusters.

Heavy pieces (the store, Rich, the CLI) load on first use so ``import molq`` stays fast.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any


if TYPE_CHECKING:
    from molq.api._cancel_task import cancel_task as cancel_task
    from molq.api._cluster import Cluster as Cluster
    from molq.api._cluster import cluster_from_profile as cluster_from_profile
    from molq.api._config import (
        MolqConfig as MolqConfig,
    )
    from molq.api._config import (
        MolqProfile as MolqProfile,
    )
    from molq.api._config import (
        load_config as load_config,
    )
    from molq.api._config import (
        load_profile as load_profile,
    )
    from molq.api._functions import as_completed as as_completed
    from molq.api._handle import JobDryRun as JobDryRun
    from molq.api._handle import JobHandle as JobHandle
    from molq.api._job_context import JobContext as JobContext
    from molq.api._job_context import context as context
    from molq.api._map_jobs import ArrayHandle as ArrayHandle
    from molq.api._map_jobs import map_jobs as map_jobs
    from molq.api._submitor import Submitor as Submitor
    from molq.api._sweep_api import SweepHandle as SweepHandle
    from molq.api._usage_api import fetch_usage as fetch_usage
    from molq.api._usage_api import job_usage as job_usage
    from molq.api._workspace import Project as Project
    from molq.api._workspace import Workspace as Workspace
    from molq.api._workspace import check_script_path as check_script_path
    from molq.core import CommandError as CommandError
    from molq.core import (
        ConcurrencyConflict as ConcurrencyConflict,
    )
    from molq.core import (
        ConfigError as ConfigError,
    )
    from molq.core import (
        CorruptLogError as CorruptLogError,
    )
    from molq.core import (
        DependencyCondition as DependencyCondition,
    )
    from molq.core import (
        DependencyCycle as DependencyCycle,
    )
    from molq.core import (
        DependencyError as DependencyError,
    )
    from molq.core import DependencyPreview as DependencyPreview
    from molq.core import DependencyPreviewItem as DependencyPreviewItem
    from molq.core import (
        DependencyRef as DependencyRef,
    )
    from molq.core import (
        Duration as Duration,
    )
    from molq.core import (
        InvalidTransition as InvalidTransition,
    )
    from molq.core import (
        JobDependency as JobDependency,
    )
    from molq.core import (
        JobExecution as JobExecution,
    )
    from molq.core import JobFailedError as JobFailedError
    from molq.core import (
        JobNotFoundError as JobNotFoundError,
    )
    from molq.core import (
        JobRecord as JobRecord,
    )
    from molq.core import (
        JobResources as JobResources,
    )
    from molq.core import (
        JobScheduling as JobScheduling,
    )
    from molq.core import (
        JobState as JobState,
    )
    from molq.core import (
        Memory as Memory,
    )
    from molq.core import (
        MolqError as MolqError,
    )
    from molq.core import (
        MolqTimeoutError as MolqTimeoutError,
    )
    from molq.core import (
        QueueEntry as QueueEntry,
    )
    from molq.core import Recorded as Recorded
    from molq.core import RemoteTraceback as RemoteTraceback
    from molq.core import ResultUnavailableError as ResultUnavailableError
    from molq.core import (
        RetentionPolicy as RetentionPolicy,
    )
    from molq.core import (
        RetryBackoff as RetryBackoff,
    )
    from molq.core import (
        RetryPolicy as RetryPolicy,
    )
    from molq.core import RuntimeMismatchError as RuntimeMismatchError
    from molq.core import (
        SchedulerCapabilities as SchedulerCapabilities,
    )
    from molq.core import (
        SchedulerError as SchedulerError,
    )
    from molq.core import (
        SchemaVersionError as SchemaVersionError,
    )
    from molq.core import (
        Script as Script,
    )
    from molq.core import ScriptError as ScriptError
    from molq.core import (
        SpecError as SpecError,
    )
    from molq.core import (
        StatusTransition as StatusTransition,
    )
    from molq.core import (
        StoreError as StoreError,
    )
    from molq.core import SubmitError as SubmitError
    from molq.core import (
        SubmitorDefaults as SubmitorDefaults,
    )
    from molq.core import (
        TerminalStatus as TerminalStatus,
    )
    from molq.core import (
        Transport as Transport,
    )
    from molq.core import (
        TransportError as TransportError,
    )
    from molq.core import dependency_relation_state as dependency_relation_state
    from molq.core import event_tag as event_tag
    from molq.core import fold_job as fold_job
    from molq.core._events import JobCreated as JobCreated
    from molq.core._events import JobDependencyRecorded as JobDependencyRecorded
    from molq.core._events import event_data as event_data
    from molq.core._sweep import (
        SweepSpec as SweepSpec,
    )
    from molq.core._sweep import (
        expand_matrix as expand_matrix,
    )
    from molq.core._sweep import (
        merge_sweep_specs as merge_sweep_specs,
    )
    from molq.core._sweep import (
        parse_arg_flags as parse_arg_flags,
    )
    from molq.core._sweep import (
        parse_sweep_flags as parse_sweep_flags,
    )
    from molq.core._sweep_state import SweepStatus as SweepStatus
    from molq.core._tasks import ArrayTasks as ArrayTasks
    from molq.core._tasks import TaskRecord as TaskRecord
    from molq.core._tasks import is_array_job as is_array_job
    from molq.core._tasks import task_log_paths as task_log_paths
    from molq.core._usage import JobUsage as JobUsage
    from molq.core._usage import UsageSummary as UsageSummary
    from molq.core._usage import summarise_usage as summarise_usage
    from molq.dashboard import DashboardState as DashboardState
    from molq.dashboard import JobRow as JobRow
    from molq.dashboard import MolqMonitor as MolqMonitor
    from molq.dashboard import RunDashboard as RunDashboard
    from molq.shell._array_tasks import job_tasks as job_tasks
    from molq.shell._bus import EventBus as EventBus
    from molq.shell._bus import EventPayload as EventPayload
    from molq.shell._bus import EventType as EventType
    from molq.shell._monitor import JobMonitor as JobMonitor
    from molq.shell._reconcile import JobReconciler as JobReconciler
    from molq.shell._sweeps import sweep_status_of as sweep_status_of
    from molq.shell.schedulers._local_options import LocalSchedulerOptions as LocalSchedulerOptions
    from molq.shell.schedulers._lsf import LSFSchedulerOptions as LSFSchedulerOptions
    from molq.shell.schedulers._pbs import PBSSchedulerOptions as PBSSchedulerOptions
    from molq.shell.schedulers._slurm import SlurmSchedulerOptions as SlurmSchedulerOptions
    from molq.shell.store._job_listing import active_clusters as active_clusters
    from molq.shell.store._job_listing import job_names as job_names
    from molq.shell.store._job_listing import list_jobs as list_jobs
    from molq.shell.store._store import JobStore as JobStore
    from molq.shell.transport._local import LocalTransport as LocalTransport
    from molq.shell.transport._ssh import (
        SshTransport as SshTransport,
    )
    from molq.shell.transport._ssh_options import RemoteFileNotFound as RemoteFileNotFound
    from molq.shell.transport._ssh_options import SshAuthError as SshAuthError
    from molq.shell.transport._ssh_options import SshConnectionError as SshConnectionError
    from molq.shell.transport._ssh_options import SshError as SshError
    from molq.shell.transport._ssh_options import SshHostKeyError as SshHostKeyError
    from molq.shell.transport._ssh_options import SshLinkDropped as SshLinkDropped
    from molq.shell.transport._ssh_options import SshTimeoutError as SshTimeoutError
    from molq.shell.transport._ssh_options import SshTransportOptions as SshTransportOptions
    from molq.shell.transport._sync import WORKSPACE_OWNER_FILE as WORKSPACE_OWNER_FILE
    from molq.shell.transport._sync import (
        SyncClient as SyncClient,
    )
    from molq.shell.transport._sync import (
        SyncResult as SyncResult,
    )
    from molq.shell.transport._sync import (
        WorkspaceOwnershipError as WorkspaceOwnershipError,
    )
    from molq.shell.transport._sync import (
        default_remote_path as default_remote_path,
    )

_CORE = ["ConcurrencyConflict", "ConfigError", "CorruptLogError", "DependencyCondition", "DependencyCycle", "DependencyError", "DependencyRef", "Duration", "InvalidTransition", "JobDependency", "JobExecution", "JobNotFoundError", "JobRecord", "JobResources", "JobScheduling", "JobState", "Memory", "MolqError", "MolqTimeoutError", "QueueEntry", "RetentionPolicy", "RetryBackoff", "RetryPolicy", "SchedulerCapabilities", "SchedulerError", "SchemaVersionError", "Script", "SpecError", "StatusTransition", "StoreError", "SubmitorDefaults", "TerminalStatus", "Transport", "TransportError"]
_LOCATIONS: dict[str, str] = {
    **dict.fromkeys(_CORE, "molq.core"),
    "Cluster": "molq.api._cluster",
    # Python functions as jobs (issue 16).
    **dict.fromkeys(["JobFailedError", "RemoteTraceback", "ResultUnavailableError", "RuntimeMismatchError"], "molq.core"),
    "as_completed": "molq.api._functions",
    **dict.fromkeys(["JobDryRun", "JobHandle"], "molq.api._handle"),
    "Submitor": "molq.api._submitor",
    **dict.fromkeys(["MolqConfig", "MolqProfile", "load_config", "load_profile"], "molq.api._config"),
    **dict.fromkeys(["Project", "Workspace", "check_script_path"], "molq.api._workspace"),
    **dict.fromkeys(["EventBus", "EventPayload", "EventType"], "molq.shell._bus"),
    "LocalTransport": "molq.shell.transport._local",
    "JobMonitor": "molq.shell._monitor",
    "JobReconciler": "molq.shell._reconcile",
    **dict.fromkeys(
        [
            "RemoteFileNotFound",
            "SshAuthError",
            "SshConnectionError",
            "SshError",
            "SshHostKeyError",
            "SshLinkDropped",
            "SshTimeoutError",
            "SshTransportOptions",
        ],
        "molq.shell.transport._ssh_options",
    ),
    "SshTransport": "molq.shell.transport._ssh",
    **dict.fromkeys(
        ["SyncClient", "SyncResult", "WorkspaceOwnershipError", "default_remote_path"], "molq.shell.transport._sync"
    ),
    "JobStore": "molq.shell.store._store",
    **dict.fromkeys(["JobContext", "context"], "molq.api._job_context"),
    "SweepHandle": "molq.api._sweep_api",
    **dict.fromkeys(
        ["SweepSpec", "expand_matrix", "merge_sweep_specs", "parse_arg_flags", "parse_sweep_flags"], "molq.core._sweep"
    ),
    "SweepStatus": "molq.core._sweep_state",
    **dict.fromkeys(["JobUsage", "UsageSummary", "summarise_usage"], "molq.core._usage"),
    **dict.fromkeys(["fetch_usage", "job_usage"], "molq.api._usage_api"),
    # Upstream molq's names (issue 18): errors, dependency previews, dashboards.
    **dict.fromkeys(
        ["CommandError", "DependencyPreview", "DependencyPreviewItem", "ScriptError", "SubmitError", "dependency_relation_state"],
        "molq.core",
    ),
    **dict.fromkeys(["DashboardState", "JobRow", "MolqMonitor", "RunDashboard"], "molq.dashboard"),
    "LocalSchedulerOptions": "molq.shell.schedulers._local_options",
    "SlurmSchedulerOptions": "molq.shell.schedulers._slurm",
    "PBSSchedulerOptions": "molq.shell.schedulers._pbs",
    "LSFSchedulerOptions": "molq.shell.schedulers._lsf",
    # What the CLI and the dashboard use, public so users' own tools can do the same (ADR layout).
    "cluster_from_profile": "molq.api._cluster",
    **dict.fromkeys(["Recorded", "event_tag", "fold_job"], "molq.core"),
    **dict.fromkeys(["JobCreated", "JobDependencyRecorded", "event_data"], "molq.core._events"),
    "sweep_status_of": "molq.shell._sweeps",
    # Job arrays, task by task (#15): the fold, where each task's output is, and a job's tasks.
    **dict.fromkeys(["ArrayTasks", "TaskRecord", "is_array_job", "task_log_paths"], "molq.core._tasks"),
    "job_tasks": "molq.shell._array_tasks",
    "cancel_task": "molq.api._cancel_task",
    **dict.fromkeys(["ArrayHandle", "map_jobs"], "molq.api._map_jobs"),
    **dict.fromkeys(["active_clusters", "job_names", "list_jobs"], "molq.shell.store._job_listing"),
    "WORKSPACE_OWNER_FILE": "molq.shell.transport._sync",
}

__all__ = sorted([*_LOCATIONS, "__version__"])  # noqa: PLE0605 - derived from the table above


def __getattr__(name: str) -> Any:
    if name == "__version__":
        from importlib.metadata import PackageNotFoundError, version

        try:
            return version("molq")
        except PackageNotFoundError:  # pragma: no cover - running from a source tree
            from molq._version import VERSION

            return VERSION
    module = _LOCATIONS.get(name)
    if module is None:
        msg = f"module 'molq' has no attribute {name!r}"
        raise AttributeError(msg)
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return __all__
