"""JobReconciler against a scripted scheduler: when a job changes state, is lost, retried or adopted.

The scheduler here answers from a dict the test sets; the store is a real SQLite store;
the clock is a number the test moves. Each test states what a user would see in
``molq status``/``history``: the state, the reason, the retry that was (or was not) made.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence

import attrs
import msgspec
import pytest

from molq.core import (
    ConcurrencyConflict,
    JobSpec,
    JobState,
    MarkLost,
    Observation,
    Observe,
    RecordSubmission,
    RequestCancel,
    RetryPolicy,
    SchedulerError,
    ScheduleRetry,
    TransportError,
    decide,
)
from molq.core._events import JobCheckpointSaved, JobCreated, JobSubmitted
from molq.core._policies import RetryBackoff
from molq.core._ports import Submission
from molq.shell._bus import EventBus, EventType
from molq.shell._reconcile import APPEND_CHUNK, JobReconciler, ReconcileReport, next_attempt
from molq.shell._submission import create_and_submit
from molq.shell.store._store import JobStore
from molq.shell.transport._local import LocalTransport


class ScriptedScheduler:
    """Answers status queries from ``states``; submits with increasing ids."""

    name = "scripted"

    def __init__(self) -> None:
        self.states: dict[str, Observation] = {}
        self.submitted: list[str] = []
        self.queries: list[list[str]] = []
        self.fail_with: SchedulerError | None = None
        self.adoptable: dict[str, str] = {}
        self.refuse_submit = False

    def prepare(self, spec: JobSpec, job_dir: str) -> Submission:
        return Submission(argv=("scripted-submit", *spec.argv), script="", script_path="")

    def submit(self, spec: JobSpec, job_dir: str) -> str:
        if self.refuse_submit:
            msg = "sbatch: error: invalid partition"
            raise SchedulerError(msg)
        sid = str(100 + len(self.submitted))
        self.submitted.append(sid)
        return sid

    def observe_many(
        self, scheduler_job_ids: Sequence[str], *, job_dirs: Mapping[str, str] | None = None
    ) -> dict[str, Observation]:
        self.queries.append(list(scheduler_job_ids))
        if self.fail_with is not None:
            raise self.fail_with
        return {sid: self.states[sid] for sid in scheduler_job_ids if sid in self.states}

    def cancel(self, scheduler_job_id: str, *, job_dir: str | None = None) -> None:
        self.states[scheduler_job_id] = Observation(JobState.CANCELLED)


class Clock:
    def __init__(self, now: float = 1000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def world(store: JobStore):
    scheduler = ScriptedScheduler()
    clock = Clock()
    ids = iter(f"retry{i}" for i in range(100))
    reconciler = JobReconciler(
        store, scheduler, "c", transport=LocalTransport(), clock=clock, new_id=lambda: next(ids),
        jitter=lambda upper: 0.0,
    )
    return store, scheduler, clock, reconciler


def submit(store: JobStore, scheduler: ScriptedScheduler, clock: Clock, job_id: str, *,
           retry: RetryPolicy | None = None) -> str:
    created = JobCreated(
        job_id=job_id, at=clock.now, cluster_name="c", scheduler="scripted", root_job_id=job_id,
        spec=JobSpec("argv", argv=("true",)), retry=retry or RetryPolicy(),
    )
    record = create_and_submit(store, scheduler, created, clock=clock)
    assert record.scheduler_job_id is not None
    return record.scheduler_job_id


def state(store: JobStore, job_id: str) -> JobState:
    record = store.get_record(job_id)
    assert record is not None
    return record.state


class TestObservations:
    def test_running_then_succeeded_with_exit_code(self, world):
        """What the scheduler reports becomes the job's state, and the exit code is kept."""
        store, scheduler, clock, reconciler = world
        sid = submit(store, scheduler, clock, "j")
        scheduler.states[sid] = Observation(JobState.RUNNING)
        report = reconciler.reconcile()
        assert state(store, "j") is JobState.RUNNING
        assert report.polled == 1
        assert [(t.old_state, t.new_state) for t in report.transitions] == [(JobState.SUBMITTED, JobState.RUNNING)]
        scheduler.states[sid] = Observation(JobState.SUCCEEDED, exit_code=0)
        clock.now += 5
        reconciler.reconcile()
        record = store.get_record("j")
        assert record.state is JobState.SUCCEEDED
        assert record.exit_code == 0

    def test_terminal_jobs_are_not_polled_again(self, world):
        """A finished job is not asked about in later passes."""
        store, scheduler, clock, reconciler = world
        sid = submit(store, scheduler, clock, "j")
        scheduler.states[sid] = Observation(JobState.SUCCEEDED, exit_code=0)
        reconciler.reconcile()
        scheduler.queries.clear()
        report = reconciler.reconcile()
        assert scheduler.queries == []
        assert report.polled == 0

    def test_only_the_named_jobs_are_polled(self, world):
        """reconcile(job_ids) asks only about those jobs."""
        store, scheduler, clock, reconciler = world
        a = submit(store, scheduler, clock, "a")
        submit(store, scheduler, clock, "b")
        report = reconciler.reconcile(["a"])
        assert scheduler.queries == [[a]]
        assert report.polled == 1

    def test_failed_status_query_changes_nothing_and_is_recorded(self, world):
        """A failing status command leaves every job as it was and logs one cluster failure."""
        store, scheduler, clock, reconciler = world
        submit(store, scheduler, clock, "j")
        scheduler.fail_with = SchedulerError("squeue: error: slurm_load_jobs error: Socket timed out")
        for _ in range(3):
            clock.now += 100
            report = reconciler.reconcile()
            assert state(store, "j") is JobState.SUBMITTED
        assert report.errors == [
            "scripted status query failed: squeue: error: slurm_load_jobs error: Socket timed out"
        ]
        failures = store.scheduler_failures("c")
        assert len(failures) == 3  # one a minute at most; passes were 100 s apart
        assert failures[0].operation == "status"
        assert failures[0].scheduler == "scripted"

    def test_repeated_failure_within_a_minute_is_recorded_once(self, world):
        """The same error again within a minute adds no second cluster event."""
        store, scheduler, clock, reconciler = world
        submit(store, scheduler, clock, "j")
        scheduler.fail_with = SchedulerError("squeue: timed out")
        reconciler.reconcile()
        clock.now += 10
        reconciler.reconcile()
        assert len(store.scheduler_failures("c")) == 1

    def test_more_jobs_than_one_chunk_are_all_updated(self, world):
        """A pass over more jobs than one write chunk updates every one of them."""
        store, scheduler, clock, reconciler = world
        count = APPEND_CHUNK + 3
        for i in range(count):
            sid = submit(store, scheduler, clock, f"j{i}")
            scheduler.states[sid] = Observation(JobState.RUNNING)
        report = reconciler.reconcile()
        assert len(report.transitions) == count
        assert {state(store, f"j{i}") for i in range(count)} == {JobState.RUNNING}


class TestLostThresholds:
    def _absent_passes(self, reconciler, clock, passes: int, step: float) -> None:
        for _ in range(passes):
            clock.now += step
            reconciler.reconcile()

    def test_lost_after_three_absences_spanning_a_minute(self, world):
        """Missing from the reply three times over >= 60 s: LOST, with the reason."""
        store, scheduler, clock, reconciler = world
        submit(store, scheduler, clock, "j")
        self._absent_passes(reconciler, clock, 2, 30)
        assert state(store, "j") is JobState.SUBMITTED
        self._absent_passes(reconciler, clock, 1, 30)
        record = store.get_record("j")
        assert record.state is JobState.LOST
        assert "missing from the status reply" in (record.failure_reason or "")

    def test_three_quick_absences_are_not_enough(self, world):
        """Three absences within less than a minute do not make the job LOST."""
        store, scheduler, clock, reconciler = world
        submit(store, scheduler, clock, "j")
        clock.now += 11  # past the submission grace
        self._absent_passes(reconciler, clock, 4, 5)
        assert state(store, "j") is JobState.SUBMITTED

    def test_thresholds_are_the_reconcilers_settings(self, store):
        """A reconciler built with other thresholds uses them."""
        scheduler, clock = ScriptedScheduler(), Clock()
        reconciler = JobReconciler(
            store, scheduler, "c", transport=LocalTransport(), clock=clock,
            absences_before_lost=1, seconds_before_lost=0.0,
        )
        submit(store, scheduler, clock, "j")
        clock.now += 11
        reconciler.reconcile()
        assert state(store, "j") is JobState.LOST

    def test_default_thresholds_are_three_and_sixty(self, store):
        """By default two absences over two minutes are not enough, three over a minute are."""
        scheduler, clock = ScriptedScheduler(), Clock()
        reconciler = JobReconciler(store, scheduler, "c", transport=LocalTransport(), clock=clock)
        submit(store, scheduler, clock, "j")
        for _ in range(2):
            clock.now += 60
            reconciler.reconcile()
        assert state(store, "j") is JobState.SUBMITTED
        clock.now += 1
        reconciler.reconcile()
        assert state(store, "j") is JobState.LOST

    def test_seen_again_resets_the_count(self, world):
        """A job that reappears is not LOST by absences before it reappeared."""
        store, scheduler, clock, reconciler = world
        sid = submit(store, scheduler, clock, "j")
        self._absent_passes(reconciler, clock, 2, 30)
        scheduler.states[sid] = Observation(JobState.RUNNING)
        self._absent_passes(reconciler, clock, 1, 30)
        del scheduler.states[sid]
        self._absent_passes(reconciler, clock, 2, 30)
        assert state(store, "j") is JobState.RUNNING


class TestInterruptedSubmissions:
    def _created_only(self, store: JobStore, clock: Clock, job_id: str) -> None:
        created = JobCreated(
            job_id=job_id, at=clock.now, cluster_name="c", scheduler="scripted", root_job_id=job_id,
            spec=JobSpec("argv", argv=("true",)),
        )
        store.append(job_id, [created], expected_version=0, now=clock.now)

    def test_within_the_grace_a_created_job_is_left_alone(self, world):
        """A job created moments ago may still be submitting: not touched."""
        store, _scheduler, clock, reconciler = world
        self._created_only(store, clock, "j")
        clock.now += 29
        reconciler.reconcile()
        assert state(store, "j") is JobState.CREATED

    def test_after_the_grace_without_adoption_it_is_lost(self, world):
        """After the grace (30 s), an unconfirmed submission is LOST with a reason."""
        store, _scheduler, clock, reconciler = world
        self._created_only(store, clock, "j")
        clock.now += 30
        report = reconciler.reconcile()
        record = store.get_record("j")
        assert record.state is JobState.LOST
        assert record.failure_reason == "submission interrupted: molq stopped before the scheduler confirmed the job"
        assert [t.new_state for t in report.transitions] == [JobState.LOST]

    def test_a_job_the_scheduler_has_is_adopted(self, world):
        """If the scheduler knows the job, it is adopted as submitted with that id."""
        store, scheduler, clock, reconciler = world
        scheduler.adopt = lambda job_dir, spec: "777"
        self._created_only(store, clock, "j")
        clock.now += 31
        reconciler.reconcile()
        record = store.get_record("j")
        assert record.state is JobState.SUBMITTED
        assert record.scheduler_job_id == "777"

    def test_failed_adoption_check_leaves_the_job(self, world):
        """If asking the scheduler fails, the job stays CREATED and the error is reported."""
        store, scheduler, clock, reconciler = world

        def adopt(job_dir, spec):
            msg = "squeue: timed out"
            raise SchedulerError(msg)

        scheduler.adopt = adopt
        self._created_only(store, clock, "j")
        clock.now += 31
        report = reconciler.reconcile()
        assert state(store, "j") is JobState.CREATED
        assert report.errors == ["adoption check for j failed: squeue: timed out"]


class TestRetries:
    POLICY = RetryPolicy(max_attempts=3, backoff=RetryBackoff(mode="fixed", initial_seconds=10.0))

    def _fail(self, scheduler, sid, exit_code=1):
        scheduler.states[sid] = Observation(JobState.FAILED, exit_code=exit_code)

    def test_failure_schedules_a_retry_that_is_created_when_due(self, world):
        """A failed job with attempts left gets a retry after the backoff, as a new attempt."""
        store, scheduler, clock, reconciler = world
        sid = submit(store, scheduler, clock, "j", retry=self.POLICY)
        self._fail(scheduler, sid)
        report = reconciler.reconcile()
        record = store.get_record("j")
        assert record.state is JobState.FAILED
        assert record.next_attempt_job_id == "retry0"
        assert record.retry_due_at == pytest.approx(clock.now + 10.0)
        assert report.retries_created == []
        clock.now += 9.5
        assert reconciler.reconcile().retries_created == []
        clock.now += 0.5
        report = reconciler.reconcile()
        assert report.retries_created == ["retry0"]
        retry = store.get_record("retry0")
        assert retry.state is JobState.SUBMITTED
        assert retry.attempt == 2
        assert retry.root_job_id == "j"
        assert retry.previous_attempt_job_id == "j"
        assert [t.new_state for t in report.transitions] == [JobState.CREATED, JobState.SUBMITTED]

    def test_no_retry_when_the_attempts_are_used_up(self, world):
        """The last allowed attempt failing makes no further retry."""
        store, scheduler, clock, reconciler = world
        policy = RetryPolicy(max_attempts=2, backoff=RetryBackoff(mode="fixed", initial_seconds=0.0))
        sid = submit(store, scheduler, clock, "j", retry=policy)
        self._fail(scheduler, sid)
        reconciler.reconcile()
        retry_sid = store.get_record("retry0").scheduler_job_id
        self._fail(scheduler, retry_sid)
        clock.now += 1
        reconciler.reconcile()
        last = store.get_record("retry0")
        assert last.state is JobState.FAILED
        assert last.next_attempt_job_id is None
        assert store.get_record("retry1") is None

    def test_success_makes_no_retry(self, world):
        """A succeeded job is not retried."""
        store, scheduler, clock, reconciler = world
        sid = submit(store, scheduler, clock, "j", retry=self.POLICY)
        scheduler.states[sid] = Observation(JobState.SUCCEEDED, exit_code=0)
        reconciler.reconcile()
        assert store.get_record("j").next_attempt_job_id is None

    def test_exit_code_not_in_the_policy_makes_no_retry(self, world):
        """A failure with an exit code the policy does not retry on ends the family."""
        store, scheduler, clock, reconciler = world
        policy = RetryPolicy(max_attempts=3, retry_on_exit_codes=(75,))
        sid = submit(store, scheduler, clock, "j", retry=policy)
        self._fail(scheduler, sid, exit_code=1)
        reconciler.reconcile()
        assert store.get_record("j").next_attempt_job_id is None

    def test_remembered_policy_is_used_without_reading_the_log(self, world):
        """A policy noted with remember_retry_policy decides the retry."""
        store, scheduler, clock, reconciler = world
        sid = submit(store, scheduler, clock, "j")  # logged policy: one attempt
        reconciler.remember_retry_policy("j", self.POLICY)
        self._fail(scheduler, sid)
        reconciler.reconcile()
        assert store.get_record("j").next_attempt_job_id == "retry0"

    def test_backoff_delay_is_capped_by_the_maximum(self, world):
        """Jitter never pushes a retry past the policy's maximum wait."""
        store, scheduler, clock, _ = world
        reconciler = JobReconciler(
            store, scheduler, "c", transport=LocalTransport(), clock=clock, new_id=lambda: "r",
            jitter=lambda upper: upper,
        )
        policy = RetryPolicy(
            max_attempts=2, backoff=RetryBackoff(mode="fixed", initial_seconds=10.0, maximum_seconds=10.0)
        )
        sid = submit(store, scheduler, clock, "j", retry=policy)
        self._fail(scheduler, sid)
        reconciler.reconcile()
        assert store.get_record("j").retry_due_at == pytest.approx(clock.now + 10.0)

    def test_jitter_is_at_most_a_tenth_of_the_delay_and_one_second(self, world):
        """The random part of a wait is bounded: min(1 s, 10 % of the delay)."""
        store, scheduler, clock, _ = world
        uppers: list[float] = []

        def jitter(upper: float) -> float:
            uppers.append(upper)
            return upper

        reconciler = JobReconciler(
            store, scheduler, "c", transport=LocalTransport(), clock=clock, new_id=lambda: "r", jitter=jitter
        )
        policy = RetryPolicy(max_attempts=2, backoff=RetryBackoff(mode="fixed", initial_seconds=5.0))
        sid = submit(store, scheduler, clock, "j", retry=policy)
        self._fail(scheduler, sid)
        reconciler.reconcile()
        assert uppers == [pytest.approx(0.5)]
        assert store.get_record("j").retry_due_at == pytest.approx(clock.now + 5.5)

    def test_refused_retry_submission_is_reported_and_recorded(self, world):
        """A retry the scheduler refuses is still created, failed to submit, with the error reported."""
        store, scheduler, clock, reconciler = world
        policy = RetryPolicy(max_attempts=2, backoff=RetryBackoff(mode="fixed", initial_seconds=0.0))
        sid = submit(store, scheduler, clock, "j", retry=policy)
        self._fail(scheduler, sid)
        scheduler.refuse_submit = True
        report = reconciler.reconcile()
        assert report.retries_created == ["retry0"]
        assert report.errors == ["retry retry0 of j failed to submit: sbatch: error: invalid partition"]
        assert store.get_record("retry0").state is JobState.FAILED


class TestNextAttempt:
    def _created(self, job_dir: str | None) -> JobCreated:
        metadata = {}
        if job_dir is not None:
            metadata = {
                "molq.job_dir": job_dir,
                "molq.stdout_path": f"{job_dir}/stdout.log",
                "molq.stderr_path": "/elsewhere/err.log",
            }
        return JobCreated(
            job_id="j", at=1.0, cluster_name="c", scheduler="scripted", root_job_id="j",
            spec=JobSpec("argv", argv=("true",), metadata=metadata), job_dir=job_dir,
        )

    def _failed_record(self, store: JobStore, created: JobCreated, next_id: str, attempt: int = 1):
        from molq.core import RecordSubmission, ScheduleRetry, decide
        from molq.core._commands import Observe

        store.append(created.job_id, [created], expected_version=0, now=1.0)
        for command in (
            RecordSubmission("1"), Observe(Observation(JobState.FAILED, exit_code=1)), ScheduleRetry(next_id, 5.0)
        ):
            record = store.get_record(created.job_id)
            store.append(created.job_id, decide(record, command, now=2.0), expected_version=record.version, now=2.0)
        return store.get_record(created.job_id)

    def test_first_retry_dir_is_named_after_the_new_job(self, store):
        """The first attempt's dir is named after its job; the retry gets a sibling dir named after the new id."""
        created = self._created("/w/.molq/jobs/j")
        record = self._failed_record(store, created, "k")
        new = next_attempt(created, record, now=50.0)
        assert new.job_id == "k"
        assert new.attempt == 2
        assert new.at == 50.0
        assert new.previous_attempt_job_id == "j"
        assert new.retry_group_id == "j"
        assert new.job_dir == "/w/.molq/jobs/k"
        assert new.spec.metadata["molq.job_dir"] == "/w/.molq/jobs/k"
        assert new.spec.metadata["molq.stdout_path"] == "/w/.molq/jobs/k/stdout.log"
        assert new.spec.metadata["molq.stderr_path"] == "/elsewhere/err.log"  # chosen by the user: kept

    def test_named_dir_gets_an_attempt_suffix(self, store):
        """A dir not named after the job (a user's name) gets '.attemptN' instead."""
        created = self._created("/w/runs/mysim")
        record = self._failed_record(store, created, "k")
        assert next_attempt(created, record, now=50.0).job_dir == "/w/runs/mysim.attempt2"

    def test_default_log_paths_follow_the_new_dir(self, store):
        """stdout/stderr in the old attempt's dir move to the new one."""
        created = self._created("/w/.molq/jobs/j")
        created = msgspec.structs.replace(created, spec=attrs.evolve(created.spec, metadata={
            **created.spec.metadata, "molq.stderr_path": "/w/.molq/jobs/j/stderr.log",
        }))
        record = self._failed_record(store, created, "k")
        new = next_attempt(created, record, now=5.0)
        assert new.spec.metadata["molq.stderr_path"] == "/w/.molq/jobs/k/stderr.log"
        assert new.spec.metadata["molq.stdout_path"] == "/w/.molq/jobs/k/stdout.log"

    def test_without_a_dir_nothing_is_invented(self, store):
        """A job without a job dir gives a retry without one."""
        created = self._created(None)
        record = self._failed_record(store, created, "k")
        new = next_attempt(created, record, now=50.0)
        assert new.job_dir is None
        assert "molq.job_dir" not in new.spec.metadata


class TestMoreObservations:
    def test_status_query_gets_each_jobs_dir(self, world):
        """The scheduler is asked with each job's directory (local jobs are found by it)."""
        store, scheduler, clock, reconciler = world
        seen: list[dict[str, str]] = []
        original = scheduler.observe_many

        def observe_many(ids, *, job_dirs=None):
            seen.append(dict(job_dirs or {}))
            return original(ids, job_dirs=job_dirs)

        scheduler.observe_many = observe_many
        created = JobCreated(
            job_id="j", at=clock.now, cluster_name="c", scheduler="scripted", root_job_id="j",
            spec=JobSpec("argv", argv=("true",), metadata={"molq.job_dir": "/w/j"}),
        )
        sid = create_and_submit(store, scheduler, created, clock=clock).scheduler_job_id
        other = submit(store, scheduler, clock, "k")
        reconciler.reconcile()
        assert seen == [{sid: "/w/j", other: ""}]

    def test_jobs_of_other_clusters_are_not_polled(self, world):
        """A pass polls only its own cluster's jobs."""
        store, scheduler, clock, reconciler = world
        created = JobCreated(
            job_id="x", at=clock.now, cluster_name="other", scheduler="scripted", root_job_id="x",
            spec=JobSpec("argv", argv=("true",)),
        )
        create_and_submit(store, scheduler, created, clock=clock)
        assert reconciler.reconcile().polled == 0
        assert scheduler.queries == []

    def test_lost_reason_is_exact(self, world):
        """A job missing from the reply is LOST 'missing from the status reply'."""
        store, scheduler, clock, reconciler = world
        submit(store, scheduler, clock, "j")
        for _ in range(3):
            clock.now += 30
            reconciler.reconcile()
        assert "missing from the status reply" in store.get_record("j").failure_reason
        assert "XX" not in store.get_record("j").failure_reason

    def test_failure_event_keeps_the_commands_details(self, world):
        """The cluster failure event keeps the argv, return code and (cut) stderr of the failed command."""
        store, scheduler, clock, reconciler = world
        submit(store, scheduler, clock, "j")
        scheduler.fail_with = SchedulerError(
            "squeue failed", argv=("squeue", "-j", "100"), returncode=1, stderr="x" * 3000
        )
        reconciler.reconcile()
        failure = store.scheduler_failures("c")[0]
        assert failure.error == "squeue failed"
        assert failure.argv == ("squeue", "-j", "100")
        assert failure.returncode == 1
        assert failure.stderr == "x" * 2000
        assert failure.at == clock.now

    def test_a_transport_failure_is_recorded_without_command_details(self, world):
        """A transport error (no argv, code or stderr) is recorded with empty details."""
        store, scheduler, clock, reconciler = world
        submit(store, scheduler, clock, "j")
        scheduler.fail_with = TransportError("ssh: connection refused")
        reconciler.reconcile()
        failure = store.scheduler_failures("c")[0]
        assert (failure.error, failure.argv, failure.returncode, failure.stderr) == (
            "ssh: connection refused", (), None, ""
        )

    def test_a_different_error_is_recorded_at_once(self, world):
        """A new error within the minute is recorded (only the same error is throttled)."""
        store, scheduler, clock, reconciler = world
        submit(store, scheduler, clock, "j")
        scheduler.fail_with = SchedulerError("first")
        reconciler.reconcile()
        scheduler.fail_with = SchedulerError("second")
        clock.now += 1
        reconciler.reconcile()
        assert [f.error for f in store.scheduler_failures("c")] == ["second", "first"]

    def test_subscribers_hear_each_transition(self, world):
        """An event bus gets STATUS_CHANGE and the state's own event with the job and its record."""
        store, scheduler, clock, _ = world
        bus = EventBus()
        heard: list[tuple[str, str, JobState, JobState]] = []
        for kind in (EventType.STATUS_CHANGE, EventType.JOB_FAILED):
            bus.on(kind, lambda p: heard.append((p.event.value, p.job_id, p.transition.new_state, p.record.state)))
        reconciler = JobReconciler(store, scheduler, "c", transport=LocalTransport(), clock=clock, event_bus=bus)
        sid = submit(store, scheduler, clock, "j")
        scheduler.states[sid] = Observation(JobState.FAILED, exit_code=2, reason="segfault")
        report = reconciler.reconcile()
        assert heard == [
            ("status_change", "j", JobState.FAILED, JobState.FAILED),
            ("job_failed", "j", JobState.FAILED, JobState.FAILED),
        ]
        (transition,) = report.transitions
        assert transition.job_id == "j"
        assert transition.timestamp == clock.now
        assert "segfault" in (transition.reason or "")

    def test_retry_creation_is_announced(self, world):
        """A retry's creation and submission reach the event bus too."""
        store, scheduler, clock, _ = world
        bus = EventBus()
        heard: list[tuple[str, JobState, str]] = []
        bus.on(EventType.STATUS_CHANGE, lambda p: heard.append((p.job_id, p.transition.new_state, p.record.job_id)))
        reconciler = JobReconciler(
            store, scheduler, "c", transport=LocalTransport(), clock=clock, event_bus=bus, new_id=lambda: "r"
        )
        policy = RetryPolicy(max_attempts=2, backoff=RetryBackoff(mode="fixed", initial_seconds=0.0))
        sid = submit(store, scheduler, clock, "j", retry=policy)
        scheduler.states[sid] = Observation(JobState.FAILED, exit_code=1)
        reconciler.reconcile()
        assert heard == [("j", JobState.FAILED, "j"), ("r", JobState.CREATED, "r"), ("r", JobState.SUBMITTED, "r")]
        assert store.get_record("r").scheduler_job_id is not None


class TestConflicts:
    def test_a_write_by_another_process_during_the_pass_is_merged(self, world):
        """If another process writes to a job during the pass, every job still gets its new state."""
        store, scheduler, clock, reconciler = world
        a = submit(store, scheduler, clock, "a")
        b = submit(store, scheduler, clock, "b")
        original = scheduler.observe_many

        def observe_many(ids, *, job_dirs=None):
            record = store.get_record("a")  # another process records the start meanwhile
            events = decide(record, Observe(Observation(JobState.RUNNING)), now=clock.now)
            store.append("a", events, expected_version=record.version, now=clock.now)
            return original(ids, job_dirs=job_dirs)

        scheduler.observe_many = observe_many
        scheduler.states[a] = Observation(JobState.SUCCEEDED, exit_code=0)
        scheduler.states[b] = Observation(JobState.RUNNING)
        report = reconciler.reconcile()
        assert state(store, "a") is JobState.SUCCEEDED
        assert state(store, "b") is JobState.RUNNING
        assert {(t.job_id, t.new_state) for t in report.transitions} == {
            ("a", JobState.SUCCEEDED), ("b", JobState.RUNNING),
        }

    def test_apply_on_a_stale_record_rereads_it(self, world):
        """apply() with an out-of-date record decides again on the fresh one."""
        store, scheduler, clock, reconciler = world
        submit(store, scheduler, clock, "j")
        stale = store.get_record("j")
        fresh_events = decide(stale, Observe(Observation(JobState.RUNNING)), now=clock.now)
        store.append("j", fresh_events, expected_version=stale.version, now=clock.now)
        report = ReconcileReport()
        reconciler.apply(stale, MarkLost("operator said so"), report)
        record = store.get_record("j")
        assert record.state is JobState.LOST
        assert record.failure_reason == "operator said so"
        assert [(t.old_state, t.new_state) for t in report.transitions] == [(JobState.RUNNING, JobState.LOST)]

    def test_endless_conflicts_are_left_for_the_next_pass(self, world, monkeypatch):
        """A job that conflicts on every write is tried five times, then skipped with an error in the report."""
        store, scheduler, clock, reconciler = world
        submit(store, scheduler, clock, "j")
        tries: list[int] = []

        def conflicting(*args, **kwargs):
            tries.append(1)
            raise ConcurrencyConflict("j", 2)

        monkeypatch.setattr(store, "append", conflicting)
        report = ReconcileReport()
        reconciler.apply(store.get_record("j"), MarkLost("x"), report)
        assert len(tries) == 5
        assert report.errors == ["j changed under every attempt to record it; left to the next pass"]
        assert store.get_record("j").state is not JobState.LOST


class TestMoreRetries:
    def _failed_with(self, world, delay: float, jitter):
        store, scheduler, clock, _ = world
        reconciler = JobReconciler(
            store, scheduler, "c", transport=LocalTransport(), clock=clock, new_id=lambda: "r", jitter=jitter
        )
        policy = RetryPolicy(
            max_attempts=2, backoff=RetryBackoff(mode="fixed", initial_seconds=delay, maximum_seconds=100.0)
        )
        sid = submit(store, scheduler, clock, "j", retry=policy)
        scheduler.states[sid] = Observation(JobState.FAILED, exit_code=1)
        reconciler.reconcile()
        return store.get_record("j").retry_due_at - clock.now

    def test_jitter_is_at_most_one_second(self, world):
        """For a long wait the random part is at most one second."""
        assert self._failed_with(world, 15.0, lambda upper: upper) == pytest.approx(16.0)

    def test_short_waits_get_a_small_jitter_too(self, world):
        """A wait under a second still gets up to 10 % of it."""
        assert self._failed_with(world, 0.5, lambda upper: upper) == pytest.approx(0.55)

    def test_default_jitter_stays_within_its_bound(self, store):
        """Without an injected jitter, the random part is between 0 and its bound."""
        reconciler = JobReconciler(store, ScriptedScheduler(), "c", transport=LocalTransport())
        draws = [reconciler.jitter(0.5) for _ in range(200)]
        assert all(0.0 <= d <= 0.5 for d in draws)
        assert len(set(draws)) > 1

    def test_a_retry_due_later_does_not_hold_back_one_due_now(self, world):
        """Retries are created per job: one not yet due does not delay another that is."""
        store, scheduler, clock, _ = world
        ids = iter(["ra", "rb"])
        reconciler = JobReconciler(
            store, scheduler, "c", transport=LocalTransport(), clock=clock, new_id=lambda: next(ids),
            jitter=lambda upper: 0.0,
        )
        slow = RetryPolicy(max_attempts=2, backoff=RetryBackoff(mode="fixed", initial_seconds=100.0))
        fast = RetryPolicy(max_attempts=2, backoff=RetryBackoff(mode="fixed", initial_seconds=0.0))
        a = submit(store, scheduler, clock, "a", retry=slow)
        b = submit(store, scheduler, clock, "b", retry=fast)
        scheduler.states[a] = Observation(JobState.FAILED, exit_code=1)
        scheduler.states[b] = Observation(JobState.FAILED, exit_code=1)
        report = reconciler.reconcile()
        assert report.retries_created == ["rb"]
        assert store.get_record("ra") is None

    def test_refused_retry_is_announced_as_failed(self, world):
        """A retry the scheduler refuses shows up as created then failed in the pass's transitions."""
        store, scheduler, clock, reconciler = world
        policy = RetryPolicy(max_attempts=2, backoff=RetryBackoff(mode="fixed", initial_seconds=0.0))
        sid = submit(store, scheduler, clock, "j", retry=policy)
        scheduler.states[sid] = Observation(JobState.FAILED, exit_code=1)
        scheduler.refuse_submit = True
        report = reconciler.reconcile()
        assert [(t.job_id, t.new_state) for t in report.transitions][-2:] == [
            ("retry0", JobState.CREATED), ("retry0", JobState.FAILED),
        ]

    def test_a_cancelled_job_is_not_retried(self, world):
        """A job the user cancelled is not retried, even if the policy retries cancellations."""
        store, scheduler, clock, reconciler = world
        policy = RetryPolicy(max_attempts=3, retry_on_states=(JobState.CANCELLED, JobState.FAILED))
        sid = submit(store, scheduler, clock, "j", retry=policy)
        record = store.get_record("j")
        store.append("j", decide(record, RequestCancel(), now=clock.now), expected_version=record.version,
                     now=clock.now)
        scheduler.states[sid] = Observation(JobState.FAILED, exit_code=1)
        reconciler.reconcile()
        assert store.get_record("j").next_attempt_job_id is None

    def test_the_retry_resumes_from_the_last_checkpoint(self, world, tmp_path):
        """A retry's dir gets the family's last checkpoint as resume_checkpoint.json."""
        store, scheduler, clock, reconciler = world
        job_dir = tmp_path / "jobs" / "j"
        created = JobCreated(
            job_id="j", at=clock.now, cluster_name="c", scheduler="scripted", root_job_id="j",
            spec=JobSpec("argv", argv=("true",), metadata={"molq.job_dir": str(job_dir)}),
            retry=RetryPolicy(max_attempts=2, backoff=RetryBackoff(mode="fixed", initial_seconds=0.0)),
            job_dir=str(job_dir),
        )
        sid = create_and_submit(store, scheduler, created, clock=clock).scheduler_job_id
        record = store.get_record("j")
        saved = JobCheckpointSaved(job_id="j", at=clock.now, seq=3, data='{"step": 9}')
        store.append("j", [saved], expected_version=record.version, now=clock.now)
        scheduler.states[sid] = Observation(JobState.FAILED, exit_code=1)
        reconciler.reconcile()
        resume = tmp_path / "jobs" / "retry0" / "resume_checkpoint.json"
        assert json.loads(resume.read_text()) == {"seq": 3, "data": {"step": 9}}


class TestMoreInterruptedSubmissions:
    def _created_only(self, store, clock, job_id: str, job_dir: str = "") -> None:
        metadata = {"molq.job_dir": job_dir} if job_dir else {}
        created = JobCreated(
            job_id=job_id, at=clock.now, cluster_name="c", scheduler="scripted", root_job_id=job_id,
            spec=JobSpec("argv", argv=(job_id,), metadata=metadata),
        )
        store.append(job_id, [created], expected_version=0, now=clock.now)

    def test_each_created_job_is_judged_on_its_own(self, world):
        """A recent job within the grace does not keep an older one from being repaired."""
        store, _scheduler, clock, reconciler = world
        self._created_only(store, clock, "old")
        clock.now += 40
        self._created_only(store, clock, "new")
        reconciler.reconcile()
        assert state(store, "old") is JobState.LOST
        assert state(store, "new") is JobState.CREATED

    def test_adoption_is_asked_with_the_jobs_dir_and_spec(self, world):
        """The scheduler is asked about the job's own dir and spec; the adoption is marked in its history."""
        store, scheduler, clock, reconciler = world
        asked: list[tuple[str, tuple[str, ...]]] = []

        def adopt(job_dir, spec):
            asked.append((job_dir, spec.argv))
            return "555" if job_dir else None

        scheduler.adopt = adopt
        self._created_only(store, clock, "a", job_dir="/w/a")
        self._created_only(store, clock, "b")
        clock.now += 31
        reconciler.reconcile()
        assert sorted(asked) == [("", ("b",)), ("/w/a", ("a",))]
        adopted = store.get_record("a")
        assert adopted.scheduler_job_id == "555"
        submitted = [r.event for r in store.read_stream("a") if isinstance(r.event, JobSubmitted)]
        assert [(e.adopted, e.command) for e in submitted] == [(True, "(adopted after an interrupted submission)")]
        assert state(store, "b") is JobState.LOST

    def test_one_failed_adoption_check_does_not_stop_the_others(self, world):
        """If asking about one job fails, the others are still repaired."""
        store, scheduler, clock, reconciler = world

        def adopt(job_dir, spec):
            if spec.argv == ("bad",):
                msg = "timed out"
                raise SchedulerError(msg)

        scheduler.adopt = adopt
        self._created_only(store, clock, "good")
        clock.now += 1
        self._created_only(store, clock, "bad")
        clock.now += 40
        report = reconciler.reconcile()
        assert state(store, "bad") is JobState.CREATED
        assert state(store, "good") is JobState.LOST
        assert len(report.errors) == 1


class TestDurations:
    def test_a_job_past_its_max_duration_is_cancelled_and_timed_out(self, world):
        """A full pass cancels a running job past its max_duration and records TIMED_OUT."""
        store, scheduler, clock, reconciler = world
        created = JobCreated(
            job_id="j", at=clock.now, cluster_name="c", scheduler="scripted", root_job_id="j",
            spec=JobSpec("argv", argv=("sleep", "1000"), max_duration="60s"),
        )
        sid = create_and_submit(store, scheduler, created, clock=clock).scheduler_job_id
        scheduler.states[sid] = Observation(JobState.RUNNING)
        reconciler.reconcile()
        clock.now += 61
        reconciler.reconcile(["j"])  # a pass over named jobs does not enforce durations
        assert state(store, "j") is JobState.RUNNING
        reconciler.reconcile()
        record = store.get_record("j")
        assert record.state is JobState.TIMED_OUT
        assert scheduler.states[sid].state is JobState.CANCELLED


class TestContextHarvest:
    def test_log_lines_the_job_wrote_are_recorded(self, world, tmp_path):
        """Lines a running job appends to molq_log.jsonl are recorded in its history."""
        store, scheduler, clock, reconciler = world
        job_dir = tmp_path / "j"
        job_dir.mkdir()
        created = JobCreated(
            job_id="j", at=clock.now, cluster_name="c", scheduler="scripted", root_job_id="j",
            spec=JobSpec("argv", argv=("true",), metadata={"molq.job_dir": str(job_dir)}), job_dir=str(job_dir),
        )
        sid = create_and_submit(store, scheduler, created, clock=clock).scheduler_job_id
        (job_dir / "molq_log.jsonl").write_text('{"message": "step 1"}\n')
        scheduler.states[sid] = Observation(JobState.RUNNING)
        reconciler.reconcile()
        assert store.get_record("j").log_lines == 1


def test_retry_of_a_retry_counts_attempts_in_the_dir_name(store):
    """The third attempt of a named dir is '.attempt3', not '.attempt2.attempt3'."""
    second = JobCreated(
        job_id="k", at=1.0, cluster_name="c", scheduler="scripted", root_job_id="j", attempt=2,
        spec=JobSpec("argv", argv=("true",), metadata={"molq.job_dir": "/w/runs/sim.attempt2"}),
        job_dir="/w/runs/sim.attempt2",
    )
    store.append("k", [second], expected_version=0, now=1.0)
    for command in (
        RecordSubmission("1"), Observe(Observation(JobState.FAILED, exit_code=1)), ScheduleRetry("m", 5.0)
    ):
        record = store.get_record("k")
        store.append("k", decide(record, command, now=2.0), expected_version=record.version, now=2.0)
    third = next_attempt(second, store.get_record("k"), now=9.0)
    assert third.job_dir == "/w/runs/sim.attempt3"
    assert third.attempt == 3
    assert third.retry_group_id == "j"


class DroppingScheduler(ScriptedScheduler):
    """Drops the first ``drops`` cancels, as OpenLava 4.0 drops a KILL sent while it starts a job."""

    def __init__(self, drops: int) -> None:
        super().__init__()
        self.drops = drops
        self.cancels: list[str] = []

    def cancel(self, scheduler_job_id: str, *, job_dir: str | None = None) -> None:
        self.cancels.append(scheduler_job_id)
        if self.drops:
            self.drops -= 1
            return
        super().cancel(scheduler_job_id, job_dir=job_dir)


class TestUnheededCancels:
    """A cancel the scheduler did not act on is sent again, at a pace that spares the scheduler."""

    def _world(self, store: JobStore, drops: int):
        scheduler = DroppingScheduler(drops)
        clock = Clock()
        reconciler = JobReconciler(store, scheduler, "c", transport=LocalTransport(), clock=clock)
        sid = submit(store, scheduler, clock, "j")
        scheduler.states[sid] = Observation(JobState.RUNNING)
        reconciler.reconcile()
        record = store.get_record("j")
        store.append("j", decide(record, RequestCancel(), now=clock.now), expected_version=record.version,
                     now=clock.now)
        scheduler.cancel(sid)  # the user's cancel, which the scheduler drops
        return scheduler, clock, reconciler, sid

    def test_a_dropped_cancel_is_sent_again_and_the_job_ends_cancelled(self, store):
        scheduler, clock, reconciler, sid = self._world(store, drops=1)
        clock.now += 9.9
        assert reconciler.reconcile().cancels_resent == []  # too soon: the scheduler may be acting on it
        assert state(store, "j") is JobState.RUNNING
        clock.now += 0.1
        assert reconciler.reconcile().cancels_resent == ["j"]
        assert scheduler.cancels == [sid, sid]
        clock.now += 1
        reconciler.reconcile()
        assert state(store, "j") is JobState.CANCELLED

    def test_resends_are_spaced_and_stop_when_the_job_ends(self, store):
        scheduler, clock, reconciler, sid = self._world(store, drops=3)
        sent = []
        for _ in range(12):  # two minutes of passes every 10 s
            clock.now += 10
            sent.append(len(reconciler.reconcile().cancels_resent))
        # first resend 10 s after the request, then every 30 s; the third resend is heeded
        assert sent[:8] == [1, 0, 0, 1, 0, 0, 1, 0]
        assert state(store, "j") is JobState.CANCELLED
        assert scheduler.cancels == [sid] * 4

    def test_a_job_without_a_cancel_request_is_never_cancelled(self, store):
        scheduler = DroppingScheduler(0)
        clock = Clock()
        reconciler = JobReconciler(store, scheduler, "c", transport=LocalTransport(), clock=clock)
        sid = submit(store, scheduler, clock, "j")
        scheduler.states[sid] = Observation(JobState.RUNNING)
        for _ in range(5):
            clock.now += 60
            reconciler.reconcile()
        assert scheduler.cancels == []
        assert state(store, "j") is JobState.RUNNING

    def test_a_failed_resend_is_reported_and_tried_again(self, store):
        scheduler, clock, reconciler, sid = self._world(store, drops=0)
        scheduler.states[sid] = Observation(JobState.RUNNING)  # the first cancel was lost on the way

        def refuse(scheduler_job_id: str, *, job_dir: str | None = None) -> None:
            scheduler.cancels.append(scheduler_job_id)
            raise SchedulerError("bkill: Failed in an LSF library call: Slave LIM configuration is not ready yet")

        scheduler.cancel = refuse
        clock.now += 10
        report = reconciler.reconcile()
        assert report.cancels_resent == []
        assert report.errors == [
            "cancel of j sent again: bkill: Failed in an LSF library call: Slave LIM configuration is not ready yet"
        ]
        clock.now += 30
        reconciler.reconcile()
        assert scheduler.cancels == [sid, sid, sid]
        assert state(store, "j") is JobState.RUNNING
