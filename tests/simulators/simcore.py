"""Shared machinery of molq's PBS and LSF simulators (stdlib only).

State lives in ``$MOLQ_SIM_STATE/state.json`` guarded by ``fcntl.flock`` on
``$MOLQ_SIM_STATE/lock``. Each job gets a detached supervisor process that waits
for its dependencies, runs the script in a new session, enforces the walltime
and records how it ended. The scheduler dialects (pbs_sim.py, lsf_sim.py) supply
the dependency rules, the kill signals and the way an end is recorded.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import pwd
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, Protocol


Job = dict[str, Any]
State = dict[str, Any]
POLL = 0.05


def state_dir(default_name: str) -> Path:
    path = Path(os.environ.get("MOLQ_SIM_STATE") or f"/tmp/molq-sim-{default_name}")
    path.mkdir(parents=True, exist_ok=True)
    return path


def time_scale() -> float:
    return float(os.environ.get("MOLQ_SIM_TIME_SCALE", "1") or "1")


def user_name() -> str:
    return pwd.getpwuid(os.getuid()).pw_name


@contextlib.contextmanager
def locked(root: Path) -> Iterator[State]:
    """Load the state under an exclusive lock and write it back on exit."""
    with (root / "lock").open("a+") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        path = root / "state.json"
        state: State = json.loads(path.read_text()) if path.exists() else {}
        state.setdefault("next_id", 1)
        state.setdefault("jobs", {})
        yield state
        tmp = root / "state.json.tmp"
        tmp.write_text(json.dumps(state))
        tmp.replace(path)


def fault(command: str) -> str | None:
    """The fault asked for this command: ``garbage``, ``fail`` or None.

    ``MOLQ_SIM_FAULT`` is ``kind`` (every command) or ``cmd:kind[,cmd:kind]``.
    """
    spec = os.environ.get("MOLQ_SIM_FAULT", "")
    for item in filter(None, spec.split(",")):
        cmd, _, kind = item.rpartition(":")
        if cmd in ("", command):
            return kind
    return None


def apply_fault(command: str) -> int | None:
    kind = fault(command)
    if kind == "garbage":
        print("%%% simulated garbage \x01 <not scheduler output> ###")
        return 0
    if kind == "fail":
        print(f"{command}: cannot connect to server (simulated fault)", file=sys.stderr)
        return 1
    return None


def spawn_supervisor(module: str, root: Path, job_id: str) -> None:
    """Start ``python3 <module> supervise <job_id>`` detached from the caller."""
    env = {**os.environ, "MOLQ_SIM_STATE": str(root)}
    with (root / "supervisor.log").open("ab") as log:
        subprocess.Popen(
            [sys.executable, module, "supervise", job_id],
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=log,
            start_new_session=True,
            env=env,
            close_fds=True,
        )


def _open_out(path: str) -> Any:
    try:
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        return Path(path).open("wb")
    except OSError:
        return subprocess.DEVNULL


def start_process(job: Job, env: dict[str, str]) -> subprocess.Popen[bytes]:
    out, err = _open_out(job["stdout"]), _open_out(job["stderr"])
    return subprocess.Popen(
        ["/bin/bash", job["spool"]],
        stdin=subprocess.DEVNULL,
        stdout=out,
        stderr=err,
        cwd=os.environ.get("HOME", "/"),
        env={**os.environ, **env},
        start_new_session=True,
    )


def _signal_group(pid: int, sig: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, sig)


class Dialect(Protocol):
    """What differs between schedulers; implemented by pbs_sim and lsf_sim."""

    root: Path
    kill_signals: tuple[int, ...]
    walltime_signals: tuple[int, ...]

    def verdict(self, job: Job, state: State) -> str:
        """``ok``, ``wait`` or ``never`` for the job's dependencies."""
        ...

    def on_never(self, job: Job) -> bool:
        """Record an unsatisfiable dependency; True if the job is now finished."""
        ...

    def on_start(self, job: Job, now: float) -> None:
        """Mark the job running."""
        ...

    def on_end(self, job: Job, rc: int, now: float) -> None:
        """Record how the job ended (``rc`` as subprocess reports it)."""
        ...

    def job_env(self, job: Job) -> dict[str, str]:
        """Scheduler variables the job sees (PBS_JOBID, LSB_JOBID, ...)."""
        ...


def _wait_dependencies(dialect: Dialect, job_id: str) -> Job | None:
    while True:
        with locked(dialect.root) as state:
            job = state["jobs"].get(job_id)
            if job is None or job.get("done"):
                return None
            verdict = dialect.verdict(job, state)
            if verdict == "never" and dialect.on_never(job):
                return None
            if verdict == "ok":
                dialect.on_start(job, time.time())
                return dict(job)
        time.sleep(POLL)


def _escalate(pid: int, signals: tuple[int, ...], grace: float) -> None:
    for sig in signals:
        _signal_group(pid, sig)
        deadline = time.time() + grace
        while time.time() < deadline:
            try:
                os.kill(pid, 0)
            except ProcessLookupError:
                return
            time.sleep(POLL)


def _watch(dialect: Dialect, job: Job, proc: subprocess.Popen[bytes]) -> int:
    limit = job.get("walltime_s")
    deadline = None if limit is None else time.time() + limit * job.get("scale", 1.0)
    while True:
        rc = proc.poll()
        if rc is not None:
            return rc
        with locked(dialect.root) as state:
            current = state["jobs"][job["key"]]
            killed = current.get("kill_requested")
            timed_out = deadline is not None and time.time() >= deadline
            if timed_out and not killed:
                current["timed_out"] = True
        if killed or timed_out:
            sigs = dialect.kill_signals if killed else dialect.walltime_signals
            _escalate(proc.pid, sigs, grace=0.3)
            return proc.wait()
        time.sleep(POLL)


def supervise(dialect: Dialect, job_id: str) -> int:
    """Wait, run, watch and record one job; returns when it has ended."""
    job = _wait_dependencies(dialect, job_id)
    if job is None:
        return 0
    proc = start_process(job, dialect.job_env(job))
    with locked(dialect.root) as state:
        state["jobs"][job_id]["pid"] = proc.pid
    rc = _watch(dialect, job, proc)
    with locked(dialect.root) as state:
        dialect.on_end(state["jobs"][job_id], rc, time.time())
    return 0


def ctime(epoch: float | None) -> str:
    return time.strftime("%a %b %d %H:%M:%S %Y", time.localtime(epoch or 0))


def hms(seconds: float) -> str:
    total = int(seconds)
    return f"{total // 3600:02d}:{total % 3600 // 60:02d}:{total % 60:02d}"


def run_main(handlers: dict[str, Callable[[list[str]], int]], command: str) -> int:
    """Run one simulated command on ``sys.argv[1:]``, unless a fault is asked for."""
    code = apply_fault(command)
    if code is not None:
        return code
    return handlers[command](sys.argv[1:])
