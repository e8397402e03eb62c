"""Shared helpers for the reliability suite: trial counts, Slurm detection, job clean-up.

CI runs a sample; ``MOLQ_SOAK=1`` runs the full sizes. Every count can be overridden:
``MOLQ_SOAK_TRIALS`` (crash trials per operation and backend), ``MOLQ_SOAK_WRITERS``
and ``MOLQ_SOAK_SUBMISSIONS`` (concurrency), ``MOLQ_SOAK_EXAMPLES`` (hypothesis).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
from pathlib import Path

import pytest


SOAK = os.environ.get("MOLQ_SOAK", "") not in ("", "0")


def sized(name: str, *, ci: int, soak: int) -> int:
    """``$MOLQ_SOAK_<name>`` if set, else the soak or CI default."""
    value = os.environ.get(f"MOLQ_SOAK_{name}")
    if value:
        return int(value)
    return soak if SOAK else ci


def slurm_ready() -> bool:
    """Whether a real Slurm cluster answers."""
    if shutil.which("sbatch") is None or shutil.which("sinfo") is None:
        return False
    try:
        done = subprocess.run(
            ["sinfo", "-h", "-o", "%T"], capture_output=True, text=True, check=False, timeout=20
        )
    except (OSError, subprocess.TimeoutExpired):
        return False
    return done.returncode == 0 and bool(done.stdout.strip())


def kill_local_jobs(jobs_dir: Path) -> None:
    """SIGKILL the process groups of local jobs started under ``jobs_dir`` (by recorded pid)."""
    for name in ("pid", "wrapper.pid"):
        for pid_file in jobs_dir.glob(f"*/{name}"):
            text = pid_file.read_text().partition("\n")[0].strip()  # a runner's second line: itself
            if text.isdigit() and _runs_under(int(text), jobs_dir):
                for kill in (os.killpg, os.kill):
                    with contextlib.suppress(ProcessLookupError, PermissionError):
                        kill(int(text), signal.SIGKILL)


def _runs_under(pid: int, jobs_dir: Path) -> bool:
    """Whether ``pid`` is still one of our job processes (guards against pid reuse)."""
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return False
    return str(jobs_dir).encode() in cmdline


def slurm_ids_under(jobs_dir: Path) -> dict[str, str]:
    """Slurm job id -> job dir, for every job (any state) whose script lies under ``jobs_dir``."""
    done = subprocess.run(
        ["squeue", "--me", "-h", "-t", "all", "-o", "%i|%o"],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    found = {}
    prefix = f"{jobs_dir}/"
    for line in done.stdout.splitlines():
        sid, _, script = line.strip().partition("|")
        if script.startswith(prefix):
            found[sid] = script.rsplit("/", 1)[0]
    return found


def cancel_slurm_under(jobs_dir: Path) -> None:
    """scancel every Slurm job this suite started under ``jobs_dir``."""
    ids = sorted(slurm_ids_under(jobs_dir))
    if ids:
        subprocess.run(["scancel", *ids], capture_output=True, check=False, timeout=60)


@pytest.fixture
def jobs_root(tmp_path: Path):
    """A jobs directory whose local processes and Slurm jobs are ended after the test."""
    root = tmp_path / "jobs"
    root.mkdir()
    yield root
    kill_local_jobs(root)
    if slurm_ready():
        cancel_slurm_under(root)
