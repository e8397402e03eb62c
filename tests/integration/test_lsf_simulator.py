"""LSFScheduler against the LSF simulator in tests/simulators/lsf (IBM LSF 10's ``bjobs -o``).

The simulator stays only for the IBM dialect, which no real system here shows;
real OpenLava is tested in tests/integration/test_lsf_real.py (ADR 0012 amendment).
"""

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
from molq.shell.schedulers._lsf import LSFScheduler, LSFSchedulerOptions
from molq.shell.transport._local import LocalTransport


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
lsf_sim = _fx.lsf_sim
wait_for = _fx.wait_for


def _terminal(obs):
    return obs.state is not None and obs.state.is_terminal


def _run(sched, sim, command, name="job", **kwargs):
    job_dir = sim.job_dir(name)
    return sched.submit(sim.spec(command, name=name, **kwargs), job_dir), job_dir


def _final(sched, job_id):
    return wait_for(lambda: sched.observe_many([job_id])[job_id], _terminal)


def _running(sched, job_id):
    return wait_for(
        lambda: sched.observe_many([job_id])[job_id],
        lambda o: o.state == JobState.RUNNING,
    )


def _after(parent_id, condition):
    expr, _ = compile_dependencies(
        [DependencyRef("up", condition)], {"up": parent_id}, "lsf"
    )
    return JobScheduling(dependency=expr)


@pytest.fixture
def sched():
    return LSFScheduler(LocalTransport(), LSFSchedulerOptions(dialect="ibm"))


def test_submit_success_runs_the_job_and_reports_succeeded(lsf_sim, sched):
    """bsub < script runs the job: DONE is SUCCEEDED, output in the requested file."""
    job_id, job_dir = _run(sched, lsf_sim, "echo hello-lsf")
    assert job_id.isdigit()
    obs = _final(sched, job_id)
    assert (obs.state, obs.exit_code, obs.raw_state) == (JobState.SUCCEEDED, 0, "DONE")
    assert Path(job_dir, "stdout").read_text() == "hello-lsf\n"


def test_exit_3_is_failed_with_the_code(lsf_sim, sched):
    """EXIT with exit code 3 is FAILED, also through resolve_terminal."""
    job_id, job_dir = _run(sched, lsf_sim, "exit 3")
    assert _final(sched, job_id).state == JobState.FAILED
    status = sched.resolve_terminal(job_id, job_dir=job_dir)
    assert status is not None
    assert (status.state, status.exit_code, status.raw_state) == (
        JobState.FAILED,
        3,
        "EXIT",
    )


def test_bkill_running_job_is_cancelled(lsf_sim, sched):
    """bkill of a running job gives EXIT / TERM_OWNER, which is CANCELLED."""
    job_id, _ = _run(sched, lsf_sim, "sleep 30")
    _running(sched, job_id)
    sched.cancel(job_id)
    obs = _final(sched, job_id)
    assert obs.state == JobState.CANCELLED
    assert "TERM_OWNER" in (obs.reason or "")
    sched.cancel(job_id)


def test_run_limit_is_timed_out(lsf_sim, sched):
    """A job past its -W run limit ends TERM_RUNLIMIT with exit 140: TIMED_OUT."""
    job_id, _ = _run(
        sched, lsf_sim, "sleep 30", resources=JobResources(time_limit="1m")
    )
    obs = _final(sched, job_id)
    assert (obs.state, obs.exit_code) == (JobState.TIMED_OUT, 140)
    assert "TERM_RUNLIMIT" in (obs.reason or "")


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
def test_dependency_conditions(lsf_sim, sched, parent_cmd, condition, expected):
    """done/exit/ended/started run the child when met; orphans are terminated."""
    parent, _ = _run(sched, lsf_sim, parent_cmd, name="parent")
    child, child_dir = _run(
        sched, lsf_sim, "echo child", name="child", scheduling=_after(parent, condition)
    )
    obs = _final(sched, child)
    assert obs.state == expected
    assert Path(child_dir, "exit_code").exists() == (expected == JobState.SUCCEEDED)
    if expected == JobState.CANCELLED:
        assert "TERM_ORPHAN_SYSTEM" in (obs.reason or "")


def test_never_satisfied_dependency_stays_pending_without_orphan_termination(
    lsf_sim, sched, monkeypatch
):
    """Without orphan job termination LSF leaves the child pending (QUEUED) forever."""
    monkeypatch.setenv("MOLQ_SIM_LSF_ORPHAN_TERM", "0")
    parent, _ = _run(sched, lsf_sim, "exit 3", name="parent")
    child, _ = _run(
        sched, lsf_sim, "true", name="child", scheduling=_after(parent, "after_success")
    )
    _final(sched, parent)
    obs = sched.observe_many([child])[child]
    assert (obs.state, obs.raw_state) == (JobState.QUEUED, "PEND")
    sched.cancel(child)
    assert _final(sched, child).state == JobState.CANCELLED


@pytest.mark.parametrize(
    ("command", "expected"),
    [("true", JobState.SUCCEEDED), ('[ "$LSB_JOBINDEX" != 2 ]', JobState.FAILED)],
)
def test_job_array_outcome(lsf_sim, sched, command, expected):
    """A job array (-J name[1-3]) is one id whose elements fold into one outcome."""
    job_id, _ = _run(
        sched, lsf_sim, command, name="arr", scheduling=JobScheduling(array_spec="1-3")
    )
    obs = _final(sched, job_id)
    assert obs.state == expected
    assert "array of 3" in (obs.reason or "")


def test_list_queue_shows_elements_and_filters_by_user(lsf_sim, sched):
    """list_queue lists unfinished jobs of the user; another user sees none."""
    job_id, _ = _run(sched, lsf_sim, "sleep 30", name="listed")
    _running(sched, job_id)
    entries = sched.list_queue()
    assert [(e.scheduler_job_id, e.name, e.state, e.partition) for e in entries] == [
        (job_id, "listed", JobState.RUNNING, "normal")
    ]
    assert sched.list_queue(user=entries[0].user) == entries
    assert sched.list_queue(user="nobody-else") == []
    sched.cancel(job_id)


@pytest.mark.parametrize("consistent", ["N", "Y"])
def test_unknown_id_is_none(lsf_sim, sched, monkeypatch, consistent):
    """'Job <n> is not found' is state None whatever bjobs' exit code convention."""
    monkeypatch.setenv("MOLQ_SIM_LSF_CONSISTENT_EXIT_CODE", consistent)
    job_id, _ = _run(sched, lsf_sim, "true")
    _final(sched, job_id)
    observed = sched.observe_many([job_id, "4242"])
    assert observed["4242"].state is None
    assert sched.poll_many([job_id, "4242"]) == {job_id: JobState.SUCCEEDED}


def test_unknown_id_falls_back_to_exit_code_file(lsf_sim, sched, tmp_path):
    """When LSF has cleaned a job out, its exit_code file still tells the outcome."""
    (tmp_path / "exit_code").write_text("0\n")
    status = sched.resolve_terminal("4242", job_dir=str(tmp_path))
    assert status is not None
    assert (status.state, status.exit_code) == (JobState.SUCCEEDED, 0)


def test_bsub_refusal_is_scheduler_error(lsf_sim, sched):
    """bsub rejecting a job (dependency on an unknown job) raises SchedulerError."""
    with pytest.raises(SchedulerError) as info:
        _run(sched, lsf_sim, "true", scheduling=JobScheduling(dependency="done(4242)"))
    assert (info.value.returncode, info.value.argv) == (255, ("bsub",))
    assert "No matching job found" in info.value.stderr


@pytest.mark.parametrize("fault", ["bsub:garbage", "bjobs:garbage"])
def test_garbage_output_is_scheduler_output_error(lsf_sim, sched, monkeypatch, fault):
    """Unreadable bsub or bjobs output raises SchedulerOutputError."""
    monkeypatch.setenv("MOLQ_SIM_FAULT", fault)
    if fault.endswith("sub:garbage"):
        with pytest.raises(SchedulerOutputError):
            _run(sched, lsf_sim, "true")
        return
    with pytest.raises(SchedulerOutputError):
        sched.observe_many(["1"])


def test_failing_bjobs_is_scheduler_error(lsf_sim, sched, monkeypatch):
    """bjobs exiting non-zero with a real error raises SchedulerError."""
    monkeypatch.setenv("MOLQ_SIM_FAULT", "bjobs:fail")
    with pytest.raises(SchedulerError) as info:
        sched.observe_many(["1"])
    assert info.value.returncode == 1
    assert info.value.argv[:2] == ("bjobs", "-a")


def test_inline_script_with_shebang_runs_under_its_interpreter(lsf_sim, sched):
    """An inline script is written executable, so its #! line chooses the interpreter (not sh)."""
    spec = attrs.evolve(
        lsf_sim.spec("unused"),
        command_type="script",
        command=None,
        script=Script.inline("#!/usr/bin/env python3\nprint(6 * 7)\n"),
    )
    job_dir = lsf_sim.job_dir("shebang")
    job_id = sched.submit(spec, job_dir)
    assert _final(sched, job_id).state == JobState.SUCCEEDED
    assert Path(job_dir, "stdout").read_text() == "42\n"
