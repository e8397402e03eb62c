"""SlurmScheduler against the real single-node cluster from shared/ci/slurm-up."""

from __future__ import annotations

import shutil
import subprocess
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

import pytest

from molq.core import (
    Completed,
    DependencyRef,
    Duration,
    JobExecution,
    JobResources,
    JobScheduling,
    JobSpec,
    JobState,
    Observation,
    SchedulerError,
    compile_dependencies,
)
from molq.shell.schedulers._slurm import SlurmScheduler, SlurmSchedulerOptions
from molq.shell.transport._local import LocalTransport


pytestmark = pytest.mark.slurm
UNKNOWN_ID = "987654321"


def _slurm_usable() -> str | None:
    if shutil.which("sbatch") is None or shutil.which("sinfo") is None:
        return "sbatch/sinfo not on PATH (run shared/ci/slurm-up)"
    try:
        done = subprocess.run(
            ["sinfo", "-h", "-o", "%P"],
            capture_output=True,
            text=True,
            timeout=10,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"sinfo failed: {exc}"
    if done.returncode != 0 or not done.stdout.strip():
        return f"slurmctld not reachable: {done.stderr.strip() or 'no partitions'}"
    return None


@pytest.fixture(scope="module", autouse=True)
def _need_slurm() -> None:
    reason = _slurm_usable()
    if reason is not None:
        pytest.skip(reason)


class ScriptedTransport(LocalTransport):
    """The local transport, recording argv; chosen commands get a canned reply."""

    def __init__(self, replies: Mapping[str, Completed] | None = None) -> None:
        self.calls: list[tuple[str, ...]] = []
        self.replies = dict(replies or {})

    def run(self, argv: Sequence[str], **kwargs: object) -> Completed:  # type: ignore[override]
        argv = tuple(argv)
        self.calls.append(argv)
        if argv[0] in self.replies:
            return self.replies[argv[0]]
        return super().run(argv, **kwargs)  # type: ignore[arg-type]

    def count(self, program: str) -> int:
        return sum(1 for argv in self.calls if argv[0] == program)


NO_ACCOUNTING = Completed(
    argv=("sacct",),
    returncode=1,
    stdout="",
    stderr="sacct: error: Slurm accounting storage is disabled\n",
)


@pytest.fixture
def scheduler() -> SlurmScheduler:
    return SlurmScheduler(LocalTransport())


def make_spec(tmp_path: Path, *argv: str, **changes: object) -> JobSpec:
    return JobSpec(command_type="argv", argv=argv, cwd=str(tmp_path), **changes)  # type: ignore[arg-type]


def submit(
    sched: SlurmScheduler, tmp_path: Path, name: str, spec: JobSpec
) -> tuple[str, str]:
    job_dir = str(tmp_path / name)
    return sched.submit(spec, job_dir), job_dir


def wait_for(
    sched: SlurmScheduler,
    job_id: str,
    done: Callable[[Observation], bool] = lambda o: (
        o.state is not None and o.state.is_terminal
    ),
    *,
    job_dir: str | None = None,
    timeout: float = 60.0,
) -> Observation:
    deadline = time.monotonic() + timeout
    dirs = {job_id: job_dir} if job_dir else None
    while True:
        obs = sched.observe_many([job_id], job_dirs=dirs)[job_id]
        if done(obs):
            return obs
        if time.monotonic() > deadline:
            pytest.fail(f"job {job_id} still {obs} after {timeout}s")
        time.sleep(0.3)


def test_success_writes_stdout(scheduler, tmp_path):
    """exit 0 is SUCCEEDED with exit code 0, and stdout lands in the metadata path."""
    out = tmp_path / "logs" / "out.txt"
    out.parent.mkdir()
    spec = make_spec(
        tmp_path,
        "sh",
        "-c",
        "echo hello from slurm",
        metadata={"molq.stdout_path": str(out)},
    )
    job_id, job_dir = submit(scheduler, tmp_path, "ok", spec)
    obs = wait_for(scheduler, job_id, job_dir=job_dir)
    assert (obs.state, obs.exit_code) == (JobState.SUCCEEDED, 0)
    assert obs.started_at is not None
    assert obs.finished_at is not None
    assert out.read_text() == "hello from slurm\n"
    assert (Path(job_dir) / "exit_code").read_text() == "0\n"
    assert (Path(job_dir) / "job.sbatch").read_text() == scheduler.prepare(
        spec, job_dir
    ).script


def test_failure_exit_code(scheduler, tmp_path):
    """exit 3 is FAILED with exit code 3, also through resolve_terminal."""
    job_id, job_dir = submit(
        scheduler, tmp_path, "fail", make_spec(tmp_path, "sh", "-c", "exit 3")
    )
    obs = wait_for(scheduler, job_id, job_dir=job_dir)
    assert (obs.state, obs.exit_code) == (JobState.FAILED, 3)
    status = scheduler.resolve_terminal(job_id, job_dir=job_dir)
    assert status is not None
    assert (status.state, status.exit_code, status.raw_state) == (
        JobState.FAILED,
        3,
        "FAILED",
    )


def test_cancel(scheduler, tmp_path):
    """A cancelled running job is CANCELLED."""
    job_id, _ = submit(
        scheduler, tmp_path, "sleep", make_spec(tmp_path, "sleep", "300")
    )
    wait_for(scheduler, job_id, lambda o: o.state is JobState.RUNNING)
    assert scheduler.resolve_terminal(job_id) is None
    scheduler.cancel(job_id)
    assert wait_for(scheduler, job_id).state is JobState.CANCELLED
    scheduler.cancel(job_id)  # already gone: not an error


def test_inline_script_with_shebang(scheduler, tmp_path):
    """An inline script is written to the job dir and run with its own interpreter."""
    from molq.core import Script

    spec = JobSpec(
        command_type="script",
        script=Script.inline("#!/usr/bin/env python3\nprint(6 * 7)\n"),
        cwd=str(tmp_path),
    )
    job_id, job_dir = submit(scheduler, tmp_path, "inline", spec)
    assert wait_for(scheduler, job_id).state is JobState.SUCCEEDED
    assert (Path(job_dir) / "stdout").read_text() == "42\n"


def test_array(scheduler, tmp_path):
    """An array job finishes as one; each task writes its own stdout file."""
    spec = make_spec(
        tmp_path,
        "sh",
        "-c",
        'echo "task $SLURM_ARRAY_TASK_ID"',
        scheduling=JobScheduling(array_spec="0-2"),
    )
    job_id, job_dir = submit(scheduler, tmp_path, "array", spec)
    obs = wait_for(scheduler, job_id)
    assert obs.state is JobState.SUCCEEDED
    for task in range(3):
        path = Path(job_dir) / f"stdout.{job_id}_{task}"
        assert path.read_text() == f"task {task}\n"


def test_array_with_failing_task(scheduler, tmp_path):
    """An array with one failing task is FAILED with that task's exit code."""
    spec = make_spec(
        tmp_path,
        "sh",
        "-c",
        '[ "$SLURM_ARRAY_TASK_ID" = 1 ] && exit 4; exit 0',
        scheduling=JobScheduling(array_spec="0-2"),
    )
    job_id, _ = submit(scheduler, tmp_path, "array-fail", spec)
    obs = wait_for(scheduler, job_id)
    assert (obs.state, obs.exit_code) == (JobState.FAILED, 4)


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
def test_dependency(scheduler, tmp_path, condition, parent_exit, child_state):
    """Each condition, compiled to a native string, waits for and judges the parent."""
    parent_spec = make_spec(tmp_path, "sh", "-c", f"sleep 3; exit {parent_exit}")
    parent, _ = submit(scheduler, tmp_path, "parent", parent_spec)
    expr, _ = compile_dependencies(
        (DependencyRef("p", condition),), {"p": parent}, "slurm"
    )
    child_spec = make_spec(tmp_path, "true", scheduling=JobScheduling(dependency=expr))
    child, _ = submit(scheduler, tmp_path, "child", child_spec)
    if condition != "after_started":
        pending = wait_for(
            scheduler, child, lambda o: o.reason == "Dependency", timeout=10
        )
        assert pending.state is JobState.QUEUED
    child_obs = wait_for(scheduler, child)
    parent_obs = wait_for(scheduler, parent)
    assert child_obs.state is child_state
    if child_state is JobState.SUCCEEDED and condition != "after_started":
        assert child_obs.started_at is not None
        assert parent_obs.finished_at is not None
        assert child_obs.started_at >= parent_obs.finished_at


def test_partition_gpu(scheduler, tmp_path):
    """The partition directive places the job in the gpu partition."""
    spec = make_spec(tmp_path, "sleep", "30", scheduling=JobScheduling(partition="gpu"))
    job_id, _ = submit(scheduler, tmp_path, "gpu", spec)
    try:
        entries = {e.scheduler_job_id: e for e in scheduler.list_queue()}
        assert entries[job_id].partition == "gpu"
    finally:
        scheduler.cancel(job_id)


def test_awkward_job_name_is_one_value(scheduler, tmp_path):
    """A name with quotes, backslashes and an option lookalike reaches SLURM intact."""
    name = 'a "b" \\c #d --partition=gpu'
    spec = make_spec(tmp_path, "sleep", "30", execution=JobExecution(job_name=name))
    job_id, _ = submit(scheduler, tmp_path, "named", spec)
    try:
        entry = {e.scheduler_job_id: e for e in scheduler.list_queue()}[job_id]
        assert (entry.name, entry.partition) == (name, "debug")
    finally:
        scheduler.cancel(job_id)


def test_list_queue_includes_outside_jobs(scheduler, tmp_path):
    """Jobs submitted with plain sbatch show up in list_queue."""
    done = subprocess.run(
        [
            "sbatch",
            "--parsable",
            "-J",
            "not-molq",
            "-o",
            "/dev/null",
            "--wrap",
            "sleep 30",
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    outside = done.stdout.strip()
    try:
        entries = {e.scheduler_job_id: e for e in scheduler.list_queue()}
        assert entries[outside].name == "not-molq"
        assert entries[outside].state in (JobState.QUEUED, JobState.RUNNING)
        assert entries[outside].submit_time is not None
        assert {e.scheduler_job_id for e in scheduler.list_queue(user="root")} >= {
            outside
        }
    finally:
        scheduler.cancel(outside)


def test_unknown_id(scheduler):
    """An id SLURM never had is state None, alone or among known ids."""
    assert scheduler.observe_many([UNKNOWN_ID]) == {UNKNOWN_ID: Observation(state=None)}
    assert scheduler.poll_many([UNKNOWN_ID]) == {}
    assert scheduler.resolve_terminal(UNKNOWN_ID) is None


def test_not_a_slurm_id(scheduler):
    """An id SLURM could not have issued is None without reaching the command line."""
    assert scheduler.observe_many(["local-1; rm"]) == {
        "local-1; rm": Observation(state=None)
    }


def test_refused_submission(scheduler, tmp_path):
    """sbatch refusing a job raises SchedulerError with argv, return code and stderr."""
    spec = make_spec(tmp_path, "true", resources=JobResources(gpu_count=1))
    with pytest.raises(SchedulerError) as info:
        scheduler.submit(spec, str(tmp_path / "refused"))
    assert info.value.argv[:2] == ("sbatch", "--parsable")
    assert info.value.returncode != 0
    assert (
        "gres" in info.value.stderr.lower()
        or "generic resource" in info.value.stderr.lower()
    )


def test_more_ids_than_the_squeue_limit_cost_one_squeue_me_and_one_sacct(tmp_path):
    """Past squeue_chunk_size ids, a poll runs one ``squeue --me`` and one sacct (ADR 0031)."""
    transport = ScriptedTransport()
    sched = SlurmScheduler(transport, SlurmSchedulerOptions(squeue_chunk_size=2))
    ok, _ = submit(sched, tmp_path, "a", make_spec(tmp_path, "true"))
    bad, _ = submit(sched, tmp_path, "b", make_spec(tmp_path, "sh", "-c", "exit 5"))
    wait_for(sched, bad)
    wait_for(sched, ok)
    transport.calls.clear()
    got = sched.observe_many([ok, bad, UNKNOWN_ID])
    assert (got[ok].state, got[bad].state, got[bad].exit_code) == (
        JobState.SUCCEEDED,
        JobState.FAILED,
        5,
    )
    assert got[UNKNOWN_ID].state is None
    assert (transport.count("squeue"), transport.count("sacct")) == (1, 1)
    assert "--me" in next(argv for argv in transport.calls if argv[0] == "squeue")
    assert transport.count("scontrol") == 0


def test_without_accounting_scontrol_fills_in(tmp_path):
    """When sacct fails, scontrol still gives the exit code of a finished job."""
    transport = ScriptedTransport({"sacct": NO_ACCOUNTING})
    sched = SlurmScheduler(transport)
    job_id, _ = submit(sched, tmp_path, "f", make_spec(tmp_path, "sh", "-c", "exit 3"))
    obs = wait_for(sched, job_id)
    assert (obs.state, obs.exit_code) == (JobState.FAILED, 3)
    assert transport.count("scontrol") >= 1


def test_without_accounting_exit_file_is_last_resort(tmp_path):
    """A job SLURM forgot, without accounting, is judged by its exit_code file."""
    transport = ScriptedTransport({"sacct": NO_ACCOUNTING})
    sched = SlurmScheduler(transport)
    job_dir = tmp_path / "gone"
    job_dir.mkdir()
    (job_dir / "exit_code").write_text("3\n")
    got = sched.observe_many([UNKNOWN_ID], job_dirs={UNKNOWN_ID: str(job_dir)})[
        UNKNOWN_ID
    ]
    assert (got.state, got.exit_code, got.reason) == (
        JobState.FAILED,
        3,
        "exit_code file",
    )
    empty = sched.observe_many(
        [UNKNOWN_ID], job_dirs={UNKNOWN_ID: str(tmp_path / "none")}
    )
    assert empty[UNKNOWN_ID].state is None


def test_failing_squeue_raises():
    """A squeue failure is a SchedulerError, not a guess about any job."""
    down = Completed(
        argv=("squeue",),
        returncode=1,
        stdout="",
        stderr="slurm_load_jobs error: Unable to contact slurm controller\n",
    )
    sched = SlurmScheduler(ScriptedTransport({"squeue": down}))
    with pytest.raises(SchedulerError, match="Unable to contact"):
        sched.observe_many(["1", "2"])
    with pytest.raises(SchedulerError):
        sched.list_queue()


@pytest.mark.slow
def test_timeout(scheduler, tmp_path):
    """A job past its one-minute limit is TIMED_OUT (SLURM takes 60-90 s)."""
    spec = make_spec(
        tmp_path, "sleep", "600", resources=JobResources(time_limit=Duration(60))
    )
    job_id, _ = submit(scheduler, tmp_path, "timeout", spec)
    obs = wait_for(scheduler, job_id, timeout=180)
    assert obs.state is JobState.TIMED_OUT
    assert obs.reason == "TimeLimit"
