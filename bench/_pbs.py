"""PBS commands per poll: one reconcile pass over N active jobs, on simulated qstat output.

The answers have the shape of the real captures in ``tests/fixtures/pbs`` (OpenPBS
23.06 JSON, Slurm's Torque-wrapper text); thousands of real jobs would measure the
PBS server, not molq. Goal (issue 14): one status command plus at most one history
command per poll, whatever the number of jobs.
"""

from __future__ import annotations

import json
import tempfile
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from molq import JobReconciler, JobStore
from molq.core import Completed
from molq.shell.schedulers._pbs import PBSScheduler, PBSSchedulerOptions
from molq.shell.transport._local import LocalTransport

from ._fixtures import submitted_jobs


SERVER = "pbshost"


class SimPbs(LocalTransport):
    """``queue`` jobs are listed by qstat; ``finished`` ones only by ``qstat -x`` (pro) or as C (torque)."""

    def __init__(self, dialect: str) -> None:
        self.dialect = dialect
        self.queue: dict[str, str] = {}
        self.finished: set[str] = set()
        self.calls: Counter[str] = Counter()

    def run(self, argv: Sequence[str], **_: object) -> Completed:  # type: ignore[override]
        """Answer qstat in the dialect's format; count every call by its flags."""
        args = list(argv[1:])
        flags = " ".join(a for a in args if a.startswith("-"))
        self.calls[f"{Path(argv[0]).name} {flags}".strip()] += 1
        if "--version" in args:
            out = "pbs_version = 23.06.06\n" if self.dialect == "pro" else ""
            return Completed(argv=tuple(argv), returncode=0 if out else 2, stdout=out, stderr="")
        if self.dialect == "torque":
            return self._ok(argv, self._torque_text())
        wanted = [a for a in args if not a.startswith("-") and a != "json"]
        if "-x" in args:
            return self._ok(argv, self._json({i: ("F", 0) for i in wanted if i.split(".")[0] in self.finished}))
        return self._ok(argv, self._json({i: (s, None) for i, s in self.queue.items()}))

    @staticmethod
    def _ok(argv: Sequence[str], stdout: str) -> Completed:
        return Completed(argv=tuple(argv), returncode=0, stdout=stdout, stderr="")

    @staticmethod
    def _json(jobs: dict[str, tuple[str, int | None]]) -> str:
        body = {}
        for job, (state, code) in jobs.items():
            attrs: dict[str, Any] = {"Job_Name": f"molq-{job}", "Job_Owner": f"root@{SERVER}", "job_state": state}
            attrs |= {"Exit_status": code, "substate": 92, "exec_host": f"{SERVER}/0"} if code is not None else {}
            body[f"{job.split('.')[0]}.{SERVER}"] = attrs
        return json.dumps({"pbs_version": "23.06.06", "pbs_server": SERVER, "Jobs": body})

    def _torque_text(self) -> str:
        rows = [(i, s) for i, s in self.queue.items()] + [(i, "C") for i in self.finished]
        return "".join(f"Job Id:\t{i}\n\tJob_Name = molq-{i}\n\tjob_state = {s}\n\tqueue = debug\n\n" for i, s in rows)


def poll_commands(n: int, dialect: str, *, left_fraction: float = 0.05) -> dict[str, Any]:
    """Scheduler commands in one reconcile pass over ``n`` active PBS jobs, some of which left the queue."""
    with tempfile.TemporaryDirectory(prefix="molq-bench-pbs-") as tmp:
        sim = SimPbs(dialect)
        store = JobStore(Path(tmp) / "jobs.db")
        sids = submitted_jobs(store, n, cluster="sim", scheduler="pbs")
        left = max(1, int(n * left_fraction))
        sim.queue.update(dict.fromkeys(sids[left:], "R"))
        sim.finished.update(sids[:left])
        scheduler = PBSScheduler(sim, PBSSchedulerOptions(flavor="auto"))
        assert scheduler.dialect == dialect  # the once-per-scheduler probe, not part of a poll
        sim.calls.clear()
        JobReconciler(store, scheduler, "sim", transport=sim).reconcile()
        ended = sum(r.state.is_terminal for r in store.list_records("sim"))
        store.close()
    return {"commands": dict(sim.calls), "total": sum(sim.calls.values()), "left_queue": left, "ended": ended}


def figures(sizes: Sequence[int]) -> dict[str, dict[str, Any]]:
    """``pbs_poll_commands_{N}`` (OpenPBS) and ``pbs_torque_poll_commands_{N}``, in bench's figure format."""
    out: dict[str, dict[str, Any]] = {}
    for n in sizes:
        for dialect, name, most in (("pro", f"pbs_poll_commands_{n}", 2), ("torque", f"pbs_torque_poll_commands_{n}", 1)):
            calls = poll_commands(n, dialect)
            target = "1 qstat listing + 1 qstat -x" if dialect == "pro" else "1 qstat listing"
            out[name] = {
                "value": calls["total"],
                "unit": "commands/poll",
                "target": target,
                "meets": calls["total"] <= most and calls["ended"] == calls["left_queue"],
                "detail": {"jobs": n, "left_queue": calls["left_queue"], "ended": calls["ended"], **calls["commands"]},
            }
    return out
