"""No two jobs ever share a job directory (issue 13, item 1).

Hypothesis picks job_dir_names from a tiny alphabet (so names and retry dirs collide:
``a``, ``a.attempt2``, ``a.attempt3``), exit codes and retry counts. Every job that is
accepted must run in a directory of its own and be recorded with its own exit code;
a name already taken must be refused with a ConfigError, recording nothing.
"""

from __future__ import annotations

from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from molq import Cluster, ConfigError, JobStore, RetryBackoff, RetryPolicy, Submitor


NAMES = st.sampled_from(["a", "a.attempt2", "a.attempt3", "b", None])
JOBS = st.lists(st.tuples(NAMES, st.integers(0, 3), st.integers(1, 3)), min_size=1, max_size=6)
FAST = RetryBackoff(initial_seconds=0.0, maximum_seconds=0.0)


@settings(max_examples=10, deadline=None)
@given(jobs=JOBS)
def test_every_job_has_its_own_dir(tmp_path_factory, jobs):
    """Accepted jobs never share a directory and each records its own exit code."""
    root = tmp_path_factory.mktemp("dirs")
    store = JobStore(root / "jobs.db")
    expected: dict[str, int] = {}
    with Submitor(Cluster("laptop", "local"), store=store, jobs_dir=root / "jobs") as sub:
        for name, code, attempts in jobs:
            taken = name is not None and (root / "jobs" / name).exists()
            events_before = store.last_seq()
            try:
                handle = sub.submit_job(
                    command=f"exit {code}", job_dir_name=name, retry=RetryPolicy(max_attempts=attempts, backoff=FAST)
                )
            except ConfigError:
                assert taken
                assert store.last_seq() == events_before
                continue
            assert not taken
            sub.watch_jobs([handle.job_id], timeout=60)
            expected[handle.job_id] = code
        dirs: list[str] = []
        for root_id, code in expected.items():
            for record in sub.get_retry_family(root_id):
                assert record.exit_code == code, record
                dirs.append(record.metadata["molq.job_dir"])
        assert len(dirs) == len(set(dirs)), sorted(dirs)
        assert all(Path(d).is_dir() for d in dirs)
