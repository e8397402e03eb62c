"""A stateful test of decide/evolve (pure, no processes) against a small model of a job."""

from __future__ import annotations

import hypothesis.strategies as st
import msgspec
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
)
from tests.strategies import conditions, created_events, job_ids, weighted

from molq.core import (
    ArchiveJob,
    Command,
    InvalidTransition,
    JobEvent,
    JobRecord,
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


S = JobState
# Mostly progress, so jobs live long enough for absences to accumulate.
seen_states = weighted((4, st.sampled_from([S.QUEUED, S.RUNNING])), (1, st.sampled_from(list(S))))
GRACE = Observe(Observation(None)).submission_grace
FINISH_TAGS = {
    S.SUCCEEDED: "job.succeeded",
    S.FAILED: "job.failed",
    S.CANCELLED: "job.cancelled",
    S.TIMED_OUT: "job.timed_out",
    S.LOST: "job.lost",
}


class JobMachine(RuleBasedStateMachine):
    """Drive jobs with arbitrary commands; each record must agree with the model."""

    def __init__(self) -> None:
        super().__init__()
        self.now = 0.0
        self.reset()

    def reset(self) -> None:
        """Forget the current job: the next one starts from nothing."""
        self.record: JobRecord | None = None
        self.events: list[JobEvent] = []
        # the model
        self.state = S.CREATED
        self.first_terminal: JobState | None = None
        self.unseen = 0
        self.first_unseen: float | None = None
        self.submitted_at: float | None = None
        self.cancel_requested = False
        self.retry_scheduled = False
        self.cleaned = False
        self.archived = False

    @initialize(created=created_events(), submit=st.integers(0, 4))
    def create(self, created, submit):
        self.now = max(self.now, created.at)
        self.apply((msgspec.structs.replace(created, at=self.now),))
        if submit:  # most jobs get submitted, so later rules reach every state
            self.submit("1", 0.0)

    @precondition(lambda self: self.state.is_terminal)
    @rule(created=created_events(), submit=st.integers(0, 4))
    def next_job(self, created, submit):
        """Once a job has finished, start another, so long runs stay busy."""
        self.reset()
        self.create(created, submit)

    # -- helpers ----------------------------------------------------------------------

    def apply(self, events: tuple[JobEvent, ...]) -> None:
        for event in events:
            self.record = evolve(self.record, event)
        self.events.extend(events)

    def run(self, command: Command, dt: float, expected: list[str] | None) -> None:
        """Decide ``command``; ``expected`` tags, or None when it must be rejected."""
        self.now += dt
        if expected is None:
            try:
                decide(self.record, command, now=self.now)
            except InvalidTransition:
                return
            raise AssertionError(f"{command} should be rejected in {self.state}")
        events = decide(self.record, command, now=self.now)
        assert [event_tag(e) for e in events] == expected, (command, self.state)
        assert all(e.at == self.now for e in events)
        self.apply(events)

    def move(self, state: JobState) -> None:
        self.state = state
        if state.is_terminal and self.first_terminal is None:
            self.first_terminal = state

    @property
    def active(self) -> bool:
        return self.state in (S.SUBMITTED, S.QUEUED, S.RUNNING)

    # -- rules ------------------------------------------------------------------------

    @rule(scheduler_job_id=job_ids, dt=st.floats(0, 30))
    def submit(self, scheduler_job_id, dt):
        if self.state != S.CREATED:
            self.run(RecordSubmission(scheduler_job_id), dt, None)
            return
        self.run(RecordSubmission(scheduler_job_id), dt, ["job.submitted"])
        self.submitted_at = self.now
        self.move(S.SUBMITTED)

    @rule(dt=st.floats(0, 30), lost=st.booleans())
    def submit_fails_or_lost(self, dt, lost):
        if lost:
            self.mark_lost(dt)
        elif self.state != S.CREATED:
            self.run(RecordSubmitFailure("refused"), dt, None)
        else:
            self.run(RecordSubmitFailure("refused"), dt, ["job.submit_failed"])
            self.move(S.FAILED)

    @rule(seen=seen_states, dt=st.floats(0, 60))
    def observe(self, seen, dt):
        expected: list[str] = []
        if self.active:
            if self.unseen:
                expected.append("job.seen_again")
                self.unseen, self.first_unseen = 0, None
            expected += self.expect_progress(seen)
        self.run(Observe(Observation(seen)), dt, expected)

    @rule(dts=st.lists(st.floats(0, 40), min_size=1, max_size=5))
    def observe_absent(self, dts):
        for dt in dts:  # absences come in runs of polls
            expected = self.expect_absence(self.now + dt) if self.active else []
            self.run(Observe(Observation(None)), dt, expected)

    def expect_absence(self, now: float) -> list[str]:
        assert self.submitted_at is not None
        if now - self.submitted_at < GRACE:
            return []
        self.unseen += 1
        if self.first_unseen is None:
            self.first_unseen = now
        if self.unseen >= 3 and now - self.first_unseen >= 60.0:
            self.move(S.LOST)
            return ["job.unseen", "job.lost"]
        return ["job.unseen"]

    def expect_progress(self, target: JobState) -> list[str]:
        if target == S.QUEUED and self.state == S.SUBMITTED:
            self.move(S.QUEUED)
            return ["job.queued"]
        if target == S.RUNNING and self.state in (S.SUBMITTED, S.QUEUED):
            self.move(S.RUNNING)
            return ["job.started"]
        if target.is_terminal:
            self.move(target)
            return [FINISH_TAGS[target]]
        return []

    def mark_lost(self, dt: float) -> None:
        if self.state.is_terminal:
            self.run(MarkLost("gone"), dt, [])
            return
        self.run(MarkLost("gone"), dt, ["job.lost"])
        self.move(S.LOST)

    @rule(before_submission=st.booleans(), dt=st.floats(0, 30))
    def cancel(self, before_submission, dt):
        command = RequestCancel(before_submission=before_submission)
        if self.cancel_requested or (self.state.is_terminal and not self.retry_scheduled):
            self.run(command, dt, [])
            return
        self.cancel_requested = True
        if self.state == S.CREATED and before_submission:
            self.run(command, dt, ["job.cancel_requested", "job.cancelled"])
            self.move(S.CANCELLED)
        else:
            self.run(command, dt, ["job.cancel_requested"])

    @rule(next_job_id=job_ids, delay=st.floats(0, 600), dt=st.floats(0, 30))
    def schedule_retry(self, next_job_id, delay, dt):
        command = ScheduleRetry(next_job_id, delay)
        if not self.state.is_terminal:
            self.run(command, dt, None)
        elif self.retry_scheduled:
            self.run(command, dt, [])
        else:
            self.run(command, dt, ["job.retry_scheduled"])
            self.retry_scheduled = True

    @rule(upstream=job_ids, condition=conditions, dt=st.floats(0, 30))
    def record_dependency(self, upstream, condition, dt):
        command = RecordDependency(upstream, condition, f"x:{upstream}")
        self.run(command, dt, ["job.dependency_recorded"])

    @rule(dt=st.floats(0, 30))
    def clean(self, dt):
        self.run(MarkCleaned(), dt, [] if self.cleaned else ["job.cleaned"])
        self.cleaned = True

    @rule(dt=st.floats(0, 30))
    def archive(self, dt):
        self.run(ArchiveJob(), dt, [] if self.archived else ["job.archived"])
        self.archived = True

    # -- invariants -----------------------------------------------------------------------

    @invariant()
    def state_matches_model(self):
        assert self.record is not None
        assert self.record.state == self.state

    @invariant()
    def terminal_is_absorbing(self):
        if self.first_terminal is not None:
            assert self.record is not None
            assert self.record.state == self.first_terminal

    @invariant()
    def version_counts_events(self):
        assert self.record is not None
        assert self.record.version == len(self.events)

    @invariant()
    def unseen_count_matches(self):
        assert self.record is not None
        assert self.record.unseen_count == self.unseen
        assert (self.record.first_unseen_at is None) == (self.unseen == 0)

    @invariant()
    def flags_match(self):
        r = self.record
        assert r is not None
        assert (r.cancel_requested_at is not None) == self.cancel_requested
        assert (r.next_attempt_job_id is not None) == self.retry_scheduled
        assert (r.cleaned_at is not None) == self.cleaned
        assert (r.archived_at is not None) == self.archived
        assert (r.submitted_at is not None) == (self.submitted_at is not None)

    @invariant()
    def fold_agrees(self):
        assert fold_job(self.events) == self.record


TestJobMachine = JobMachine.TestCase
