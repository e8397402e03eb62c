"""A broken link never changes a job's state; the next good poll recovers.

``FaultyTransport`` wraps LocalTransport and breaks ``run`` the ways SSH links break:
a command that hangs past its timeout, ssh's exit 255, a link dropped mid-output
(exit 255 after part of the reply), and output cut short with exit 0. It is driven
through the local ShellScheduler and the real SlurmScheduler. The real SshTransport
is also pointed at a port where no sshd listens.
"""

from __future__ import annotations

import subprocess
from collections.abc import Mapping, Sequence

import pytest

from molq import (
    Cluster,
    JobReconciler,
    JobState,
    JobStore,
    LocalTransport,
    SshTransport,
    SshTransportOptions,
    Submitor,
)
from molq.core import Completed, TransportError
from molq.shell.schedulers._shell_scheduler import ShellScheduler

from .conftest import slurm_ready


FAULTS = ("hang", "exit255", "dropped", "cut_ok")


class FaultyTransport:
    """A Transport over LocalTransport whose ``run`` fails in one chosen way while ``fault`` is set.

    It wraps rather than subclasses, so schedulers see a remote-like transport (no
    in-process shortcuts) and every status query goes through ``run``.
    """

    name = "faulty"

    def __init__(self) -> None:
        self.fault: str | None = None
        self._inner = LocalTransport()

    def __getattr__(self, name: str) -> object:
        if name in (
            "read_text",
            "read_bytes",
            "write_text",
            "write_bytes",
            "exists",
            "mkdir",
            "chmod",
            "remove",
        ):
            return getattr(self._inner, name)
        raise AttributeError(name)

    def run(
        self,
        argv: Sequence[str],
        *,
        stdin: bytes | None = None,
        cwd: str | None = None,
        env: Mapping[str, str] | None = None,
        timeout: float | None = None,
    ) -> Completed:
        if self.fault == "hang":
            return self._inner.run(("sleep", "30"), timeout=0.3)
        done = self._inner.run(argv, stdin=stdin, cwd=cwd, env=env, timeout=timeout)
        half = done.stdout[: len(done.stdout) // 2]
        if self.fault == "exit255":
            return Completed(done.argv, 255, "", "ssh: connect to host x port 22: Connection refused\n")
        if self.fault == "dropped":
            return Completed(done.argv, 255, half, "Connection to x closed by remote host.\n")
        if self.fault == "cut_ok":
            return Completed(done.argv, 0, half, "")
        return done


def _settle(sub: Submitor, job_ids: list[str]) -> dict[str, JobState]:
    records = sub.watch_jobs(job_ids, timeout=180)
    return {r.job_id: r.state for r in records}


def _submit_mix(sub: Submitor) -> list[str]:
    return [sub.submit_job(argv=argv).job_id for argv in (["true"], ["false"], ["sleep", "1"])]


@pytest.fixture(params=["local", "slurm"])
def backend(request, store, jobs_root):
    if request.param == "slurm" and not slurm_ready():
        pytest.skip("no Slurm cluster (run shared/ci/slurm-up as root)")
    transport = FaultyTransport()
    sub = Submitor(Cluster("faulty", request.param, transport=transport), store=store, jobs_dir=jobs_root)
    return sub, transport


@pytest.mark.parametrize("fault", FAULTS)
def test_faults_change_no_state_and_the_next_poll_recovers(backend, fault):
    """During the fault: a typed error, no terminal or LOST state; afterwards: the true outcome."""
    sub, transport = backend
    job_ids = _submit_mix(sub)
    before = {j: sub.get_job(j).state for j in job_ids}
    transport.fault = fault
    for _ in range(3):
        report = sub.reconciler.reconcile()
        for job_id in job_ids:
            state = sub.get_job(job_id).state
            assert not state.is_terminal, (fault, job_id, state)
        if fault != "cut_ok":
            assert report.errors, fault
            assert [sub.get_job(j).state for j in job_ids] == list(before.values())
    transport.fault = None
    final = _settle(sub, job_ids)
    assert list(final.values()) == [JobState.SUCCEEDED, JobState.FAILED, JobState.SUCCEEDED]
    assert sub.store.verify_projections() == []


def test_real_ssh_to_a_dead_port_is_a_typed_error_then_recovers(store, jobs_root):
    """SshTransport to a port with no sshd: TransportError, no state change; the live sshd recovers."""
    if subprocess.run(["ssh", "molq-test", "true"], capture_output=True, check=False, timeout=30).returncode:
        pytest.skip("no sshd (run shared/ci/sshd-up as root)")
    local = Submitor(Cluster("laptop", "local"), store=store, jobs_dir=jobs_root)
    job_ids = _submit_mix(local)
    dead = SshTransport(SshTransportOptions(host="molq-test", port=2299, ssh_opts=("-o", "ConnectTimeout=3")))
    with pytest.raises(TransportError):
        dead.run(("true",), timeout=10)
    versions = [local.get_job(j).version for j in job_ids]
    report = JobReconciler(store, ShellScheduler(dead), "laptop", transport=dead).reconcile()
    assert report.errors
    assert [local.get_job(j).version for j in job_ids] == versions
    live = SshTransport(SshTransportOptions(host="molq-test"))
    reconciler = JobReconciler(store, ShellScheduler(live), "laptop", transport=live)
    for _ in range(100):
        reconciler.reconcile()
        if all(local.get_job(j).state.is_terminal for j in job_ids):
            break
    assert [local.get_job(j).state for j in job_ids] == [
        JobState.SUCCEEDED,
        JobState.FAILED,
        JobState.SUCCEEDED,
    ]
    JobStore.close(store)
