"""molq: submit, track and audit batch jobs on local, SLURM, PBS and LSF clusters.

Heavy pieces (the store, Rich, the CLI) load on first use so ``import molq`` stays fast.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any


if TYPE_CHECKING:
    from molq._app import Cluster as Cluster, JobDryRun as JobDryRun, JobHandle as JobHandle, Submitor as Submitor
    from molq._config import (
        MolqConfig as MolqConfig,
        MolqProfile as MolqProfile,
        load_config as load_config,
        load_profile as load_profile,
    )
    from molq._workspace import Project as Project, Workspace as Workspace
    from molq.core import (
        ConcurrencyConflict as ConcurrencyConflict,
        ConfigError as ConfigError,
        CorruptLogError as CorruptLogError,
        DependencyCondition as DependencyCondition,
        DependencyCycle as DependencyCycle,
        DependencyError as DependencyError,
        DependencyRef as DependencyRef,
        Duration as Duration,
        InvalidTransition as InvalidTransition,
        JobDependency as JobDependency,
        JobExecution as JobExecution,
        JobNotFoundError as JobNotFoundError,
        JobRecord as JobRecord,
        JobResources as JobResources,
        JobScheduling as JobScheduling,
        JobState as JobState,
        Memory as Memory,
        MolqError as MolqError,
        MolqTimeoutError as MolqTimeoutError,
        QueueEntry as QueueEntry,
        RetentionPolicy as RetentionPolicy,
        RetryBackoff as RetryBackoff,
        RetryPolicy as RetryPolicy,
        SchedulerCapabilities as SchedulerCapabilities,
        SchedulerError as SchedulerError,
        SchemaVersionError as SchemaVersionError,
        Script as Script,
        SpecError as SpecError,
        StatusTransition as StatusTransition,
        StoreError as StoreError,
        SubmitorDefaults as SubmitorDefaults,
        TerminalStatus as TerminalStatus,
        Transport as Transport,
        TransportError as TransportError,
    )
    from molq.shell._bus import EventBus as EventBus, EventPayload as EventPayload, EventType as EventType
    from molq.shell._local import LocalTransport as LocalTransport
    from molq.shell._monitor import JobMonitor as JobMonitor
    from molq.shell._reconcile import JobReconciler as JobReconciler
    from molq._workspace import check_script_path as check_script_path
    from molq.shell._ssh import (
        RemoteFileNotFound as RemoteFileNotFound,
        SshAuthError as SshAuthError,
        SshConnectionError as SshConnectionError,
        SshError as SshError,
        SshHostKeyError as SshHostKeyError,
        SshLinkDropped as SshLinkDropped,
        SshTimeoutError as SshTimeoutError,
        SshTransport as SshTransport,
        SshTransportOptions as SshTransportOptions,
    )
    from molq.shell._sync import (
        SyncClient as SyncClient,
        SyncResult as SyncResult,
        WorkspaceOwnershipError as WorkspaceOwnershipError,
        default_remote_path as default_remote_path,
    )
    from molq.shell._store import JobStore as JobStore

_CORE = (
    "ConcurrencyConflict ConfigError CorruptLogError DependencyCondition DependencyCycle DependencyError "
    "DependencyRef Duration InvalidTransition JobDependency JobExecution JobNotFoundError JobRecord "
    "JobResources JobScheduling JobState Memory MolqError MolqTimeoutError QueueEntry RetentionPolicy "
    "RetryBackoff RetryPolicy SchedulerCapabilities SchedulerError SchemaVersionError Script SpecError "
    "StatusTransition StoreError SubmitorDefaults TerminalStatus Transport TransportError"
).split()
_LOCATIONS: dict[str, str] = {
    **dict.fromkeys(_CORE, "molq.core"),
    **dict.fromkeys(["Cluster", "JobDryRun", "JobHandle", "Submitor"], "molq._app"),
    **dict.fromkeys(["MolqConfig", "MolqProfile", "load_config", "load_profile"], "molq._config"),
    **dict.fromkeys(["Project", "Workspace", "check_script_path"], "molq._workspace"),
    **dict.fromkeys(["EventBus", "EventPayload", "EventType"], "molq.shell._bus"),
    "LocalTransport": "molq.shell._local",
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
            "SshTransport",
            "SshTransportOptions",
        ],
        "molq.shell._ssh",
    ),
    **dict.fromkeys(
        ["SyncClient", "SyncResult", "WorkspaceOwnershipError", "default_remote_path"], "molq.shell._sync"
    ),
    "JobStore": "molq.shell._store",
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
