"""The PBS backend against real servers: OpenPBS 23.06 and Slurm's Torque wrappers.

Every test runs on both dialects (``pbs``, ``pbs-torque``) unless it names one.
"""

from __future__ import annotations

import os
import subprocess
import time
from pathlib import Path

import pytest
from tests.integration.pbs_real import BIN_DIRS, DIALECTS, cluster, not_ready, options

from molq import (
    Cluster,
    JobExecution,
    JobResources,
    JobScheduling,
    JobState,
    MolqError,
    SchedulerError,
    Submitor,
)
from molq.shell.schedulers._pbs import PBSScheduler, PBSSchedulerOptions
from molq.shell.transport._local import LocalTransport


TASK_INDEX = "${PBS_ARRAY_INDEX:-$SLURM_ARRAY_TASK_ID}"


@pytest.fixture(params=list(BIN_DIRS))
def kind(request) -> str:
    reason = not_ready(request.param)
    if reason:
        pytest.skip(reason)
    return request.param


@pytest.fixture
def sub(kind, store, tmp_path):
    submitor = Submitor(cluster(kind), store=store, jobs_dir=tmp_path / "jobs")
    yield submitor
    for record in submitor.list_jobs():
        submitor.cancel_job(record.job_id)
    submitor.close()


def _wait(sub, handles, timeout=120):
    return sub.watch_jobs([h.job_id for h in handles], timeout=timeout)


def _wait_state(sub, handle, state, timeout=60):
    deadline = time.monotonic() + timeout
    while True:
        sub.refresh_jobs()
        record = sub.get_job(handle.job_id)
        if record.state is state:
            return record
        assert time.monotonic() < deadline, record
        time.sleep(0.5)


def test_dialect_is_detected_once(kind):
    """`qstat --version` tells OpenPBS (pro) from the Torque wrappers (torque), asked only once."""
    calls = []

    class Counting(LocalTransport):
        def run(self, argv, **kwargs):
            calls.append(tuple(argv))
            return super().run(argv, **kwargs)

    sched = PBSScheduler(Counting(), options(kind))
    assert sched.dialect == DIALECTS[kind]
    sched.observe_many(["1"])
    sched.observe_many(["1"])
    assert [c for c in calls if "--version" in c] == [(f"{BIN_DIRS[kind]}/qstat", "--version")]


def test_success_and_exit_codes(sub):
    """Exit 0 is SUCCEEDED with the job's output; exit 3 is FAILED with 3; `exit` inside works."""
    ok = sub.submit_job(argv=["echo", "hello pbs"])
    bad = sub.submit_job(command="exit 3")
    good, failed = _wait(sub, [ok, bad])
    assert (good.state, good.exit_code) == (JobState.SUCCEEDED, 0)
    assert Path(good.metadata["molq.stdout_path"]).read_text() == "hello pbs\n"
    assert (failed.state, failed.exit_code) == (JobState.FAILED, 3)


def test_cancel_running_job(sub):
    """qdel of a running job ends CANCELLED; cancelling again is harmless."""
    job = sub.submit_job(argv=["sleep", "120"])
    _wait_state(sub, job, JobState.RUNNING)
    job.cancel()
    [record] = _wait(sub, [job])
    assert record.state is JobState.CANCELLED
    sub.target.scheduler_impl.cancel(record.scheduler_job_id)


def test_cancel_queued_job(sub):
    """A job still waiting (on a running parent) is CANCELLED; the parent keeps running."""
    parent = sub.submit_job(argv=["sleep", "120"])
    child = sub.submit_job(argv=["echo", "never"], after_success=[parent.job_id])
    _wait_state(sub, parent, JobState.RUNNING)
    assert sub.get_job(child.job_id).state is JobState.QUEUED
    child.cancel()
    [record] = _wait(sub, [child])
    assert record.state is JobState.CANCELLED
    assert not Path(record.metadata["molq.stdout_path"]).exists() or not Path(record.metadata["molq.stdout_path"]).read_text()
    sub.refresh_jobs()
    assert sub.get_job(parent.job_id).state is JobState.RUNNING


def test_time_limit_is_timed_out(sub, kind):
    """Past its walltime a job is TIMED_OUT (OpenPBS: -29 within ~4 s; wrappers: Slurm's 1 min minimum)."""
    limit = "3s" if kind == "pbs" else "1m"
    job = sub.submit_job(argv=["sleep", "300"], resources=JobResources(time_limit=limit))
    [record] = _wait(sub, [job], timeout=200)
    assert record.state is JobState.TIMED_OUT, record
    if kind == "pbs":
        assert record.exit_code == -29


@pytest.mark.parametrize(
    ("condition", "parent_exit", "child_state"),
    [
        ("after_success", 0, JobState.SUCCEEDED),
        ("after_success", 3, JobState.CANCELLED),
        ("after_failure", 3, JobState.SUCCEEDED),
        ("after_failure", 0, JobState.CANCELLED),
        ("after_started", 3, JobState.SUCCEEDED),
        ("after", 3, JobState.SUCCEEDED),
    ],
)
def test_dependency_conditions(sub, condition, parent_exit, child_state):
    """Each condition runs the child when met; one never met ends CANCELLED, not waiting forever."""
    parent = sub.submit_job(command=f"sleep 2; exit {parent_exit}")
    child = sub.submit_job(argv=["echo", "child"], **{condition: [parent.job_id]})
    first, second = _wait(sub, [parent, child])
    assert first.state is (JobState.SUCCEEDED if parent_exit == 0 else JobState.FAILED)
    assert second.state is child_state, second
    if child_state is JobState.CANCELLED:
        assert second.failure_reason
    else:
        assert Path(second.metadata["molq.stdout_path"]).read_text() == "child\n"


def test_text_fallback_on_openpbs(store, tmp_path):
    """With json=False (servers older than PBS Pro 13) the text qstat -f reads the same outcomes."""
    if not_ready("pbs"):
        pytest.skip(not_ready("pbs"))
    seen: list[tuple[str, ...]] = []

    class Recording(LocalTransport):
        def run(self, argv, **kwargs):
            seen.append(tuple(argv))
            return super().run(argv, **kwargs)

    target = Cluster("pbs-text", "pbs", transport=Recording(), scheduler_options=options("pbs", json=False))
    sub = Submitor(target, store=store, jobs_dir=tmp_path / "jobs")
    ok = sub.submit_job(argv=["echo", "a long enough line"], execution=JobExecution(job_name="x" * 90))
    bad = sub.submit_job(command=f"exit $(( {TASK_INDEX} == 3 ? 6 : 0 ))", scheduling=JobScheduling(array_spec="1-3"))
    good, failed = _wait(sub, [ok, bad])
    assert (good.state, good.exit_code) == (JobState.SUCCEEDED, 0)
    assert (failed.state, failed.exit_code) == (JobState.FAILED, 6)
    qstats = [argv for argv in seen if argv[0].endswith("/qstat") and "--version" not in argv]
    assert qstats
    assert not [argv for argv in qstats if "json" in argv]
    sub.close()


def test_dependency_never_satisfied_is_named_on_openpbs(store, tmp_path):
    """OpenPBS deletes an afterok child of a failed parent: the reason says so."""
    if not_ready("pbs"):
        pytest.skip(not_ready("pbs"))
    sub = Submitor(cluster("pbs"), store=store, jobs_dir=tmp_path / "jobs")
    parent = sub.submit_job(command="exit 3")
    child = sub.submit_job(argv=["true"], after_success=[parent.job_id])
    _, record = _wait(sub, [parent, child])
    assert record.state is JobState.CANCELLED
    assert "dependency never satisfied" in record.failure_reason
    sub.close()


def test_array_with_a_failing_task_on_openpbs(store, tmp_path):
    """An OpenPBS array whose parent says Exit_status 0 but whose subjob 2 exited 5 is FAILED 5; each task has its state."""
    if not_ready("pbs"):
        pytest.skip(not_ready("pbs"))
    sub = Submitor(cluster("pbs"), store=store, jobs_dir=tmp_path / "jobs")
    job = sub.submit_job(
        command=f"exit $(( {TASK_INDEX} == 2 ? 5 : 0 ))", scheduling=JobScheduling(array_spec="1-3")
    )
    assert job.scheduler_job_id.endswith("[].pbshost")
    [record] = _wait(sub, [job])
    assert (record.state, record.exit_code) == (JobState.FAILED, 5)
    tasks = sub.target.scheduler_impl.array_tasks(record.scheduler_job_id)
    states = {key.split("[")[1].split("]")[0]: (obs.state, obs.exit_code) for key, obs in tasks.items()}
    assert states == {
        "1": (JobState.SUCCEEDED, 0),
        "2": (JobState.FAILED, 5),
        "3": (JobState.SUCCEEDED, 0),
    }
    sub.close()


def test_array_runs_every_task(sub, kind):
    """`array_spec` runs each task (-J on OpenPBS, -t on the wrappers) and the array ends SUCCEEDED."""
    job = sub.submit_job(
        command=f"touch {sub.target.name}-task-{TASK_INDEX}", scheduling=JobScheduling(array_spec="1-3")
    )
    [record] = _wait(sub, [job])
    assert record.state is JobState.SUCCEEDED
    cwd = Path(record.cwd)
    deadline = time.monotonic() + 30  # the wrappers show the array as its first task: wait for the rest
    while len(list(cwd.glob(f"{kind}-task-*"))) < 3 and time.monotonic() < deadline:
        time.sleep(0.5)
    assert sorted(p.name for p in cwd.glob(f"{kind}-task-*")) == [f"{kind}-task-{i}" for i in (1, 2, 3)]


def test_queue_includes_a_job_submitted_outside_molq(sub, kind, tmp_path):
    """get_queue lists a plain qsub job (not molq's) with its name and owner."""
    script = tmp_path / "outside.sh"
    script.write_text("#!/bin/bash\n#PBS -N outside_molq\nsleep 60\n")
    log = str(tmp_path / "outside.log")
    done = subprocess.run(
        [f"{BIN_DIRS[kind]}/qsub", "-o", log, "-e", log, str(script)],
        capture_output=True, text=True, check=True, cwd=tmp_path,
    )
    outside = done.stdout.strip()
    try:
        mine = sub.submit_job(argv=["sleep", "60"])
        queue = {e.scheduler_job_id: e for e in sub.target.get_queue()}
        assert queue[outside].name == "outside_molq"
        assert queue[outside].user == "root"
        assert queue[outside].state in (JobState.QUEUED, JobState.RUNNING)
        assert mine.scheduler_job_id in queue
    finally:
        subprocess.run([f"{BIN_DIRS[kind]}/qdel", outside], capture_output=True, check=False)


def test_interrupted_submission_is_adopted(sub, monkeypatch):
    """qsub accepted the job but molq died before recording it: the reconciler adopts it, not LOST."""
    scheduler = sub.target.scheduler_impl
    real_submit = scheduler.submit

    def submit_then_crash(spec, job_dir):
        real_submit(spec, job_dir)
        raise KeyboardInterrupt

    monkeypatch.setattr(scheduler, "submit", submit_then_crash)
    with pytest.raises(KeyboardInterrupt):
        sub.submit_job(argv=["echo", "adopted"])
    monkeypatch.undo()
    [record] = sub.list_jobs()
    assert record.state is JobState.CREATED
    sub.reconciler.created_grace = 0.0
    [final] = sub.watch_jobs([record.job_id], timeout=120)
    assert final.state is JobState.SUCCEEDED, final
    assert final.scheduler_job_id
    assert Path(final.metadata["molq.stdout_path"]).read_text() == "adopted\n"


def test_nothing_submitted_is_marked_lost(sub, monkeypatch):
    """An intent that never reached qsub is LOST with a reason after the grace period."""
    monkeypatch.setattr(sub.target.scheduler_impl, "submit", lambda spec, job_dir: (_ for _ in ()).throw(KeyboardInterrupt))
    with pytest.raises(KeyboardInterrupt):
        sub.submit_job(argv=["true"])
    monkeypatch.undo()
    sub.reconciler.created_grace = 0.0
    sub.refresh_jobs()
    [record] = sub.list_jobs(include_terminal=True)
    assert record.state is JobState.LOST
    assert "submission interrupted" in record.failure_reason


def test_unknown_ids_are_not_in_the_queue_not_an_error(kind):
    """An id the server never knew is state None (not terminal, not a crash)."""
    sched = PBSScheduler(LocalTransport(), options(kind))
    missing = "999999.pbshost" if kind == "pbs" else "999999"
    obs = sched.observe_many([missing])[missing]
    assert obs.state is None
    sched.cancel(missing)


def test_server_down_fails_fast_with_scheduler_error(kind, tmp_path, monkeypatch):
    """A server that does not answer is a SchedulerError naming the failure, within seconds."""
    if kind == "pbs":
        conf = Path("/etc/pbs.conf").read_text() + "PBS_BATCH_SERVICE_PORT=15999\n"
        (tmp_path / "pbs.conf").write_text(conf)
        monkeypatch.setenv("PBS_CONF_FILE", str(tmp_path / "pbs.conf"))
    else:
        conf = Path("/etc/slurm/slurm.conf").read_text()
        lines = [line for line in conf.splitlines() if not line.startswith("SlurmctldPort")]
        (tmp_path / "slurm.conf").write_text("\n".join([*lines, "SlurmctldPort=6999", ""]))
        monkeypatch.setenv("SLURM_CONF", str(tmp_path / "slurm.conf"))
    sched = PBSScheduler(LocalTransport(), options(kind, timeout=30.0))
    start = time.monotonic()
    with pytest.raises(SchedulerError) as info:
        sched.observe_many(["1"])
    assert time.monotonic() - start < 30
    assert info.value.returncode not in (0, None)
    assert "is the PBS server up" in str(info.value)


def test_every_command_has_a_timeout(tmp_path):
    """A qstat that hangs is cut off after the configured timeout with a molq error."""
    fake = tmp_path / "bin"
    fake.mkdir()
    (fake / "qstat").write_text("#!/bin/sh\nsleep 30\n")
    os.chmod(fake / "qstat", 0o700)
    sched = PBSScheduler(LocalTransport(), PBSSchedulerOptions(bin_dir=str(fake), flavor="pro", timeout=1.0))
    start = time.monotonic()
    with pytest.raises(MolqError, match="timed out"):
        sched.observe_many(["1.pbshost"])
    assert time.monotonic() - start < 10


ALIAS = os.environ.get("MOLQ_CI_SSH_ALIAS", "molq-test")


@pytest.fixture
def remote(kind, store):
    """A Submitor reaching ``kind`` through the real sshd (``Cluster(..., "pbs", host=alias)``)."""
    probe = subprocess.run(
        ["ssh", "-o", "BatchMode=yes", "-o", "ConnectTimeout=3", ALIAS, "true"],
        stdin=subprocess.DEVNULL, capture_output=True, check=False,
    )
    if probe.returncode != 0:
        pytest.skip(f"no ssh alias {ALIAS} (run shared/ci/sshd-up as root)")
    path = f"/tmp/molq-pbs-ssh-{os.getpid()}-{time.monotonic_ns()}"
    subprocess.run(["ssh", ALIAS, "mkdir", "-p", path], stdin=subprocess.DEVNULL, check=True)  # molq creates no cwd
    submitor = Submitor(cluster(kind, f"remote-{kind}", host=ALIAS), store=store, jobs_dir=f"{path}/jobs")
    yield submitor, path
    for record in submitor.list_jobs():
        submitor.cancel_job(record.job_id)
    submitor.close()
    subprocess.run(["ssh", ALIAS, "rm", "-rf", path], stdin=subprocess.DEVNULL, check=False)


def _remote_cat(path: str) -> str:
    return subprocess.run(
        ["ssh", ALIAS, "cat", path], stdin=subprocess.DEVNULL, capture_output=True, text=True, check=True
    ).stdout


def test_over_ssh(remote, kind):
    """Over SSH: exit codes, a dependency, the queue, cancel (bin_dir finds /opt/pbs/bin remotely)."""
    sub, path = remote
    here = JobExecution(cwd=path)
    parent = sub.submit_job(command="echo parent; exit 0", execution=here)
    child = sub.submit_job(argv=["echo", "child"], after_success=[parent.job_id], execution=here)
    bad = sub.submit_job(command="exit 4", execution=here)
    waiting = sub.submit_job(argv=["sleep", "120"], execution=here)
    assert waiting.scheduler_job_id in {e.scheduler_job_id for e in sub.target.get_queue()}
    waiting.cancel()
    first, second, failed, cancelled = _wait(sub, [parent, child, bad, waiting])
    assert (first.state, second.state) == (JobState.SUCCEEDED, JobState.SUCCEEDED)
    assert _remote_cat(second.metadata["molq.stdout_path"]) == "child\n"
    assert (failed.state, failed.exit_code) == (JobState.FAILED, 4)
    assert cancelled.state is JobState.CANCELLED
    assert sub.target.scheduler_impl.dialect == DIALECTS[kind]


def test_adoption_over_ssh(remote, monkeypatch):
    """An interrupted remote submission is adopted by name and script path, not marked LOST."""
    sub, _ = remote
    scheduler = sub.target.scheduler_impl
    real_submit = scheduler.submit

    def submit_then_crash(spec, job_dir):
        real_submit(spec, job_dir)
        raise KeyboardInterrupt

    monkeypatch.setattr(scheduler, "submit", submit_then_crash)
    with pytest.raises(KeyboardInterrupt):
        sub.submit_job(argv=["echo", "adopted"])
    monkeypatch.undo()
    [record] = sub.list_jobs()
    sub.reconciler.created_grace = 0.0
    [final] = sub.watch_jobs([record.job_id], timeout=120)
    assert final.state is JobState.SUCCEEDED, final
    assert _remote_cat(final.metadata["molq.stdout_path"]) == "adopted\n"


def test_missing_clients_over_ssh_are_named(remote):
    """A remote bin_dir without qstat fails at once with a typed error naming the command."""
    from molq import SshTransport, SshTransportOptions, TransportError

    transport = SshTransport(SshTransportOptions(host=ALIAS))
    sched = PBSScheduler(transport, PBSSchedulerOptions(bin_dir="/nonexistent/pbs/bin"))
    with pytest.raises(TransportError, match="/nonexistent/pbs/bin/qstat"):
        sched.observe_many(["1"])


def test_no_qsub_background_process_is_left_behind(store, tmp_path):
    """OpenPBS's qsub forks a lingering daemon unless given -f: molq's submissions leave none."""
    if not_ready("pbs"):
        pytest.skip(not_ready("pbs"))
    sub = Submitor(cluster("pbs"), store=store, jobs_dir=tmp_path / "jobs")
    job = sub.submit_job(argv=["true"])
    _wait(sub, [job])
    sub.close()
    lingering = []
    for proc in Path("/proc").iterdir():
        try:
            cmdline = (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode()
        except OSError:
            continue
        if "qsub" in cmdline and str(tmp_path) in cmdline:
            lingering.append(cmdline)
    assert lingering == []
