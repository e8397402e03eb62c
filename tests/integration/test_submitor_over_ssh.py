"""The public API over a real OpenSSH server: the local scheduler and SLURM, remotely."""

from __future__ import annotations

import os
import shutil
import subprocess
import uuid

import pytest

from molq import Cluster, JobExecution, JobResources, JobState, SshTransport, SshTransportOptions, Submitor


ALIAS = os.environ.get("MOLQ_CI_SSH_ALIAS", "molq-test")


def _ssh_ready() -> bool:
    if shutil.which("ssh") is None:
        return False
    done = subprocess.run(
        ["ssh", "-o", "BatchMode=yes", "-o", "ConnectTimeout=3", ALIAS, "true"],
        stdin=subprocess.DEVNULL, capture_output=True, check=False,
    )
    return done.returncode == 0


pytestmark = [
    pytest.mark.ssh,
    pytest.mark.skipif(not _ssh_ready(), reason=f"no ssh alias {ALIAS} (run shared/ci/sshd-up as root)"),
]


@pytest.fixture
def remote_dir():
    """A fresh directory on the remote side (the same machine here, reached over SSH).

    It exists: molq refuses a working directory that does not (issue 13 item 17).
    """
    path = f"/tmp/molq-ssh-{uuid.uuid4().hex[:10]}"
    subprocess.run(["ssh", ALIAS, "mkdir", "-p", path], stdin=subprocess.DEVNULL, check=True)
    yield path
    subprocess.run(["ssh", ALIAS, "rm", "-rf", path], stdin=subprocess.DEVNULL, check=False)


def _remote_cat(path: str) -> str:
    return subprocess.run(
        ["ssh", ALIAS, "cat", path], stdin=subprocess.DEVNULL, capture_output=True, text=True, check=True
    ).stdout


def test_local_scheduler_over_ssh(store, remote_dir):
    """Plain shell jobs on a remote workstation: success, failure, env and cwd byte-exact."""
    sub = Submitor(Cluster("workstation", "local", host=ALIAS), store=store, jobs_dir=f"{remote_dir}/jobs")
    value = "sp ace 'q' \"d\" $HOME `x` ;\nünï"
    ok = sub.submit_job(
        argv=["sh", "-c", 'printf %s "$V"; pwd >&2'],
        execution=JobExecution(env={"V": value}, cwd=remote_dir),
    )
    bad = sub.submit_job(command="exit 7", execution=JobExecution(cwd=remote_dir))
    good, failed = sub.watch_jobs([ok.job_id, bad.job_id], timeout=60)
    assert good.state is JobState.SUCCEEDED
    assert _remote_cat(good.metadata["molq.stdout_path"]) == value
    assert _remote_cat(good.metadata["molq.stderr_path"]).strip() == remote_dir
    assert good.started_at is not None
    assert good.finished_at >= good.started_at
    assert failed.state is JobState.FAILED
    assert failed.exit_code == 7


def test_cancel_and_timeout_over_ssh(store, remote_dir):
    """Cancel and the time-limit watchdog act on the remote side."""
    sub = Submitor(Cluster("workstation", "local", host=ALIAS), store=store, jobs_dir=f"{remote_dir}/jobs")
    slow = sub.submit_job(argv=["sleep", "60"], execution=JobExecution(cwd=remote_dir))
    limited = sub.submit_job(
        argv=["sleep", "60"], resources=JobResources(time_limit=1), execution=JobExecution(cwd=remote_dir)
    )
    slow.cancel()
    cancelled, timed_out = sub.watch_jobs([slow.job_id, limited.job_id], timeout=60)
    assert cancelled.state is JobState.CANCELLED
    assert timed_out.state is JobState.TIMED_OUT


def test_dry_run_over_ssh_uses_remote_paths(store, remote_dir):
    """A dry run over SSH renders remote paths and touches nothing."""
    sub = Submitor(Cluster("workstation", "local", host=ALIAS), store=store, jobs_dir=f"{remote_dir}/jobs")
    dry = sub.submit_job(argv=["true"], execution=JobExecution(cwd=remote_dir), dry_run=True)
    assert dry.details["job_dir"].startswith(f"{remote_dir}/jobs/")
    assert f"cd {remote_dir}" in dry.details["script"]
    assert store.last_seq() == 0
    exists = subprocess.run(["ssh", ALIAS, "test", "-e", f"{remote_dir}/jobs"], stdin=subprocess.DEVNULL, check=False)
    assert exists.returncode != 0


def _slurm_over_ssh() -> bool:
    done = subprocess.run(["ssh", ALIAS, "sinfo", "-h"], stdin=subprocess.DEVNULL, capture_output=True, check=False)
    return done.returncode == 0 and bool(done.stdout.strip())


@pytest.mark.slurm
def test_slurm_over_ssh(store, remote_dir):
    """Remote SLURM over SSH: submit, dependency, queue, result."""
    if not _slurm_over_ssh():
        pytest.skip("no Slurm reachable over ssh")
    transport = SshTransport(SshTransportOptions(host=ALIAS))
    sub = Submitor(Cluster("hpc-remote", "slurm", transport=transport), store=store, jobs_dir=f"{remote_dir}/jobs")
    parent = sub.submit_job(command="echo parent", execution=JobExecution(cwd=remote_dir))
    child = sub.submit_job(argv=["echo", "child"], after_success=[parent.job_id], execution=JobExecution(cwd=remote_dir))
    assert sub.get_dependencies(child.job_id)[0].scheduler_dependency == f"afterok:{parent.scheduler_job_id}"
    waiting = sub.submit_job(argv=["sleep", "60"], execution=JobExecution(cwd=remote_dir))
    assert waiting.scheduler_job_id in {e.scheduler_job_id for e in sub.target.get_queue()}
    waiting.cancel()
    first, second = sub.watch_jobs([parent.job_id, child.job_id], timeout=120)
    assert first.state is JobState.SUCCEEDED
    assert second.state is JobState.SUCCEEDED
    assert _remote_cat(second.metadata["molq.stdout_path"]) == "child\n"


def _remote_exists(path: str) -> bool:
    return subprocess.run(["ssh", ALIAS, "test", "-e", path], stdin=subprocess.DEVNULL, check=False).returncode == 0


def _wait_remote(path: str) -> None:
    import time

    deadline = time.monotonic() + 30
    while not _remote_exists(path):
        assert time.monotonic() < deadline, f"{path} never appeared"
        time.sleep(0.1)


def test_a_killed_wrapper_over_ssh_keeps_its_job(store, remote_dir):
    """Issue 13 item 4: run.sh SIGKILLed on the host while the body runs: RUNNING, then SUCCEEDED, no LOST retry."""
    from molq import RetryBackoff, RetryPolicy

    sub = Submitor(Cluster("workstation", "local", host=ALIAS), store=store, jobs_dir=f"{remote_dir}/jobs")
    policy = RetryPolicy(max_attempts=2, retry_on_states=[JobState.LOST],
                         backoff=RetryBackoff(initial_seconds=0.0, maximum_seconds=0.0))
    handle = sub.submit_job(command="sleep 3", retry=policy, execution=JobExecution(cwd=remote_dir))
    job_dir = sub.get_job(handle.job_id).metadata["molq.job_dir"]
    _wait_remote(f"{job_dir}/pid")
    subprocess.run(["ssh", ALIAS, f'kill -KILL "$(cat {job_dir}/wrapper.pid)"'], stdin=subprocess.DEVNULL, check=True)
    sub.refresh_jobs()
    assert sub.get_job(handle.job_id).state is JobState.RUNNING
    final = handle.wait(timeout=60)
    assert (final.state, final.exit_code, final.attempt) == (JobState.SUCCEEDED, 0, 1)
    assert len(sub.get_retry_family(handle.job_id)) == 1


def test_missing_remote_cwd_is_refused_not_created(store, remote_dir):
    """A remote cwd that does not exist is a ConfigError; nothing is recorded or created."""
    from molq import ConfigError

    sub = Submitor(Cluster("workstation", "local", host=ALIAS), store=store)
    missing = f"{remote_dir}/no/such/dir"
    with pytest.raises(ConfigError, match="does not exist"):
        sub.submit_job(argv=["true"], execution=JobExecution(cwd=missing))
    assert store.last_seq() == 0
    exists = subprocess.run(["ssh", ALIAS, "test", "-e", f"{remote_dir}/no"], stdin=subprocess.DEVNULL, check=False)
    assert exists.returncode != 0
