"""JobReconciler: brings the log up to date with what the scheduler reports.

One pass: load the cluster's active jobs, ask the scheduler about all of them in
one batched call, let the core decide what changed, append the events (with any
retry they cause, atomically), then create the retries that are due. A failed
scheduler command changes no job's state.
"""

from __future__ import annotations

import logging
import random
import time
import uuid
from collections.abc import Callable, Sequence

import attrs
import msgspec

from molq.core import (
    Command,
    ConcurrencyConflict,
    ConfigError,
    JobEvent,
    JobRecord,
    MarkLost,
    MolqError,
    Observation,
    Observe,
    RecordSubmission,
    RetryPolicy,
    Scheduler,
    ScheduleRetry,
    StatusTransition,
    Transport,
    decide,
    decide_retry,
    evolve,
)
from molq.core._cluster_events import SchedulerCommandFailed, cluster_stream, should_record_failure
from molq.core._events import JobCreated
from molq.shell._array_tasks import record_array_tasks
from molq.shell._bus import EventBus
from molq.shell._cancel_resend import CancelResender
from molq.shell._job_context import enforce_durations, harvest_context, seed_resume_checkpoint
from molq.shell._job_dirs import claim_job_dir
from molq.shell._pass import ReconcileReport as ReconcileReport
from molq.shell._submission import create_and_submit
from molq.shell._submitter import SUBMITTER_KEY, submitter_gone
from molq.shell._sweeps import advance_sweeps
from molq.shell._usage import collect_usage
from molq.shell.store._store import JobStore


log = logging.getLogger("molq.reconcile")
APPEND_CHUNK = 500  # jobs per write transaction in a pass: bounds how long the write lock is held
MAX_REMEMBERED_POLICIES = 100_000
CONFLICT_RETRIES = 5  # appends judged again on a fresh record before a job is left for the next pass


class JobReconciler:
    """Syncs persisted job state with the scheduler for one cluster."""

    def __init__(
        self,
        store: JobStore,
        scheduler: Scheduler,
        cluster_name: str,
        *,
        transport: Transport,
        event_bus: EventBus | None = None,
        clock: Callable[[], float] = time.time,
        new_id: Callable[[], str] = lambda: uuid.uuid4().hex,
        jitter: Callable[[float], float] | None = None,
        created_grace: float = 30.0,
        dead_submitter_grace: float = 2.0,
        absences_before_lost: int = 3,
        seconds_before_lost: float = 60.0,
    ) -> None:
        self.store = store
        self.scheduler = scheduler
        self.cluster_name = cluster_name
        self.transport = transport
        self.event_bus = event_bus
        self.clock = clock
        self.new_id = new_id
        self.jitter = jitter or (lambda upper: random.uniform(0.0, upper))  # noqa: S311 - jitter, not crypto
        self.created_grace = created_grace
        self.dead_submitter_grace = dead_submitter_grace
        self.absences_before_lost = absences_before_lost
        self.seconds_before_lost = seconds_before_lost
        # Retry policies of jobs submitted through this process, so a job's end need not
        # read its creation event back (a policy never changes once logged).
        self._policies: dict[str, RetryPolicy] = {}
        self._cancels = CancelResender()  # cancels a scheduler dropped are sent again

    def remember_retry_policy(self, job_id: str, policy: RetryPolicy) -> None:
        """Note the retry policy ``job_id`` was created with (as its ``job.created`` says)."""
        if len(self._policies) >= MAX_REMEMBERED_POLICIES:  # pragma: no mutate - a memory cap: > keeps one more
            self._policies.clear()  # jobs that never ended here: read from the log when they do
        self._policies[job_id] = policy

    def reconcile(self, job_ids: Sequence[str] | None = None) -> ReconcileReport:
        """Run one pass over the cluster's active jobs (or just ``job_ids``)."""
        report = ReconcileReport()
        active = self.store.list_records(self.cluster_name, include_terminal=False)
        if job_ids is not None:
            wanted = set(job_ids)
            active = [r for r in active if r.job_id in wanted]
        submitted = [r for r in active if r.scheduler_job_id is not None]
        created = [r for r in active if r.scheduler_job_id is None]
        report.polled = len(submitted)
        self._poll(submitted, report)
        record_array_tasks(self, submitted, report)
        collect_usage(self, report.transitions, report.errors)
        harvest_context(self, submitted, report)
        if job_ids is None and any(r.max_duration_seconds is not None for r in submitted):
            enforce_durations(self, report)
        self._repair_created(created, report)
        self._create_due_retries(report)
        if job_ids is None:
            advance_sweeps(self, report)
        return report

    # -- polling -------------------------------------------------------------------
    def _poll(self, records: list[JobRecord], report: ReconcileReport) -> None:
        if not records:
            return
        by_sid = {r.scheduler_job_id: r for r in records if r.scheduler_job_id}
        job_dirs = {sid: r.metadata.get("molq.job_dir", "") for sid, r in by_sid.items()}
        try:
            observed = self.scheduler.observe_many(list(by_sid), job_dirs=job_dirs)
        except MolqError as exc:
            report.errors.append(f"{self.scheduler.name} status query failed: {exc}")
            log.warning("status query failed for cluster %s: %s", self.cluster_name, exc)
            self.record_failure("status", exc)
            return
        pairs: list[tuple[JobRecord, Command]] = []
        seen: list[tuple[JobRecord, Observation]] = []
        for sid, record in by_sid.items():
            obs = observed.get(sid, Observation(state=None, reason="missing from the status reply"))
            if record.cancel_requested_at is not None:
                seen.append((record, obs))
            command = Observe(
                obs,
                absences_before_lost=self.absences_before_lost,
                seconds_before_lost=self.seconds_before_lost,
            )
            pairs.append((record, command))
        for start in range(0, len(pairs), APPEND_CHUNK):
            self._apply_many(pairs[start : start + APPEND_CHUNK], report)
        if seen:
            self._cancels.resend(self.scheduler, seen, now=self.clock(), report=report)

    def record_failure(self, operation: str, exc: MolqError) -> None:
        """Append a ``cluster.command_failed`` event (at most one per error per minute)."""
        stream = cluster_stream(self.cluster_name)
        now = self.clock()
        previous = next(iter(self.store.scheduler_failures(self.cluster_name, limit=1)), None)
        error = str(exc)
        if not should_record_failure(previous, error, now):
            return
        event = SchedulerCommandFailed(
            cluster_name=self.cluster_name,
            at=now,
            scheduler=self.scheduler.name,
            operation=operation,
            error=error,
            argv=tuple(getattr(exc, "argv", ()) or ()),
            returncode=getattr(exc, "returncode", None),
            stderr=str(getattr(exc, "stderr", "") or "")[:2000],
        )
        try:
            self.store.append(stream, [event], expected_version=self.store.stream_version(stream), now=now)
        except ConcurrencyConflict:
            return  # another process recorded a failure at the same moment

    def _repair_created(self, records: list[JobRecord], report: ReconcileReport) -> None:
        """Intent without a recorded submission: adopt what the scheduler has, else mark it."""
        now = self.clock()
        for record in records:
            if not self._submission_settled(record, now):
                continue
            adopt = getattr(self.scheduler, "adopt", None)
            sid = None
            if adopt is not None:
                try:
                    spec = self.store.created_event(record.job_id).spec
                    sid = adopt(record.metadata.get("molq.job_dir", ""), spec)
                except MolqError as exc:
                    report.errors.append(f"adoption check for {record.job_id} failed: {exc}")
                    continue
            command: Command
            if sid:
                command = RecordSubmission(sid, command="(adopted after an interrupted submission)", adopted=True)
            else:
                command = MarkLost("submission interrupted: molq stopped before the scheduler confirmed the job")
            self._apply(record, command, report)

    def _submission_settled(self, record: JobRecord, now: float) -> bool:
        """Whether a CREATED job's submitter can no longer record the outcome itself.

        After ``created_grace``, always; before it, once the submitting process is
        known to be gone (ADR 0022), after ``dead_submitter_grace`` for what it had
        already started to become visible.
        """
        if record.created_at is None:
            return True
        age = now - record.created_at
        if age >= self.created_grace:
            return True
        token = record.metadata.get(SUBMITTER_KEY)
        return age >= self.dead_submitter_grace and token is not None and submitter_gone(token)

    # -- appending ---------------------------------------------------------------------
    def apply(self, record: JobRecord, command: Command, report: ReconcileReport) -> None:
        """Decide ``command`` for ``record`` and append the events (with any retry they cause)."""
        self._apply(record, command, report)

    def _apply_many(self, pairs: list[tuple[JobRecord, Command]], report: ReconcileReport) -> None:
        """Append every job's events in one transaction; after a conflict, job by job."""
        now = self.clock()
        planned = [(record, command, self._events_for(record, command, now)) for record, command in pairs]
        batch = [(record.job_id, events, record.version) for record, _, events in planned if events]
        if not batch:
            return
        try:
            self.store.append_batch(batch, now=now)
        except ConcurrencyConflict:
            for record, command, events in planned:
                if events:
                    self._apply(record, command, report)
            return
        for record, _, events in planned:
            if events:
                self._announce(record, events, report)

    def _apply(self, record: JobRecord, command: Command, report: ReconcileReport) -> None:
        """Append ``command``'s events, judged again on a fresh record after each conflict.

        A job other processes keep changing is skipped for this pass (with an error in
        the report): the next pass observes it again.
        """
        for _ in range(CONFLICT_RETRIES):
            now = self.clock()
            events = self._events_for(record, command, now)
            if not events:
                return
            try:
                self.store.append(record.job_id, events, expected_version=record.version, now=now)
            except ConcurrencyConflict:
                fresh = self.store.get_record(record.job_id)
                if fresh is None:
                    return
                record = fresh
                continue
            self._announce(record, events, report)
            return
        report.errors.append(f"{record.job_id} changed under every attempt to record it; left to the next pass")

    def _events_for(self, record: JobRecord, command: Command, now: float) -> tuple[JobEvent, ...]:
        events = decide(record, command, now=now)
        after = record
        for event in events:
            after = evolve(after, event)
        if after.state.is_terminal and not record.state.is_terminal and after.cancel_requested_at is None:
            events += self._retry_events(after, now)
        return events

    def _retry_events(self, record: JobRecord, now: float) -> tuple[JobEvent, ...]:
        policy = self._policies.pop(record.job_id, None) or self.store.created_event(record.job_id).retry
        if policy.max_attempts <= record.attempt:
            return ()
        decision = decide_retry(policy, record, jitter=0.0)
        if not decision.retry:
            return ()
        jitter = self.jitter(min(1.0, decision.delay * 0.1)) if decision.delay > 0 else 0.0
        delay = min(policy.backoff.maximum_seconds, decision.delay + jitter)
        return decide(record, ScheduleRetry(self.new_id(), delay), now=now)

    def _announce(self, before: JobRecord, events: Sequence[JobEvent], report: ReconcileReport) -> None:
        record = before
        for event in events:
            after = evolve(record, event)
            if after.state != record.state:
                transition = StatusTransition(
                    record.job_id, record.state, after.state, event.at, getattr(event, "reason", None)
                )
                report.transitions.append(transition)
                if self.event_bus is not None:
                    self.event_bus.emit_transition(transition, after)
            record = after

    # -- retries ------------------------------------------------------------------------
    def _create_due_retries(self, report: ReconcileReport) -> None:
        now = self.clock()
        for record in self.store.pending_retries(self.cluster_name):
            if record.retry_due_at is None or record.retry_due_at > now or record.next_attempt_job_id is None:
                continue
            try:
                created = self._next_attempt_in_own_dir(record, now)
            except MolqError as exc:
                report.errors.append(f"retry of {record.root_job_id} has no job directory: {exc}")
                continue
            new: JobRecord | None
            try:
                seed_resume_checkpoint(self.store, self.transport, record, created)
                new = create_and_submit(self.store, self.scheduler, created, clock=self.clock)
                # equivalent mutants: a cache of the logged policy, the log gives the same one
                self.remember_retry_policy(created.job_id, created.retry)  # pragma: no mutate
            except ConcurrencyConflict:
                self._release_dir(created)
                continue  # another process created this attempt first
            except MolqError as exc:
                report.errors.append(f"retry {created.job_id} of {record.root_job_id} failed to submit: {exc}")
                new = self.store.get_record(created.job_id)
            report.retries_created.append(created.job_id)
            if new is not None:
                self._announce_created(new, report)

    def _next_attempt_in_own_dir(self, record: JobRecord, now: float) -> JobCreated:
        """The next attempt, in a directory no other job has used.

        A named family's ``<name>.attemptN`` may be taken (by a job named so, or by a
        family that shares the name): the attempt then gets ``<name>.attemptN-<id>``.
        """
        previous = self.store.created_event(record.job_id)
        created = next_attempt(previous, record, now)
        if not _named_dir(created):
            return created  # named after its own fresh id: nobody else can hold it
        assert created.job_dir is not None  # noqa: S101 - checked by _named_dir
        if claim_job_dir(self.transport, created.job_dir):
            return created
        created = next_attempt(previous, record, now, unique=True)
        assert created.job_dir is not None  # noqa: S101 - as above
        if not claim_job_dir(self.transport, created.job_dir):
            msg = f"job directory {created.job_dir} already exists"
            raise ConfigError(msg)
        return created

    def _release_dir(self, created: JobCreated) -> None:
        """Remove the directory claimed for an attempt another process created first."""
        recorded = self.store.get_record(created.job_id)
        if recorded is not None and recorded.metadata.get("molq.job_dir") == created.job_dir:
            return  # the intent recorded is this one: the directory is in use
        if created.job_dir and _named_dir(created):
            try:
                self.transport.remove(created.job_dir, recursive=True)
            except MolqError as exc:
                log.warning("could not remove the unused job directory %s: %s", created.job_dir, exc)

    def _announce_created(self, record: JobRecord, report: ReconcileReport) -> None:
        for transition in self.store.transitions(record.job_id):
            report.transitions.append(transition)
            if self.event_bus is not None:
                self.event_bus.emit_transition(transition, record)


def _named_dir(created: JobCreated) -> bool:
    """Whether the attempt's directory is named after the family (not after its own id)."""
    return bool(created.job_dir) and created.job_dir.rsplit("/", 1)[-1] != created.job_id  # type: ignore[union-attr]


def next_attempt(previous: JobCreated, record: JobRecord, now: float, *, unique: bool = False) -> JobCreated:
    """The ``job.created`` event of the attempt after ``record``.

    A named family's attempt N runs in ``<name>.attemptN`` (``<name>.attemptN-<id>``
    with ``unique``, when that name is taken).
    """
    assert record.next_attempt_job_id is not None  # noqa: S101 - checked by the caller
    new_id = record.next_attempt_job_id
    attempt = record.attempt + 1
    job_dir = previous.job_dir
    metadata = dict(previous.spec.metadata)
    if job_dir is not None:
        parent = job_dir.rsplit("/", 1)[0]
        # equivalent mutants: other maxsplits/indexes give the same last path component
        base = job_dir.rsplit("/", 1)[-1].split(".attempt", 1)[0]  # pragma: no mutate
        job_dir = f"{parent}/{base}.attempt{attempt}" if base != record.job_id else f"{parent}/{new_id}"
        if unique and base != record.job_id:
            job_dir = f"{job_dir}-{new_id}"
        for key, name in (("molq.stdout_path", "stdout.log"), ("molq.stderr_path", "stderr.log")):
            if metadata.get(key) == f"{previous.job_dir}/{name}":
                metadata[key] = f"{job_dir}/{name}"
        metadata["molq.job_dir"] = job_dir
    spec = attrs.evolve(previous.spec, metadata=metadata)
    return msgspec.structs.replace(
        previous,
        job_id=new_id,
        at=now,
        attempt=attempt,
        previous_attempt_job_id=record.job_id,
        retry_group_id=record.root_job_id,
        spec=spec,
        job_dir=job_dir,
    )
