"""PBSScheduler against the PBS Pro / Torque simulator in tests/simulators/pbs."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import attrs
import pytest

from molq.core import (
    DependencyRef,
    JobResources,
    JobScheduling,
    JobState,
    SchedulerError,
    SchedulerOutputError,
    Script,
    compile_dependencies,
)
from molq.shell._local import LocalTransport
from molq.shell._pbs import PBSScheduler, PBSSchedulerOptions


def _load_sim_fixtures():
    name = "molq_tests_conftest_sim"
    if name not in sys.modules:
        path = Path(__file__).resolve().parents[1] / "simulators" / "conftest_sim.py"
        spec = importlib.util.spec_from_file_location(name, path)
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    return sys.modules[name]


_fx = _load_sim_fixtures()
pbs_sim = _fx.pbs_sim
wait_for = _fx.wait_for


def _terminal(obs):
    return obs.state is not None and obs.state.is_terminal


def _run(sched, sim, command, name="job", **kwargs):
    job_dir = sim.job_dir(name)
    job_id = sched.submit(sim.spec(command, name=name, **kwargs), job_dir)
    return job_id, job_dir


def _final(sched, job_id, job_dir=None):
    dirs = {job_id: job_dir} if job_dir else None
    return wait_for(
        lambda: sched.observe_many([job_id], job_dirs=dirs)[job_id], _terminal
    )


def _running(sched, job_id):
    return wait_for(
        lambda: sched.observe_many([job_id])[job_id],
        lambda o: o.state == JobState.RUNNING,
    )


@pytest.fixture
def sched():
    return PBSScheduler(LocalTransport())


def _after(parent_id, condition):
    expr, _ = compile_dependencies(
        [DependencyRef("up", condition)], {"up": parent_id}, "pbs"
    )
    return JobScheduling(dependency=expr)


def test_submit_success_runs_the_job_and_reports_succeeded(pbs_sim, sched):
    """A job that exits 0 ends SUCCEEDED with its output in the requested file."""
    job_id, job_dir = _run(sched, pbs_sim, "echo hello-pbs")
    assert job_id.endswith(".pbssim")
    obs = _final(sched, job_id)
    assert (obs.state, obs.exit_code, obs.raw_state) == (JobState.SUCCEEDED, 0, "F")
    assert Path(job_dir, "stdout").read_text() == "hello-pbs\n"
    assert Path(job_dir, "exit_code").read_text().strip() == "0"


def test_exit_3_is_failed_with_the_code(pbs_sim, sched):
    """Exit status 3 is FAILED with exit_code 3, also through resolve_terminal."""
    job_id, job_dir = _run(sched, pbs_sim, "exit 3")
    assert _final(sched, job_id).state == JobState.FAILED
    status = sched.resolve_terminal(job_id, job_dir=job_dir)
    assert status is not None
    assert (status.state, status.exit_code) == (JobState.FAILED, 3)


def test_cancel_running_job_is_cancelled_and_cancel_again_is_harmless(pbs_sim, sched):
    """qdel of a running job ends CANCELLED; qdel of a finished job raises nothing."""
    job_id, _ = _run(sched, pbs_sim, "sleep 30")
    _running(sched, job_id)
    sched.cancel(job_id)
    obs = _final(sched, job_id)
    assert obs.state == JobState.CANCELLED
    assert obs.exit_code == 256 + 15
    sched.cancel(job_id)


def test_cancel_queued_dependent_job(pbs_sim, sched):
    """A held (dependency-waiting) job can be deleted before it ever runs."""
    parent, _ = _run(sched, pbs_sim, "sleep 30", name="parent")
    child, child_dir = _run(
        sched,
        pbs_sim,
        "echo x",
        name="child",
        scheduling=_after(parent, "after_success"),
    )
    _running(sched, parent)
    sched.cancel(child)
    assert _final(sched, child).state == JobState.CANCELLED
    assert not Path(child_dir, "exit_code").exists()
    assert sched.observe_many([parent])[parent].state == JobState.RUNNING
    sched.cancel(parent)


def test_walltime_kill_is_timed_out(pbs_sim, sched):
    """A job past its walltime ends TIMED_OUT (Exit_status -29), not CANCELLED."""
    limits = JobResources(time_limit="1m")
    job_id, job_dir = _run(sched, pbs_sim, "sleep 30", resources=limits)
    obs = _final(sched, job_id)
    assert (obs.state, obs.exit_code) == (JobState.TIMED_OUT, -29)
    assert "walltime" in Path(job_dir, "stderr").read_text()


@pytest.mark.parametrize(
    ("parent_cmd", "condition", "expected"),
    [
        ("exit 0", "after_success", JobState.SUCCEEDED),
        ("exit 3", "after_success", JobState.CANCELLED),
        ("exit 3", "after_failure", JobState.SUCCEEDED),
        ("exit 0", "after_failure", JobState.CANCELLED),
        ("exit 3", "after", JobState.SUCCEEDED),
        ("sleep 0.3", "after_started", JobState.SUCCEEDED),
    ],
)
def test_dependency_conditions(pbs_sim, sched, parent_cmd, condition, expected):
    """Each condition runs the child when met and deletes it when it never can be."""
    parent, _ = _run(sched, pbs_sim, parent_cmd, name="parent")
    child, child_dir = _run(
        sched, pbs_sim, "echo child", name="child", scheduling=_after(parent, condition)
    )
    assert _final(sched, child).state == expected
    assert Path(child_dir, "exit_code").exists() == (expected == JobState.SUCCEEDED)


def test_after_started_child_runs_while_parent_still_runs(pbs_sim, sched):
    """``after`` only needs the parent to have started."""
    parent, _ = _run(sched, pbs_sim, "sleep 30", name="parent")
    child, _ = _run(
        sched, pbs_sim, "true", name="child", scheduling=_after(parent, "after_started")
    )
    assert _final(sched, child).state == JobState.SUCCEEDED
    assert sched.observe_many([parent])[parent].state == JobState.RUNNING
    sched.cancel(parent)


def test_dependent_job_is_held_while_waiting(pbs_sim, sched):
    """A job waiting on a dependency shows job_state H, which is QUEUED."""
    parent, _ = _run(sched, pbs_sim, "sleep 30", name="parent")
    child, _ = _run(
        sched, pbs_sim, "true", name="child", scheduling=_after(parent, "after_success")
    )
    obs = sched.observe_many([child])[child]
    assert (obs.state, obs.raw_state) == (JobState.QUEUED, "H")
    sched.cancel(parent)
    assert _final(sched, child).state == JobState.CANCELLED


@pytest.mark.parametrize(
    ("command", "expected"),
    [("true", JobState.SUCCEEDED), ('[ "$PBS_ARRAY_INDEX" != 1 ]', JobState.FAILED)],
)
def test_array_job_outcome(pbs_sim, sched, command, expected):
    """An array ends SUCCEEDED only if every subjob exits 0 (Exit_status 0/1)."""
    job_id, _ = _run(
        sched, pbs_sim, command, scheduling=JobScheduling(array_spec="0-2")
    )
    assert "[]" in job_id
    assert _final(sched, job_id).state == expected


def test_list_queue_reports_running_jobs_and_filters_by_user(pbs_sim, sched):
    """list_queue shows the running job with its name; another user's view is empty."""
    job_id, _ = _run(sched, pbs_sim, "sleep 30", name="listed")
    _running(sched, job_id)
    entries = sched.list_queue()
    assert [(e.scheduler_job_id, e.name, e.state, e.partition) for e in entries] == [
        (job_id, "listed", JobState.RUNNING, "workq")
    ]
    assert sched.list_queue(user=entries[0].user) == entries
    assert sched.list_queue(user="nobody-else") == []
    sched.cancel(job_id)


def test_unknown_id_is_none_and_omitted_from_poll(pbs_sim, sched):
    """An id PBS never knew is Observation(state=None) and absent from poll_many."""
    assert sched.observe_many(["999.pbssim"])["999.pbssim"].state is None
    assert sched.poll_many(["999.pbssim"]) == {}
    assert sched.resolve_terminal("999.pbssim") is None


def test_unknown_id_falls_back_to_exit_code_file(pbs_sim, sched, tmp_path):
    """When PBS has forgotten a job, its exit_code file still tells the outcome."""
    job_dir = tmp_path / "forgotten"
    job_dir.mkdir()
    (job_dir / "exit_code").write_text("7\n")
    status = sched.resolve_terminal("999.pbssim", job_dir=str(job_dir))
    assert status is not None
    assert (status.state, status.exit_code) == (JobState.FAILED, 7)


def test_mixed_known_and_unknown_ids_in_one_poll(pbs_sim, sched):
    """One poll answers for known and unknown ids alike (qstat exits 153 then)."""
    job_id, _ = _run(sched, pbs_sim, "true")
    _final(sched, job_id)
    polled = sched.poll_many([job_id, "998.pbssim"])
    assert polled == {job_id: JobState.SUCCEEDED}


def test_qsub_refusal_is_scheduler_error(pbs_sim, sched):
    """qsub rejecting a job (dependency on an unknown id) raises SchedulerError."""
    with pytest.raises(SchedulerError) as info:
        _run(
            sched,
            pbs_sim,
            "true",
            scheduling=JobScheduling(dependency="afterok:4242.pbssim"),
        )
    assert info.value.returncode == 153
    assert info.value.argv[0] == "qsub"
    assert "Unknown Job Id" in info.value.stderr


@pytest.mark.parametrize("fault", ["qsub:garbage", "qstat:garbage"])
def test_garbage_output_is_scheduler_output_error(pbs_sim, sched, monkeypatch, fault):
    """Unreadable qsub or qstat output raises SchedulerOutputError."""
    monkeypatch.setenv("MOLQ_SIM_FAULT", fault)
    if fault.endswith("sub:garbage"):
        with pytest.raises(SchedulerOutputError):
            _run(sched, pbs_sim, "true")
        return
    with pytest.raises(SchedulerOutputError):
        sched.observe_many(["1.pbssim"])


def test_failing_qstat_is_scheduler_error(pbs_sim, sched, monkeypatch):
    """qstat exiting non-zero with a real error raises SchedulerError with details."""
    monkeypatch.setenv("MOLQ_SIM_FAULT", "qstat:fail")
    with pytest.raises(SchedulerError) as info:
        sched.observe_many(["1.pbssim"])
    assert (info.value.returncode, info.value.argv[:2]) == (1, ("qstat", "-f"))
    assert "cannot connect" in info.value.stderr


class TestTorque:
    @pytest.fixture
    def torque(self, pbs_sim, monkeypatch):
        monkeypatch.setenv("MOLQ_SIM_PBS_FLAVOR", "torque")
        return PBSScheduler(LocalTransport(), PBSSchedulerOptions(flavor="torque"))

    def test_completed_job_state_c_with_exit_status(self, pbs_sim, torque):
        """Torque keeps finished jobs as job_state C with exit_status."""
        job_id, _ = _run(torque, pbs_sim, "exit 4")
        obs = _final(torque, job_id)
        assert (obs.state, obs.exit_code, obs.raw_state) == (JobState.FAILED, 4, "C")

    def test_walltime_is_timed_out(self, pbs_sim, torque):
        """Torque's walltime kill (exit_status -11) is TIMED_OUT."""
        job_id, _ = _run(
            torque, pbs_sim, "sleep 30", resources=JobResources(time_limit="1m")
        )
        obs = _final(torque, job_id)
        assert (obs.state, obs.exit_code) == (JobState.TIMED_OUT, -11)


def test_inline_script_with_shebang_runs_under_its_interpreter(pbs_sim, sched):
    """An inline script is written executable, so its #! line chooses the interpreter (not sh)."""
    spec = attrs.evolve(
        pbs_sim.spec("unused"),
        command_type="script",
        command=None,
        script=Script.inline("#!/usr/bin/env python3\nprint(6 * 7)\n"),
    )
    job_dir = pbs_sim.job_dir("shebang")
    job_id = sched.submit(spec, job_dir)
    assert _final(sched, job_id).state == JobState.SUCCEEDED
    assert Path(job_dir, "stdout").read_text() == "42\n"
