"""SIGKILL a molq process at random points; a fresh process must find everything intact.

Each trial runs ``crash_driver.py`` (submit / reconcile / retry / cancel / cleanup in a
loop) in a child process, kills it with SIGKILL after a random delay, then checks from
this process: the store opens; after a reconcile with ``created_grace=0`` every job
the scheduler knows under the jobs dir is in the store, adopted (same scheduler id) or
marked LOST with a reason; no job is left CREATED; projections verify; every seq the
child reported as committed is in the log; every stream's versions are 1..n.
"""

from __future__ import annotations

import json
import os
import random
import signal
import statistics
import subprocess
import sys
import time
from collections import Counter, defaultdict
from pathlib import Path

import pytest

from molq import Cluster, JobReconciler, JobState, JobStore, RetryBackoff, RetryPolicy, Submitor

from .conftest import sized, slurm_ids_under, slurm_ready


DRIVER = Path(__file__).with_name("crash_driver.py")
OPS = ("submit", "reconcile", "retry", "cancel", "cleanup")
TRIALS = sized("TRIALS", ci=10, soak=200)
SLURM_TRIALS = sized("SLURM_TRIALS", ci=5, soak=TRIALS)
ROUNDS = {"submit": 5, "reconcile": 1, "retry": 1, "cancel": 1, "cleanup": 1}
RETRY = RetryPolicy(max_attempts=3, backoff=RetryBackoff(mode="fixed", initial_seconds=0, maximum_seconds=0))
STATS: Counter[str] = Counter()
OUTCOMES: defaultdict[str, set[str]] = defaultdict(set)


def _adopted(store: JobStore, job_id: str) -> bool:
    return any(getattr(r.event, "adopted", False) for r in store.read_stream(job_id))


def _setup(op: str, sub: Submitor, kind: str) -> None:
    """Give the operation something to work on (run in this process, not killed)."""
    if op == "reconcile":
        for argv in (["true"], ["false"], ["sleep", "0.3"]):
            sub.submit_job(argv=argv)
    elif op == "retry":
        sub.submit_job(argv=["false"], retry=RETRY)
        time.sleep(0.3 if kind == "local" else 1.5)
        sub.refresh_jobs()  # the failure is seen, so the child's passes create retries
    elif op == "cancel":
        for _ in range(2):
            sub.submit_job(argv=["sleep", "60"])
    elif op == "cleanup":
        handles = [sub.submit_job(argv=["true"]) for _ in range(2)]
        sub.watch_jobs([h.job_id for h in handles], timeout=120)


class KillWindow:
    """Kill delays drawn from [0, 1.1 x the median uninterrupted run seen so far]."""

    def __init__(self) -> None:
        self.runs = [0.05]

    def draw(self, rng: random.Random) -> float:
        return rng.uniform(0.0, 1.1 * statistics.median(self.runs))

    def finished(self, seconds: float) -> None:
        self.runs.append(seconds)


def _run_child(config: dict[str, object], window: KillWindow, rng: random.Random) -> list[int]:
    proc = subprocess.Popen(
        [sys.executable, str(DRIVER), json.dumps(config)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    first = proc.stdout.readline()
    assert first == "ready\n", proc.stderr.read() if proc.stderr else first
    time.sleep(window.draw(rng))
    proc.send_signal(signal.SIGKILL)
    out, err = proc.communicate(timeout=60)
    done = [line.split()[1] for line in out.splitlines() if line.startswith("done ")]
    if done:
        window.finished(float(done[0]))
    STATS[
        f"{config['scheduler']} {config['op']} {'finished before the kill' if done else 'killed mid-operation'}"
    ] += 1
    assert proc.returncode in (-signal.SIGKILL, 0), err
    return [int(line.split()[1]) for line in out.splitlines() if line.startswith("seq ")]


def _known_to_scheduler(kind: str, jobs_dir: Path) -> dict[str, str]:
    """job dir -> scheduler id for every job the scheduler started under ``jobs_dir``."""
    if kind == "slurm":
        return {d: sid for sid, d in slurm_ids_under(jobs_dir).items()}
    known = {}
    for job_dir in {p.parent for p in [*jobs_dir.glob("*/wrapper.pid"), *jobs_dir.glob("*/pid")]}:
        # A wrapper's id is its own pid; a runner-started job's id is the job's pid, the
        # first line of ``pid`` (ADR 0016).
        wrapped = (job_dir / "wrapper.pid").exists()
        try:
            pid = (job_dir / ("wrapper.pid" if wrapped else "pid")).read_text().partition("\n")[0].strip()
        except FileNotFoundError:  # a cleanup killed mid-way removed part of the job dir
            continue
        if pid.isdigit() and (wrapped or (job_dir / "pid").read_text().count("\n") == 2):
            known[str(job_dir)] = pid  # the launcher has written its pid file
    return known


def check_after_crash(kind: str, store_path: Path, jobs_dir: Path, committed: list[int]) -> None:
    """The guarantees a fresh process must find after any crash."""
    store = JobStore(store_path)
    try:
        cluster = Cluster("crash", kind)
        JobReconciler(
            store, cluster.scheduler_impl, "crash", transport=cluster.transport, created_grace=0
        ).reconcile()
        records = store.list_records(None, include_archived=True)
        assert not [r.job_id for r in records if r.state is JobState.CREATED], "a job was left CREATED"
        by_dir = {r.metadata["molq.job_dir"]: r for r in records}
        for job_dir, sid in _known_to_scheduler(kind, jobs_dir).items():
            record = by_dir.get(job_dir)
            assert record is not None, f"scheduler job {sid} in {job_dir} is missing from the store"
            if record.scheduler_job_id == sid:
                OUTCOMES[f"{kind} scheduler jobs recorded or adopted"].add(job_dir)
            else:
                assert record.state is JobState.LOST, (sid, record)
                assert record.failure_reason, record
                OUTCOMES[f"{kind} scheduler jobs marked LOST with a reason"].add(job_dir)
        adopted = {
            r.metadata["molq.job_dir"] for r in records if r.scheduler_job_id and _adopted(store, r.job_id)
        }
        OUTCOMES[f"{kind} jobs adopted after an interrupted submission"] |= adopted
        assert store.verify_projections() == []
        log = list(store.read_all())
        missing = set(committed) - {r.seq for r in log}
        assert not missing, f"committed events missing from the log: {sorted(missing)}"
        versions: dict[str, list[int]] = {}
        for item in log:
            versions.setdefault(item.stream, []).append(item.version)
        for stream, seen in versions.items():
            assert seen == list(range(1, len(seen) + 1)), (stream, seen)
        STATS[f"{kind} committed seqs checked"] += len(committed)
    finally:
        store.close()


def _trials(kind: str, op: str, tmp_path: Path, jobs_dir: Path, trials: int) -> None:
    rng = random.Random(f"{kind}-{op}-{os.getpid()}-{time.time()}")
    store_path = tmp_path / "store" / "jobs.db"
    config = {"scheduler": kind, "store": str(store_path), "jobs_dir": str(jobs_dir), "op": op}
    config |= {"rounds": ROUNDS[op], "argv": ["true"]}
    window = KillWindow()
    for _ in range(trials):
        with Submitor(Cluster("crash", kind), store=JobStore(store_path), jobs_dir=jobs_dir) as sub:
            _setup(op, sub, kind)
        committed = _run_child(config, window, rng)
        check_after_crash(kind, store_path, jobs_dir, committed)
        STATS[f"{kind} {op} trials"] += 1


@pytest.mark.parametrize("op", OPS)
def test_local_backend_survives_sigkill(op, tmp_path, jobs_root):
    """Local backend: a SIGKILL anywhere in ``op`` loses and corrupts nothing."""
    _trials("local", op, tmp_path, jobs_root, TRIALS)


@pytest.mark.slurm
@pytest.mark.skipif(not slurm_ready(), reason="no Slurm cluster (run shared/ci/slurm-up as root)")
@pytest.mark.parametrize("op", OPS)
def test_slurm_backend_survives_sigkill(op, tmp_path, jobs_root):
    """Real Slurm: a SIGKILL anywhere in ``op`` loses and corrupts nothing."""
    _trials("slurm", op, tmp_path, jobs_root, SLURM_TRIALS)


def test_zz_report_crash_figures(capsys):
    """Print the tallies (run with -s to see them; the soak script does)."""
    with capsys.disabled():
        for key, value in sorted(STATS.items()):
            print(f"crash-safety: {key}: {value}")
        for key, dirs in sorted(OUTCOMES.items()):
            print(f"crash-safety: {key}: {len(dirs)} distinct")
