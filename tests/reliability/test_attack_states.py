"""Issue 13, wrong states: each attack that once recorded a wrong outcome, replayed.

Every job here is a real local process; each test names the item of issue 13 it replays.
"""

from __future__ import annotations

from molq import Cluster, JobState, RetryBackoff, RetryPolicy, Submitor


def test_huge_backoff_factor_retries_to_the_end(store, tmp_path):
    """Item 3: factor=1e200 overflowed at attempt 3; every attempt now runs and ends FAILED."""
    sub = Submitor(Cluster("laptop", "local"), store=store, jobs_dir=tmp_path / "jobs")
    backoff = RetryBackoff(initial_seconds=0.01, maximum_seconds=0.05, factor=1e200)
    handle = sub.submit_job(command="exit 3", retry=RetryPolicy(max_attempts=4, backoff=backoff))
    final = handle.wait(timeout=60)
    family = sub.get_retry_family(handle.job_id)
    assert final.state == JobState.FAILED
    assert [r.attempt for r in family] == [1, 2, 3, 4]
    assert all(r.state == JobState.FAILED for r in family)
    sub.run_daemon(once=True)  # a pass over the family raises nothing
