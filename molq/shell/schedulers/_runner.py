"""The local runner: one long-lived process per jobs root that starts local jobs and records their end.

Started on demand by :class:`molq.shell.schedulers._runner_client.RunnerClient`; listens on an
abstract Unix socket (Linux), accepts only its own user, starts each job as
``/bin/sh <job_dir>/job.sh`` in a new session, reaps it on SIGCHLD and writes
fact files like the sh wrapper's (``pid``, ``status``). It exits
after ``idle_s`` seconds without running jobs. See ADR 0016.

Run as ``python -m molq.shell.schedulers._runner ADDRESS IDLE_S``. Imports only the standard
library and msgspec, so it starts in a few tens of milliseconds.
"""

from __future__ import annotations

import contextlib
import errno
import os
import selectors
import signal
import socket
import struct
import sys
import time

import msgspec

from molq.core._sched._local_usage import RUSAGE_FILE, render_rusage


# Runners before 2026-11-23 wrote their pid here; it is still read for jobs they started.
RUNNER_PID_FILE = "runner.pid"
PROTOCOL = 1
MAX_LINE = 8 << 20  # a request larger than this is refused, not buffered forever
MAX_PENDING_OUT = 1 << 20  # notices to a client that never reads are dropped past this


class RunJob(msgspec.Struct, frozen=True, tag="run"):
    """Start ``<job_dir>/job.sh`` with this environment and these log files."""

    job_dir: str
    stdout: str
    stderr: str
    env: dict[str, str]
    time_limit_s: int | None = None
    grace_s: int = 5
    env_bytes: tuple[tuple[bytes, bytes], ...] = ()  # variables that are not UTF-8, as bytes

    def environment(self) -> dict[bytes, bytes]:
        """The job's environment: ``env`` plus the byte-exact ``env_bytes``."""
        env = {os.fsencode(k): os.fsencode(v) for k, v in self.env.items()}
        env.update(self.env_bytes)
        return env


class Started(msgspec.Struct, frozen=True, tag="started"):
    """The job runs as process group ``pid`` (None: it was cancelled before it started)."""

    job_dir: str
    pid: int | None


class Refused(msgspec.Struct, frozen=True, tag="refused"):
    """The job could not be started; ``message`` says why."""

    job_dir: str
    message: str


class Ended(msgspec.Struct, frozen=True, tag="ended"):
    """The job ended with shell-style exit code ``rc`` (128+N for signal N) at ``at`` (epoch s).

    Sent before ``status`` is written: the notice is the same fact as the file, from the
    same source, so the submitter need not wait for (or read) the file. ``at`` is None
    from runners older than this field.
    """

    job_dir: str
    rc: int
    at: float | None = None


Request = RunJob
Reply = Started | Refused | Ended

WATCHDOG_SCRIPT = (
    'sleep "$1"; [ -e "$2/status" ] || { : > "$2/timed_out"; '
    'kill -TERM "-$3" 2>/dev/null; sleep "$4"; kill -KILL "-$3" 2>/dev/null; }'
)
_DEFAULT_SIGNALS = tuple(
    sig
    for sig in (getattr(signal, name, None) for name in ("SIGPIPE", "SIGXFSZ", "SIGINT", "SIGTERM", "SIGHUP"))
    if sig is not None
)


def write_fact(path: str, text: str) -> None:
    """Write a fact file with one ``write``; its mtime records when the fact happened.

    Not through a temp file: readers take an empty fact file for "not yet" (as they do
    for the sh wrapper's ``printf`` writes), and a rename per fact is a metadata
    operation per job that slow file systems make expensive.
    """
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_CLOEXEC, 0o600)
    try:
        os.write(fd, text.encode())
    finally:
        os.close(fd)


def shell_exit_code(wait_status: int) -> int:
    """What ``$?`` would say: the exit code, or 128+N for a job killed by signal N."""
    if os.WIFSIGNALED(wait_status):
        return 128 + os.WTERMSIG(wait_status)
    return os.waitstatus_to_exitcode(wait_status)


class _Client:
    def __init__(self, conn: socket.socket) -> None:
        self.conn = conn
        self.inbox = b""
        self.outbox = b""


class _Child:
    def __init__(self, pid: int, job_dir: str, client: _Client | None, watchdog: int | None) -> None:
        self.pid, self.job_dir, self.client, self.watchdog = pid, job_dir, client, watchdog


_SIGCHLD = "sigchld"


class Runner:
    """The event loop: accept clients, start jobs, reap them, tell the submitting client."""

    def __init__(self, listener: socket.socket, idle_s: float) -> None:
        self.listener = listener
        self.idle_s = idle_s
        self.selector = selectors.DefaultSelector()
        self.selector.register(listener, selectors.EVENT_READ, None)
        self.running: dict[int, _Child] = {}
        self.watchdogs: set[int] = set()
        # SIGCHLD writes a byte to this pipe (set_wakeup_fd), so select() wakes when a child
        # ends; the children are then reaped in the loop, never inside the signal handler.
        self.wake_r, wake_w = os.pipe()
        os.set_blocking(self.wake_r, False)
        os.set_blocking(wake_w, False)
        signal.set_wakeup_fd(wake_w)
        signal.signal(signal.SIGCHLD, lambda *_: None)
        self.selector.register(self.wake_r, selectors.EVENT_READ, _SIGCHLD)
        self.decode = msgspec.json.Decoder(Request).decode
        self.encode = msgspec.json.Encoder().encode
        self.idle_since = time.monotonic()
        self.pid = os.getpid()

    def serve(self) -> None:
        """Run until idle for ``idle_s`` seconds with no job running."""
        while True:
            timeout = None
            if not self.running:
                timeout = self.idle_since + self.idle_s - time.monotonic()
                if timeout <= 0:
                    return
            for key, mask in self.selector.select(timeout):
                data = key.data
                if data is None:
                    self._accept()
                elif isinstance(data, _Client):
                    self._service(data, mask)
                else:
                    self._reap_ended()

    def _accept(self) -> None:
        try:
            conn, _ = self.listener.accept()
        except OSError:
            return
        creds = conn.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, struct.calcsize("3i"))
        _, uid, _ = struct.unpack("3i", creds)
        if uid != os.getuid():  # abstract sockets have no file permissions: check the peer
            conn.close()
            return
        conn.setblocking(False)
        self.selector.register(conn, selectors.EVENT_READ, _Client(conn))

    def _service(self, client: _Client, mask: int) -> None:
        if mask & selectors.EVENT_WRITE:
            self._flush(client)
        if not mask & selectors.EVENT_READ:
            return
        try:
            chunk = client.conn.recv(1 << 16)
        except BlockingIOError:
            return
        except OSError:
            chunk = b""
        if not chunk:
            self._drop(client)
            return
        client.inbox += chunk
        *lines, client.inbox = client.inbox.split(b"\n")
        if len(client.inbox) > MAX_LINE:
            self._drop(client)
            return
        for line in lines:
            if line.strip():
                self._handle(client, line)

    def _handle(self, client: _Client, line: bytes) -> None:
        try:
            request = self.decode(line)
        except msgspec.DecodeError as exc:
            self._send(client, Refused(job_dir="", message=f"bad request: {exc}"))
            return
        # One bad job dir must not end the bookkeeping of every other job: refuse it, go on.
        try:
            reply: Started | Refused = self._start(request, client)
        except Exception as exc:
            reply = Refused(job_dir=request.job_dir, message=f"{type(exc).__name__}: {exc}")
        self._send(client, reply)

    def _start(self, req: RunJob, client: _Client) -> Started | Refused:
        d = req.job_dir
        if os.path.exists(f"{d}/cancel_requested"):
            write_fact(f"{d}/status", "143\n")
            return Started(job_dir=d, pid=None)
        stdio = [
            (os.POSIX_SPAWN_OPEN, 0, os.devnull, os.O_RDONLY, 0),
            (os.POSIX_SPAWN_OPEN, 1, req.stdout, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o666),
            (os.POSIX_SPAWN_OPEN, 2, req.stderr, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o666),
        ]
        argv = ["/bin/sh", f"{d}/job.sh"]
        try:
            pid = os.posix_spawn(
                argv[0], argv, req.environment(), file_actions=stdio, setsid=True, setsigdef=_DEFAULT_SIGNALS
            )
        except OSError as exc:
            return Refused(job_dir=d, message=f"cannot start {argv[1]}: {exc.strerror or exc}")
        try:
            # One file, one write: the job's pid, then ours (who will write its status).
            write_fact(f"{d}/pid", f"{pid}\n{self.pid}\n")
        except OSError as exc:  # the job dir vanished: stop the job rather than lose track of it
            with contextlib.suppress(OSError):
                os.killpg(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
            return Refused(job_dir=d, message=f"cannot record the job's start in {d}: {exc.strerror or exc}")
        watchdog = self._watchdog(req, pid) if req.time_limit_s is not None else None
        self.running[pid] = _Child(pid, d, client, watchdog)
        if os.path.exists(f"{d}/cancel_requested"):  # a cancel that raced the start
            with contextlib.suppress(OSError):
                os.killpg(pid, signal.SIGTERM)
        return Started(job_dir=d, pid=pid)

    def _watchdog(self, req: RunJob, pgid: int) -> int | None:
        argv = [
            "/bin/sh",
            "-c",
            WATCHDOG_SCRIPT,
            "molq-watchdog",
            str(req.time_limit_s),
            req.job_dir,
            str(pgid),
            str(req.grace_s),
        ]
        devnull = [(os.POSIX_SPAWN_OPEN, fd, os.devnull, os.O_RDWR, 0) for fd in (0, 1, 2)]
        try:
            pid = os.posix_spawn(
                argv[0], argv, req.environment(), file_actions=devnull, setsid=True, setsigdef=_DEFAULT_SIGNALS
            )
        except OSError:
            return None  # the job still runs; only its time limit is not enforced
        self.watchdogs.add(pid)
        return pid

    def _reap_ended(self) -> None:
        with contextlib.suppress(OSError):
            while os.read(self.wake_r, 4096):
                pass
        while True:
            try:
                pid, wait_status, rusage = os.wait4(-1, os.WNOHANG)
            except ChildProcessError:
                return
            if pid == 0:
                return
            child = self.running.pop(pid, None)
            if child is not None:
                with contextlib.suppress(OSError):  # usage is a bonus: a removed job dir loses only it
                    usage = render_rusage(rusage.ru_utime, rusage.ru_stime, rusage.ru_maxrss)
                    write_fact(f"{child.job_dir}/{RUSAGE_FILE}", usage)
                self._ended(child, wait_status)
            else:
                self.watchdogs.discard(pid)

    def _ended(self, child: _Child, wait_status: int) -> None:
        rc = shell_exit_code(wait_status)
        at = time.time()
        if child.watchdog is not None:
            with contextlib.suppress(OSError):
                os.killpg(child.watchdog, signal.SIGTERM)
        # The waiting submitter hears first: the status file is for everyone else, and
        # writing it is a file creation that slow file systems make costly.
        if child.client is not None:
            self._send(child.client, Ended(job_dir=child.job_dir, rc=rc, at=at))
        with contextlib.suppress(OSError):  # a removed job dir: the job's own exit_code is gone too
            write_fact(f"{child.job_dir}/status", f"{rc}\n")
        if not self.running:
            self.idle_since = time.monotonic()

    def _send(self, client: _Client, reply: Reply) -> None:
        if client.conn.fileno() < 0:
            return
        if len(client.outbox) > MAX_PENDING_OUT and isinstance(reply, Ended):
            return  # a client that never reads loses only wake-up notices; the status file is written
        client.outbox += self.encode(reply) + b"\n"
        self._flush(client)

    def _flush(self, client: _Client) -> None:
        try:
            sent = client.conn.send(client.outbox)
        except BlockingIOError:
            sent = 0
        except OSError:
            self._drop(client)
            return
        client.outbox = client.outbox[sent:]
        events = selectors.EVENT_READ | (selectors.EVENT_WRITE if client.outbox else 0)
        with contextlib.suppress(KeyError, ValueError):
            self.selector.modify(client.conn, events, client)

    def _drop(self, client: _Client) -> None:
        with contextlib.suppress(KeyError, ValueError):
            self.selector.unregister(client.conn)
        client.conn.close()
        for child in self.running.values():
            if child.client is client:
                child.client = None


def listen(address: str) -> socket.socket | None:
    """Bind the abstract socket ``address``; None when another runner already serves it."""
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        listener.bind(f"\0{address}")
    except OSError as exc:
        listener.close()
        if exc.errno == errno.EADDRINUSE:
            return None
        raise
    listener.listen(256)
    listener.setblocking(False)
    return listener


def main(argv: list[str]) -> int:
    """Serve ``argv[0]`` (abstract socket name) until idle for ``argv[1]`` seconds."""
    address, idle_s = argv[0], float(argv[1])
    os.chdir("/")  # never pin the submitter's directory
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # a Ctrl-C in the submitting terminal must not end it
    listener = listen(address)
    if listener is None:
        return 0
    Runner(listener, idle_s).serve()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
