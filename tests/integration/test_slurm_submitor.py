"""The public API against the real Slurm cluster: dependencies, queue, partitions."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from tests.slurm import SLURM_MARKS

from molq import Cluster, ConfigError, DependencyRef, JobResources, JobScheduling, JobState, Submitor


pytestmark = SLURM_MARKS


@pytest.fixture
def hpc(store, tmp_path):
    sub = Submitor(Cluster("hpc", "slurm"), store=store, jobs_dir=tmp_path / "jobs")
    yield sub
    for record in sub.list_jobs():
        sub.cancel_job(record.job_id)


def test_success_and_failure(hpc):
    """A job's exit code and output come back through the API."""
    ok = hpc.submit_job(argv=["echo", "hello slurm"])
    bad = hpc.submit_job(command="exit 3")
    good, failed = hpc.watch_jobs([ok.job_id, bad.job_id], timeout=120)
    assert good.state is JobState.SUCCEEDED
    assert Path(good.metadata["molq.stdout_path"]).read_text() == "hello slurm\n"
    assert failed.state is JobState.FAILED
    assert failed.exit_code == 3
    assert ok.scheduler_job_id.isdigit()


def test_every_dependency_condition_is_compiled_and_persisted(hpc):
    """All four conditions compile to native strings, persist as edges, and behave."""
    parent = hpc.submit_job(command="sleep 1")
    failing = hpc.submit_job(command="exit 2")
    on_success = hpc.submit_job(argv=["true"], after_success=[parent.job_id])
    on_failure = hpc.submit_job(argv=["true"], after_failure=[failing.job_id])
    on_start = hpc.submit_job(argv=["true"], after_started=[parent.job_id])
    on_end = hpc.submit_job(
        argv=["true"], scheduling=JobScheduling(dependencies=(DependencyRef(failing.job_id, "after"),))
    )
    never = hpc.submit_job(argv=["true"], after_success=[failing.job_id])
    edges = {d.dependency_type: d for h in (on_success, on_failure, on_start, on_end) for d in hpc.get_dependencies(h.job_id)}
    assert edges["after_success"].scheduler_dependency == f"afterok:{parent.scheduler_job_id}"
    assert edges["after_failure"].scheduler_dependency == f"afternotok:{failing.scheduler_job_id}"
    assert edges["after_started"].scheduler_dependency == f"after:{parent.scheduler_job_id}"
    assert edges["after"].scheduler_dependency == f"afterany:{failing.scheduler_job_id}"
    assert {d.job_id for d in hpc.get_dependents(parent.job_id)} == {on_success.job_id, on_start.job_id}
    records = hpc.watch_jobs([h.job_id for h in (on_success, on_failure, on_start, on_end, never)], timeout=180)
    assert [r.state for r in records[:4]] == [JobState.SUCCEEDED] * 4
    assert records[4].state is JobState.CANCELLED


def test_dependency_on_unknown_job_writes_nothing(hpc):
    """An unknown upstream id is refused before anything is recorded."""
    from molq import DependencyError

    with pytest.raises(DependencyError):
        hpc.submit_job(argv=["true"], after=["does-not-exist"])
    assert hpc.store.last_seq() == 0


def test_partition_and_unsupported_gpu(hpc):
    """The gpu partition works; a GRES the cluster lacks is a submit failure with a reason."""
    record = hpc.submit_job(
        command="echo $SLURM_JOB_PARTITION", scheduling=JobScheduling(partition="gpu")
    ).wait(timeout=120)
    assert Path(record.metadata["molq.stdout_path"]).read_text().strip() == "gpu"
    from molq import SchedulerError

    with pytest.raises(SchedulerError):
        hpc.submit_job(argv=["true"], resources=JobResources(gpu_count=1))
    failed = [r for r in hpc.list_jobs(include_terminal=True) if r.state is JobState.FAILED]
    assert failed
    assert "submission failed" in failed[0].failure_reason


def test_get_queue_includes_jobs_submitted_outside_molq(hpc, tmp_path):
    """get_queue lists a job submitted with plain sbatch."""
    out = subprocess.run(
        ["sbatch", "--parsable", "-o", "/dev/null", "-J", "outside-molq", "--wrap", "sleep 30"],
        capture_output=True, text=True, check=True,
    ).stdout.strip().split(";")[0]
    try:
        entries = hpc.target.get_queue()
        mine = [e for e in entries if e.scheduler_job_id == out]
        assert mine
        assert mine[0].name == "outside-molq"
        assert mine[0].state in (JobState.QUEUED, JobState.RUNNING)
    finally:
        subprocess.run(["scancel", out], check=False)


def test_cancel_through_the_api(hpc):
    """cancel_job ends a running Slurm job CANCELLED."""
    handle = hpc.submit_job(argv=["sleep", "120"])
    handle.cancel()
    assert handle.wait(timeout=60).state is JobState.CANCELLED


def test_local_only_fields_rejected_on_slurm_are_none(hpc):
    """SLURM accepts every resource field molq knows; bad values are still ConfigErrors."""
    with pytest.raises(ConfigError):
        hpc.submit_job(argv=["true"], resources=JobResources(memory="0"))


def test_interrupted_submission_is_adopted(hpc, monkeypatch):
    """sbatch accepted the job but molq died before recording it: the reconciler adopts it."""
    scheduler = hpc.target.scheduler_impl
    real_submit = scheduler.submit

    def submit_then_crash(spec, job_dir):
        real_submit(spec, job_dir)
        raise KeyboardInterrupt

    monkeypatch.setattr(scheduler, "submit", submit_then_crash)
    with pytest.raises(KeyboardInterrupt):
        hpc.submit_job(argv=["echo", "adopted"])
    monkeypatch.undo()
    [record] = hpc.list_jobs()
    assert record.state is JobState.CREATED
    hpc.reconciler.created_grace = 0.0
    final = hpc.watch_jobs([record.job_id], timeout=120)[0]
    assert final.state is JobState.SUCCEEDED
    assert final.scheduler_job_id.isdigit()
    assert Path(final.metadata["molq.stdout_path"]).read_text() == "adopted\n"


def test_nothing_submitted_is_marked_lost(hpc, monkeypatch):
    """An intent that never reached sbatch is LOST with a reason after the grace period."""
    monkeypatch.setattr(hpc.target.scheduler_impl, "submit", lambda spec, job_dir: (_ for _ in ()).throw(KeyboardInterrupt))
    with pytest.raises(KeyboardInterrupt):
        hpc.submit_job(argv=["true"])
    monkeypatch.undo()
    hpc.reconciler.created_grace = 0.0
    hpc.refresh_jobs()
    [record] = hpc.list_jobs(include_terminal=True)
    assert record.state is JobState.LOST
    assert "submission interrupted" in record.failure_reason
