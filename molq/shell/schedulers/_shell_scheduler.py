"""ShellScheduler: the ``local`` backend, running detached jobs through a Transport."""

from __future__ import annotations

import logging
import os
import select
import threading
import time
from collections.abc import Mapping, Sequence

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
from molq.core._sched._local import (
    CANCEL_SCRIPT,
    JOB_FILE,
    KILL_GRACE_S,
    LAUNCH_SCRIPT,
    LOCAL_CAPABILITIES,
    PROBE_SCRIPT,
    WRAPPER_FILE,
    parse_probe,
    render_job_script,
    render_wrapper,
)
from molq.core._usage import JobUsage
from molq.shell.schedulers._batch_jobs import write_inline_script
from molq.shell.schedulers._local_probe import _read, noticed_end, probe_dir
from molq.shell.schedulers._local_usage import local_usage_many
from molq.shell.schedulers._runner import Ended
from molq.shell.schedulers._runner_client import (
    MAX_UNCLAIMED,
    RunnerClient,
    RunnerUnavailable,
    runner_enabled,
)


PROBE_CHUNK = 400

log = logging.getLogger(__name__)


class ShellScheduler:
    """Runs each job as a detached process group on the transport's machine."""

    name = "local"

    def __init__(self, transport: Transport, options: object | None = None) -> None:
        self._transport = transport
        self.options = options
        self._runners: dict[str, RunnerClient] = {}  # jobs root -> its runner (this machine only)
        self._runners_lock = threading.Lock()
        self._runner_off = False
        # End notices a wait has taken from the runners, until an observation uses them.
        self._notices: dict[str, Ended] = {}

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
        """Write the scripts and start the job detached; returns its scheduler id (a pid).

        On this machine the jobs root's runner starts it (ADR 0016); elsewhere, or when
        no runner can be had, a detached sh wrapper does.
        """
        submission = self.prepare(spec, job_dir)
        self._transport.mkdir(job_dir)
        details = dict(submission.details)
        write_inline_script(self._transport, spec, job_dir)
        runner = self._runner_for(job_dir)
        create = getattr(self._transport, "create_text", None) if runner is not None else None
        if create is not None and not self._transport.exists(submission.script_path):
            create(submission.script_path, submission.script)  # a fresh job dir: no rename needed
        else:
            self._transport.write_text(submission.script_path, submission.script)
        if runner is not None:
            limit = spec.resources.time_limit
            try:
                with runner.lock:
                    started = runner.start_job(
                        os.path.abspath(job_dir),
                        os.path.abspath(details["stdout"]),
                        os.path.abspath(details["stderr"]),
                        time_limit_s=limit.seconds if limit is not None else None,
                        grace_s=KILL_GRACE_S,
                    )
            except RunnerUnavailable as exc:
                log.warning("local jobs start through the sh wrapper from now on: %s", exc)
                self._runner_off = True  # this process falls back to the wrapper from now on
            else:
                return str(started) if started is not None else f"cancelled-{os.path.basename(job_dir)}"
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

    def _runner_for(self, job_dir: str) -> RunnerClient | None:
        spawn = getattr(self._transport, "spawn_detached", None)
        alive = getattr(self._transport, "pid_alive", None)
        if self._runner_off or spawn is None or alive is None or not runner_enabled():
            return None
        root = os.path.dirname(os.path.abspath(job_dir))
        with self._runners_lock:  # threads sharing this scheduler share one client per root
            runner = self._runners.get(root)
            if runner is None:
                runner = self._runners[root] = RunnerClient(root, spawn, alive)
        return runner

    def close(self) -> None:
        """Close the connections to local runners (they keep running their jobs)."""
        for runner in self._runners.values():
            runner.close()
        self._runners.clear()

    def observe_many(
        self, scheduler_job_ids: Sequence[str], *, job_dirs: Mapping[str, str] | None = None
    ) -> dict[str, Observation]:
        """Read every job's status files in one probe per chunk."""
        dirs = dict(job_dirs or {})
        result = {
            sid: Observation(state=None, reason="no job directory known")
            for sid in scheduler_job_ids
            if sid not in dirs
        }
        known = [sid for sid in scheduler_job_ids if sid in dirs]
        pid_alive = getattr(self._transport, "pid_alive", None)
        if pid_alive is not None:  # this machine: read the facts in-process, no probe script
            for sid in known:
                notice = self._take_notice(dirs[sid])
                result[sid] = probe_dir(dirs[sid], pid_alive) if notice is None else noticed_end(dirs[sid], notice)
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

    def usage_many(
        self, scheduler_job_ids: Sequence[str], *, job_dirs: Mapping[str, str] | None = None
    ) -> dict[str, JobUsage]:
        """CPU time and peak RSS of finished jobs, from the ``rusage`` file in each job dir.

        Raises:
            SchedulerError: the probe could not run.
        """
        dirs = job_dirs or {}
        return local_usage_many(self._transport, {sid: dirs.get(sid, "") for sid in scheduler_job_ids})

    def _take_notice(self, job_dir: str) -> Ended | None:
        """The runner's end notice for ``job_dir`` if one came to this process (removed)."""
        if not self._runners:
            return None
        path = os.path.abspath(job_dir)
        notice = self._notices.pop(path, None)
        if notice is None:
            runner = self._runners.get(os.path.dirname(path))
            if runner is not None:
                notice = runner.ended.pop(path, None)
        return notice if notice is not None and notice.at is not None else None

    def wait_for_any(self, job_dirs: Mapping[str, str], *, timeout: float) -> None:
        """Sleep up to ``timeout`` s, returning early once any of the jobs has ended.

        A runner's end notice wakes the wait at once; a ``status`` file written by a
        wrapper (or by a runner of another process) is found by polling. Only on this
        machine; elsewhere this just sleeps.
        """
        deadline = time.monotonic() + max(0.0, timeout)
        if getattr(self._transport, "pid_alive", None) is None:
            time.sleep(max(0.0, timeout))
            return
        wanted = {os.path.abspath(d) for d in job_dirs.values() if d}
        runners = [r for r in self._runners.values() if r.fileno() >= 0]
        paths = [f"{d}/status" for d in wanted]
        # Look often at first (a short job's end is seen within a millisecond or two),
        # then back off to a quarter second: a long wait costs few stat calls.
        pause, longest = 0.0005, 0.25
        if runners:
            # Notices wake us; the status files are looked at only for ends the runners
            # do not see, so that look can back off to half a second (waiting stays idle).
            pause, longest = 0.05, 0.5
        while True:
            if self._noticed(runners, wanted) or any(os.path.exists(path) for path in paths):
                return
            left = deadline - time.monotonic()
            if left <= 0:
                return
            step = min(pause, left)
            if runners:
                try:
                    ready, _, _ = select.select(runners, [], [], step)
                except (OSError, ValueError):  # a runner connection closed meanwhile
                    runners = [r for r in runners if r.fileno() >= 0]
                    continue
                if ready and self._noticed(runners, wanted):
                    return
            else:
                time.sleep(step)
            pause = min(pause * 1.5, longest)

    def _noticed(self, runners: list[RunnerClient], wanted: set[str]) -> bool:
        """Collect runners' end notices; whether one is for a job in ``wanted``.

        Those are moved aside for the observation that follows, so the same notice
        never wakes a second wait.
        """
        hit = False
        for runner in runners:
            if runner.lock.acquire(blocking=False):  # a submit in flight reads the socket itself
                try:
                    runner.drain()
                finally:
                    runner.lock.release()
            for path in runner.ended.keys() & wanted:
                notice = runner.ended.pop(path, None)  # another thread may have taken it
                if notice is None:
                    continue
                if len(self._notices) >= MAX_UNCLAIMED:
                    self._notices.clear()  # never observed (the jobs were settled elsewhere)
                self._notices[path] = notice
                hit = True
        return hit

    def poll_many(
        self, scheduler_job_ids: Sequence[str], *, job_dirs: Mapping[str, str] | None = None
    ) -> dict[str, JobState]:
        """States of the jobs whose state is known."""
        observed = self.observe_many(scheduler_job_ids, job_dirs=job_dirs)
        return {sid: obs.state for sid, obs in observed.items() if obs.state is not None}

    def cancel(self, scheduler_job_id: str, *, job_dir: str | None = None) -> None:
        """TERM the job's process group, then KILL after a grace period."""
        if job_dir is None:
            msg = f"cannot cancel local job {scheduler_job_id}: its job directory is unknown"
            raise SchedulerError(msg)
        self._reap_writers(job_dir)
        argv = ("sh", "-c", CANCEL_SCRIPT, "molq-cancel", job_dir, str(KILL_GRACE_S))
        done = self._transport.run(argv, timeout=KILL_GRACE_S + 30)
        if not done.ok:
            msg = f"cancel of local job {scheduler_job_id} failed: {done.stderr.strip()}"
            raise SchedulerError(msg, argv=argv, returncode=done.returncode, stderr=done.stderr)

    def _reap_writers(self, job_dir: str) -> None:
        """Collect a killed wrapper or runner that was this process's child.

        A child that died stays a zombie until reaped, and the cancel script would
        wait on it as if it could still write ``status``.
        """
        pid_alive = getattr(self._transport, "pid_alive", None)
        if pid_alive is None:
            return
        for text in (_read(f"{job_dir}/wrapper.pid"), _read(f"{job_dir}/pid").partition("\n")[2]):
            pid = text.strip()
            if pid.isdigit():
                pid_alive(int(pid))

    def resolve_terminal(self, scheduler_job_id: str, *, job_dir: str | None = None) -> TerminalStatus | None:
        """The recorded outcome, or None while running / when it can't be known."""
        if job_dir is None:
            return None
        obs = self.observe_many([scheduler_job_id], job_dirs={scheduler_job_id: job_dir})[scheduler_job_id]
        if obs.state is None or not obs.state.is_terminal:
            return None
        return TerminalStatus(obs.state, obs.exit_code, obs.reason, obs.finished_at, obs.raw_state)

    def adopt(self, job_dir: str, record: object = None) -> str | None:
        """The id of a job started by an interrupted submission, if it ever started.

        A wrapper's pid for a wrapper-started job; the job's pid for a runner-started one.
        """
        if not job_dir:
            return None
        # A wrapper writes wrapper.pid before anything else; a runner writes pid right
        # after the spawn, so pid without wrapper.pid means: runner.
        for id_file in ("wrapper.pid", "pid"):
            if self._transport.exists(f"{job_dir}/{id_file}"):
                pid = self._transport.read_text(f"{job_dir}/{id_file}").partition("\n")[0].strip()
                return pid if pid.isdigit() else None
        return None

    def list_queue(self, *, user: str | None = None) -> list[QueueEntry]:
        """The local backend has no queue."""
        return []


def _log_paths(spec: JobSpec, job_dir: str) -> tuple[str, str]:
    meta = spec.metadata
    stdout = meta.get("molq.stdout_path") or f"{job_dir}/stdout.log"
    stderr = meta.get("molq.stderr_path") or f"{job_dir}/stderr.log"
    return stdout, stderr


__all__ = ["ShellScheduler"]
