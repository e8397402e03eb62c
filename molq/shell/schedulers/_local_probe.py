"""Reading a local job's directory: is its process alive, and how did it end (exit files, runner notices).

ShellScheduler reads these facts in-process when the jobs are on this machine (a remote
transport runs the probe script instead). Nothing here starts or stops a job.
"""

from __future__ import annotations

import os
from collections.abc import Callable

from molq.core import Observation
from molq.core._sched._local import observe_facts
from molq.shell.schedulers._runner import RUNNER_PID_FILE, Ended


def probe_dir(job_dir: str, pid_alive: Callable[[int], bool]) -> Observation:
    """What PROBE_SCRIPT reports for one job dir, read in-process (same order, same rules)."""
    wrapper_pid = _read(f"{job_dir}/wrapper.pid")
    if wrapper_pid == "-":  # started by a runner (ADR 0016), or not started yet
        body, _, wrapper_pid = _read(f"{job_dir}/pid").partition("\n")
        if not wrapper_pid:  # a pid file of a runner before 2026-11-23 (or none yet)
            wrapper_pid = _read(f"{job_dir}/{RUNNER_PID_FILE}")
        alive = "1" if _runner_job_alive(body.strip(), wrapper_pid.strip(), pid_alive) else "0"
    else:  # before status: no race
        body = _read(f"{job_dir}/pid").partition("\n")[0].strip()
        alive = "1" if _wrapper_job_alive(wrapper_pid.strip(), body, pid_alive) else "0"
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


def noticed_end(job_dir: str, notice: Ended) -> Observation:
    """What the probe would report once ``status`` exists, from the runner's end notice.

    The notice carries what the runner writes to ``status`` (exit code, end time); the
    other facts (start time, watchdog and cancel markers) still come from the job dir.
    """
    return observe_facts(
        f"{notice.rc} {notice.at!r}",
        "-",
        "-",
        "0",
        _mtime(f"{job_dir}/pid"),
        "1" if os.path.exists(f"{job_dir}/timed_out") else "0",
        "1" if os.path.exists(f"{job_dir}/cancel_requested") else "0",
    )


def _wrapper_job_alive(wrapper_pid: str, body: str, pid_alive: Callable[[int], bool]) -> bool:
    """Whether a wrapper's job may still end: its wrapper lives, or its body does.

    A wrapper killed on its own leaves the body running in its session; the body
    writes ``exit_code`` when it ends, so it is running, not lost, until then.
    """
    if wrapper_pid.isdigit() and pid_alive(int(wrapper_pid)):
        return True
    return wrapper_pid.isdigit() and body.isdigit() and pid_alive(int(body))


def _runner_job_alive(body: str, runner_pid: str, pid_alive: Callable[[int], bool]) -> bool:
    """Whether a runner's job may still end with a status: its runner lives, or the job does.

    A job whose runner was killed keeps running in its own session; its body (the
    process whose pid is the first line of ``pid``) still writes ``exit_code`` when it
    ends, so while that process lives the job is running, not lost.
    """
    if not runner_pid.isdigit():
        return False
    if pid_alive(int(runner_pid)):
        return True
    return body.isdigit() and pid_alive(int(body))


def _mtime(path: str) -> str:
    """A fact file's modification time (the wrapper writes them at the moment they record)."""
    try:
        return repr(os.stat(path).st_mtime)
    except OSError:
        return "-"


def _read(path: str) -> str:
    """A fact file's text without its final newline, as ``$(cat file)``; "-" when missing.

    Raw ``os.read``: a buffered text ``open`` costs six more system calls per file, and
    a fact file is a few bytes.
    """
    try:
        fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    except FileNotFoundError:
        return "-"
    except OSError:
        return ""
    try:
        chunks = []
        while chunk := os.read(fd, 4096):
            chunks.append(chunk)
    except OSError:
        return ""
    finally:
        os.close(fd)
    return b"".join(chunks).decode("utf-8", "replace").rstrip("\n")
