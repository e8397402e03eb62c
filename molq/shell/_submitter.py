"""Who is submitting: a token naming this process, and whether a token's process is gone.

The token is ``<host> <pid> <start> <pid namespace>``: ``start`` is the process's
start time as the kernel counts it (``/proc/<pid>/stat`` field 22) with the boot id,
so a pid reused by another process never passes for the submitter; the namespace
keeps a container that shares the host name from judging another's pids. Without
``/proc`` both are ``-``, and only the pid is checked.
"""

from __future__ import annotations

import os
import socket


SUBMITTER_KEY = "molq.submitter"
_cache: dict[int, str] = {}


def submitter_token() -> str:
    """The token of this process (computed once per process, again after a fork)."""
    pid = os.getpid()
    token = _cache.get(pid)
    if token is None:
        _cache.clear()
        token = _cache[pid] = f"{socket.gethostname()} {pid} {_start_of(pid)} {_pid_namespace()}"
    return token


def submitter_gone(token: str) -> bool:
    """Whether the process a token names has certainly ended (False when it cannot be known).

    Only a process on this host can be checked; a token of another host is never gone.
    """
    host, pid_text, start, namespace = [*token.split(" "), "", "", ""][:4]
    if host != socket.gethostname() or namespace != _pid_namespace() or not pid_text.isdigit():
        return False  # pids of another host or container mean nothing here
    pid = int(pid_text)
    if not _alive(pid):
        return True
    return start not in ("", "-") and _start_of(pid) not in (start, "-")


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True  # it exists, owned by someone else
    return not _zombie(pid)


def _zombie(pid: int) -> bool:
    stat = _stat(pid)
    return stat is not None and stat[0] == "Z"


def _start_of(pid: int) -> str:
    """``<boot id>:<start ticks>`` of ``pid``, or ``-`` when there is no procfs."""
    stat = _stat(pid)
    if stat is None:
        return "-"
    try:
        with open("/proc/sys/kernel/random/boot_id", encoding="ascii") as handle:
            boot = handle.read().strip()
    except OSError:
        boot = "-"
    return f"{boot}:{stat[19]}"  # fields after the name: state is field 3, starttime field 22


def _pid_namespace() -> str:
    try:
        return os.readlink("/proc/self/ns/pid")
    except OSError:
        return "-"


def _stat(pid: int) -> list[str] | None:
    """The fields of ``/proc/<pid>/stat`` after the process name, or None."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as handle:
            raw = handle.read()
    except OSError:
        return None
    return raw[raw.rfind(b")") + 2 :].decode("ascii", "replace").split()
