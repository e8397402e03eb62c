"""Batch submission overhead (issue 20, item 4), measured only: N trivial jobs to the real Slurm.

molq's ``submit_job`` N times against the same N ``sbatch`` calls from a shell loop,
interleaved halves so that slurmctld's load drifts alike for both. Every job is
cancelled at the end. Nothing here changes how molq submits.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

from molq import Cluster, JobExecution, JobStore, Submitor


def unavailable() -> str | None:
    """Why the real Slurm cannot be used, or None."""
    if shutil.which("sbatch") is None or shutil.which("sinfo") is None:
        return "no Slurm commands on PATH"
    if subprocess.run(["sinfo", "-h"], capture_output=True, check=False).returncode != 0:
        return "sinfo failed: Slurm is not running"
    return None


def _shell_loop(n: int, out: Path) -> tuple[float, list[str]]:
    script = f"for i in $(seq {n}); do sbatch --parsable -o {out}/%j.out --wrap true || exit 1; done"
    start = time.perf_counter()
    done = subprocess.run(["bash", "-c", script], capture_output=True, text=True, check=True)
    return time.perf_counter() - start, done.stdout.split()


def _molq(n: int, sub: Submitor, cwd: str) -> tuple[float, list[str]]:
    start = time.perf_counter()
    handles = [sub.submit_job(command="true", execution=JobExecution(cwd=cwd)) for _ in range(n)]
    took = time.perf_counter() - start
    return took, [h.scheduler_job_id or "" for h in handles]


def submit_overhead(n: int) -> dict[str, Any]:
    """Seconds for ``n`` submissions through molq and through a shell loop of sbatch."""
    half = n // 2
    ids: list[str] = []
    with tempfile.TemporaryDirectory(prefix="molq-bench-batch-", dir=Path.home()) as tmp:
        store = JobStore(Path(tmp) / "jobs.db")
        sub = Submitor(Cluster("bench-batch", "slurm"), store=store, jobs_dir=tmp)
        try:
            shell_a, got = _shell_loop(half, Path(tmp))
            ids += got
            molq_a, got = _molq(half, sub, tmp)
            ids += got
            molq_b, got = _molq(n - half, sub, tmp)
            ids += got
            shell_b, got = _shell_loop(n - half, Path(tmp))
            ids += got
        finally:
            for chunk in range(0, len(ids), 500):
                subprocess.run(["scancel", *[i for i in ids[chunk : chunk + 500] if i]], check=False)
            sub.close()
            store.close()
    shell_s, molq_s = shell_a + shell_b, molq_a + molq_b
    return {
        "jobs": n,
        "molq_s": molq_s,
        "shell_loop_s": shell_s,
        "ratio": molq_s / shell_s,
        "molq_ms_per_job": molq_s / n * 1e3,
        "sbatch_ms_per_job": shell_s / n * 1e3,
    }
