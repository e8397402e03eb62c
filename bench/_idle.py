"""Waiting is idle (issue 20, item 2): CPU seconds per wall second of a blocked ``wait``.

Two situations: 100 local jobs that sleep while ``watch_jobs`` waits (cut off by a timeout
before they end, so the figure is the waiting alone, not the work of recording 100 ends),
and one job whose retry backs off for a few seconds between attempts.
"""

from __future__ import annotations

import contextlib
import resource
import tempfile
import time
from pathlib import Path

from molq import Cluster, JobStore, MolqTimeoutError, RetryBackoff, RetryPolicy, Submitor


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _submitor(tmp: str) -> Submitor:
    return Submitor(Cluster("bench-idle", "local"), store=JobStore(Path(tmp) / "jobs.db"), jobs_dir=Path(tmp) / "jobs")


def waiting_on_running_jobs(n: int, seconds: float) -> dict[str, float]:
    """CPU/wall of ``watch_jobs`` over ``n`` sleeping jobs for ``seconds`` (they outlive it)."""
    with tempfile.TemporaryDirectory(prefix="molq-bench-idle-") as tmp:
        sub = _submitor(tmp)
        handles = [sub.submit_job(argv=["sleep", str(seconds + 30)]) for _ in range(n)]
        wall0, cpu0 = time.monotonic(), _cpu()
        with contextlib.suppress(MolqTimeoutError):  # the jobs outlive the wait on purpose
            sub.watch_jobs([h.job_id for h in handles], timeout=seconds)
        wall, cpu = time.monotonic() - wall0, _cpu() - cpu0
        for handle in handles:
            handle.cancel()
        sub.close()
    return {"jobs": n, "wall_s": wall, "cpu_s": cpu, "cpu_per_wall": cpu / wall}


def waiting_through_backoff(seconds: float) -> dict[str, float]:
    """CPU/wall of ``wait()`` on a job whose one retry backs off ``seconds``."""
    backoff = RetryBackoff(mode="fixed", initial_seconds=seconds, maximum_seconds=seconds)
    with tempfile.TemporaryDirectory(prefix="molq-bench-idle-") as tmp:
        sub = _submitor(tmp)
        handle = sub.submit_job(command="exit 1", retry=RetryPolicy(max_attempts=2, backoff=backoff))
        wall0, cpu0 = time.monotonic(), _cpu()
        handle.wait(timeout=seconds + 60)
        wall, cpu = time.monotonic() - wall0, _cpu() - cpu0
        sub.close()
    return {"backoff_s": seconds, "wall_s": wall, "cpu_s": cpu, "cpu_per_wall": cpu / wall}
