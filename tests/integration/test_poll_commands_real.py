"""One reconcile pass over many jobs runs one status command (+ at most one history command).

Against the real schedulers on this machine (Slurm, OpenPBS, Slurm's Torque wrappers,
OpenLava), counted from the ``molq.commands`` log (molq/shell/_command_log.py). The
id limits are set low so the pass takes the user-scoped listing that a large poll
takes (ADR 0031); a job of the same user that molq does not track and a job that
another store tracks are in the queue at the same time and must not confuse either.
"""

from __future__ import annotations

import logging
import shutil
import subprocess
import time
from functools import partial
from pathlib import Path

import pytest
from tests.integration.pbs_real import BIN_DIRS, cluster, not_ready
from tests.openlava import use_openlava

from molq import Cluster, JobExecution, JobState, JobStore, Submitor
from molq.shell.schedulers._lsf import LSFSchedulerOptions
from molq.shell.schedulers._slurm import SlurmSchedulerOptions


JOBS = 12


def _scheduler_commands(caplog: pytest.LogCaptureFixture) -> list[str]:
    """The program names of the scheduler commands logged so far (``[local] squeue -h ...``)."""
    names = []
    for record in caplog.records:
        if record.name == "molq.commands":
            argv = record.getMessage().split("] ", 1)[1].split()
            if argv[1] not in ("-V", "--version"):  # the dialect probe: once per scheduler, not per poll
                names.append(Path(argv[0]).name)
    return names


def _one_pass(sub: Submitor, caplog: pytest.LogCaptureFixture) -> list[str]:
    caplog.clear()
    with caplog.at_level(logging.DEBUG, logger="molq.commands"):
        sub.refresh_jobs()
    return _scheduler_commands(caplog)


def execution_cwd(tmp_path: Path) -> dict[str, object]:
    return {"execution": JobExecution(cwd=str(tmp_path))}


def _submit_mix(sub: Submitor, tmp_path: Path) -> tuple[list[str], list[str]]:
    """Half the jobs end at once (exit 0, exit 3, ...), half sleep; returns (quick, sleeping) job ids."""
    cwd = execution_cwd(tmp_path)
    quick = [sub.submit_job(command=c, **cwd).job_id for c in ("true", "exit 3") * (JOBS // 4)]
    slow = [sub.submit_job(command="sleep 120", **cwd).job_id for _ in range(JOBS // 2)]
    return quick, slow


def _check_passes(
    sub: Submitor, other: Submitor, caplog, jobs, other_job: str, *, allowed: set[str], most: int
) -> list[list[str]]:
    """Reconcile passes until the quick jobs have ended, each one counted; then the stores' views."""
    quick, slow = jobs
    passes = []
    deadline = time.monotonic() + 120
    ended = 0
    while ended < len(quick):
        assert time.monotonic() < deadline, [sub.get_job(j) for j in quick]
        time.sleep(1)
        names = _one_pass(sub, caplog)
        before, ended = ended, sum(sub.get_job(j).state.is_terminal for j in quick)
        # a pass in which jobs ended also fetches their usage: one more accounting call (ADR 0036)
        assert set(names) <= allowed, names
        assert 1 <= len(names) <= most + (ended > before), names
        passes.append(names)
    assert [sub.get_job(j).state for j in quick] == [JobState.SUCCEEDED, JobState.FAILED] * (len(quick) // 2)
    assert [sub.get_job(j).exit_code for j in quick] == [0, 3] * (len(quick) // 2)
    assert all(sub.get_job(j).state in (JobState.QUEUED, JobState.RUNNING) for j in slow)
    assert {r.job_id for r in sub.list_jobs(include_terminal=True)} == {*quick, *slow}
    other.refresh_jobs()
    assert other.get_job(other_job).state in (JobState.QUEUED, JobState.RUNNING)
    assert [r.job_id for r in other.list_jobs(include_terminal=True)] == [other_job]
    return passes


@pytest.mark.slurm
def test_slurm_pass_is_one_squeue_and_at_most_one_sacct(tmp_path, caplog):
    """12 tracked jobs, an untracked job and another store's job: one squeue --me, at most one sacct."""
    if shutil.which("sbatch") is None:
        pytest.skip("no sbatch here (run shared/ci/slurm-up)")
    target = Cluster("slurm", "slurm", scheduler_options=SlurmSchedulerOptions(squeue_chunk_size=4))
    submit_stray = partial(_stray, ["sbatch", "--parsable", "--wrap", "sleep 120", "-o", "/dev/null"])
    with JobStore(tmp_path / "a.db") as store_a, JobStore(tmp_path / "b.db") as store_b:
        sub = Submitor(target, store=store_a, jobs_dir=tmp_path / "a")
        other = Submitor(target, store=store_b, jobs_dir=tmp_path / "b")
        stray = ""
        try:
            quick, slow = _submit_mix(sub, tmp_path)  # first: a single node runs the quick ones at once
            other_job = other.submit_job(command="sleep 120", **execution_cwd(tmp_path)).job_id
            stray = submit_stray()
            passes = _check_passes(
                sub, other, caplog, (quick, slow), other_job, allowed={"squeue", "sacct"}, most=2
            )
            assert all(names.count("squeue") == 1 for names in passes), passes
        finally:
            _cancel_all(sub, other)
            subprocess.run(["scancel", stray], check=False)


def _stray(argv: list[str], cwd: Path | None = None) -> str:
    """Submit a job of the same user outside molq; its id (``Job <12> is submitted`` for bsub)."""
    out = subprocess.run(
        argv, capture_output=True, text=True, check=True, cwd=cwd, stdin=subprocess.DEVNULL
    ).stdout
    return out.split("<", 1)[1].split(">", 1)[0] if "<" in out else out.strip()


def _cancel_all(*subs: Submitor) -> None:
    for sub in subs:
        for record in sub.list_jobs():
            sub.cancel_job(record.job_id)
        sub.close()


@pytest.mark.parametrize("kind", list(BIN_DIRS))
def test_pbs_pass_is_one_listing_and_at_most_one_history(kind, tmp_path, caplog):
    """OpenPBS: one qstat listing + at most one ``qstat -x``; Torque wrappers: one ``qstat -f``."""
    reason = not_ready(kind)
    if reason is not None:
        pytest.skip(reason)
    target = cluster(kind)
    qsub = str(Path(BIN_DIRS[kind]) / "qsub")
    script = tmp_path / "stray.sh"
    script.write_text("#!/bin/sh\nsleep 120\n")
    submit_stray = partial(_stray, [qsub, "-o", "/dev/null", "-e", "/dev/null", str(script)], cwd=tmp_path)
    with JobStore(tmp_path / "a.db") as store_a, JobStore(tmp_path / "b.db") as store_b:
        sub = Submitor(target, store=store_a, jobs_dir=tmp_path / "a")
        other = Submitor(target, store=store_b, jobs_dir=tmp_path / "b")
        stray = ""
        try:
            quick, slow = _submit_mix(sub, tmp_path)  # first: a single node runs the quick ones at once
            other_job = other.submit_job(command="sleep 120", **execution_cwd(tmp_path)).job_id
            stray = submit_stray()
            most = 2 if kind == "pbs" else 1  # OpenPBS: listing + qstat -x; wrappers: qstat -f alone
            _check_passes(sub, other, caplog, (quick, slow), other_job, allowed={"qstat"}, most=most)
        finally:
            _cancel_all(sub, other)
            subprocess.run([str(Path(BIN_DIRS[kind]) / "qdel"), stray], check=False, capture_output=True)


@pytest.mark.lsf
def test_lsf_pass_is_one_bjobs_and_at_most_one_bhist(tmp_path, caplog, monkeypatch):
    """12 tracked jobs past the id limit: one ``bjobs -a`` of the user, at most one bhist."""
    use_openlava(monkeypatch)
    target = Cluster("openlava", "lsf", scheduler_options=LSFSchedulerOptions(chunk_size=4))
    submit_stray = partial(_stray, ["bsub", "-o", "/dev/null", "sleep", "120"])
    with JobStore(tmp_path / "a.db") as store_a, JobStore(tmp_path / "b.db") as store_b:
        sub = Submitor(target, store=store_a, jobs_dir=tmp_path / "a")
        other = Submitor(target, store=store_b, jobs_dir=tmp_path / "b")
        stray = ""
        try:
            quick, slow = _submit_mix(sub, tmp_path)  # first: a single node runs the quick ones at once
            other_job = other.submit_job(command="sleep 120", **execution_cwd(tmp_path)).job_id
            stray = submit_stray()
            passes = _check_passes(
                sub, other, caplog, (quick, slow), other_job, allowed={"bjobs", "bhist"}, most=2
            )
            # the status bjobs first; a second bjobs only as the usage fetch of a pass where jobs
            # ended (ADR 0036), which _check_passes allows as that pass's one extra command
            assert all(names[0] == "bjobs" and names.count("bjobs") <= 2 for names in passes), passes
        finally:
            _cancel_all(sub, other)
            subprocess.run(["bkill", stray], check=False, capture_output=True)
