"""Threads sharing one Submitor and JobStore (issue 13, item 12): never an error, never a stranded job.

Hypothesis picks, for each of several threads, a sequence of operations (submit,
cancel, reconcile, cleanup, wait) that they run at once against one Submitor over a
local cluster. Afterwards every job must have its submission recorded, every family
must reach a final state, and the projections must match the log.
"""

from __future__ import annotations

import threading

from hypothesis import given, settings
from hypothesis import strategies as st

from molq import Cluster, JobState, JobStore, RetentionPolicy, RetryBackoff, RetryPolicy, Submitor


OPS = st.sampled_from(["submit", "submit", "submit_failing", "cancel", "refresh", "cleanup", "wait"])
PLANS = st.lists(st.lists(OPS, min_size=1, max_size=6), min_size=2, max_size=5)
FAST = RetryPolicy(max_attempts=2, backoff=RetryBackoff(initial_seconds=0.0, maximum_seconds=0.0))
ALL_GONE = RetentionPolicy(keep_job_dirs_for_days=0, keep_terminal_records_for_days=0, keep_failed_job_dirs=False)


def _run(sub: Submitor, op: str, ids: list[str]) -> None:
    if op == "submit":
        ids.append(sub.submit_job(argv=["sleep", "0.05"]).job_id)
    elif op == "submit_failing":
        ids.append(sub.submit_job(command="exit 2", retry=FAST).job_id)
    elif op == "cancel" and ids:
        sub.cancel_job(ids[-1])
    elif op == "refresh":
        sub.refresh_jobs()
    elif op == "cleanup":
        sub.cleanup_jobs(retention_policy=ALL_GONE)
    elif op == "wait" and ids:
        sub.watch_jobs(list(ids), timeout=60)


@settings(max_examples=25, deadline=None)
@given(plans=PLANS)
def test_threads_sharing_a_submitor(tmp_path_factory, plans):
    """Any mix of operations from several threads: no error, no job left CREATED, projections exact."""
    root = tmp_path_factory.mktemp("threads")
    store = JobStore(root / "jobs.db")
    sub = Submitor(Cluster("laptop", "local"), store=store, jobs_dir=root / "jobs")
    ids: list[str] = []
    errors: list[BaseException] = []

    def run(plan: list[str]) -> None:
        try:
            for op in plan:
                _run(sub, op, ids)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(plan,)) for plan in plans]
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert errors == []
        final = sub.watch_jobs(list(ids), timeout=60)
        assert all(r.state.is_terminal for r in final)
        for job_id in ids:
            for record in sub.get_retry_family(job_id):
                assert record.state != JobState.CREATED
                assert record.scheduler_job_id is not None or record.state == JobState.CANCELLED
        assert store.verify_projections() == []
    finally:
        sub.close()
