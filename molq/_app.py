"""The composition root: Submitor and JobHandle wire core and shell together (Cluster: _cluster)."""

from __future__ import annotations

import dataclasses
import logging
import time
import uuid
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, overload

import attrs

from molq._cluster import Cluster, build_scheduler
from molq.core import (
    ConcurrencyConflict,
    ConfigError,
    DependencyError,
    Duration,
    JobDependency,
    JobExecution,
    JobNotFoundError,
    JobRecord,
    JobResources,
    JobScheduling,
    JobSpec,
    JobState,
    RetentionPolicy,
    RetryPolicy,
    Script,
    StatusTransition,
    StoreError,
    SubmitorDefaults,
    check_capabilities,
    compile_dependencies,
    merge_dependency_refs,
)
from molq.core._deps import CompiledEdge
from molq.core._events import JobCreated
from molq.shell._bus import EventBus, EventType
from molq.shell._job_dirs import claim_named_job_dir
from molq.shell._monitor import JobMonitor
from molq.shell._reconcile import JobReconciler
from molq.shell._store import JobStore
from molq.shell._submission import create_and_submit


if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Collection, Iterator, Mapping

    from molq._sweep_api import SweepHandle
    from molq.core import Recorded
    from molq.core._polling import PollingStrategy
    from molq.core._sweep_state import SweepStatus
    from molq.core._usage import JobUsage

_log = logging.getLogger("molq.daemon")
_DIALECTS = {"slurm": "slurm", "pbs": "pbs", "lsf": "lsf"}


@attrs.frozen
class JobDryRun:
    """What a submission would have done; nothing was submitted or recorded."""

    command: str
    details: dict[str, str]

    def __str__(self) -> str:
        return self.command


@attrs.define(eq=False)
class JobHandle:
    """A lightweight reference to a submitted job (its retry family's root id).

    ``status()`` is the state this handle last saw (no I/O); ``refresh()``, ``wait()`` and
    ``cancel()`` update it, as in upstream molq.
    """

    job_id: str
    cluster_name: str
    scheduler: str
    scheduler_job_id: str | None
    _submitor: Submitor = attrs.field(repr=False, alias="submitor")
    _state: JobState = attrs.field(default=JobState.SUBMITTED, alias="state")

    def status(self) -> JobState:
        """The cached state of the family's latest attempt (no I/O; ``refresh()`` updates it)."""
        return self._state

    def refresh(self) -> JobHandle:
        """Reconcile with the scheduler, update this handle's state and scheduler id; returns it."""
        self._submitor.refresh_jobs()
        self._take(self._submitor.latest_attempt(self.job_id))
        return self

    def wait(self, timeout: float | None = None) -> JobRecord:
        """Block until the family's latest attempt is final; returns its record."""
        record = self._submitor.watch_jobs([self.job_id], timeout=timeout)[0]
        self._take(record)
        return record

    def cancel(self) -> None:
        """Cancel the latest active attempt."""
        self._submitor.cancel_job(self.job_id)
        self._take(self._submitor.latest_attempt(self.job_id))

    def usage(self, *, fetch: bool = True) -> JobUsage | None:
        """What the latest attempt used (``Submitor.job_usage``); None while it runs."""
        return self._submitor.job_usage(self.job_id, fetch=fetch)

    def _take(self, record: JobRecord) -> None:
        self._state = record.state
        self.scheduler_job_id = record.scheduler_job_id


class Submitor:
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
        self._target = _require_cluster(target)
        self._defaults = defaults or SubmitorDefaults()
        self._store = store if store is not None else JobStore()
        self._jobs_dir = None if jobs_dir is None else str(jobs_dir)
        from molq._submit_spec import check_retry

        check_retry(default_retry_policy)
        retention: object = retention_policy
        if not isinstance(retention, RetentionPolicy | None):
            msg = f"retention_policy must be a RetentionPolicy, got {type(retention_policy).__name__} {retention_policy!r}"
            raise ConfigError(msg)
        self._default_retry = default_retry_policy
        self._retention = retention_policy or RetentionPolicy()
        self._profile_name = profile_name
        self._bus = event_bus or EventBus()
        self._clock: Callable[[], float] = time.time
        self._reconciler = JobReconciler(
            self._store, target.scheduler_impl, target.name, transport=target.transport, event_bus=self._bus
        )
        self._monitor = JobMonitor(
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
        from molq._submit_spec import SubmitRequest, build_spec, check_retry

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
        job_id = uuid.uuid4().hex
        spec, job_dir = build_spec(
            request,
            self._defaults,
            job_id=job_id,
            jobs_dir=self._jobs_dir,
            local=self._target.is_local_transport,
            remote=self._target.remote_location(),
        )
        self._check_remote_cwd(spec.cwd)
        refs = merge_dependency_refs(
            spec.scheduling, after_started=after_started, after=after, after_failure=after_failure, after_success=after_success
        )
        check_capabilities(attrs.evolve(spec, scheduling=dataclasses.replace(spec.scheduling, dependencies=refs)), self._target.scheduler_impl.capabilities(), self._target.scheduler)
        spec, edges = self._compile_dependencies(spec, refs, job_id)
        scheduler = self._target.scheduler_impl
        submission = scheduler.prepare(spec, job_dir)
        if dry_run:
            return JobDryRun(command=submission.display, details=_dry_run_details(spec, job_dir, submission, self))
        if job_dir_name is not None:  # a name chosen by the caller may be taken
            claim_named_job_dir(self._target.transport, job_dir, job_dir_name)
        created = JobCreated(
            job_id=job_id,
            at=self._clock(),
            cluster_name=self.cluster_name,
            scheduler=self._target.scheduler,
            root_job_id=job_id,
            profile_name=self._profile_name,
            spec=spec,
            retry=retry or self._default_retry or RetryPolicy(),
            job_dir=job_dir,
        )
        record = create_and_submit(self._store, scheduler, created, edges, clock=self._clock, command=submission.display)
        self._reconciler.remember_retry_policy(job_id, created.retry)
        self._announce_new(record)
        return JobHandle(
            job_id, self.cluster_name, self._target.scheduler, record.scheduler_job_id, submitor=self, state=record.state
        )

    submit = submit_job  # the reference's short name

    def _check_remote_cwd(self, cwd: str) -> None:
        """Refuse a remote working directory that does not exist (one round trip, only when one is given)."""
        remote = self._target.remote_location()
        if remote is None or cwd in (".", remote.cwd):  # local, or the login dir (which exists)
            return
        if not self._target.transport.exists(cwd):
            msg = f"working directory {cwd!r} does not exist on {self.cluster_name}; molq does not create it"
            raise ConfigError(msg)

    def _compile_dependencies(
        self, spec: JobSpec, refs: tuple[Any, ...], job_id: str
    ) -> tuple[JobSpec, tuple[CompiledEdge, ...]]:
        if not refs:
            return spec, ()
        scheduler_ids: dict[str, str] = {}
        for ref in refs:
            upstream = self._store.get_record(ref.job_id)
            if upstream is None or upstream.cluster_name != self.cluster_name:
                msg = f"dependency {ref.job_id!r} is not a job of cluster {self.cluster_name!r}"
                raise DependencyError(msg)
            latest = self._store.latest_attempt(upstream.root_job_id) or upstream
            if latest.scheduler_job_id:
                scheduler_ids[ref.job_id] = latest.scheduler_job_id
        dialect = _DIALECTS[self._target.scheduler]
        expression, edges = compile_dependencies(refs, scheduler_ids, dialect, job_id=job_id)  # type: ignore[arg-type]
        scheduling = dataclasses.replace(spec.scheduling, dependency=expression, dependencies=())
        return attrs.evolve(spec, scheduling=scheduling), edges

    def _announce_new(self, record: JobRecord) -> None:
        if not getattr(self._bus, "has_handlers", True):
            return  # nobody listens: spare reading the transitions back
        for transition in self._store.transitions(record.job_id):
            self._bus.emit_transition(transition, record)

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

    def job_usage(self, job_id: str, *, fetch: bool = True) -> JobUsage | None:
        """What ``job_id``'s latest attempt used, from the scheduler's accounting.

        Args:
            job_id: any attempt of the family.
            fetch: ask the accounting once if the attempt finished without a usage record.

        Returns:
            The recorded ``JobUsage`` (``cpu_efficiency``, ``memory_efficiency``), or None
            while the job runs.

        Raises:
            JobNotFoundError: no such job in this cluster.
            SchedulerError: the accounting query failed.
        """
        from molq._usage_api import job_usage

        return job_usage(self, job_id, fetch=fetch)

    def fetch_usage(self, job_ids: Sequence[str] | None = None) -> int:
        """Record the usage of finished jobs that have none, in one accounting call; returns how many.

        Raises:
            JobNotFoundError: a job id is not in this cluster.
            SchedulerError: the accounting query failed.
        """
        from molq._usage_api import fetch_usage

        return fetch_usage(self, job_ids)

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
        from molq._cancel import cancel_latest

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
        from molq._cleanup import cleanup

        return cleanup(self, retention_policy or self._retention, dry_run=dry_run)

    def run_daemon(
        self,
        once: bool = False,
        interval: float = 5.0,
        run_cleanup: bool = True,
    ) -> None:
        """Reconcile in a loop (one pass with ``once``); cleanup at most hourly."""
        last_cleanup = 0.0
        while True:
            try:
                self._reconciler.reconcile()
            except ConcurrencyConflict as exc:  # another process won a race: the next pass sees its events
                _log.warning("reconcile pass skipped after a concurrent change: %s", exc)
            now = time.monotonic()
            if run_cleanup and (last_cleanup == 0.0 or now - last_cleanup >= 3600):
                try:
                    self.cleanup_jobs()
                except ConcurrencyConflict as exc:
                    _log.warning("cleanup skipped after a concurrent change: %s", exc)
                last_cleanup = now
            if once:
                return
            time.sleep(interval)

    def on_event(self, event: EventType | str, handler: Callable[..., object]) -> None:
        """Call ``handler`` for lifecycle ``event``."""
        self._bus.on(event, handler)

    def off_event(self, event: EventType | str, handler: Callable[..., object]) -> None:
        """Stop calling ``handler`` for ``event``."""
        self._bus.off(event, handler)

    # -- sweeps and live subscriptions (molq/_sweep_api.py, molq/_live.py) ----------------------
    def submit_sweep(
        self,
        *,
        matrix: Mapping[str, Sequence[Any]],
        args: Mapping[str, Any] | None = None,
        max_parallel: int = 1,
        fail_fast: bool = False,
        argv: list[str] | None = None,
        command: str | None = None,
        script: Script | None = None,
        retry: RetryPolicy | None = None,
        **options: Any,
    ) -> SweepHandle:
        """Run a ``{name}`` template once per matrix cell, at most ``max_parallel`` at a time.

        ``options`` are ``resources``, ``scheduling``, ``execution``, ``metadata`` and
        ``max_duration``, as for ``submit_job``; every cell is an ordinary job.

        Raises:
            ConfigError / SpecError: invalid template, matrix or options (nothing is written).
        """
        from molq._sweep_api import build_sweep, submit_sweep

        created = build_sweep(
            self, matrix=matrix, args=args, max_parallel=max_parallel, fail_fast=fail_fast,
            argv=argv, command=command, script=script, retry=retry, options=options,
        )
        return submit_sweep(self, created)

    def get_sweep(self, sweep_id: str) -> SweepStatus:
        """A sweep aggregated over its cells (counts by state, overall state)."""
        from molq._sweep_api import get_sweep_status

        return get_sweep_status(self, sweep_id)

    def list_sweeps(self, *, include_final: bool = True) -> list[SweepStatus]:
        """Sweeps of this cluster, newest first."""
        from molq._sweep_api import list_sweep_statuses

        return list_sweep_statuses(self, include_final=include_final)

    def cancel_sweep(self, sweep_id: str) -> SweepStatus:
        """Launch no further cell and cancel the active ones."""
        from molq._sweep_api import cancel_sweep

        return cancel_sweep(self, sweep_id)

    def subscribe_events(
        self,
        job_ids: Sequence[str] | None = None,
        *,
        from_seq: int | None = None,
        tags: Collection[str] | None = None,
        poll_interval: float = 0.25,
        timeout: float | None = None,
    ) -> Iterator[Recorded]:
        """Yield this cluster's events as any process appends them.

        ``job_ids`` limits them to those jobs or sweeps, following retries and sweep
        cells; ``tags`` to those event tags. Starts at the log's end unless
        ``from_seq`` is given; runs until ``timeout`` or until the caller stops.
        """
        from molq._live import open_cursor, subscribe_events

        cursor = open_cursor(self._file_store_path(), self.cluster_name, job_ids, from_seq=from_seq, tags=tags)
        return subscribe_events(cursor, poll_interval=poll_interval, timeout=timeout)

    def _file_store_path(self) -> Path:
        if self._store.in_memory:
            msg = "subscriptions read the store from a second connection: use a file store, not JobStore(':memory:')"
            raise StoreError(msg)
        return self._store.path

    def asubscribe_events(
        self,
        job_ids: Sequence[str] | None = None,
        *,
        from_seq: int | None = None,
        tags: Collection[str] | None = None,
        poll_interval: float = 0.25,
        timeout: float | None = None,
    ) -> AsyncIterator[Recorded]:
        """The async form of ``subscribe_events`` (``async for recorded in ...``)."""
        from molq._live import asubscribe_events, open_cursor

        cursor = open_cursor(self._file_store_path(), self.cluster_name, job_ids, from_seq=from_seq, tags=tags)
        return asubscribe_events(cursor, poll_interval=poll_interval, timeout=timeout)

    def subscribe_logs(
        self, job_id: str, stream: str = "stdout", *, poll_interval: float = 0.5, timeout: float | None = None
    ) -> Iterator[str]:
        """Yield new lines of the job's stdout/stderr (following retries) until the job is final."""
        from molq._live import subscribe_logs

        return subscribe_logs(self, job_id, stream, poll_interval=poll_interval, timeout=timeout)

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
        from molq._config import cluster_from_profile, load_profile

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


def _dry_run_details(spec: JobSpec, job_dir: str, submission: Any, submitor: Submitor) -> dict[str, str]:
    details = {
        "scheduler": submitor.target.scheduler,
        "cluster": submitor.cluster_name,
        "cwd": spec.cwd,
        "job_dir": job_dir,
        "script_path": submission.script_path,
        "script": submission.script,
        "stdout": spec.metadata.get("molq.stdout_path", ""),
        "stderr": spec.metadata.get("molq.stderr_path", ""),
    }
    if spec.scheduling.partition:
        details["partition"] = spec.scheduling.partition
    if spec.scheduling.dependency:
        details["dependency"] = spec.scheduling.dependency
    return details


__all__ = ["Cluster", "JobDryRun", "JobHandle", "Submitor", "build_scheduler"]
