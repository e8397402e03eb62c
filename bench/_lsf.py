"""LSF commands per poll: one reconcile pass over N active jobs on simulated OpenLava output.

The transport answers ``bjobs -V``, ``bjobs -a -l -UF`` and ``bhist -l`` in the
format captured from OpenLava 4.0 (tests/fixtures/lsf/openlava_*.txt) and counts
every call; thousands of real jobs would measure mbatchd rather than molq.
"""

from __future__ import annotations

import tempfile
from collections import Counter
from collections.abc import Sequence
from pathlib import Path

from molq import JobReconciler, JobStore
from molq.core import Completed
from molq.shell.schedulers._lsf import LSFScheduler
from molq.shell.transport._local import LocalTransport

from ._fixtures import submitted_jobs


BANNER = "OpenLava 4.0dev4, Dec  2 2026\n"
SEPARATOR = "-" * 78


def _bjobs_record(job: str, stat: str) -> str:
    started = "" if stat == "PEND" else "\nWed Dec  2 11:02:04: Started on <vm>, Execution Home </root>, Execution CWD </tmp>;"
    return (
        f"Job <{job}>, Job Name <j{job}>, User <root>, Project <default>, Status <{stat}>, Queue <normal>, "
        f"Command <sleep 60>\nWed Dec  2 11:02:03: Submitted from host <vm>, CWD </tmp>;{started}\n"
    )


def _bhist_record(job: str) -> str:
    return (
        f"Job Id <{job}>, Job Name <j{job}>, User <root>, Project <default>, Command <true>\n"
        "Wed Dec  2 11:02:03: Submitted from host <vm> to Queue <normal>, CWD </tmp>;\n"
        "Wed Dec  2 11:02:04: Starting (Pid 1);\n"
        "Wed Dec  2 11:02:05: Done successfully. The CPU time used is 0.0 seconds;\n"
    )


class SimOpenLava(LocalTransport):
    """Jobs in ``queue`` show in bjobs with their status; ``finished`` ones only in bhist."""

    def __init__(self) -> None:
        self.queue: dict[str, str] = {}
        self.finished: set[str] = set()
        self.calls: Counter[str] = Counter()

    def run(self, argv: Sequence[str], **_: object) -> Completed:  # type: ignore[override]
        """Answer bjobs -V, bjobs -l and bhist -l; anything else fails."""
        program = argv[0]
        ids = [a for a in argv[1:] if not a.startswith("-")]
        if list(argv) == ["bjobs", "-V"]:
            self.calls["version"] += 1
            return Completed(tuple(argv), 0, "", BANNER)
        self.calls[program] += 1
        if program == "bjobs":
            jobs = ids or list(self.queue)
            text = f"\n{SEPARATOR}\n".join(_bjobs_record(j, self.queue[j]) for j in jobs if j in self.queue)
            missing = "".join(f"Job <{j}> is not found\n" for j in ids if j not in self.queue)
            return Completed(tuple(argv), 255 if missing else 0, text, missing)
        if program == "bhist":
            text = f"{SEPARATOR}\n".join(_bhist_record(j) for j in ids if j in self.finished)
            return Completed(tuple(argv), 0, text, "")
        return Completed(tuple(argv), 1, "", f"{program}: not simulated")


def poll_commands(n: int, *, left_fraction: float = 0.05) -> dict[str, int]:
    """Commands in one reconcile pass over ``n`` active LSF jobs, some of which left bjobs.

    ``version`` is the ``bjobs -V`` that detects the dialect, once per cluster, not per poll.
    """
    with tempfile.TemporaryDirectory(prefix="molq-bench-lsf-") as tmp:
        sim = SimOpenLava()
        store = JobStore(Path(tmp) / "jobs.db")
        sids = submitted_jobs(store, n, cluster="sim", scheduler="lsf")
        left = max(1, int(n * left_fraction))
        sim.queue.update(dict.fromkeys(sids[left:], "RUN"))
        sim.finished.update(sids[:left])
        reconciler = JobReconciler(store, LSFScheduler(sim), "sim", transport=sim)
        report = reconciler.reconcile()
        store.close()
    assert not report.errors, report.errors
    return {
        "bjobs": sim.calls["bjobs"],
        "bhist": sim.calls["bhist"],
        "version": sim.calls["version"],
        "other": sum(sim.calls.values()) - sim.calls["bjobs"] - sim.calls["bhist"] - sim.calls["version"],
        "expected_bjobs": 1,
        "expected_bhist": 1,
        "left_bjobs": left,
    }
