"""ShellScheduler: the ``local`` backend, running detached jobs through a Transport."""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Mapping, Sequence

from molq.core import (
    JobSpec,
    JobState,
    Observation,
    QueueEntry,
    SchedulerCapabilities,
    SchedulerError,
    Submission,
    TerminalStatus,
    Transport,
)
from molq.core._sched._body import INLINE_SCRIPT_FILE, inline_script
from molq.core._sched._local import (
    CANCEL_SCRIPT,
    JOB_FILE,
    KILL_GRACE_S,
    LAUNCH_SCRIPT,
    LOCAL_CAPABILITIES,
    PROBE_SCRIPT,
    WRAPPER_FILE,
    observe_facts,
    parse_probe,
    render_job_script,
    render_wrapper,
)


PROBE_CHUNK = 400


class ShellScheduler:
    """Runs each job as a detached process group on the transport's machine."""

    name = "local"

    def __init__(self, transport: Transport, options: object | None = None) -> None:
        self._transport = transport
        self.options = options

    def __repr__(self) -> str:
        return f"ShellScheduler({self._transport!r})"

    def capabilities(self) -> SchedulerCapabilities:
        """What the local backend can honour."""
        return LOCAL_CAPABILITIES

    def prepare(self, spec: JobSpec, job_dir: str) -> Submission:
        """Render the wrapper and job script; runs nothing."""
        stdout, stderr = _log_paths(spec, job_dir)
        wrapper_path = f"{job_dir}/{WRAPPER_FILE}"
        return Submission(
            argv=("sh", "-c", LAUNCH_SCRIPT, "molq-launch", wrapper_path),
            script=render_job_script(spec, job_dir),
            script_path=f"{job_dir}/{JOB_FILE}",
            details=(
                ("wrapper", render_wrapper(spec, job_dir, stdout, stderr)),
                ("wrapper_path", wrapper_path),
                ("stdout", stdout),
                ("stderr", stderr),
            ),
        )

    def submit(self, spec: JobSpec, job_dir: str) -> str:
        """Write the scripts and start the wrapper detached; returns its pid."""
        submission = self.prepare(spec, job_dir)
        self._transport.mkdir(job_dir)
        details = dict(submission.details)
        inline = inline_script(spec)
        if inline is not None:
            self._transport.write_text(f"{job_dir}/{INLINE_SCRIPT_FILE}", inline)
            self._transport.chmod(f"{job_dir}/{INLINE_SCRIPT_FILE}", 0o700)
        self._transport.write_text(submission.script_path, submission.script)
        self._transport.write_text(details["wrapper_path"], details["wrapper"])
        spawn = getattr(self._transport, "spawn_detached", None)
        if spawn is not None:  # this machine: start the wrapper directly, no sh -c hop
            return str(spawn(("/bin/sh", details["wrapper_path"])))
        done = self._transport.run(submission.argv, timeout=60)
        pid = done.stdout.strip()
        if not done.ok or not pid.isdigit():
            msg = f"could not start the local job: {done.stderr.strip() or done.stdout.strip() or 'no pid printed'}"
            raise SchedulerError(msg, argv=submission.argv, returncode=done.returncode, stderr=done.stderr)
        return pid

    def observe_many(
        self, scheduler_job_ids: Sequence[str], *, job_dirs: Mapping[str, str] | None = None
    ) -> dict[str, Observation]:
        """Read every job's status files in one probe per chunk."""
        dirs = dict(job_dirs or {})
        result = {
            sid: Observation(state=None, reason="no job directory known") for sid in scheduler_job_ids if sid not in dirs
        }
        known = [sid for sid in scheduler_job_ids if sid in dirs]
        pid_alive = getattr(self._transport, "pid_alive", None)
        if pid_alive is not None:  # this machine: read the facts in-process, no probe script
            result.update({sid: probe_dir(dirs[sid], pid_alive) for sid in known})
            return result
        for start in range(0, len(known), PROBE_CHUNK):
            chunk = known[start : start + PROBE_CHUNK]
            paths = [dirs[sid] for sid in chunk]
            argv = ("sh", "-c", PROBE_SCRIPT, "molq-probe", *paths)
            done = self._transport.run(argv, timeout=120)
            if not done.ok:
                msg = f"job status probe failed: {done.stderr.strip()}"
                raise SchedulerError(msg, argv=argv, returncode=done.returncode, stderr=done.stderr)
            observed = parse_probe(done.stdout, paths)
            result.update({sid: observed[dirs[sid]] for sid in chunk})
        return result

    def wait_for_any(self, job_dirs: Mapping[str, str], *, timeout: float) -> None:
        """Sleep up to ``timeout`` s, returning early once any job dir gets its ``status``.

        Only on this machine (the files are read directly); elsewhere this just sleeps.
        """
        deadline = time.monotonic() + max(0.0, timeout)
        if getattr(self._transport, "pid_alive", None) is None:
            time.sleep(max(0.0, timeout))
            return
        paths = [f"{d}/status" for d in job_dirs.values() if d]
        pause, longest = 0.0005, (0.002 if len(paths) <= 16 else 0.02)  # stat cost grows with the set
        while True:
            if any(os.path.exists(path) for path in paths):
                return
            left = deadline - time.monotonic()
            if left <= 0:
                return
            time.sleep(min(pause, left))
            pause = min(pause * 1.5, longest)

    def poll_many(self, scheduler_job_ids: Sequence[str], *, job_dirs: Mapping[str, str] | None = None) -> dict[str, JobState]:
        """States of the jobs whose state is known."""
        observed = self.observe_many(scheduler_job_ids, job_dirs=job_dirs)
        return {sid: obs.state for sid, obs in observed.items() if obs.state is not None}

    def cancel(self, scheduler_job_id: str, *, job_dir: str | None = None) -> None:
        """TERM the job's process group, then KILL after a grace period."""
        if job_dir is None:
            msg = f"cannot cancel local job {scheduler_job_id}: its job directory is unknown"
            raise SchedulerError(msg)
        argv = ("sh", "-c", CANCEL_SCRIPT, "molq-cancel", job_dir, str(KILL_GRACE_S))
        done = self._transport.run(argv, timeout=KILL_GRACE_S + 30)
        if not done.ok:
            msg = f"cancel of local job {scheduler_job_id} failed: {done.stderr.strip()}"
            raise SchedulerError(msg, argv=argv, returncode=done.returncode, stderr=done.stderr)

    def resolve_terminal(self, scheduler_job_id: str, *, job_dir: str | None = None) -> TerminalStatus | None:
        """The recorded outcome, or None while running / when it can't be known."""
        if job_dir is None:
            return None
        obs = self.observe_many([scheduler_job_id], job_dirs={scheduler_job_id: job_dir})[scheduler_job_id]
        if obs.state is None or not obs.state.is_terminal:
            return None
        return TerminalStatus(obs.state, obs.exit_code, obs.reason, obs.finished_at, obs.raw_state)

    def adopt(self, job_dir: str, record: object = None) -> str | None:
        """The pid of a wrapper started by an interrupted submission, if it ever started."""
        path = f"{job_dir}/wrapper.pid"
        if not job_dir or not self._transport.exists(path):
            return None
        pid = self._transport.read_text(path).strip()
        return pid if pid.isdigit() else None

    def list_queue(self, *, user: str | None = None) -> list[QueueEntry]:
        """The local backend has no queue."""
        return []


def probe_dir(job_dir: str, pid_alive: Callable[[int], bool]) -> Observation:
    """What PROBE_SCRIPT reports for one job dir, read in-process (same order, same rules)."""
    wrapper_pid = _read(f"{job_dir}/wrapper.pid")
    pid = wrapper_pid.strip()
    alive = "1" if pid.isdigit() and pid_alive(int(pid)) else "0"  # before status: no race
    status = _read(f"{job_dir}/status")
    if status not in ("-", "") and len(status.split()) == 1:
        status = f"{status} {_mtime(f'{job_dir}/status')}"
    return observe_facts(
        status,
        _read(f"{job_dir}/exit_code"),
        wrapper_pid,
        alive,
        _mtime(f"{job_dir}/pid"),
        "1" if os.path.exists(f"{job_dir}/timed_out") else "0",
        "1" if os.path.exists(f"{job_dir}/cancel_requested") else "0",
    )


def _mtime(path: str) -> str:
    """A fact file's modification time (the wrapper writes them at the moment they record)."""
    try:
        return repr(os.stat(path).st_mtime)
    except OSError:
        return "-"


def _read(path: str) -> str:
    """A fact file's text without its final newline, as ``$(cat file)``; "-" when missing."""
    try:
        with open(path, encoding="utf-8", errors="replace") as handle:
            return handle.read().rstrip("\n")
    except FileNotFoundError:
        return "-"
    except OSError:
        return ""


def _log_paths(spec: JobSpec, job_dir: str) -> tuple[str, str]:
    meta = spec.metadata
    stdout = meta.get("molq.stdout_path") or f"{job_dir}/stdout.log"
    stderr = meta.get("molq.stderr_path") or f"{job_dir}/stderr.log"
    return stdout, stderr


__all__ = ["ShellScheduler"]
