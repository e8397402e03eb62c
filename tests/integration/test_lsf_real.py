"""The LSF backend against real OpenLava 4.0 (shared/ci/lsf/lsf-up): the ground truth for LSF.

What OpenLava shows here: exit codes only in ``bjobs -l``; bkill of a running job
gives 130 (bhist tells it from ``exit 130``), a run limit 140, a job killed while
pending ``Exited`` with no code; a dependency that can never be met stays PEND.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from pathlib import Path

import pytest
from tests.openlava import SETUP, use_openlava

from molq import (
    Cluster,
    JobExecution,
    JobResources,
    JobScheduling,
    JobState,
    Submitor,
    cancel_task,
    job_tasks,
    map_jobs,
    task_log_paths,
)
from molq.core import SchedulerError
from molq.shell.schedulers._lsf import LSFScheduler, LSFSchedulerOptions
from molq.shell.transport._local import LocalTransport


pytestmark = pytest.mark.lsf


@pytest.fixture
def lsf(store, tmp_path, monkeypatch):
    """A Submitor on the real OpenLava cluster, its clients on PATH as after ``. openlava.sh``."""
    use_openlava(monkeypatch)
    sub = Submitor(Cluster("openlava", "lsf"), store=store, jobs_dir=tmp_path / "jobs")
    yield sub
    for record in sub.list_jobs():
        sub.cancel_job(record.job_id)
    sub.close()


def _in(tmp_path) -> JobExecution:
    return JobExecution(cwd=str(tmp_path))


def _bsub(*argv: str) -> str:
    done = subprocess.run(["bsub", *argv], capture_output=True, text=True, timeout=30, check=True, stdin=subprocess.DEVNULL)
    return done.stdout.split("<", 1)[1].split(">", 1)[0]


def _wait_state(sub: Submitor, job_id: str, state: JobState, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while sub.get_job(job_id).state is not state:
        assert time.monotonic() < deadline, sub.get_job(job_id)
        sub.refresh_jobs()
        time.sleep(0.5)


def test_success_and_exit_codes(lsf, tmp_path):
    """Exit 0 is SUCCEEDED with the job's bytes only in stdout; exit 3 is FAILED with code 3."""
    value = "sp ace 'q' \"d\" $HOME ;\nünï"
    ok = lsf.submit_job(
        command='printf %s "$V"; printf err >&2', execution=JobExecution(env={"V": value}, cwd=str(tmp_path))
    )
    bad = lsf.submit_job(command="exit 3", execution=_in(tmp_path))
    good, failed = lsf.watch_jobs([ok.job_id, bad.job_id], timeout=90)
    assert (good.state, good.exit_code) == (JobState.SUCCEEDED, 0)
    assert Path(good.metadata["molq.stdout_path"]).read_text() == value
    assert Path(good.metadata["molq.stderr_path"]).read_text() == "err"
    assert (failed.state, failed.exit_code) == (JobState.FAILED, 3)


def test_exit_130_of_the_script_is_failed_not_cancelled(lsf, tmp_path):
    """A script's own exit 130 looks like a bkill in bjobs; bhist shows no kill, so it is FAILED."""
    record = lsf.submit_job(command="exit 130", execution=_in(tmp_path)).wait(timeout=90)
    assert (record.state, record.exit_code) == (JobState.FAILED, 130)


def test_cancel_queued_and_running(lsf, tmp_path):
    """bkill of a running job (130) and of a pending one (no code) both end CANCELLED."""
    running = lsf.submit_job(command="sleep 120", execution=_in(tmp_path))
    queued = lsf.submit_job(command="true", after_success=[running.job_id], execution=_in(tmp_path))
    _wait_state(lsf, running.job_id, JobState.RUNNING)
    _wait_state(lsf, queued.job_id, JobState.QUEUED)
    queued.cancel()
    running.cancel()
    first, second = lsf.watch_jobs([running.job_id, queued.job_id], timeout=90)
    assert (first.state, first.exit_code) == (JobState.CANCELLED, 130)
    assert second.state is JobState.CANCELLED
    assert second.exit_code is None


@pytest.mark.slow
def test_run_limit_is_timed_out(lsf, tmp_path):
    """-W 1 (OpenLava's minimum, one minute) kills the job with 140: TIMED_OUT."""
    handle = lsf.submit_job(command="sleep 600", resources=JobResources(time_limit="1m"), execution=_in(tmp_path))
    record = handle.wait(timeout=240)
    assert (record.state, record.exit_code) == (JobState.TIMED_OUT, 140)


def test_four_dependency_conditions_and_one_never_satisfied(lsf, tmp_path):
    """done/exit/started/ended run the child when met; done() on a failed parent ends CANCELLED with the reason."""
    ok = lsf.submit_job(command="exit 0", execution=_in(tmp_path))
    bad = lsf.submit_job(command="exit 3", execution=_in(tmp_path))
    slow = lsf.submit_job(command="sleep 3", execution=_in(tmp_path))
    children = [
        lsf.submit_job(command="echo s", after_success=[ok.job_id], execution=_in(tmp_path)),
        lsf.submit_job(command="echo f", after_failure=[bad.job_id], execution=_in(tmp_path)),
        lsf.submit_job(command="echo b", after_started=[slow.job_id], execution=_in(tmp_path)),
        lsf.submit_job(command="echo a", after=[bad.job_id], execution=_in(tmp_path)),
    ]
    never = lsf.submit_job(command="echo n", after_success=[bad.job_id], execution=_in(tmp_path))
    records = lsf.watch_jobs([c.job_id for c in children], timeout=120)
    assert [r.state for r in records] == [JobState.SUCCEEDED] * 4
    assert lsf.get_dependencies(children[1].job_id)[0].scheduler_dependency == f"exit({bad.scheduler_job_id})"
    final = never.wait(timeout=90)
    assert final.state is JobState.CANCELLED
    assert "never satisfied" in (final.failure_reason or "")
    queue = {e.scheduler_job_id for e in lsf.target.get_queue()}
    assert never.scheduler_job_id not in queue  # molq killed it: nothing left pending forever


def test_arrays_and_their_tasks(lsf, tmp_path):
    """An array is one id; get_queue shows each task as id[i]; one failed task makes it FAILED."""
    mixed = lsf.submit_job(
        command='[ "$LSB_JOBINDEX" != 2 ]', scheduling=JobScheduling(array_spec="1-3"), execution=_in(tmp_path)
    )
    waiting = lsf.submit_job(
        command="sleep 120", scheduling=JobScheduling(array_spec="1-2"), execution=_in(tmp_path)
    )
    _wait_state(lsf, waiting.job_id, JobState.RUNNING)
    tasks = {e.scheduler_job_id: e.state for e in lsf.target.get_queue()}
    sid = waiting.scheduler_job_id
    assert {k: v for k, v in tasks.items() if k.startswith(f"{sid}[")} == {
        f"{sid}[1]": JobState.RUNNING,
        f"{sid}[2]": JobState.RUNNING,
    }
    waiting.cancel()
    record = mixed.wait(timeout=90)
    assert (record.state, record.exit_code) == (JobState.FAILED, 1)
    assert "array of 3" in (record.failure_reason or "")
    assert waiting.wait(timeout=60).state is JobState.CANCELLED
    tasks = job_tasks(lsf.store, mixed.job_id)  # recorded element by element by the passes of the wait
    assert [(t.index, t.state, t.exit_code) for t in tasks.tasks] == [
        (1, JobState.SUCCEEDED, 0),
        (2, JobState.FAILED, 1),
        (3, JobState.SUCCEEDED, 0),
    ]
    assert tasks.get(2).task_id == f"{mixed.scheduler_job_id}[2]"
    assert tasks.summary() == "2 succeeded, 1 failed"
    echo = lsf.submit_job(
        command='echo "element $LSB_JOBINDEX"', scheduling=JobScheduling(array_spec="1-2"), execution=_in(tmp_path)
    )
    done = echo.wait(timeout=90)
    assert done.state is JobState.SUCCEEDED
    for index in (1, 2):  # each element appends to its own file (exec >> <path>.$LSB_JOBINDEX)
        out, _ = task_log_paths("lsf", done.metadata, done.scheduler_job_id, index)
        assert Path(out).read_text() == f"element {index}\n"


def test_get_queue_includes_a_job_submitted_outside_molq(lsf, tmp_path):
    """A plain bsub job shows in get_queue with its name, user and queue."""
    outside = _bsub("-J", "outside-molq", "-o", str(tmp_path / "o"), "sleep", "60")
    try:
        entries = [e for e in lsf.target.get_queue() if e.scheduler_job_id == outside]
        assert [(e.name, e.user, e.partition) for e in entries] == [("outside-molq", "root", "normal")]
        assert entries[0].state in (JobState.QUEUED, JobState.RUNNING)
        mine = lsf.target.get_queue(user="root")
        assert outside in {e.scheduler_job_id for e in mine}
    finally:
        subprocess.run(["bkill", outside], capture_output=True, timeout=30, check=False)


def test_interrupted_submission_is_adopted(lsf, tmp_path, monkeypatch):
    """bsub accepted the job but molq died before recording it: the reconciler adopts it."""
    scheduler = lsf.target.scheduler_impl
    real_submit = scheduler.submit

    def submit_then_crash(spec, job_dir):
        real_submit(spec, job_dir)
        raise KeyboardInterrupt

    monkeypatch.setattr(scheduler, "submit", submit_then_crash)
    with pytest.raises(KeyboardInterrupt):
        lsf.submit_job(argv=["echo", "adopted"], execution=_in(tmp_path))
    monkeypatch.undo()
    use_openlava(monkeypatch)
    [record] = lsf.list_jobs()
    assert record.state is JobState.CREATED
    lsf.reconciler.created_grace = 0.0
    final = lsf.watch_jobs([record.job_id], timeout=90)[0]
    assert final.state is JobState.SUCCEEDED
    assert final.scheduler_job_id.isdigit()
    assert Path(final.metadata["molq.stdout_path"]).read_text() == "adopted\n"


def test_unknown_id_is_not_in_the_queue(monkeypatch):
    """``Job <N> is not found`` (rc 255) is "unknown", never an error or an end."""
    use_openlava(monkeypatch)
    sched = LSFScheduler(LocalTransport())
    assert sched.observe_many(["999999"])["999999"].state is None
    assert sched.resolve_terminal("999999") is None
    sched.cancel("999999")


def test_dialect_is_detected_once(monkeypatch):
    """bjobs -V names OpenLava; the answer is kept for the scheduler's life."""
    use_openlava(monkeypatch)
    sched = LSFScheduler(LocalTransport())
    assert sched.dialect() == "openlava"
    monkeypatch.setenv("PATH", "/nonexistent")
    assert sched.dialect() == "openlava"


@pytest.fixture
def mbatchd_down(tmp_path, monkeypatch):
    """An LSF_ENVDIR copy whose mbatchd port is closed: the shared cluster is untouched."""
    use_openlava(monkeypatch)
    conf = tmp_path / "lsf-down"
    shutil.copytree("/opt/openlava/etc", conf)
    text = (conf / "lsf.conf").read_text()
    lines = [
        "LSB_MBD_PORT=1" if line.startswith("LSB_MBD_PORT=") else line for line in text.splitlines()
    ]
    (conf / "lsf.conf").write_text("\n".join(lines) + "\n")
    monkeypatch.setenv("LSF_ENVDIR", str(conf))
    return LSFScheduler(LocalTransport(), LSFSchedulerOptions(dialect="openlava"))


@pytest.mark.parametrize("call", ["observe", "submit", "cancel", "queue"])
def test_scheduler_down_fails_fast_with_scheduler_error(mbatchd_down, tmp_path, call):
    """mbatchd unreachable: a typed SchedulerError within seconds, not a client retrying forever."""
    from molq.core import JobSpec

    spec = JobSpec(command_type="command", command="true", cwd=str(tmp_path))
    calls = {
        "observe": lambda: mbatchd_down.observe_many(["1"]),
        "submit": lambda: mbatchd_down.submit(spec, str(tmp_path / "j")),
        "cancel": lambda: mbatchd_down.cancel("1"),
        "queue": mbatchd_down.list_queue,
    }
    started = time.monotonic()
    with pytest.raises(SchedulerError) as info:
        calls[call]()
    assert time.monotonic() - started < 20
    assert info.value.returncode == 255
    assert "Connection refused" in str(info.value)


ALIAS = os.environ.get("MOLQ_CI_SSH_ALIAS", "molq-test")


@pytest.mark.ssh
def test_lsf_over_ssh_with_a_setup_file(store, tmp_path, monkeypatch):
    """Remote OpenLava through the real sshd: the setup file gives the login shell LSF's environment."""
    use_openlava(monkeypatch)
    reach = ["ssh", "-o", "BatchMode=yes", "-o", "ConnectTimeout=3", ALIAS, "true"]
    if subprocess.run(reach, stdin=subprocess.DEVNULL, capture_output=True, check=False).returncode != 0:
        pytest.skip(f"no ssh alias {ALIAS} (run shared/ci/sshd-up as root)")
    remote = f"/tmp/molq-lsf-ssh-{tmp_path.name}"
    options = LSFSchedulerOptions(setup=SETUP)
    sub = Submitor(
        Cluster("openlava-remote", "lsf", host=ALIAS, scheduler_options=options), store=store, jobs_dir=f"{remote}/jobs"
    )
    try:
        assert sub.target.scheduler_impl.dialect() == "openlava"
        parent = sub.submit_job(command="echo parent", execution=JobExecution(cwd="/tmp"))
        child = sub.submit_job(argv=["echo", "child"], after_success=[parent.job_id], execution=JobExecution(cwd="/tmp"))
        waiting = sub.submit_job(argv=["sleep", "60"], execution=JobExecution(cwd="/tmp"))
        assert waiting.scheduler_job_id in {e.scheduler_job_id for e in sub.target.get_queue()}
        waiting.cancel()
        first, second, third = sub.watch_jobs([parent.job_id, child.job_id, waiting.job_id], timeout=120)
        assert (first.state, second.state, third.state) == (JobState.SUCCEEDED, JobState.SUCCEEDED, JobState.CANCELLED), (third.exit_code, third.failure_reason)
        assert Path(second.metadata["molq.stdout_path"]).read_text() == "child\n"
    finally:
        sub.close()
        subprocess.run(["rm", "-rf", remote], check=False)


class Forgetful(LocalTransport):
    """Real OpenLava, except that bjobs is asked about an id it never knew (as after CLEAN_PERIOD)."""

    def run(self, argv, **kwargs):  # type: ignore[override]
        if argv[0] == "bjobs" and "-V" not in argv:
            argv = [argv[0], *(a if a.startswith("-") else "999999" for a in argv[1:])]
        return super().run(argv, **kwargs)


def test_a_job_that_left_bjobs_is_resolved_by_bhist(monkeypatch, tmp_path):
    """bjobs no longer knows the job: the real bhist -l tells how it ended (exit 3, and a bkill)."""
    use_openlava(monkeypatch)
    failed = _bsub("-o", str(tmp_path / "o1"), "exit 3")
    killed = _bsub("-o", str(tmp_path / "o2"), "sleep 60")
    real = LSFScheduler(LocalTransport())
    deadline = time.monotonic() + 180  # OpenLava dispatches in its own rhythm; slower under load
    while real.observe_many([killed])[killed].state is not JobState.RUNNING:
        assert time.monotonic() < deadline
        time.sleep(0.5)
    # OpenLava 4.0 loses a KILL sent while it is still starting the job (seen: "Signal <KILL>
    # requested" in bhist, then the job runs on or ends "Done successfully"); this test is
    # about reading bhist, so it kills a job that has been running for a moment.
    time.sleep(3)
    real.cancel(killed)
    while not all((real.resolve_terminal(j) or None) for j in (failed, killed)):
        assert time.monotonic() < deadline
        time.sleep(0.5)
    forgetful = LSFScheduler(Forgetful())
    seen = forgetful.observe_many([failed, killed])
    assert (seen[failed].state, seen[failed].exit_code) == (JobState.FAILED, 3)
    assert seen[killed].state is JobState.CANCELLED


def test_after_success_on_an_array_needs_every_element(lsf, tmp_path):
    """done(<array id>) waits for every element; one failed element means the dependent never runs."""
    failing = lsf.submit_job(
        command='[ "$LSB_JOBINDEX" != 2 ]',
        scheduling=JobScheduling(array_spec="1-3"),
        execution=_in(tmp_path),
    )
    passing = lsf.submit_job(
        command="true", scheduling=JobScheduling(array_spec="1-3"), execution=_in(tmp_path)
    )
    never = lsf.submit_job(argv=["true"], after_success=[failing.job_id], execution=_in(tmp_path))
    runs = lsf.submit_job(argv=["true"], after_success=[passing.job_id], execution=_in(tmp_path))
    records = lsf.watch_jobs([failing.job_id, passing.job_id, never.job_id, runs.job_id], timeout=120)
    assert [r.state for r in records] == [
        JobState.FAILED,
        JobState.SUCCEEDED,
        JobState.CANCELLED,
        JobState.SUCCEEDED,
    ]


def test_cancel_one_element(lsf, tmp_path):
    """cancel_task(job, 2) bkills element 2 only; it is recorded cancelled while 1 runs on."""
    job = lsf.submit_job(command="sleep 60", scheduling=JobScheduling(array_spec="1-2"), execution=_in(tmp_path))
    _wait_state(lsf, job.job_id, JobState.RUNNING)
    time.sleep(1)  # OpenLava loses a KILL sent while it is still starting the job (ADR 0030)
    cancel_task(lsf, job.job_id, 2)
    deadline = time.monotonic() + 60
    while (task := job_tasks(lsf.store, job.job_id).get(2)) is None or task.state is JobState.RUNNING:
        assert time.monotonic() < deadline, job_tasks(lsf.store, job.job_id)
        time.sleep(1)
        lsf.refresh_jobs()
    assert (task.state, task.exit_code) == (JobState.CANCELLED, 130), task
    assert job_tasks(lsf.store, job.job_id).get(1).state is JobState.RUNNING
    job.cancel()


def test_map_jobs_on_openlava(lsf, tmp_path):
    """map_jobs: element k runs item k-1 ($LSB_JOBINDEX); each writes its own file."""
    array = map_jobs(lsf, [["echo", "a"], ["sh", "-c", "exit 4"], ["echo", "c"]], execution=_in(tmp_path))
    record = array.wait(timeout=90)
    assert (record.state, record.exit_code) == (JobState.FAILED, 4)
    assert array.failed() == (1,)
    assert Path(array.log_paths(2)[0]).read_text() == "c\n"
