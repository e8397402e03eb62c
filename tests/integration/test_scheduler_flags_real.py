"""Extra scheduler flags and a script's own directives on real Slurm (local and over SSH), OpenPBS and OpenLava.

Each test submits, then asks the scheduler itself (``scontrol show job``, ``qstat -f``,
``bjobs -l``) whether the flag or directive took effect, and waits for the job to succeed
so the user's script still ran.
"""

from __future__ import annotations

import os
import subprocess
import uuid
from pathlib import Path

import pytest
from tests.integration.pbs_real import BIN_DIRS, cluster, not_ready
from tests.openlava import use_openlava
from tests.slurm import slurm_ready

from molq import (
    Cluster,
    JobExecution,
    JobScheduling,
    JobState,
    Script,
    SshTransport,
    SshTransportOptions,
    Submitor,
)


ALIAS = os.environ.get("MOLQ_CI_SSH_ALIAS", "molq-test")


def _ssh_ready() -> bool:
    done = subprocess.run(
        ["ssh", "-o", "BatchMode=yes", "-o", "ConnectTimeout=3", ALIAS, "sinfo", "-h"],
        stdin=subprocess.DEVNULL, capture_output=True, check=False,
    )
    return done.returncode == 0 and bool(done.stdout.strip())


def _tag() -> str:
    return f"molq-{uuid.uuid4().hex[:8]}"


def _scontrol(job_id: str) -> str:
    return subprocess.run(["scontrol", "show", "job", job_id], capture_output=True, text=True, check=True).stdout


def _succeeded(sub: Submitor, handle, stdout: str | None = None) -> None:
    record = sub.watch_jobs([handle.job_id], timeout=180)[0]
    assert record.state is JobState.SUCCEEDED, record
    if stdout is not None:
        assert Path(record.metadata["molq.stdout_path"]).read_text() == stdout


# -- Slurm -------------------------------------------------------------------------------


@pytest.fixture
def slurm(store, tmp_path):
    if not slurm_ready():
        pytest.skip("no Slurm cluster (run shared/ci/slurm-up as root)")
    sub = Submitor(Cluster("hpc", "slurm"), store=store, jobs_dir=tmp_path / "jobs")
    yield sub
    for record in sub.list_jobs():
        sub.cancel_job(record.job_id)
    sub.close()


@pytest.mark.slurm
def test_slurm_extra_flags_take_effect(slurm, tmp_path):
    """--comment, --nice and --ntasks-per-node given as extra flags show in scontrol."""
    tag = _tag()
    flags = (f"--comment={tag}", "--nice=7", "--ntasks-per-node=1")
    handle = slurm.submit_job(
        argv=["echo", "ran"], scheduling=JobScheduling(extra_flags=flags), execution=JobExecution(cwd=str(tmp_path))
    )
    shown = _scontrol(handle.scheduler_job_id)
    assert f"Comment={tag}" in shown
    assert "Nice=7" in shown
    assert "NtasksPerN:B:S:C=1:" in shown
    _succeeded(slurm, handle, "ran\n")


@pytest.mark.slurm
def test_slurm_script_directives_take_effect_and_molq_wins(slurm, tmp_path):
    """A user's #SBATCH --comment reaches Slurm; its --job-name is overridden by molq's, with a warning."""
    tag = _tag()
    script = tmp_path / "job.sbatch"
    script.write_text(f"#!/bin/bash\n#SBATCH --comment={tag}\n#SBATCH --job-name=not-molqs\necho body\n")
    with pytest.warns(UserWarning, match="'#SBATCH --job-name=not-molqs' is not used: it sets --job-name"):
        handle = slurm.submit_job(script=Script.path(script), execution=JobExecution(cwd=str(tmp_path)))
    shown = _scontrol(handle.scheduler_job_id)
    assert f"Comment={tag}" in shown
    assert "JobName=molq-" in shown
    _succeeded(slurm, handle, "body\n")


@pytest.mark.slurm
@pytest.mark.ssh
def test_slurm_over_ssh_reads_the_remote_script(store):
    """Over the real sshd: the remote script's directive and an extra flag both reach Slurm."""
    if not _ssh_ready():
        pytest.skip(f"no Slurm reachable over ssh alias {ALIAS} (run shared/ci/sshd-up)")
    remote = f"/tmp/molq-ssh-{uuid.uuid4().hex[:10]}"
    tag = _tag()
    text = f"#!/bin/bash\n#SBATCH --comment={tag}\necho remote\n"
    subprocess.run(
        ["ssh", ALIAS, f"mkdir -p {remote} && cat > {remote}/job.sbatch"], input=text, text=True, check=True
    )
    sub = Submitor(
        Cluster("hpc-remote", "slurm", transport=SshTransport(SshTransportOptions(host=ALIAS))),
        store=store, jobs_dir=f"{remote}/jobs",
    )
    try:
        dry = sub.submit_job(script=Script.path("job.sbatch"), execution=JobExecution(cwd=remote), dry_run=True)
        assert dry.details["directives"].endswith(f"#SBATCH --comment={tag}")
        handle = sub.submit_job(
            script=Script.path("job.sbatch"),
            scheduling=JobScheduling(extra_flags=("--nice=3",)),
            execution=JobExecution(cwd=remote),
        )
        shown = _scontrol(handle.scheduler_job_id)
        assert f"Comment={tag}" in shown
        assert "Nice=3" in shown
        record = sub.watch_jobs([handle.job_id], timeout=180)[0]
        assert record.state is JobState.SUCCEEDED, record
    finally:
        sub.close()
        subprocess.run(["ssh", ALIAS, "rm", "-rf", remote], stdin=subprocess.DEVNULL, check=False)


# -- OpenPBS ------------------------------------------------------------------------------


def _qstat_f(job_id: str) -> str:
    done = subprocess.run(
        [f"{BIN_DIRS['pbs']}/qstat", "-x", "-f", job_id], capture_output=True, text=True, check=True
    )
    return done.stdout.replace("\n\t", "")  # continuation lines start with a TAB


@pytest.fixture
def pbs(store, tmp_path):
    reason = not_ready("pbs")
    if reason:
        pytest.skip(reason)
    sub = Submitor(cluster("pbs"), store=store, jobs_dir=tmp_path / "jobs")
    yield sub
    for record in sub.list_jobs():
        sub.cancel_job(record.job_id)
    sub.close()


def test_pbs_extra_flags_take_effect(pbs, tmp_path):
    """-l select=…:mpiprocs=… replaces molq's default chunk; -A and -l walltime reach qstat -f."""
    handle = pbs.submit_job(
        argv=["echo", "ran"],
        scheduling=JobScheduling(extra_flags=("-l select=1:ncpus=1:mpiprocs=1", "-A molqacct", "-l walltime=00:05:00")),
        execution=JobExecution(cwd=str(tmp_path)),
    )
    shown = _qstat_f(handle.scheduler_job_id)
    assert "Resource_List.mpiprocs = 1" in shown
    assert "Resource_List.select = 1:ncpus=1:mpiprocs=1" in shown
    assert "Account_Name = molqacct" in shown
    assert "Resource_List.walltime = 00:05:00" in shown
    _succeeded(pbs, handle, "ran\n")


def test_pbs_script_directives_take_effect_and_molq_wins(pbs, tmp_path):
    """The script's #PBS -A reaches PBS; its -N is overridden by molq's name, with a warning."""
    script = tmp_path / "job.pbs"
    script.write_text("#!/bin/bash\n#PBS -A scriptacct\n#PBS -N notmolqs\necho body\n")
    with pytest.warns(UserWarning, match="'#PBS -N notmolqs' is not used: it sets -N"):
        handle = pbs.submit_job(script=Script.path(script), execution=JobExecution(cwd=str(tmp_path)))
    shown = _qstat_f(handle.scheduler_job_id)
    assert "Account_Name = scriptacct" in shown
    assert "Job_Name = molq-" in shown
    _succeeded(pbs, handle, "body\n")


@pytest.mark.slurm
def test_torque_wrapper_flags_and_script_directives(store, tmp_path):
    """Slurm's Torque qsub: an extra '-l nodes=1:ppn=2' replaces molq's default and a script's walltime applies."""
    reason = not_ready("pbs-torque")
    if reason:
        pytest.skip(reason)
    sub = Submitor(cluster("pbs-torque"), store=store, jobs_dir=tmp_path / "jobs")
    try:
        handle = sub.submit_job(
            argv=["true"],
            scheduling=JobScheduling(extra_flags=("-l walltime=00:05:00", "-l nodes=1:ppn=2")),
            execution=JobExecution(cwd=str(tmp_path)),
        )
        shown = _scontrol(handle.scheduler_job_id)
        assert "TimeLimit=00:05:00" in shown
        assert "NumCPUs=2" in shown
        script = tmp_path / "job.pbs"
        script.write_text("#!/bin/bash\n#PBS -l walltime=00:07:00\ntrue\n")
        scripted = sub.submit_job(script=Script.path(script), execution=JobExecution(cwd=str(tmp_path)))
        assert "TimeLimit=00:07:00" in _scontrol(scripted.scheduler_job_id)
        records = sub.watch_jobs([handle.job_id, scripted.job_id], timeout=180)
        assert [r.state for r in records] == [JobState.SUCCEEDED, JobState.SUCCEEDED], records
    finally:
        for record in sub.list_jobs():
            sub.cancel_job(record.job_id)
        sub.close()


# -- OpenLava -----------------------------------------------------------------------------


def _bjobs_l(job_id: str) -> str:
    done = subprocess.run(["bjobs", "-l", job_id], capture_output=True, text=True, check=True)
    return " ".join(done.stdout.split())  # bjobs -l wraps long lines


@pytest.fixture
def lsf(store, tmp_path, monkeypatch):
    use_openlava(monkeypatch)
    sub = Submitor(Cluster("openlava", "lsf"), store=store, jobs_dir=tmp_path / "jobs")
    yield sub
    for record in sub.list_jobs():
        sub.cancel_job(record.job_id)
    sub.close()


@pytest.mark.lsf
def test_lsf_extra_flags_take_effect(lsf, tmp_path):
    """-P and -R "span[hosts=1]" given as extra flags show in bjobs -l."""
    handle = lsf.submit_job(
        argv=["echo", "ran"],
        scheduling=JobScheduling(extra_flags=("-P molqproj", '-R "span[hosts=1]"')),
        execution=JobExecution(cwd=str(tmp_path)),
    )
    shown = _bjobs_l(handle.scheduler_job_id)
    assert "Project <molqproj>" in shown
    assert "span[hosts=1]" in shown.replace("span [", "span[")
    _succeeded(lsf, handle, "ran\n")


@pytest.mark.lsf
def test_lsf_script_directives_take_effect_and_molq_wins(lsf, tmp_path):
    """The script's #BSUB -P reaches OpenLava; its -o is overridden by molq's log path, with a warning."""
    script = tmp_path / "job.lsf"
    script.write_text("#!/bin/bash\n#BSUB -P scriptproj\n#BSUB -o /tmp/not-molqs.out\necho body\n")
    with pytest.warns(UserWarning, match="'#BSUB -o /tmp/not-molqs.out' is not used: it sets -o"):
        handle = lsf.submit_job(script=Script.path(script), execution=JobExecution(cwd=str(tmp_path)))
    shown = _bjobs_l(handle.scheduler_job_id)
    assert "Project <scriptproj>" in shown
    _succeeded(lsf, handle, "body\n")
