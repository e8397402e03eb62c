"""Remote clusters record absolute paths (issue 15, items 1-2), over the real sshd.

A job submitted over SSH without a ``cwd`` runs in the remote login directory; a ``jobs_dir``
of ``~/...`` lives under the remote home. Both must be recorded as absolute remote paths so
that ``molq logs`` finds the output and real ``sbatch`` gets a file it can open.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import uuid

import pytest

from molq import Cluster, JobState, Submitor


ALIAS = os.environ.get("MOLQ_CI_SSH_ALIAS", "molq-test")


def _ssh(*argv: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["ssh", ALIAS, *argv], stdin=subprocess.DEVNULL, capture_output=True, text=True, check=False, timeout=60)


def _ssh_ready() -> bool:
    return shutil.which("ssh") is not None and _ssh("true").returncode == 0


pytestmark = [
    pytest.mark.ssh,
    pytest.mark.skipif(not _ssh_ready(), reason=f"no ssh alias {ALIAS} (run shared/ci/sshd-up as root)"),
]


@pytest.fixture
def remote_home() -> str:
    """The remote user's home, as its own shell says."""
    return _ssh('printf %s "$HOME"').stdout


@pytest.fixture
def home_jobs_dir(remote_home: str):
    """A ``~/molq-jobs-<random>`` jobs dir, removed from the remote home afterwards."""
    name = f"molq-jobs-{uuid.uuid4().hex[:10]}"
    yield f"~/{name}", f"{remote_home}/{name}"
    _ssh("rm", "-rf", f"{remote_home}/{name}")


def test_job_without_cwd_records_absolute_remote_paths(store, home_jobs_dir, remote_home):
    """No cwd over SSH: cwd is the remote login dir, and every recorded path is absolute."""
    given, expanded = home_jobs_dir
    sub = Submitor(Cluster("workstation", "local", host=ALIAS), store=store, jobs_dir=given)
    handle = sub.submit_job(command="pwd; echo hello")
    record = handle.wait(timeout=60)
    assert record.state is JobState.SUCCEEDED
    login_dir = _ssh("pwd").stdout.strip()
    assert record.cwd == login_dir
    assert record.metadata["molq.job_dir"] == f"{expanded}/{handle.job_id}"
    assert record.metadata["molq.stdout_path"] == f"{expanded}/{handle.job_id}/stdout.log"
    assert _ssh("cat", record.metadata["molq.stdout_path"]).stdout == f"{login_dir}\nhello\n"
    assert "~" not in record.metadata["molq.job_dir"]


def test_molq_logs_reads_remote_output(store, home_jobs_dir, tmp_path):
    """`molq logs` of a remote job submitted through a profile prints its output."""
    given, _expanded = home_jobs_dir
    config = tmp_path / "config.toml"
    config.write_text(f'[profiles.ws]\nscheduler = "local"\ncluster_name = "ws"\nhost = "{ALIAS}"\njobs_dir = "{given}"\n')
    sub = Submitor.from_profile("ws", config_path=config, store=store)
    handle = sub.submit_job(command="echo from-the-remote-side")
    assert handle.wait(timeout=60).state is JobState.SUCCEEDED
    done = subprocess.run(
        [sys.executable, "-m", "molq", "logs", handle.job_id, "--config", str(config), "--db", str(store.path)],
        capture_output=True, text=True, timeout=60, check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout == "from-the-remote-side\n"


def _slurm_over_ssh() -> bool:
    done = _ssh("sinfo", "-h")
    return done.returncode == 0 and bool(done.stdout.strip())


@pytest.mark.slurm
def test_real_sbatch_over_ssh_with_home_jobs_dir(store, home_jobs_dir):
    """The guide's ``jobs_dir = "~/molq-jobs"`` works with real sbatch over SSH (no literal ``~``)."""
    if not _slurm_over_ssh():
        pytest.skip("no Slurm reachable over ssh")
    given, expanded = home_jobs_dir
    sub = Submitor(Cluster("hpc-remote", "slurm", host=ALIAS), store=store, jobs_dir=given)
    handle = sub.submit_job(command="echo on-slurm")
    record = handle.wait(timeout=120)
    assert record.state is JobState.SUCCEEDED
    assert record.metadata["molq.stdout_path"].startswith(f"{expanded}/")
    assert _ssh("cat", record.metadata["molq.stdout_path"]).stdout == "on-slurm\n"
