"""The real single-node Slurm of shared/ci/slurm-up, as the tests find it."""

from __future__ import annotations

import shutil
import subprocess

import pytest


def slurm_ready() -> bool:
    """Whether sbatch is on PATH and sinfo shows a node that can take jobs."""
    if shutil.which("sbatch") is None or shutil.which("sinfo") is None:
        return False
    try:
        done = subprocess.run(["sinfo", "-h", "-o", "%T"], capture_output=True, text=True, timeout=10, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return False
    return done.returncode == 0 and any(s.strip() in ("idle", "mixed", "allocated") for s in done.stdout.split())


NO_SLURM = "no Slurm cluster (run shared/ci/slurm-up as root)"
# A module's pytestmark when every test in it needs the real Slurm (a skip fails under CI=true).
SLURM_MARKS = [pytest.mark.slurm, pytest.mark.skipif(not slurm_ready(), reason=NO_SLURM)]
