"""The state machine's exact output: each event's fields, each record field it sets, each threshold's edge."""

from __future__ import annotations

import dataclasses

import pytest

from molq.core import (
    ArchiveJob,
    CorruptLogError,
    InvalidTransition,
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
    evolve,
    fold_job,
)
from molq.core._commands import ExpireDuration
from molq.core._events import (
    JobArchived,
    JobCancelled,
    JobCancelRequested,
    JobCheckpointSaved,
    JobCleaned,
    JobCreated,
    JobDependencyRecorded,
    JobFailed,
    JobLogged,
    JobLost,
    JobQueued,
    JobResultSaved,
    JobRetryScheduled,
    JobSeenAgain,
    JobStarted,
    JobSubmitFailed,
    JobSubmitted,
    JobSucceeded,
    JobTimedOut,
    JobUnseen,
)
from molq.core._machine import initial_record
from molq.core._spec import JobExecution
from molq.core._units import Duration


S = JobState
J = "j1"
CREATED = JobCreated(
    job_id=J, at=1.0, cluster_name="c", scheduler="slurm", root_job_id=J, spec=JobSpec("argv", argv=("true",))
)
SUBMITTED = JobSubmitted(job_id=J, at=2.0, scheduler_job_id="42")


def record(*events: object):  # type: ignore[no-untyped-def]
    rec = fold_job([CREATED, *events])  # type: ignore[list-item]
    assert rec is not None
    return rec


def apply(rec, events):  # type: ignore[no-untyped-def]
    for event in events:
        rec = evolve(rec, event)
    return rec


# -- initial record ---------------------------------------------------------------------------


def test_initial_record_fields() -> None:
    spec = JobSpec("argv", argv=("echo", "hi"), cwd="/w", max_duration=Duration(90), metadata={"k": "v"}, execution=JobExecution(job_name="nm"))
    event = JobCreated(
        job_id="a2", at=7.0, cluster_name="hpc", scheduler="pbs", root_job_id="a1", spec=spec,
        attempt=2, previous_attempt_job_id="a1", retry_group_id="g", profile_name="p",
    )
    rec = initial_record(event)
    assert (rec.job_id, rec.root_job_id, rec.attempt, rec.previous_attempt_job_id) == ("a2", "a1", 2, "a1")
    assert (rec.retry_group_id, rec.profile_name, rec.cluster_name, rec.scheduler) == ("g", "p", "hpc", "pbs")
    assert rec.state is S.CREATED
    assert rec.version == 1
    assert rec.created_at == 7.0
    assert (rec.cwd, rec.command_type, rec.job_name, rec.max_duration_seconds) == ("/w", "argv", "nm", 90)
    assert rec.command_display == spec.display
    assert dict(rec.metadata) == {"k": "v"}
    assert rec.scheduler_job_id is None
    assert rec.exit_code is None
    assert rec.failure_reason is None
    assert initial_record(CREATED).max_duration_seconds is None


# -- evolve: the fields each event sets ------------------------------------------------------


def test_submission_and_submit_failure_fields() -> None:
    rec = record(SUBMITTED)
    assert (rec.state, rec.scheduler_job_id, rec.submitted_at, rec.version) == (S.SUBMITTED, "42", 2.0, 2)
    failed = record(JobSubmitFailed(job_id=J, at=3.0, reason="sbatch: invalid partition"))
    assert (failed.state, failed.failure_reason, failed.finished_at) == (S.FAILED, "sbatch: invalid partition", 3.0)


def test_raw_state_kept_when_an_event_has_none() -> None:
    rec = record(SUBMITTED, JobQueued(job_id=J, at=3.0, raw_state="PENDING"))
    assert rec.raw_state == "PENDING"
    rec = evolve(rec, JobStarted(job_id=J, at=4.0, raw_state=""))
    assert (rec.state, rec.raw_state, rec.started_at) == (S.RUNNING, "PENDING", 4.0)
    rec = evolve(rec, JobSucceeded(job_id=J, at=5.0, exit_code=0))
    assert (rec.raw_state, rec.exit_code, rec.finished_at) == ("PENDING", 0, 5.0)
    queued = evolve(record(SUBMITTED), JobQueued(job_id=J, at=3.0, raw_state=""))
    assert queued.raw_state is None


def test_started_at_from_the_scheduler_wins_over_the_poll_time() -> None:
    rec = record(SUBMITTED, JobStarted(job_id=J, at=9.0, started_at=4.5, raw_state="R"))
    assert (rec.started_at, rec.raw_state) == (4.5, "R")


@pytest.mark.parametrize("finish", [JobSucceeded, JobFailed, JobCancelled, JobTimedOut])
def test_finish_fields(finish: type) -> None:
    ran = record(SUBMITTED, JobStarted(job_id=J, at=4.0, raw_state="R"))
    done = evolve(ran, finish(job_id=J, at=9.0, exit_code=3, finished_at=8.0, reason="why", raw_state="X", started_at=1.5))
    assert (done.exit_code, done.finished_at, done.failure_reason, done.raw_state) == (3, 8.0, "why", "X")
    assert done.started_at == 4.0  # the recorded start is kept
    never_started = evolve(record(SUBMITTED), finish(job_id=J, at=9.0, started_at=1.5))
    assert (never_started.started_at, never_started.finished_at, never_started.raw_state) == (1.5, 9.0, None)


def test_lost_fields() -> None:
    rec = record(SUBMITTED, JobLost(job_id=J, at=6.0, reason="gone"))
    assert (rec.state, rec.failure_reason, rec.finished_at) == (S.LOST, "gone", 6.0)


def test_cancel_request_keeps_the_first_time() -> None:
    rec = record(SUBMITTED, JobCancelRequested(job_id=J, at=3.0), JobCancelRequested(job_id=J, at=4.0))
    assert rec.cancel_requested_at == 3.0
    assert rec.state is S.SUBMITTED


def test_retry_clean_archive_fields() -> None:
    failed = record(SUBMITTED, JobFailed(job_id=J, at=5.0, exit_code=1))
    rec = apply(failed, [
        JobRetryScheduled(job_id=J, at=6.0, due_at=16.0, next_job_id="j2", delay=10.0),
        JobCleaned(job_id=J, at=7.0),
        JobArchived(job_id=J, at=8.0),
    ])
    assert (rec.retry_due_at, rec.next_attempt_job_id, rec.cleaned_at, rec.archived_at) == (16.0, "j2", 7.0, 8.0)
    assert rec.state is S.FAILED
    assert rec.version == failed.version + 3


def test_unseen_counts_and_resets() -> None:
    rec = record(SUBMITTED, JobUnseen(job_id=J, at=20.0), JobUnseen(job_id=J, at=30.0))
    assert (rec.unseen_count, rec.first_unseen_at) == (2, 20.0)
    rec = evolve(rec, JobSeenAgain(job_id=J, at=40.0))
    assert (rec.unseen_count, rec.first_unseen_at) == (0, None)


def test_counters_never_go_back() -> None:
    rec = record(
        JobLogged(job_id=J, at=2.0, line=5, message="a"), JobLogged(job_id=J, at=2.0, line=3, message="b"),
        JobCheckpointSaved(job_id=J, at=2.0, seq=4, data="{}"), JobCheckpointSaved(job_id=J, at=2.0, seq=2, data="{}"),
        JobResultSaved(job_id=J, at=2.0, seq=6, data="{}"), JobResultSaved(job_id=J, at=2.0, seq=1, data="{}"),
    )
    assert (rec.log_lines, rec.checkpoint_seq, rec.result_seq) == (5, 4, 6)
    rec = evolve(rec, JobLogged(job_id=J, at=2.0, line=9, message="c"))
    assert rec.log_lines == 9
    assert rec.state is S.CREATED


def test_dependency_event_only_counts_a_version() -> None:
    before = record()
    after = evolve(before, JobDependencyRecorded(job_id=J, at=2.0, dependency_job_id="j0", dependency_type="afterok", scheduler_dependency="afterok:41"))
    assert dataclasses.replace(after, version=before.version) == before


@pytest.mark.parametrize(
    ("history", "match"),
    [
        ((CREATED, CREATED), "j1: job.created cannot follow state created"),
        ((CREATED, JobUnseen(job_id=J, at=2.0)), "job.unseen cannot follow state created"),
        ((CREATED, JobQueued(job_id=J, at=2.0)), "job.queued cannot follow state created"),
        ((SUBMITTED,), "history starts with job.submitted, not job.created"),
    ],
)
def test_impossible_histories(history: tuple[object, ...], match: str) -> None:
    with pytest.raises(CorruptLogError, match=match):
        fold_job(history)  # type: ignore[arg-type]


# -- decide: the exact events --------------------------------------------------------------


def test_submission_event_fields() -> None:
    events = decide(record(), RecordSubmission("42", command=("sbatch", "x"), adopted=True), now=5.0)
    assert events == (JobSubmitted(job_id=J, at=5.0, scheduler_job_id="42", command=("sbatch", "x"), adopted=True),)
    assert decide(record(), RecordSubmitFailure("refused"), now=5.0) == (JobSubmitFailed(job_id=J, at=5.0, reason="refused"),)


@pytest.mark.parametrize("command", [RecordSubmission("42"), RecordSubmitFailure("x")])
def test_submission_commands_refused_after_submission(command: object) -> None:
    with pytest.raises(InvalidTransition, match="job j1 is submitted"):
        decide(record(SUBMITTED), command, now=5.0)  # type: ignore[arg-type]


def test_no_record() -> None:
    with pytest.raises(InvalidTransition, match="no such job for command MarkLost"):
        decide(None, MarkLost("x"), now=1.0)


def test_mark_lost() -> None:
    assert decide(record(SUBMITTED), MarkLost("host died"), now=5.0) == (JobLost(job_id=J, at=5.0, reason="host died"),)
    assert decide(record(), MarkLost("x"), now=5.0) == (JobLost(job_id=J, at=5.0, reason="x"),)


def test_cancel_requests() -> None:
    assert decide(record(SUBMITTED), RequestCancel("stop"), now=5.0) == (JobCancelRequested(job_id=J, at=5.0, reason="stop"),)
    assert decide(record(), RequestCancel("stop", before_submission=True), now=5.0) == (
        JobCancelRequested(job_id=J, at=5.0, reason="stop"),
        JobCancelled(job_id=J, at=5.0, reason="stop"),
    )
    # before_submission only matters while CREATED
    assert decide(record(SUBMITTED), RequestCancel(before_submission=True), now=5.0) == (
        JobCancelRequested(job_id=J, at=5.0, reason=None),
    )
    assert decide(record(), RequestCancel(), now=5.0) == (JobCancelRequested(job_id=J, at=5.0, reason=None),)
    cancelled = apply(record(), decide(record(), RequestCancel(before_submission=True), now=5.0))
    assert (cancelled.state, cancelled.failure_reason, cancelled.cancel_requested_at) == (
        S.CANCELLED, "cancelled before submission", 5.0
    )


def test_retry_scheduled_fields() -> None:
    failed = record(SUBMITTED, JobFailed(job_id=J, at=5.0, exit_code=1))
    assert decide(failed, ScheduleRetry("j2", 30.0), now=10.0) == (
        JobRetryScheduled(job_id=J, at=10.0, due_at=40.0, next_job_id="j2", delay=30.0),
    )
    with pytest.raises(InvalidTransition, match="ScheduleRetry does not apply"):
        decide(record(SUBMITTED), ScheduleRetry("j2", 1.0), now=10.0)


def test_dependency_clean_archive_events() -> None:
    rec = record(SUBMITTED)
    assert decide(rec, RecordDependency("j0", "afterok", scheduler_dependency="afterok:41"), now=3.0) == (
        JobDependencyRecorded(job_id=J, at=3.0, dependency_job_id="j0", dependency_type="afterok", scheduler_dependency="afterok:41"),
    )
    assert decide(rec, MarkCleaned(("a", "b")), now=3.0) == (JobCleaned(job_id=J, at=3.0, removed=("a", "b")),)
    assert decide(rec, ArchiveJob("old"), now=3.0) == (JobArchived(job_id=J, at=3.0, reason="old"),)


@pytest.mark.parametrize(
    ("history", "expired"),
    [((), False), ((SUBMITTED,), True), ((SUBMITTED, JobQueued(job_id=J, at=3.0)), True),
     ((SUBMITTED, JobStarted(job_id=J, at=3.0)), True), ((SUBMITTED, JobFailed(job_id=J, at=3.0)), False)],
)
def test_expire_duration(history: tuple[object, ...], expired: bool) -> None:
    events = decide(record(*history), ExpireDuration("ran past 1h"), now=50.0)
    want = (JobTimedOut(job_id=J, at=50.0, finished_at=50.0, reason="ran past 1h"),) if expired else ()
    assert events == want


# -- observations ----------------------------------------------------------------------------


def obs(state: JobState | None, **kw: object) -> Observe:
    return Observe(Observation(state, **kw))  # type: ignore[arg-type]


def test_observed_queue_and_start_events() -> None:
    rec = record(SUBMITTED)
    assert decide(rec, obs(S.QUEUED, raw_state="PD"), now=5.0) == (JobQueued(job_id=J, at=5.0, raw_state="PD"),)
    assert decide(rec, obs(S.RUNNING, raw_state="R", started_at=4.0), now=5.0) == (
        JobStarted(job_id=J, at=5.0, started_at=4.0, raw_state="R"),
    )
    running = record(SUBMITTED, JobStarted(job_id=J, at=3.0))
    assert decide(running, obs(S.QUEUED), now=5.0) == ()
    assert decide(running, obs(S.SUBMITTED), now=5.0) == ()
    assert decide(running, obs(S.CREATED), now=5.0) == ()


@pytest.mark.parametrize(
    ("state", "event"),
    [(S.SUCCEEDED, JobSucceeded), (S.FAILED, JobFailed), (S.CANCELLED, JobCancelled), (S.TIMED_OUT, JobTimedOut)],
)
def test_observed_finish_event_fields(state: JobState, event: type) -> None:
    running = record(SUBMITTED, JobStarted(job_id=J, at=3.0))
    seen = obs(state, raw_state="CD", exit_code=2, started_at=3.5, finished_at=4.5, reason="r")
    assert decide(running, seen, now=5.0) == (
        event(job_id=J, at=5.0, exit_code=2, finished_at=4.5, reason="r", raw_state="CD", started_at=3.5),
    )
    queued = record(SUBMITTED, JobQueued(job_id=J, at=3.0))
    assert decide(queued, seen, now=5.0) == (
        JobStarted(job_id=J, at=5.0, started_at=3.5, raw_state="CD"),
        event(job_id=J, at=5.0, exit_code=2, finished_at=4.5, reason="r", raw_state="CD", started_at=3.5),
    )
    no_start = obs(state, exit_code=2)
    assert decide(queued, no_start, now=5.0) == (event(job_id=J, at=5.0, exit_code=2),)


def test_observed_lost() -> None:
    rec = record(SUBMITTED)
    assert decide(rec, obs(S.LOST, reason="NODE_FAIL"), now=5.0) == (JobLost(job_id=J, at=5.0, reason="NODE_FAIL"),)
    assert decide(rec, obs(S.LOST), now=5.0) == (JobLost(job_id=J, at=5.0, reason="scheduler reports the job lost"),)


def test_seen_again_before_the_state_change() -> None:
    rec = record(SUBMITTED, JobUnseen(job_id=J, at=20.0))
    assert decide(rec, obs(S.RUNNING), now=30.0) == (
        JobSeenAgain(job_id=J, at=30.0),
        JobStarted(job_id=J, at=30.0),
    )
    assert decide(rec, obs(S.SUBMITTED), now=30.0) == (JobSeenAgain(job_id=J, at=30.0),)


def test_observations_ignored_when_created_or_finished() -> None:
    assert decide(record(), obs(S.RUNNING), now=5.0) == ()
    assert decide(record(), obs(None), now=500.0) == ()
    done = record(SUBMITTED, JobSucceeded(job_id=J, at=3.0, exit_code=0))
    assert decide(done, obs(S.FAILED), now=5.0) == ()


def absent(n: int, seconds: float, grace: float = 10.0, reason: str | None = None) -> Observe:
    return Observe(Observation(None, reason=reason), absences_before_lost=n, seconds_before_lost=seconds, submission_grace=grace)


def test_absence_within_the_grace_is_no_evidence() -> None:
    rec = record(SUBMITTED)  # submitted at 2.0
    assert decide(rec, absent(1, 0.0, grace=10.0), now=11.9) == ()
    assert decide(rec, absent(1, 0.0, grace=10.0), now=12.0) == (
        JobUnseen(job_id=J, at=12.0, detail="not in the queue or accounting"),
        JobLost(job_id=J, at=12.0, reason="unseen by the scheduler for 1 polls over 0s (not in the queue or accounting)"),
    )


def test_absence_needs_both_count_and_time() -> None:
    rec = record(SUBMITTED, JobUnseen(job_id=J, at=100.0))  # one absence so far, first at 100
    # second absence: count 2 reached, 60 s not yet
    assert decide(rec, absent(2, 60.0, reason="gone"), now=159.0) == (JobUnseen(job_id=J, at=159.0, detail="gone"),)
    assert decide(rec, absent(2, 60.0, reason="gone"), now=160.0) == (
        JobUnseen(job_id=J, at=160.0, detail="gone"),
        JobLost(job_id=J, at=160.0, reason="unseen by the scheduler for 2 polls over 60s (gone)"),
    )
    # time reached, count not yet
    assert decide(rec, absent(3, 60.0), now=500.0) == (
        JobUnseen(job_id=J, at=500.0, detail="not in the queue or accounting"),
    )


def test_first_absence_counts_from_now() -> None:
    rec = record(SUBMITTED)
    assert decide(rec, absent(1, 0.5), now=50.0) == (
        JobUnseen(job_id=J, at=50.0, detail="not in the queue or accounting"),
    )
    assert decide(rec, absent(1, 0.0), now=50.0)[-1] == JobLost(
        job_id=J, at=50.0, reason="unseen by the scheduler for 1 polls over 0s (not in the queue or accounting)"
    )


def test_refused_submission_names_the_command() -> None:
    with pytest.raises(InvalidTransition, match="job j1 is submitted: RecordSubmission does not apply"):
        decide(record(SUBMITTED), RecordSubmission("43"), now=5.0)
    with pytest.raises(InvalidTransition, match="job j1 is submitted: RecordSubmitFailure does not apply"):
        decide(record(SUBMITTED), RecordSubmitFailure("x"), now=5.0)


def test_a_record_without_a_root_is_its_own_root_and_freezes_its_metadata() -> None:
    from molq.core import JobRecord
    from molq.core._frozen import FrozenDict

    rec = JobRecord(job_id="x", cluster_name="c", scheduler="slurm", state=S.CREATED, metadata={"k": "v"})
    assert rec.root_job_id == "x"
    assert isinstance(rec.metadata, FrozenDict)
    assert rec.metadata == {"k": "v"}
    frozen = FrozenDict({"a": "b"})
    again = JobRecord(job_id="y", cluster_name="c", scheduler="slurm", state=S.CREATED, root_job_id="r", metadata=frozen)
    assert again.root_job_id == "r"
    assert again.metadata is frozen
