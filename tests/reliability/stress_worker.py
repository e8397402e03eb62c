"""Child process for the concurrency test: a writer, a reconciling daemon or a monitor.

Usage: ``python stress_worker.py ROLE STORE JOBS_DIR COUNT STOP_FILE``. Prints one
``job <id>`` per submission (writers), ``seq <n>`` per committed event, and
``error <type>: <message>`` for every exception that reached this caller.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

from molq import Cluster, Submitor
from molq.shell.store._store import JobStore


def _report_commits() -> None:
    original = JobStore.append_batch

    def append_batch(self, batch, *, now):  # type: ignore[no-untyped-def]
        recorded = original(self, batch, now=now)
        sys.stdout.write("".join(f"seq {r.seq}\n" for r in recorded))
        sys.stdout.flush()
        return recorded

    JobStore.append_batch = append_batch  # type: ignore[method-assign]


def _guarded(step) -> None:  # type: ignore[no-untyped-def]
    try:
        step()
    except Exception as exc:
        print(f"error {type(exc).__name__}: {exc}", flush=True)


def main() -> None:
    role, store, jobs_dir, count, stop = sys.argv[1:6]
    _report_commits()
    sub = Submitor(Cluster("stress", "local"), store=JobStore(store), jobs_dir=jobs_dir)
    stop_file = Path(stop)
    if role == "writer":
        for _ in range(int(count)):
            _guarded(lambda: print(f"job {sub.submit_job(argv=['true']).job_id}", flush=True))
        return
    while not stop_file.exists():
        if role == "daemon":
            _guarded(lambda: sub.run_daemon(once=True, run_cleanup=False))
        else:
            _guarded(
                lambda: [sub.store.transitions(r.job_id) for r in sub.list_jobs(include_terminal=True)[:50]]
            )
        time.sleep(0.01)


if __name__ == "__main__":
    main()
