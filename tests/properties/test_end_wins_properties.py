"""A job's own end always wins over a late duration-limit decision (issue 13, item 2).

A fake scheduler plays one job whose real end (time and exit code) Hypothesis picks,
while reconcile passes run at chosen times and the clock moves on during each status
query (the race the attack found). Whatever the interleaving: exit 0 is SUCCEEDED, a
job molq killed is TIMED_OUT, and SUCCEEDED is never reported for a job that did not
exit 0.
"""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from molq.core import Completed, Duration, JobSpec, JobState, Observation, RetryPolicy, Submission
from molq.core._events import JobCreated
from molq.shell._reconcile import JobReconciler
from molq.shell._submission import create_and_submit
from molq.shell.store._store import JobStore


LIMIT = 1.0


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


class OneJob:
    """A scheduler running one job that ends at ``end_at`` with ``rc`` unless killed first."""

    name = "fake"

    def __init__(self, clock: Clock, end_at: float, rc: int, *, query_takes: float, ends_during_cancel: bool) -> None:
        self.clock, self.end_at, self.rc = clock, end_at, rc
        self.query_takes, self.ends_during_cancel = query_takes, ends_during_cancel
        self.killed = False

    def ended_on_its_own(self) -> bool:
        return not self.killed and self.clock.now >= self.end_at

    def submit(self, spec, job_dir):
        return "1"

    def prepare(self, spec, job_dir):
        return Submission(argv=("fake",), script="", script_path="")

    def observe_many(self, ids, *, job_dirs=None):
        self.clock.now += self.query_takes  # time passes while the scheduler answers
        if self.killed:
            obs = Observation(state=JobState.CANCELLED, exit_code=143, started_at=0.0, finished_at=self.clock.now)
        elif self.clock.now >= self.end_at:
            state = JobState.SUCCEEDED if self.rc == 0 else JobState.FAILED
            obs = Observation(state=state, exit_code=self.rc, started_at=0.0, finished_at=self.end_at)
        else:
            obs = Observation(state=JobState.RUNNING, started_at=0.0)
        return dict.fromkeys(ids, obs)

    def cancel(self, sid, *, job_dir=None):
        if self.clock.now >= self.end_at:
            return  # too late: it has ended
        if self.ends_during_cancel:
            self.clock.now = self.end_at  # it ends on its own while the cancel is on its way
            return
        self.killed = True


class NoFiles:
    name = "fake"

    def run(self, argv, **kwargs):
        return Completed(tuple(argv), 0, "", "")


@given(
    end_at=st.floats(0.0, 3.0),
    rc=st.sampled_from([0, 0, 1, 2]),
    passes=st.lists(st.floats(0.0, 3.0), min_size=1, max_size=6).map(sorted),
    query_takes=st.floats(0.0, 0.5),
    ends_during_cancel=st.booleans(),
)
def test_the_jobs_own_end_wins(tmp_path_factory, end_at, rc, passes, query_takes, ends_during_cancel):
    """Exit 0 is SUCCEEDED however late the limit check runs; SUCCEEDED only for exit 0."""
    clock = Clock()
    job = OneJob(clock, end_at, rc, query_takes=query_takes, ends_during_cancel=ends_during_cancel)
    store = JobStore(tmp_path_factory.mktemp("s") / "jobs.db")
    try:
        created = JobCreated(
            job_id="j", at=0.0, cluster_name="c", scheduler="fake", root_job_id="j",
            spec=JobSpec("argv", argv=("true",), max_duration=Duration(int(LIMIT))),
            retry=RetryPolicy(max_attempts=1),
        )
        create_and_submit(store, job, created, clock=clock)
        reconciler = JobReconciler(store, job, "c", transport=NoFiles(), clock=clock)
        for at in [*passes, 10.0]:
            clock.now = max(clock.now, at)
            reconciler.reconcile()
        record = store.get_record("j")
        assert record is not None
        assert record.state.is_terminal
        if job.killed:
            assert record.state == JobState.TIMED_OUT
        elif rc == 0:
            assert (record.state, record.exit_code) == (JobState.SUCCEEDED, 0)
        else:
            assert record.state in (JobState.FAILED, JobState.TIMED_OUT)
        assert record.state != JobState.SUCCEEDED or (rc == 0 and not job.killed)
    finally:
        store.close()
