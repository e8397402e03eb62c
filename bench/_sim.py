"""Simulated SLURM: a Transport that answers squeue/sacct from a table, counting every call.

Used for the poll-cost, reconcile-CPU and memory figures, where thousands of real
jobs would measure slurmctld rather than molq.
"""

from __future__ import annotations

import itertools
from collections import Counter
from collections.abc import Mapping, Sequence

from molq.core import Completed
from molq.shell.transport._local import LocalTransport


def _ids(argv: Sequence[str], pool: Mapping[str, str]) -> list[str]:
    """The ids ``-j`` names, or every id in ``pool`` (``squeue --me``, ``sacct -S``)."""
    return argv[list(argv).index("-j") + 1].split(",") if "-j" in argv else list(pool)


class SimSlurm(LocalTransport):
    """Jobs in ``queue`` show in squeue with their state; ``finished`` ones only in sacct."""

    def __init__(self) -> None:
        self.queue: dict[str, str] = {}
        self.finished: dict[str, str] = {}
        self.calls: Counter[str] = Counter()
        self._next_id = itertools.count(1000)

    def run(  # type: ignore[override]
        self, argv: Sequence[str], *, env: Mapping[str, str] | None = None, **_: object
    ) -> Completed:
        """Answer sbatch, squeue and sacct; anything else fails."""
        program = argv[0]
        self.calls[program] += 1
        if program == "sbatch":
            job = str(next(self._next_id))
            self.queue[job] = "PENDING"
            return Completed(argv=tuple(argv), returncode=0, stdout=f"{job}\n", stderr="")
        if program == "squeue":
            lines = [f"{i}|{self.queue[i]}|1700000000|N/A|None" for i in _ids(argv, self.queue) if i in self.queue]
            return Completed(argv=tuple(argv), returncode=0, stdout="\n".join(lines) + "\n", stderr="")
        if program == "sacct":
            lines = [
                f"{i}|{self.finished[i]}|0:0|1700000000|1700000100" for i in _ids(argv, self.finished) if i in self.finished
            ]
            return Completed(argv=tuple(argv), returncode=0, stdout="\n".join(lines) + "\n", stderr="")
        return Completed(argv=tuple(argv), returncode=1, stdout="", stderr=f"{program}: not simulated")

    def set_all(self, state: str) -> None:
        """Every queued job now shows ``state`` in squeue."""
        for job in self.queue:
            self.queue[job] = state

    def leave_queue(self, jobs: Sequence[str], state: str = "COMPLETED") -> None:
        """``jobs`` drop out of squeue and appear in sacct with ``state``."""
        for job in jobs:
            self.queue.pop(job, None)
            self.finished[job] = state
