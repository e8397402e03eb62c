"""Where the real PBS dialects are on this machine, and whether they are up.

Import explicitly (not a conftest): shared by the integration, SSH and conformance tests.
  * ``pbs``: OpenPBS 23.06 (``shared/ci/pbs/pbs-up``), clients in /opt/pbs/bin.
  * ``pbs-torque``: Slurm's Torque-style wrappers (``MOLQ_CI_SLURM_TORQUE=1 slurm-up``), /usr/bin.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

from molq import Cluster
from molq.shell.schedulers._pbs import PBSSchedulerOptions


BIN_DIRS = {"pbs": "/opt/pbs/bin", "pbs-torque": "/usr/bin"}
DIALECTS = {"pbs": "pro", "pbs-torque": "torque"}


def options(kind: str, **overrides: object) -> PBSSchedulerOptions:
    """Scheduler options reaching ``kind``'s clients whatever PATH says; the dialect is detected."""
    return PBSSchedulerOptions(bin_dir=BIN_DIRS[kind], **overrides)  # type: ignore[arg-type]


def cluster(kind: str, name: str | None = None, **kwargs: object) -> Cluster:
    """A ``pbs`` Cluster for ``kind`` (``host=`` for SSH goes through ``kwargs``)."""
    return Cluster(name or kind, "pbs", scheduler_options=options(kind), **kwargs)  # type: ignore[arg-type]


def not_ready(kind: str) -> str | None:
    """Why ``kind`` cannot be used here, or None when its server answers."""
    qstat = Path(BIN_DIRS[kind]) / "qstat"
    if not qstat.exists():
        return f"{qstat} is missing (run shared/ci/pbs/pbs-up, or slurm-up with MOLQ_CI_SLURM_TORQUE=1)"
    probe = [str(qstat), "-B"] if kind == "pbs" else ["sinfo", "-h", "-o", "%T"]
    try:
        done = subprocess.run(probe, capture_output=True, text=True, timeout=20, check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"{kind} server does not answer: {exc}"
    if done.returncode != 0:
        return f"{kind} server does not answer: {done.stderr.strip()[:200]}"
    return None
