"""A stateful machine driving the REAL local backend against a simple model."""

from __future__ import annotations

import tempfile
from pathlib import Path

import hypothesis.strategies as st
from hypothesis import settings
from hypothesis.stateful import Bundle, RuleBasedStateMachine, consumes, invariant, rule

from molq import Cluster, JobResources, JobState, JobStore, RetryBackoff, RetryPolicy, Submitor


FAST = RetryBackoff(mode="fixed", initial_seconds=0.05, maximum_seconds=0.05)


class LocalLifecycle(RuleBasedStateMachine):
    """Submit, cancel, retry, fail and time out real processes; every record must match the model."""

    slow_jobs = Bundle("slow_jobs")

    def __init__(self) -> None:
        super().__init__()
        self.tmp = tempfile.TemporaryDirectory()
        root = Path(self.tmp.name)
        self.store = JobStore(root / "jobs.db")
        self.sub = Submitor(Cluster("machine", "local"), store=self.store, jobs_dir=root / "jobs")
        self.expected: dict[str, tuple[JobState, int, int | None]] = {}  # root -> (state, attempts, exit code)

    @rule(code=st.sampled_from([0, 1, 3]), attempts=st.integers(1, 3), only_code_3=st.booleans())
    def submit_quick(self, code: int, attempts: int, only_code_3: bool) -> None:
        codes = (3,) if only_code_3 else None
        policy = RetryPolicy(max_attempts=attempts, retry_on_exit_codes=codes, backoff=FAST)
        handle = self.sub.submit_job(command=f"exit {code}", retry=policy)
        retried = code != 0 and (codes is None or code in codes)
        state = JobState.SUCCEEDED if code == 0 else JobState.FAILED
        self.expected[handle.job_id] = (state, attempts if retried else 1, code)

    @rule(target=slow_jobs)
    def submit_slow(self) -> str:
        handle = self.sub.submit_job(argv=["sleep", "30"], retry=RetryPolicy(max_attempts=2, backoff=FAST))
        self.expected[handle.job_id] = (JobState.RUNNING, 1, None)  # placeholder until cancelled
        return handle.job_id

    @rule()
    def submit_timeout(self) -> None:
        handle = self.sub.submit_job(argv=["sleep", "30"], resources=JobResources(time_limit=1))
        self.expected[handle.job_id] = (JobState.TIMED_OUT, 1, 143)

    @rule(job_id=consumes(slow_jobs))
    def cancel(self, job_id: str) -> None:
        self.sub.cancel_job(job_id)
        self.expected[job_id] = (JobState.CANCELLED, 1, None)  # cancellation is never retried

    @rule()
    def refresh(self) -> None:
        self.sub.refresh_jobs()

    @invariant()
    def families_are_well_formed(self) -> None:
        for root in self.expected:
            family = self.sub.get_retry_family(root)
            assert [r.attempt for r in family] == list(range(1, len(family) + 1))
            assert all(r.root_job_id == root for r in family)
            assert all(r.state.is_terminal for r in family[:-1])
            assert all(r.cluster_name == "machine" for r in family)

    def teardown(self) -> None:
        try:
            for root, (planned, attempts, code) in self.expected.items():
                state = planned
                if planned is JobState.RUNNING:
                    self.sub.cancel_job(root)
                    state = JobState.CANCELLED
                record = self.sub.watch_jobs([root], timeout=30)[0]
                assert record.state is state, (root, record)
                assert record.attempt == attempts, (root, record)
                if code is not None:
                    assert record.exit_code == code
            assert self.store.verify_projections() == []
        finally:
            self.sub.close()
            self.tmp.cleanup()


LocalLifecycle.TestCase.settings = settings(max_examples=10, stateful_step_count=8, deadline=None)
TestLocalLifecycle = LocalLifecycle.TestCase
