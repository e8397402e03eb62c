"""JobReconciler against a scripted scheduler: when a job changes state, is lost, retried or adopted.

The scheduler here answers from a dict the test sets; the store is a real SQLite store;
the clock is a number the test moves. Each test states what a user would see in
``molq status``/``history``: the state, the reason, the retry that was (or was not) made.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import pytest

from molq.core import JobSpec, JobState, Observation, RetryPolicy, SchedulerError
from molq.core._events import JobCreated
from molq.core._ports import Submission
from molq.core._spec import RetryBackoff
from molq.shell._local import LocalTransport
from molq.shell._reconcile import APPEND_CHUNK, JobReconciler, next_attempt
from molq.shell._store import JobStore
from molq.shell._submission import create_and_submit


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
        assert "submission interrupted" in (record.failure_reason or "")
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

    def test_without_a_dir_nothing_is_invented(self, store):
        """A job without a job dir gives a retry without one."""
        created = self._created(None)
        record = self._failed_record(store, created, "k")
        new = next_attempt(created, record, now=50.0)
        assert new.job_dir is None
        assert "molq.job_dir" not in new.spec.metadata
