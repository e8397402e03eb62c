"""Local-backend figures: sequential submit+wait, bulk throughput, and the fork+exec floor.

Each measurement works in a new directory under ``scratch`` and leaves it there: the
caller removes ``scratch`` once every figure is taken. Deleting thousands of job files
between measurements slowed this VM's file-system metadata operations for minutes
afterwards (bench/README.md), which would charge the benchmark's own cleanup to molq.
"""

from __future__ import annotations

import subprocess
import tempfile
import time
from pathlib import Path

from molq import Cluster, JobStore, Submitor


def fork_exec_floor(n: int) -> float:
    """Seconds per job for plain fork+exec of ``/bin/true`` and a wait."""
    start = time.perf_counter()
    for _ in range(n):
        subprocess.Popen(["/bin/true"]).wait()
    return (time.perf_counter() - start) / n


def _submitor(tmp: Path) -> Submitor:
    store = JobStore(tmp / "jobs.db")
    return Submitor(Cluster("bench", "local"), store=store, jobs_dir=tmp / "jobs")


def sequential(n: int, scratch: Path) -> float:
    """Seconds per job: submit one trivial job, wait for it, repeat."""
    submitor = _submitor(Path(tempfile.mkdtemp(prefix="seq-", dir=scratch)))
    submitor.submit_job(argv=["/bin/true"]).wait(timeout=60)  # warm-up
    start = time.perf_counter()
    for _ in range(n):
        record = submitor.submit_job(argv=["/bin/true"]).wait(timeout=60)
        if record.state.value != "succeeded":
            msg = f"job ended {record.state.value}: {record.failure_reason}"
            raise RuntimeError(msg)
    elapsed = time.perf_counter() - start
    submitor.close()
    return elapsed / n


def bulk(n: int, scratch: Path) -> dict[str, float]:
    """Submit ``n`` trivial jobs, then wait for all; jobs/s overall and per phase."""
    submitor = _submitor(Path(tempfile.mkdtemp(prefix="bulk-", dir=scratch)))
    start = time.perf_counter()
    handles = [submitor.submit_job(argv=["/bin/true"]) for _ in range(n)]
    submitted = time.perf_counter()
    records = submitor.watch_jobs([h.job_id for h in handles], timeout=600)
    done = time.perf_counter()
    submitor.close()
    bad = [r for r in records if r.state.value != "succeeded"]
    if bad:
        msg = f"{len(bad)} jobs did not succeed, e.g. {bad[0].state.value}: {bad[0].failure_reason}"
        raise RuntimeError(msg)
    return {
        "jobs_per_s": n / (done - start),
        "submit_s": submitted - start,
        "wait_s": done - submitted,
    }
