"""Fixtures for tests that run molq against the PBS / LSF simulators.

Import explicitly (it is not a conftest): the fixtures put the simulator first on
PATH, keep its state in ``tmp_path`` and kill any job still running at teardown.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import attrs
import pytest

from molq.core import JobExecution, JobResources, JobScheduling, JobSpec, Observation


SIM_DIR = Path(__file__).resolve().parent
TIME_SCALE = "0.01"  # one simulated minute lasts 0.6 s


@attrs.frozen
class Sim:
    """A running simulator: where its state is and where jobs may put their files."""

    state_dir: Path
    work: Path

    def job_dir(self, name: str) -> str:
        path = self.work / "jobs" / name
        path.mkdir(parents=True, exist_ok=True)
        return str(path)

    def spec(
        self,
        command: str,
        *,
        resources: JobResources | None = None,
        scheduling: JobScheduling | None = None,
        name: str | None = None,
    ) -> JobSpec:
        return JobSpec(
            command_type="command",
            command=command,
            cwd=str(self.work),
            resources=resources or JobResources(),
            scheduling=scheduling or JobScheduling(),
            execution=JobExecution(job_name=name),
        )


def wait_for(
    observe: Callable[[], Observation],
    done: Callable[[Observation], bool],
    *,
    timeout: float = 15.0,
) -> Observation:
    """Poll ``observe`` until ``done`` holds; fail the test after ``timeout`` s."""
    deadline = time.monotonic() + timeout
    obs = observe()
    while not done(obs):
        if time.monotonic() > deadline:
            pytest.fail(f"gave up waiting; last observation: {obs}")
        time.sleep(0.05)
        obs = observe()
    return obs


def _kill_leftovers(state_dir: Path) -> None:
    path = state_dir / "state.json"
    if not path.exists():
        return
    for job in json.loads(path.read_text())["jobs"].values():
        if job.get("pid") and not job.get("done"):
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(job["pid"], signal.SIGKILL)


def _sim(kind: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Sim]:
    state_dir = tmp_path / f"{kind}-state"
    monkeypatch.setenv("PATH", f"{SIM_DIR / kind}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.setenv("MOLQ_SIM_STATE", str(state_dir))
    monkeypatch.setenv("MOLQ_SIM_TIME_SCALE", TIME_SCALE)
    for name in ("MOLQ_SIM_FAULT", "MOLQ_SIM_PBS_FLAVOR", "MOLQ_SIM_LSF_ORPHAN_TERM"):
        monkeypatch.delenv(name, raising=False)
    work = tmp_path / "work"
    work.mkdir(exist_ok=True)
    yield Sim(state_dir=state_dir, work=work)
    _kill_leftovers(state_dir)


@pytest.fixture
def pbs_sim(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Sim]:
    """The PBS simulator: a real Torque server (OpenPBS itself runs in CI)."""
    yield from _sim("pbs", tmp_path, monkeypatch)


@pytest.fixture
def lsf_sim(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Sim]:
    """The LSF simulator."""
    yield from _sim("lsf", tmp_path, monkeypatch)
