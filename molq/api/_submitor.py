"""The composition root: Submitor wires a Cluster, the store and the lifecycle shell together.

Its verbs are short; the work is in helpers beside it that see it only as ``_parts.SubmitorParts``.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Literal, overload

from molq.api._cluster import Cluster, build_scheduler, cluster_from_profile
from molq.api._functions import FunctionVerbs
from molq.api._handle import JobDryRun, JobHandle
from molq.api._live import LiveSubscriptions
from molq.api._sweep_api import SweepVerbs
from molq.core import (
    ConfigError,
    Duration,
    JobDependency,
    JobExecution,
    JobNotFoundError,
    JobRecord,
    JobResources,
    JobScheduling,
    RetentionPolicy,
    RetryPolicy,
    Script,
    StatusTransition,
    SubmitorDefaults,
)


if TYPE_CHECKING:
    from molq.core._polling import PollingStrategy
    from molq.shell._bus import EventBus, EventType
    from molq.shell._reconcile import JobReconciler
    from molq.shell.store._store import JobStore


class Submitor(SweepVerbs, LiveSubscriptions, FunctionVerbs):
    """The lifecycle engine bound to one Cluster; every call is scoped to ``target.name``."""

    def __init__(
        self,
        target: Cluster,
        *,
        defaults: SubmitorDefaults | None = None,
        store: JobStore | None = None,
        jobs_dir: str | Path | None = None,
        default_retry_policy: RetryPolicy | None = None,
        retention_policy: RetentionPolicy | None = None,
        profile_name: str | None = None,
        event_bus: EventBus | None = None,
        polling_strategy: PollingStrategy | None = None,
    ) -> None:
        from molq.shell import _bus, _monitor, _reconcile
        from molq.shell.store._store import JobStore  # the lifecycle loads here, not at import (ADR 0032)

        self._target = _require_cluster(target)
        self._defaults = defaults or SubmitorDefaults()
        self._store = store if store is not None else JobStore()
        self._jobs_dir = None if jobs_dir is None else str(jobs_dir)
        from molq.api._submit_spec import check_retry

        check_retry(default_retry_policy)
        retention: object = retention_policy
        if not isinstance(retention, RetentionPolicy | None):
            msg = f"retention_policy must be a RetentionPolicy, got {type(retention_policy).__name__} {retention_policy!r}"
            raise ConfigError(msg)
        self._default_retry = default_retry_policy
        self._retention = retention_policy or RetentionPolicy()
        self._profile_name = profile_name
        self._bus = event_bus or _bus.EventBus()
        self._clock: Callable[[], float] = time.time
        self._reconciler = _reconcile.JobReconciler(
            self._store, target.scheduler_impl, target.name, transport=target.transport, event_bus=self._bus
        )
        self._monitor = _monitor.JobMonitor(
            self._reconciler, self._store, strategy=polling_strategy or _default_strategy(target), event_bus=self._bus
        )

    # -- properties -------------------------------------------------------------------
    @property
    def target(self) -> Cluster:
        """The destination Cluster."""
        return self._target

    @property
    def cluster_name(self) -> str:
        """Same as ``target.name``."""
        return self._target.name

    @property
    def store(self) -> JobStore:
        """The job store."""
        return self._store

    @property
    def event_bus(self) -> EventBus:
        """The bus lifecycle events are emitted on."""
        return self._bus

    @property
    def reconciler(self) -> JobReconciler:
        """The reconciler of this Submitor's cluster."""
        return self._reconciler

    def __repr__(self) -> str:
        return f"Submitor({self._target!r}, store={self._store!r})"

    # -- submission -----------------------------------------------------------------------
    @overload
    def submit_job(
        self,
        *,
        argv: list[str] | None = None,
        command: str | None = None,
        script: Script | None = None,
        resources: JobResources | None = None,
        scheduling: JobScheduling | None = None,
        execution: JobExecution | None = None,
        metadata: dict[str, str] | None = None,
        retry: RetryPolicy | None = None,
        after_started: list[str] | None = None,
        after: list[str] | None = None,
        after_failure: list[str] | None = None,
        after_success: list[str] | None = None,
        job_dir_name: str | None = None,
        max_duration: str | Duration | None = None,
        dry_run: Literal[False] = False,
    ) -> JobHandle: ...

    @overload
    def submit_job(
        self,
        *,
        argv: list[str] | None = None,
        command: str | None = None,
        script: Script | None = None,
        resources: JobResources | None = None,
        scheduling: JobScheduling | None = None,
        execution: JobExecution | None = None,
        metadata: dict[str, str] | None = None,
        retry: RetryPolicy | None = None,
        after_started: list[str] | None = None,
        after: list[str] | None = None,
        after_failure: list[str] | None = None,
        after_success: list[str] | None = None,
        job_dir_name: str | None = None,
        max_duration: str | Duration | None = None,
        dry_run: Literal[True],
    ) -> JobDryRun: ...

    @overload
    def submit_job(
        self,
        *,
        argv: list[str] | None = None,
        command: str | None = None,
        script: Script | None = None,
        resources: JobResources | None = None,
        scheduling: JobScheduling | None = None,
        execution: JobExecution | None = None,
        metadata: dict[str, str] | None = None,
        retry: RetryPolicy | None = None,
        after_started: list[str] | None = None,
        after: list[str] | None = None,
        after_failure: list[str] | None = None,
        after_success: list[str] | None = None,
        job_dir_name: str | None = None,
        max_duration: str | Duration | None = None,
        dry_run: bool,
    ) -> JobHandle | JobDryRun: ...

    def submit_job(
        self,
        *,
        argv: list[str] | None = None,
        command: str | None = None,
        script: Script | None = None,
        resources: JobResources | None = None,
        scheduling: JobScheduling | None = None,
        execution: JobExecution | None = None,
        metadata: dict[str, str] | None = None,
        retry: RetryPolicy | None = None,
        after_started: list[str] | None = None,
        after: list[str] | None = None,
        after_failure: list[str] | None = None,
        after_success: list[str] | None = None,
        job_dir_name: str | None = None,
        max_duration: str | Duration | None = None,
        dry_run: bool = False,
    ) -> JobHandle | JobDryRun:
        """Submit a job; exactly one of ``argv``, ``command`` or ``script``.

        Args:
            argv: the program and its arguments, run without a shell (each argument
                arrives byte-exact).
            command: one line of shell text, run by ``sh -c``.
            script: a `Script` (inline text, or a path to a file) run as the job body.
            resources: CPUs, memory, GPUs and time limit (`JobResources`); merged over
                the Submitor's defaults.
            scheduling: partition, account, QoS, array, exclusivity and other placement
                fields (`JobScheduling`); merged over the defaults.
            execution: environment, working directory, output and error files
                (`JobExecution`); merged over the defaults. Without ``cwd`` the job runs
                in the current directory (on a remote host: its login directory).
            metadata: your own string labels, kept on the record (keys under ``molq.``
                are reserved).
            retry: the `RetryPolicy` of this job; default: the Submitor's, else one attempt.
            after_started: job ids this job waits for to start.
            after: job ids this job waits for to end, however they end.
            after_failure: job ids that must fail before this job runs.
            after_success: job ids that must succeed before this job runs.
            job_dir_name: name of the job's directory under ``jobs_dir`` (default: the
                job id).
            max_duration: a wall-clock limit enforced by molq (``"90s"``, ``"2h"``, a
                `Duration`); the job ends TIMED_OUT "duration limit reached".
            dry_run: render everything and return a `JobDryRun`; nothing is written or
                submitted.

        Returns:
            A JobHandle, or a JobDryRun when ``dry_run`` is true.

        Raises:
            ConfigError: invalid or unsupported input (nothing is written).
            DependencyError: a dependency names an unknown or unsubmitted job.
            SchedulerError / TransportError: the scheduler refused or could not be
                reached (a ``job.submit_failed`` event records why).
        """
        from molq.api._submit_job import submit_one
        from molq.api._submit_spec import SubmitRequest, check_retry

        check_retry(retry)
        request = SubmitRequest(
            argv=argv,
            command=command,
            script=script,
            resources=resources,
            scheduling=scheduling,
            execution=execution,
            metadata=metadata,
            job_dir_name=job_dir_name,
            max_duration=max_duration,
        )
        refs = {"after_started": after_started, "after": after, "after_failure": after_failure, "after_success": after_success}
        return submit_one(self, request, retry=retry, dependencies=refs, dry_run=dry_run)

    submit = submit_job  # the reference's short name

    # -- queries ------------------------------------------------------------------------------
    def get_job(self, job_id: str) -> JobRecord:
        """The persisted record of ``job_id`` in this cluster.

        Raises:
            JobNotFoundError: no such job in this cluster.
        """
        record = self._store.get_record(job_id)
        if record is None or record.cluster_name != self.cluster_name:
            msg = f"no job {job_id!r} in cluster {self.cluster_name!r}"
            raise JobNotFoundError(job_id, self.cluster_name, message=msg)
        return record

    def latest_attempt(self, job_id: str) -> JobRecord:
        """The newest attempt of ``job_id``'s retry family."""
        record = self.get_job(job_id)
        return self._store.latest_attempt(record.root_job_id) or record

    def list_jobs(self, include_terminal: bool = False) -> list[JobRecord]:
        """Jobs of this cluster, newest first (active only unless ``include_terminal``)."""
        return self._store.list_records(self.cluster_name, include_terminal=include_terminal)

    def get_transitions(self, job_id: str) -> list[StatusTransition]:
        """Lifecycle transitions of one attempt."""
        self.get_job(job_id)
        return self._store.transitions(job_id)

    def get_retry_family(self, job_id: str) -> list[JobRecord]:
        """Every attempt of the family ``job_id`` belongs to."""
        return self._store.family(self.get_job(job_id).root_job_id)

    def get_dependencies(self, job_id: str) -> list[JobDependency]:
        """Upstream edges of ``job_id``."""
        self.get_job(job_id)
        return self._store.dependencies(job_id)

    def get_dependents(self, job_id: str) -> list[JobDependency]:
        """Downstream edges pointing at ``job_id``."""
        self.get_job(job_id)
        return self._store.dependents(job_id)

    # -- lifecycle ---------------------------------------------------------------------------
    def watch_jobs(self, job_ids: Sequence[str] | None = None, timeout: float | None = None) -> list[JobRecord]:
        """Block until every job (following retries) is final; default: all active jobs."""
        if job_ids is None:
            roots = {r.root_job_id for r in self.list_jobs()}
            roots |= {r.root_job_id for r in self._store.pending_retries(self.cluster_name)}
            job_ids = sorted(roots)
        for job_id in job_ids:
            self.get_job(job_id)
        return self._monitor.wait(list(job_ids), timeout=timeout)

    watch = watch_jobs

    def cancel_job(self, job_id: str) -> None:
        """Cancel the latest active attempt of ``job_id``'s family (a no-op when final)."""
        from molq.api._cancel import cancel_latest

        cancel_latest(self, job_id)

    def refresh_jobs(self) -> None:
        """Reconcile this cluster's active jobs against the scheduler."""
        self._reconciler.reconcile()

    refresh = refresh_jobs

    def cleanup_jobs(
        self,
        dry_run: bool = False,
        retention_policy: RetentionPolicy | None = None,
    ) -> dict[str, list[str]]:
        """Remove old job directories and hide old terminal records (events are kept)."""
        from molq.api._cleanup import cleanup

        return cleanup(self, retention_policy or self._retention, dry_run=dry_run)

    def run_daemon(
        self,
        once: bool = False,
        interval: float = 5.0,
        run_cleanup: bool = True,
    ) -> None:
        """Reconcile in a loop (one pass with ``once``); cleanup at most hourly."""
        from molq.api._cleanup import daemon_loop

        daemon_loop(self._reconciler.reconcile, self.cleanup_jobs, once=once, interval=interval, run_cleanup=run_cleanup)

    def on_event(self, event: EventType | str, handler: Callable[..., object]) -> None:
        """Call ``handler`` for lifecycle ``event``."""
        self._bus.on(event, handler)

    def off_event(self, event: EventType | str, handler: Callable[..., object]) -> None:
        """Stop calling ``handler`` for ``event``."""
        self._bus.off(event, handler)

    def close(self) -> None:
        """Close the store connection and any connection to a local runner (jobs keep running)."""
        close_scheduler = getattr(self._target.scheduler_impl, "close", None)
        if close_scheduler is not None:
            close_scheduler()
        self._store.close()

    def __enter__(self) -> Submitor:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @classmethod
    def from_profile(
        cls,
        profile_name: str,
        *,
        target: Cluster | None = None,
        config_path: str | Path | None = None,
        store: JobStore | None = None,
    ) -> Submitor:
        """Build a Submitor from a TOML profile (and its Cluster unless ``target`` is given)."""
        from molq.api._config import load_profile

        profile = load_profile(profile_name, config_path)
        return cls(
            target if target is not None else cluster_from_profile(profile),
            defaults=profile.defaults,
            store=store,
            jobs_dir=profile.jobs_dir,
            default_retry_policy=profile.retry,
            retention_policy=profile.retention,
            profile_name=profile.name,
        )


def _require_cluster(target: object) -> Cluster:
    if not isinstance(target, Cluster):
        msg = f"Submitor needs a Cluster as target, got {type(target).__name__}"
        raise ConfigError(msg)
    return target


def _default_strategy(cluster: Cluster) -> PollingStrategy:
    from molq.core._polling import AdaptiveStrategy

    if cluster.scheduler == "local":
        return AdaptiveStrategy(minimum=0.02, maximum=2.0)
    return AdaptiveStrategy(minimum=0.25, maximum=30.0)


__all__ = ["Cluster", "JobDryRun", "JobHandle", "Submitor", "build_scheduler"]
