"""Sweeps, job context, subscriptions and duration limits against the real Slurm cluster."""

from __future__ import annotations

import sys
import textwrap
import time
from pathlib import Path

import pytest
from tests.slurm import SLURM_MARKS

from molq import Cluster, JobState, Submitor
from molq.core._events import JobCheckpointSaved, JobLogged


pytestmark = SLURM_MARKS


@pytest.fixture
def hpc(store, tmp_path):
    sub = Submitor(Cluster("hpc", "slurm"), store=store, jobs_dir=tmp_path / "jobs")
    yield sub
    for sweep in sub.list_sweeps(include_final=False):
        sub.cancel_sweep(sweep.sweep_id)
    for record in sub.list_jobs():
        sub.cancel_job(record.job_id)


def test_sweep_runs_every_cell_within_max_parallel(hpc, tmp_path):
    """Cells run as Slurm jobs with their arguments; at most max_parallel are active."""
    out = tmp_path / "out"
    out.mkdir()
    sweep = hpc.submit_sweep(
        argv=["sh", "-c", f"echo $0 > {out}/{{x}}.txt", "{x}"], matrix={"x": ["a", "b", "c"]}, max_parallel=2
    )
    peak = 0
    deadline = time.monotonic() + 180
    while not hpc.get_sweep(sweep.sweep_id).is_final and time.monotonic() < deadline:
        hpc.refresh_jobs()
        status = hpc.get_sweep(sweep.sweep_id)
        active = sum(
            n for state, n in status.counts if state in ("created", "submitted", "queued", "running")
        )
        peak = max(peak, active)
        time.sleep(0.3)
    status = hpc.get_sweep(sweep.sweep_id)
    assert status.state == "succeeded"
    assert status.count("succeeded") == 3
    assert peak <= 2
    assert sorted(p.read_text() for p in out.iterdir()) == ["a\n", "b\n", "c\n"]
    assert all(j is not None and j.scheduler_job_id.isdigit() for j in sweep.jobs())


def test_sweep_fail_fast_and_cancel(hpc):
    """fail_fast stops after the failed cell; cancel drains a second sweep's pending cells."""
    failing = hpc.submit_sweep(command="exit {c}", matrix={"c": [2, 0, 0]}, max_parallel=1, fail_fast=True)
    status = failing.wait(timeout=180)
    assert status.state == "failed"
    assert status.count("skipped") == 2
    long = hpc.submit_sweep(command="sleep 60 # {i}", matrix={"i": [1, 2, 3]}, max_parallel=1)
    assert long.cancel().count("skipped") == 2
    assert long.wait(timeout=180).state == "cancelled"


def test_context_and_duration_limit(hpc, tmp_path):
    """A Slurm job logs and checkpoints through molq.context(); max_duration ends it TIMED_OUT."""
    script = tmp_path / "job.py"
    script.write_text(
        textwrap.dedent("""
        import molq, time
        ctx = molq.context()
        ctx.log("started on slurm")
        ctx.save_checkpoint({"step": 1})
        for _ in range(600):
            if ctx.is_cancelled:
                break
            time.sleep(0.1)
    """)
    )
    handle = hpc.submit_job(argv=[sys.executable, str(script)], max_duration="3s")
    record = handle.wait(timeout=180)
    assert record.state is JobState.TIMED_OUT
    assert record.failure_reason == "duration limit reached"
    events = [r.event for r in hpc.store.read_stream(handle.job_id)]
    assert [e.message for e in events if isinstance(e, JobLogged)] == ["started on slurm"]
    assert [e.data for e in events if isinstance(e, JobCheckpointSaved)] == ['{"step":1}']
    assert Path(record.metadata["molq.job_dir"], "cancel_requested").exists()


def test_subscribe_logs_on_slurm(hpc):
    """subscribe_logs yields a Slurm job's stdout lines until it ends."""
    handle = hpc.submit_job(command="echo one; sleep 1; echo two")
    assert list(hpc.subscribe_logs(handle.job_id, poll_interval=0.2, timeout=180)) == ["one", "two"]
