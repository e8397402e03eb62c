"""Many processes on one store: no lock errors, no lost or duplicated events, order kept.

CI: 4 writers x 50 submissions; soak (``MOLQ_SOAK=1``): 8 x 500. A daemon reconciles
and a monitor reads the whole time; every job is a real local ``true`` process.
"""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

from molq import JobState, JobStore

from .conftest import sized


WORKER = Path(__file__).with_name("stress_worker.py")
WRITERS = sized("WRITERS", ci=4, soak=8)
SUBMISSIONS = sized("SUBMISSIONS", ci=50, soak=500)


def _start(role: str, store: Path, jobs: Path, count: int, stop: Path) -> subprocess.Popen[str]:
    argv = [sys.executable, str(WORKER), role, str(store), str(jobs), str(count), str(stop)]
    return subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def test_writers_daemon_and_monitor_share_one_store(tmp_path, jobs_root):
    """Zero errors surfaced, every committed event present once, per-job order intact."""
    store_path, stop = tmp_path / "store" / "jobs.db", tmp_path / "stop"
    JobStore(store_path).close()
    started = time.monotonic()
    background = [_start(role, store_path, jobs_root, 0, stop) for role in ("daemon", "monitor")]
    writers = [_start("writer", store_path, jobs_root, SUBMISSIONS, stop) for _ in range(WRITERS)]
    outputs = [p.communicate(timeout=1800) for p in writers]
    stop.touch()
    outputs += [p.communicate(timeout=300) for p in background]
    elapsed = time.monotonic() - started
    lines = [line for out, _ in outputs for line in out.splitlines()]
    errors = [line for line in lines if line.startswith("error ")]
    assert errors == [], errors[:5]
    assert all(p.returncode == 0 for p in writers + background), [err for _, err in outputs if err][:3]
    committed = [int(line.split()[1]) for line in lines if line.startswith("seq ")]
    jobs = [line.split()[1] for line in lines if line.startswith("job ")]
    assert len(jobs) == WRITERS * SUBMISSIONS
    assert len(committed) == len(set(committed)), "a seq was reported twice"
    with JobStore(store_path) as store:
        log = list(store.read_all())
        assert sorted(committed) == [r.seq for r in log], "lost or phantom events"
        last: dict[str, tuple[int, int]] = {}
        for item in log:  # versions rise by one per stream, in seq order
            seq, version = last.get(item.stream, (0, 0))
            assert item.version == version + 1, item
            assert item.seq > seq, item
            last[item.stream] = (item.seq, item.version)
        for job_id in jobs:
            tags = [type(r.event).__name__ for r in store.read_stream(job_id)]
            assert tags[:2] == ["JobCreated", "JobSubmitted"], tags
        assert store.verify_projections() == []
        states = {r.state for r in store.list_records("stress")}
        assert JobState.CREATED not in states
    print(
        f"\nconcurrency: {WRITERS}x{SUBMISSIONS} submissions, {len(log)} events in {elapsed:.1f}s, 0 errors"
    )
