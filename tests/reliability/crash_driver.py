"""Child process for the crash-safety harness: runs one operation in a loop until killed.

Usage: ``python crash_driver.py '<json config>'``. Prints ``ready`` once imports are
done, then ``seq <n>`` for every event whose transaction has committed (flushed at
once, so the parent can read it after a SIGKILL).
"""

from __future__ import annotations

import json
import sys
import time

from molq import Cluster, RetentionPolicy, Submitor
from molq.shell.store._store import JobStore


def _report_commits() -> None:
    original = JobStore.append_batch

    def append_batch(self, batch, *, now):  # type: ignore[no-untyped-def]
        recorded = original(self, batch, now=now)
        sys.stdout.write("".join(f"seq {r.seq}\n" for r in recorded))
        sys.stdout.flush()
        return recorded

    JobStore.append_batch = append_batch  # type: ignore[method-assign]


def main() -> None:
    config = json.loads(sys.argv[1])
    _report_commits()
    cluster = Cluster("crash", config["scheduler"])
    sub = Submitor(cluster, store=JobStore(config["store"]), jobs_dir=config["jobs_dir"])
    sub.reconciler.created_grace = 0.0
    print("ready", flush=True)
    op = config["op"]
    start = time.monotonic()
    for _ in range(config["rounds"]):
        if op == "submit":
            sub.submit_job(argv=config["argv"])
        elif op in ("reconcile", "retry"):
            sub.refresh_jobs()
        elif op == "cancel":
            for record in sub.list_jobs():
                sub.cancel_job(record.job_id)
        elif op == "cleanup":
            sub.cleanup_jobs(retention_policy=RetentionPolicy(0, 0, keep_failed_job_dirs=False))
    print(f"done {time.monotonic() - start:.4f}", flush=True)


if __name__ == "__main__":
    main()
