"""PBSScheduler against the simulator, only for what no real PBS here can show.

Real OpenPBS 23.06 and Slurm's Torque wrappers are the ground truth
(tests/integration/test_pbs_real.py). What stays here (ADR 0012, 2026-12 amendment):
a real Torque server, which reports ``exit_status`` for ``C`` jobs and -11 for a
walltime kill (Torque 6.1 Administrator Guide), and injected faults (garbage output,
a failing qstat) that a healthy real server never prints.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

from molq.core import JobResources, JobState, SchedulerError, SchedulerOutputError
from molq.shell.schedulers._pbs import PBSScheduler, PBSSchedulerOptions
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
pbs_sim = _fx.pbs_sim
wait_for = _fx.wait_for


@pytest.fixture
def torque(pbs_sim):
    """The simulated real-Torque server (``C`` with ``exit_status``)."""
    return PBSScheduler(LocalTransport(), PBSSchedulerOptions(flavor="torque"))


def _run(sched, sim, command, name="job", **kwargs):
    job_dir = sim.job_dir(name)
    return sched.submit(sim.spec(command, name=name, **kwargs), job_dir), job_dir


def _final(sched, job_id):
    return wait_for(
        lambda: sched.observe_many([job_id])[job_id],
        lambda o: o.state is not None and o.state.is_terminal,
    )


def test_completed_job_state_c_with_exit_status(pbs_sim, torque):
    """Real Torque keeps finished jobs as job_state C with exit_status (no exit file needed)."""
    job_id, _ = _run(torque, pbs_sim, "exit 4")
    obs = _final(torque, job_id)
    assert (obs.state, obs.exit_code, obs.raw_state) == (JobState.FAILED, 4, "C")


def test_walltime_is_timed_out(pbs_sim, torque):
    """Real Torque's walltime kill (exit_status -11) is TIMED_OUT."""
    job_id, _ = _run(torque, pbs_sim, "sleep 30", resources=JobResources(time_limit="1m"))
    obs = _final(torque, job_id)
    assert (obs.state, obs.exit_code) == (JobState.TIMED_OUT, -11)


@pytest.mark.parametrize("fault", ["qsub:garbage", "qstat:garbage"])
def test_garbage_output_is_scheduler_output_error(pbs_sim, torque, monkeypatch, fault):
    """Unreadable qsub or qstat output raises SchedulerOutputError."""
    monkeypatch.setenv("MOLQ_SIM_FAULT", fault)
    if fault.startswith("qsub"):
        with pytest.raises(SchedulerOutputError):
            _run(torque, pbs_sim, "true")
        return
    with pytest.raises(SchedulerOutputError):
        torque.observe_many(["1.pbssim"])


def test_failing_qstat_is_scheduler_error(pbs_sim, torque, monkeypatch):
    """qstat exiting non-zero with a real error raises SchedulerError with details."""
    monkeypatch.setenv("MOLQ_SIM_FAULT", "qstat:fail")
    with pytest.raises(SchedulerError) as info:
        torque.observe_many(["1.pbssim"])
    assert (info.value.returncode, info.value.argv[:2]) == (1, ("qstat", "-f"))
    assert "cannot connect" in info.value.stderr
