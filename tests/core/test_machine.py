"""The job state machine: TRANSITIONS, decide and evolve, via given/when/then."""

from __future__ import annotations

import attrs
import pytest

from molq.core import (
    TRANSITIONS,
    ArchiveJob,
    Command,
    CorruptLogError,
    InvalidTransition,
    JobEvent,
    JobRecord,
    JobSpec,
    JobState,
    MarkCleaned,
    MarkLost,
    Observation,
    Observe,
    RecordDependency,
    RecordSubmission,
    RecordSubmitFailure,
    RequestCancel,
    ScheduleRetry,
    decide,
    event_tag,
    evolve,
    fold_job,
)
from molq.core._events import (
    JobArchived,
    JobCancelled,
    JobCancelRequested,
    JobCleaned,
    JobCreated,
    JobDependencyRecorded,
    JobFailed,
    JobLost,
    JobQueued,
    JobRetryScheduled,
    JobSeenAgain,
    JobStarted,
    JobSubmitFailed,
    JobSubmitted,
    JobSucceeded,
    JobTimedOut,
    JobUnseen,
)


S = JobState
JOB = "j1"
NOW = 1000.0

# -- given / when / then ----------------------------------------------------------------


@attrs.frozen
class Outcome:
    """What a command produced and the record after applying it."""

    events: tuple[JobEvent, ...]
    record: JobRecord


@attrs.frozen
class When:
    record: JobRecord | None
    command: Command
    now: float

    def then(self, *expected: type | JobEvent) -> Outcome:
        """Assert the events (by type, or by equality for instances); apply them."""
        events = decide(self.record, self.command, now=self.now)
        assert len(events) == len(expected), events
        for event, want in zip(events, expected, strict=True):
            if isinstance(want, type):
                assert type(event) is want, (event, want)
            else:
                assert event == want
        record = self.record
        for event in events:
            record = evolve(record, event)
        assert record is not None
        return Outcome(events, record)

    def raises(self, exc: type[Exception] = InvalidTransition) -> None:
        """Assert the command is rejected."""
        with pytest.raises(exc):
            decide(self.record, self.command, now=self.now)


@attrs.frozen
class Given:
    events: tuple[JobEvent, ...]

    @property
    def record(self) -> JobRecord | None:
        return fold_job(self.events)

    def when(self, command: Command, *, now: float = NOW) -> When:
        return When(self.record, command, now)


def given(*events: JobEvent) -> Given:
    return Given(events)


# -- histories -------------------------------------------------------------------------------

CREATED = JobCreated(
    job_id=JOB,
    at=1.0,
    cluster_name="c",
    scheduler="slurm",
    root_job_id=JOB,
    spec=JobSpec("argv", argv=("true",)),
)
SUBMITTED = JobSubmitted(job_id=JOB, at=2.0, scheduler_job_id="42")
QUEUED = JobQueued(job_id=JOB, at=3.0, raw_state="PENDING")
STARTED = JobStarted(job_id=JOB, at=4.0, raw_state="RUNNING")
HISTORY: dict[JobState, tuple[JobEvent, ...]] = {
    S.CREATED: (CREATED,),
    S.SUBMITTED: (CREATED, SUBMITTED),
    S.QUEUED: (CREATED, SUBMITTED, QUEUED),
    S.RUNNING: (CREATED, SUBMITTED, QUEUED, STARTED),
    S.SUCCEEDED: (CREATED, SUBMITTED, STARTED, JobSucceeded(job_id=JOB, at=5.0, exit_code=0)),
    S.FAILED: (CREATED, SUBMITTED, STARTED, JobFailed(job_id=JOB, at=5.0, exit_code=1)),
    S.CANCELLED: (CREATED, SUBMITTED, JobCancelled(job_id=JOB, at=5.0)),
    S.TIMED_OUT: (CREATED, SUBMITTED, STARTED, JobTimedOut(job_id=JOB, at=5.0)),
    S.LOST: (CREATED, SUBMITTED, JobLost(job_id=JOB, at=5.0, reason="gone")),
}
ACTIVE = [S.SUBMITTED, S.QUEUED, S.RUNNING]
TERMINAL = [s for s in S if s.is_terminal]


def observe(state: JobState | None, **kwargs: object) -> Observe:
    return Observe(Observation(state=state, **kwargs))  # type: ignore[arg-type]


def absent(n: int = 3, seconds: float = 60.0) -> Observe:
    return Observe(Observation(None), absences_before_lost=n, seconds_before_lost=seconds)


# For each TRANSITIONS row: the command that produces it, and the events it yields.
ROW_COMMANDS: dict[tuple[JobState, str], tuple[Command, tuple[type, ...]]] = {
    (S.CREATED, "job.submitted"): (RecordSubmission("42"), (JobSubmitted,)),
    (S.CREATED, "job.submit_failed"): (RecordSubmitFailure("refused"), (JobSubmitFailed,)),
    (S.CREATED, "job.cancelled"): (
        RequestCancel(before_submission=True),
        (JobCancelRequested, JobCancelled),
    ),
    (S.CREATED, "job.lost"): (MarkLost("crashed"), (JobLost,)),
}
_OBSERVED = {
    "job.queued": (S.QUEUED, JobQueued),
    "job.started": (S.RUNNING, JobStarted),
    "job.succeeded": (S.SUCCEEDED, JobSucceeded),
    "job.failed": (S.FAILED, JobFailed),
    "job.cancelled": (S.CANCELLED, JobCancelled),
    "job.timed_out": (S.TIMED_OUT, JobTimedOut),
    "job.lost": (S.LOST, JobLost),
}
for _state in ACTIVE:
    for _tag in TRANSITIONS[_state]:
        _target, _cls = _OBSERVED[_tag]
        ROW_COMMANDS[(_state, _tag)] = (observe(_target, exit_code=0), (_cls,))

ROWS = [(s, tag, new) for s, row in TRANSITIONS.items() for tag, new in row.items()]


class TestTransitionTable:
    def test_every_state_has_a_row(self):
        """TRANSITIONS has a row for each of the nine states."""
        assert set(TRANSITIONS) == set(JobState)

    def test_terminal_rows_empty(self):
        """Terminal states have no outgoing transitions; active ones do."""
        for state, row in TRANSITIONS.items():
            assert (not row) == state.is_terminal, state

    def test_every_row_has_a_command(self):
        """Every row of TRANSITIONS is exercised by test_row below."""
        assert set(ROW_COMMANDS) == {(s, tag) for s, tag, _ in ROWS}

    @pytest.mark.parametrize(("state", "tag", "new"), ROWS, ids=str)
    def test_row(self, state, tag, new):
        """The row's command yields the row's event and moves to the row's state."""
        command, types = ROW_COMMANDS[(state, tag)]
        out = given(*HISTORY[state]).when(command).then(*types)
        assert event_tag(out.events[-1]) == tag
        assert out.record.state == new
        assert out.record.version == len(HISTORY[state]) + len(types)


class TestDecide:
    def test_no_record(self):
        """A command for a job with no history is an InvalidTransition."""
        given().when(RecordSubmission("1")).raises()

    def test_submission_event(self):
        """RecordSubmission records the scheduler id, command and time."""
        out = (
            given(CREATED)
            .when(RecordSubmission("42", "sbatch x", adopted=True))
            .then(JobSubmitted(job_id=JOB, at=NOW, scheduler_job_id="42", command="sbatch x", adopted=True))
        )
        assert out.record.scheduler_job_id == "42"
        assert out.record.submitted_at == NOW

    @pytest.mark.parametrize("state", [s for s in S if s != S.CREATED])
    def test_submission_only_once(self, state):
        """Submitting a job that already left CREATED is illegal."""
        given(*HISTORY[state]).when(RecordSubmission("43")).raises()

    @pytest.mark.parametrize("state", [s for s in S if s != S.CREATED])
    def test_submit_failure_only_when_created(self, state):
        """A submit failure after submission is illegal."""
        given(*HISTORY[state]).when(RecordSubmitFailure("x")).raises()

    def test_submit_failure(self):
        """A refused submission fails the job with the reason."""
        out = given(CREATED).when(RecordSubmitFailure("no partition")).then(JobSubmitFailed)
        assert out.record.state == S.FAILED
        assert out.record.failure_reason == "no partition"
        assert out.record.finished_at == NOW

    @pytest.mark.parametrize("state", [S.CREATED, *ACTIVE])
    def test_retry_illegal_while_active(self, state):
        """ScheduleRetry before the attempt ended is illegal."""
        given(*HISTORY[state]).when(ScheduleRetry("j2", 5.0)).raises()

    @pytest.mark.parametrize("state", TERMINAL)
    def test_mark_lost_terminal_ignored(self, state):
        """MarkLost on a finished job changes nothing."""
        given(*HISTORY[state]).when(MarkLost("x")).then()

    def test_dependency_any_state(self):
        """Dependency edges are recorded in any state without moving it."""
        for state, history in HISTORY.items():
            cmd = RecordDependency("up", "after_success", "afterok:7")
            out = given(*history).when(cmd).then(JobDependencyRecorded)
            assert out.record.state == state

    def test_cleaned_once(self):
        """MarkCleaned records once; repeating it is a no-op."""
        out = given(*HISTORY[S.SUCCEEDED]).when(MarkCleaned(("a",))).then(JobCleaned)
        assert out.record.cleaned_at == NOW
        given(*HISTORY[S.SUCCEEDED], *out.events).when(MarkCleaned()).then()

    def test_archive_once(self):
        """ArchiveJob records once; repeating it is a no-op."""
        out = given(*HISTORY[S.FAILED]).when(ArchiveJob()).then(JobArchived)
        assert out.record.archived_at == NOW
        given(*HISTORY[S.FAILED], *out.events).when(ArchiveJob()).then()


class TestObservations:
    @pytest.mark.parametrize(
        ("state", "target"),
        [
            (S.RUNNING, S.RUNNING),
            (S.RUNNING, S.QUEUED),
            (S.RUNNING, S.SUBMITTED),
            (S.RUNNING, S.CREATED),
            (S.QUEUED, S.QUEUED),
            (S.QUEUED, S.SUBMITTED),
            (S.SUBMITTED, S.SUBMITTED),
        ],
    )
    def test_stale(self, state, target):
        """Observations that repeat or go backwards yield no events."""
        given(*HISTORY[state]).when(observe(target)).then()

    @pytest.mark.parametrize("state", [S.CREATED, *TERMINAL])
    @pytest.mark.parametrize("target", [*S, None])
    def test_ignored_outside_active(self, state, target):
        """Observations of created or finished jobs yield no events."""
        given(*HISTORY[state]).when(observe(target)).then()

    def test_finished_carries_details(self):
        """A finished observation carries exit code, times, reason and raw state."""
        obs = observe(
            S.FAILED,
            exit_code=3,
            raw_state="FAILED",
            started_at=10.0,
            finished_at=20.0,
            reason="exit code 3",
        )
        out = given(*HISTORY[S.QUEUED]).when(obs).then(JobStarted, JobFailed)
        r = out.record
        assert (r.exit_code, r.started_at, r.finished_at) == (3, 10.0, 20.0)
        assert (r.failure_reason, r.raw_state) == ("exit code 3", "FAILED")

    def test_a_start_is_recorded_only_when_the_scheduler_reports_one(self):
        """Ended between polls: RUNNING is recorded iff the observation carries a start time."""
        given(*HISTORY[S.SUBMITTED]).when(observe(S.SUCCEEDED, started_at=5.0)).then(JobStarted, JobSucceeded)
        given(*HISTORY[S.SUBMITTED]).when(observe(S.SUCCEEDED)).then(JobSucceeded)
        given(*HISTORY[S.RUNNING]).when(observe(S.SUCCEEDED, started_at=5.0)).then(JobSucceeded)

    def test_finish_times_default_to_now(self):
        """Without scheduler times, finished_at is the observation time."""
        out = given(*HISTORY[S.RUNNING]).when(observe(S.SUCCEEDED)).then(JobSucceeded)
        assert out.record.finished_at == NOW
        assert out.record.started_at == STARTED.at

    def test_started_at_from_scheduler(self):
        """A running observation's started_at wins over the poll time."""
        out = given(*HISTORY[S.QUEUED]).when(observe(S.RUNNING, started_at=7.0)).then(JobStarted)
        assert out.record.started_at == 7.0

    def test_lost_reason(self):
        """A LOST observation without a reason gets a default one."""
        out = given(*HISTORY[S.RUNNING]).when(observe(S.LOST)).then(JobLost)
        assert out.record.failure_reason == "scheduler reports the job lost"


class TestAbsence:
    def test_lost_needs_count_and_time(self):
        """LOST only after N absences spanning at least T seconds."""
        events: list[JobEvent] = list(HISTORY[S.RUNNING])
        for t in (100.0, 110.0, 120.0):  # 3 absences, but only 20 s
            out = given(*events).when(absent(3, 60.0), now=t).then(JobUnseen)
            events += out.events
        assert out.record.unseen_count == 3
        assert out.record.first_unseen_at == 100.0
        assert out.record.state == S.RUNNING
        out = given(*events).when(absent(3, 60.0), now=160.0).then(JobUnseen, JobLost)
        assert out.record.state == S.LOST
        assert "4 polls over 60s" in (out.record.failure_reason or "")

    def test_time_alone_is_not_enough(self):
        """Two absences a long time apart do not make a job LOST when N is 3."""
        events: list[JobEvent] = list(HISTORY[S.QUEUED])
        for t in (100.0, 10_000.0):
            events += given(*events).when(absent(3, 60.0), now=t).then(JobUnseen).events
        assert fold_job(events).state == S.QUEUED  # type: ignore[union-attr]

    @pytest.mark.parametrize(("delay", "counted"), [(0.0, False), (9.9, False), (10.0, True)])
    def test_submission_grace(self, delay, counted):
        """Absences within submission_grace seconds of the submission are not evidence."""
        cmd = Observe(Observation(None), absences_before_lost=1, seconds_before_lost=0.0)
        when = given(*HISTORY[S.SUBMITTED]).when(cmd, now=SUBMITTED.at + delay)
        if counted:
            when.then(JobUnseen, JobLost)
        else:
            when.then()

    def test_single_absence_policy(self):
        """With N=1 and T=0 one absence is enough."""
        out = given(*HISTORY[S.SUBMITTED]).when(absent(1, 0.0)).then(JobUnseen, JobLost)
        assert out.record.state == S.LOST

    def test_detail_from_observation(self):
        """The absence detail names the scheduler's reason when it gives one."""
        cmd = Observe(Observation(None, reason="not in squeue"))
        out = given(*HISTORY[S.RUNNING]).when(cmd).then(JobUnseen)
        assert out.events[0].detail == "not in squeue"  # type: ignore[union-attr]

    def test_seen_again_resets(self):
        """Seeing the job again emits JobSeenAgain and resets the counters."""
        events: list[JobEvent] = list(HISTORY[S.QUEUED])
        for t in (100.0, 110.0):
            events += given(*events).when(absent(), now=t).then(JobUnseen).events
        out = given(*events).when(observe(S.RUNNING), now=120.0).then(JobSeenAgain, JobStarted)
        assert (out.record.unseen_count, out.record.first_unseen_at) == (0, None)
        assert out.record.state == S.RUNNING

    def test_seen_again_without_change(self):
        """A repeated observation after absences only resets the counters."""
        events = [*HISTORY[S.QUEUED], JobUnseen(job_id=JOB, at=50.0)]
        out = given(*events).when(observe(S.QUEUED)).then(JobSeenAgain)
        assert out.record.unseen_count == 0

    def test_count_restarts_after_seen(self):
        """After a reset, the absence window starts again from the next absence."""
        events = [
            *HISTORY[S.RUNNING],
            JobUnseen(job_id=JOB, at=10.0),
            JobUnseen(job_id=JOB, at=20.0),
            JobSeenAgain(job_id=JOB, at=30.0),
        ]
        out = given(*events).when(absent(2, 0.0), now=500.0).then(JobUnseen)
        assert (out.record.unseen_count, out.record.first_unseen_at) == (1, 500.0)


class TestCancel:
    def test_before_submission(self):
        """Cancelling a created job with before_submission cancels it outright."""
        out = (
            given(CREATED)
            .when(RequestCancel("user", before_submission=True))
            .then(
                JobCancelRequested(job_id=JOB, at=NOW, reason="user"),
                JobCancelled(job_id=JOB, at=NOW, reason="user"),
            )
        )
        assert out.record.state == S.CANCELLED
        assert out.record.cancel_requested_at == NOW

    def test_before_submission_default_reason(self):
        """An outright cancel without a reason says why."""
        out = (
            given(CREATED).when(RequestCancel(before_submission=True)).then(JobCancelRequested, JobCancelled)
        )
        assert out.record.failure_reason == "cancelled before submission"

    @pytest.mark.parametrize("state", [S.CREATED, *ACTIVE])
    def test_request_only(self, state):
        """Otherwise a cancel request is recorded without moving the state."""
        out = given(*HISTORY[state]).when(RequestCancel("stop")).then(JobCancelRequested)
        assert out.record.state == state

    def test_only_once(self):
        """A second cancel request is a no-op."""
        events = given(*HISTORY[S.RUNNING]).when(RequestCancel()).then(JobCancelRequested)
        given(*HISTORY[S.RUNNING], *events.events).when(RequestCancel()).then()

    @pytest.mark.parametrize("state", TERMINAL)
    def test_finished_job(self, state):
        """Cancelling a finished job without a pending retry is a no-op."""
        given(*HISTORY[state]).when(RequestCancel()).then()

    def test_finished_job_with_pending_retry(self):
        """Cancelling a finished job whose retry is scheduled records the request."""
        retry = JobRetryScheduled(job_id=JOB, at=6.0, due_at=11.0, next_job_id="j2")
        given(*HISTORY[S.FAILED], retry).when(RequestCancel()).then(JobCancelRequested)


class TestRetry:
    @pytest.mark.parametrize("state", TERMINAL)
    def test_scheduled_once(self, state):
        """A retry is scheduled at now + delay, and only once."""
        out = (
            given(*HISTORY[state])
            .when(ScheduleRetry("j2", 30.0))
            .then(JobRetryScheduled(job_id=JOB, at=NOW, due_at=NOW + 30.0, next_job_id="j2", delay=30.0))
        )
        assert out.record.next_attempt_job_id == "j2"
        assert out.record.retry_due_at == NOW + 30.0
        assert out.record.state == state
        given(*HISTORY[state], *out.events).when(ScheduleRetry("j3", 1.0)).then()


class TestEvolve:
    def test_initial_record(self):
        """job.created starts a CREATED record at version 1 with the spec's details."""
        r = evolve(None, CREATED)
        assert (r.state, r.version, r.job_id, r.created_at) == (S.CREATED, 1, JOB, 1.0)
        assert (r.command_type, r.command_display, r.cwd) == ("argv", "true", ".")

    def test_version_counts_events(self):
        """Every event, status-changing or not, bumps the version."""
        events = [*HISTORY[S.RUNNING], JobUnseen(job_id=JOB, at=9.0)]
        assert fold_job(events).version == len(events)  # type: ignore[union-attr]

    def test_empty_fold(self):
        """Folding no events gives no record."""
        assert fold_job([]) is None

    @pytest.mark.parametrize(
        ("history", "match"),
        [
            ((SUBMITTED,), "not job.created"),
            ((CREATED, CREATED), "created"),
            ((*HISTORY[S.FAILED], JobSucceeded(job_id=JOB, at=9.0)), "cannot follow"),
            ((*HISTORY[S.RUNNING], QUEUED), "cannot follow"),
            ((CREATED, JobUnseen(job_id=JOB, at=2.0)), "cannot follow"),
            ((CREATED, STARTED), "cannot follow"),
            ((CREATED, JobRetryScheduled(job_id=JOB, at=2, due_at=3, next_job_id="x")), "cannot"),
            ((*HISTORY[S.LOST], JobSeenAgain(job_id=JOB, at=9.0)), "cannot follow"),
        ],
        ids=[
            "no-created",
            "created-twice",
            "succeeded-after-failed",
            "queued-after-running",
            "unseen-before-submit",
            "started-before-submit",
            "retry-while-active",
            "seen-after-lost",
        ],
    )
    def test_impossible_history(self, history, match):
        """Impossible histories raise CorruptLogError."""
        with pytest.raises(CorruptLogError, match=match):
            fold_job(history)
