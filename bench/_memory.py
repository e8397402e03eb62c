"""Child process for the memory figure: watch N simulated SLURM jobs until they finish, print peak RSS."""

from __future__ import annotations

import json
import resource
import sys


def _hwm_mb() -> float:
    # VmHWM is this process's own peak; ru_maxrss would include the parent's, copied at fork.
    for line in open("/proc/self/status").read().splitlines():  # noqa: SIM115
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    from molq import Cluster, JobStore, Submitor
    from molq.core._polling import FixedStrategy

    from ._sim import SimSlurm

    path, n = sys.argv[1], int(sys.argv[2])
    before = _hwm_mb()

    class Finishing(SimSlurm):
        """Jobs run for three polls, then all leave the queue COMPLETED."""

        def run(self, argv, **kwargs):  # type: ignore[no-untyped-def,override]
            if argv[0] == "squeue" and self.calls["squeue"] >= 3 * -(-n // 500):
                self.leave_queue(list(self.queue))
            return super().run(argv, **kwargs)

    sim = Finishing()
    store = JobStore(path)
    sim.queue.update({r.scheduler_job_id: "RUNNING" for r in store.list_records("sim") if r.scheduler_job_id})
    submitor = Submitor(Cluster("sim", "slurm", transport=sim), store=store, polling_strategy=FixedStrategy(0.0))
    records = submitor.watch_jobs(timeout=600)
    assert len(records) == n
    assert all(r.state.value == "succeeded" for r in records)
    peak = _hwm_mb()
    print(json.dumps({"peak_rss_mb": peak, "rss_before_watch_mb": before}))


if __name__ == "__main__":
    main()
