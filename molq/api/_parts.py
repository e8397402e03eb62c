"""What a Submitor verb's helper may use of it: a protocol, so no helper imports Submitor (ADR: layout).

Cancelling, cleaning up, sweeps, live subscriptions and job handles were cut out of Submitor
to keep one idea per module. They take the pieces they need through this protocol instead of
the class, so the module graph stays a tree: ``_submitor`` imports them, never the reverse.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol


if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

    from molq.api._cluster import Cluster
    from molq.core import JobRecord, RetryPolicy, SubmitorDefaults
    from molq.core._sweep_state import SweepStatus
    from molq.shell._bus import EventBus
    from molq.shell._monitor import JobMonitor
    from molq.shell._reconcile import JobReconciler
    from molq.shell.store._store import JobStore


class JobVerbs(Protocol):
    """The verbs a JobHandle or SweepHandle calls back: a Submitor is one."""

    def refresh_jobs(self) -> None:
        """Reconcile the cluster's active jobs."""

    def latest_attempt(self, job_id: str) -> JobRecord:
        """The newest attempt of ``job_id``'s retry family."""

    def watch_jobs(
        self, job_ids: Sequence[str] | None = None, timeout: float | None = None
    ) -> list[JobRecord]:
        """Block until the jobs are final."""

    def cancel_job(self, job_id: str) -> None:
        """Cancel the latest active attempt of ``job_id``'s family."""

    def get_sweep(self, sweep_id: str) -> SweepStatus:
        """One sweep's status."""

    @property
    def target(self) -> Cluster:
        """The destination Cluster (a function job's outcome is read through its transport)."""

    @property
    def store(self) -> JobStore:
        """The job store (a function job's outcome summary is in its log)."""


class SubmitorParts(JobVerbs, Protocol):
    """The wiring of one Submitor: its cluster, store, reconciler, monitor and defaults."""

    _monitor: JobMonitor
    _defaults: SubmitorDefaults
    _jobs_dir: str | None
    _default_retry: RetryPolicy | None
    _profile_name: str | None
    _clock: Callable[[], float]

    @property
    def cluster_name(self) -> str:
        """Same as ``target.name``."""

    @property
    def event_bus(self) -> EventBus:
        """The bus lifecycle events are emitted on."""

    @property
    def reconciler(self) -> JobReconciler:
        """The reconciler of this cluster."""

    def get_job(self, job_id: str) -> JobRecord:
        """The persisted record of ``job_id`` in this cluster."""
