"""Python functions as jobs over a real OpenSSH server (issue 16): the shared checks, remotely.

The remote side is this machine reached through sshd, so ``python=sys.executable``
names an interpreter that exists there; the payload goes up and the outcome comes
back through the SshTransport all the same.
"""

from __future__ import annotations

import subprocess
import sys
import uuid

import pytest
from tests import function_jobs
from tests.integration.test_submitor_over_ssh import ALIAS, _slurm_over_ssh, _ssh_ready

from molq import Cluster, JobExecution, RuntimeMismatchError, SshTransport, SshTransportOptions, Submitor
from molq.run_function import PAYLOAD_FILE


pytestmark = [
    pytest.mark.ssh,
    pytest.mark.skipif(not _ssh_ready(), reason=f"no ssh alias {ALIAS} (run shared/ci/sshd-up as root)"),
]


@pytest.fixture
def remote_dir():
    """A fresh directory on the remote side."""
    path = f"/tmp/molq-ssh-fn-{uuid.uuid4().hex[:10]}"
    subprocess.run(["ssh", ALIAS, "mkdir", "-p", path], stdin=subprocess.DEVNULL, check=True)
    yield path
    subprocess.run(["ssh", ALIAS, "rm", "-rf", path], stdin=subprocess.DEVNULL, check=False)


def _run_all(sub: Submitor, remote_dir: str) -> None:
    try:
        function_jobs.run_all(sub, python=sys.executable, execution=JobExecution(cwd=remote_dir))
    finally:
        for record in sub.list_jobs():
            sub.cancel_job(record.job_id)
        sub.close()


def test_function_jobs_on_a_remote_workstation(store, remote_dir):
    """The shared checks with the local scheduler on the far side of SSH."""
    sub = Submitor(Cluster("fn-remote", "local", host=ALIAS), store=store, jobs_dir=f"{remote_dir}/jobs")
    _run_all(sub, remote_dir)


@pytest.mark.slurm
def test_function_jobs_on_slurm_over_ssh(store, remote_dir):
    """The shared checks on Slurm reached over SSH."""
    if not _slurm_over_ssh():
        pytest.skip("no Slurm reachable over ssh")
    transport = SshTransport(SshTransportOptions(host=ALIAS))
    sub = Submitor(Cluster("fn-hpc", "slurm", transport=transport), store=store, jobs_dir=f"{remote_dir}/jobs")
    _run_all(sub, remote_dir)


def test_payload_is_uploaded_to_the_remote_job_dir(store, remote_dir):
    """The pickled call sits in the remote job dir, written through the transport."""
    sub = Submitor(Cluster("fn-upload", "local", host=ALIAS), store=store, jobs_dir=f"{remote_dir}/jobs")
    try:
        handle = sub.submit_function(sum, [1, 2, 3], python=sys.executable, execution=JobExecution(cwd=remote_dir))
        assert handle.result(timeout=120) == 6
        job_dir = sub.get_job(handle.job_id).metadata["molq.job_dir"]
        assert job_dir.startswith(f"{remote_dir}/jobs/")
        assert sub.target.transport.read_bytes(f"{job_dir}/{PAYLOAD_FILE}").startswith(b"\x80")
    finally:
        sub.close()


def test_remote_python_without_molq_is_refused_before_submission(store, remote_dir):
    """The remote default ``python3`` lacks molq here: a RuntimeMismatchError, nothing submitted."""
    sub = Submitor(Cluster("fn-bare", "local", host=ALIAS), store=store, jobs_dir=f"{remote_dir}/jobs")
    try:
        with pytest.raises(RuntimeMismatchError, match=r"python3 on cluster 'fn-bare' .*molq missing") as caught:
            sub.submit_function(abs, -1, execution=JobExecution(cwd=remote_dir))
        assert caught.value.found["molq"] == ""
        assert sub.list_jobs(include_terminal=True) == []
        assert not sub.target.transport.exists(f"{remote_dir}/jobs")
    finally:
        sub.close()
