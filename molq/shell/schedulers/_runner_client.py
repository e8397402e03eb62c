"""RunnerClient: how a submitting process reaches the local runner of a jobs root (ADR 0016)."""

from __future__ import annotations

import contextlib
import hashlib
import os
import select
import socket
import struct
import sys
import threading
import time
from collections.abc import Callable, Mapping, Sequence

import msgspec

from molq.core import SchedulerError
from molq.shell.schedulers._runner import PROTOCOL, Ended, Refused, Reply, RunJob, Started


CONNECT_TIMEOUT_S = 10.0
REPLY_TIMEOUT_S = 30.0
DEFAULT_IDLE_S = 30.0
MAX_UNCLAIMED = 10_000


class RunnerUnavailable(Exception):
    """No runner can serve this jobs root (not Linux, or it would not start)."""


def runner_enabled() -> bool:
    """Whether local jobs go through a runner (``MOLQ_LOCAL_RUNNER=0`` keeps the per-job sh wrapper).

    Linux only: the runner listens on an abstract Unix socket.
    """
    return os.environ.get("MOLQ_LOCAL_RUNNER", "1") != "0" and sys.platform.startswith("linux")


def runner_address(jobs_root: str) -> str:
    """The abstract socket name of ``jobs_root``'s runner: per user, per root, per protocol."""
    digest = hashlib.sha256(os.path.realpath(jobs_root).encode("utf-8", "surrogateescape")).hexdigest()[:24]
    return f"molq-runner-v{PROTOCOL}-{os.getuid()}-{digest}"


class RunnerClient:
    """One connection to one jobs root's runner; starts the runner when none answers."""

    def __init__(
        self, jobs_root: str, spawn: Callable[[Sequence[str]], int], alive: Callable[[int], bool]
    ) -> None:
        self.jobs_root = jobs_root
        self.address = runner_address(jobs_root)
        self._spawn = spawn
        self._alive = alive
        self.lock = threading.Lock()  # one request/reply exchange at a time on the socket
        self._sock: socket.socket | None = None
        self._owner = 0  # the pid that opened the socket: a forked child must not share it
        self._inbox = b""
        self._decode = msgspec.json.Decoder(Reply).decode
        self._encode = msgspec.json.Encoder().encode
        self.ended: dict[str, Ended] = {}  # end notices by job dir; waiters and observers take them out
        self._replies: list[Started | Refused] = []

    def __repr__(self) -> str:
        return f"RunnerClient({self.jobs_root!r})"

    def __del__(self) -> None:
        # A client dropped without close() must not leak its socket (or warn about it).
        with contextlib.suppress(Exception):
            self.close()

    def fileno(self) -> int:
        """The socket to wait on for end notices; -1 when not connected."""
        if self._sock is not None and self._owner != os.getpid():
            self._sock, self._inbox = None, b""  # inherited through fork: the parent's, not ours
        return self._sock.fileno() if self._sock is not None else -1

    def start_job(
        self, job_dir: str, stdout: str, stderr: str, *, time_limit_s: int | None, grace_s: int
    ) -> int | None:
        """Ask the runner to start ``job_dir``'s job; the job's pid (its process group).

        None means a cancel was requested before the job could start (status 143 written).

        Raises:
            RunnerUnavailable: no runner could be reached; nothing was started.
            SchedulerError: the runner refused the job, or did not answer in time.
        """
        text_env, bytes_env = _split_environment(os.environb)
        request = RunJob(
            job_dir=job_dir,
            stdout=stdout,
            stderr=stderr,
            env=text_env,
            env_bytes=bytes_env,
            time_limit_s=time_limit_s,
            grace_s=grace_s,
        )
        payload = self._encode(request) + b"\n"
        for _ in range(3):
            sock = self._connected()
            try:
                try:
                    sock.sendall(payload)
                except OSError as exc:
                    raise _RunnerGone from exc
                reply = self._reply_for(job_dir)
            except _RunnerGone:
                # A runner that closed on us (it went idle, or was killed) will never start
                # the job later; if it did start it, it wrote the pid before answering.
                self.close()
                pid = started_pid(job_dir)
                if pid is not None:
                    return pid
                continue
            if isinstance(reply, Refused):
                msg = f"the local runner could not start the job: {reply.message}"
                raise SchedulerError(msg)
            return reply.pid
        msg = f"the local runner for {self.jobs_root} keeps closing the connection"
        raise RunnerUnavailable(msg)

    def drain(self) -> None:
        """Collect the end notices that have arrived, without blocking."""
        with contextlib.suppress(_RunnerGone):
            while self._sock is not None and self._receive(0):
                pass

    def close(self) -> None:
        """Close the connection (the runner keeps running its jobs)."""
        if self._sock is not None:
            with contextlib.suppress(OSError):
                self._sock.close()
        self._sock, self._inbox = None, b""

    def _connected(self) -> socket.socket:
        if self.fileno() >= 0 and self._sock is not None:
            return self._sock
        sock = self._connect()
        if sock is None:
            launched = self._launch()
            deadline = time.monotonic() + CONNECT_TIMEOUT_S
            pause = 0.002
            while sock is None:
                if not self._alive(launched):  # it exited: lost a bind race (connect now works), or broken
                    sock = self._connect()
                    if sock is None:
                        msg = f"the local runner for {self.jobs_root} exited at start"
                        raise RunnerUnavailable(msg)
                    break
                if time.monotonic() > deadline:
                    msg = (
                        f"the local runner for {self.jobs_root} did not start within {CONNECT_TIMEOUT_S:.0f}s"
                    )
                    raise RunnerUnavailable(msg)
                time.sleep(pause)
                pause = min(pause * 2, 0.05)
                sock = self._connect()
        self._sock, self._owner = sock, os.getpid()
        return sock

    def _connect(self) -> socket.socket | None:
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            sock.connect(f"\0{self.address}")
        except (ConnectionRefusedError, FileNotFoundError):
            sock.close()
            return None
        except OSError as exc:
            sock.close()
            msg = f"cannot reach the local runner: {exc}"
            raise RunnerUnavailable(msg) from exc
        # Anyone can bind an abstract name: before sending a job (and our whole environment)
        # make sure the listener is ours, as the runner checks its clients.
        creds = sock.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, struct.calcsize("3i"))
        _, uid, _ = struct.unpack("3i", creds)
        if uid != os.getuid():
            sock.close()
            msg = (
                f"the local runner socket @{self.address} is held by uid {uid}, not by you "
                f"(uid {os.getuid()}); nothing was sent to it"
            )
            raise RunnerUnavailable(msg)
        return sock

    def _launch(self) -> int:
        idle = os.environ.get("MOLQ_LOCAL_RUNNER_IDLE", str(DEFAULT_IDLE_S))
        try:
            float(idle)
        except ValueError:
            idle = str(DEFAULT_IDLE_S)
        # The same molq as ours, wherever it was imported from (sys.path may have been edited).
        package_parent = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
        code = (
            "import sys; sys.path.insert(0, sys.argv.pop(1)); "
            "from molq.shell.schedulers._runner import main; sys.exit(main(sys.argv[1:]))"
        )
        try:
            return self._spawn((sys.executable, "-c", code, package_parent, self.address, idle))
        except Exception as exc:
            msg = f"cannot start the local runner: {exc}"
            raise RunnerUnavailable(msg) from exc

    def _reply_for(self, job_dir: str) -> Started | Refused:
        deadline = time.monotonic() + REPLY_TIMEOUT_S
        while True:
            left = deadline - time.monotonic()
            if left <= 0 or not self._receive(left):
                return self._give_up(job_dir)
            for reply in self._replies:
                if reply.job_dir in (job_dir, ""):
                    self._replies.remove(reply)
                    return reply

    def _give_up(self, job_dir: str) -> Started | Refused:
        # A hung runner may still act on the request: the marker stops a late start
        # (it is checked before and right after the spawn), or the start is adopted.
        self.close()
        with contextlib.suppress(OSError), open(f"{job_dir}/cancel_requested", "a", encoding="utf-8"):
            pass
        pid = started_pid(job_dir)
        if pid is not None:
            return Started(job_dir=job_dir, pid=pid)
        msg = f"the local runner did not answer within {REPLY_TIMEOUT_S:.0f}s; the job was not started"
        raise SchedulerError(msg)

    def _receive(self, timeout: float) -> bool:
        """Read what arrives within ``timeout`` s; False when nothing came.

        Raises:
            _RunnerGone: the runner closed the connection.
        """
        sock = self._sock
        if sock is None:
            raise _RunnerGone
        ready, _, _ = select.select([sock], [], [], max(0.0, timeout))
        if not ready:
            return False
        try:
            chunk = sock.recv(1 << 16)
        except OSError:
            chunk = b""
        if not chunk:
            raise _RunnerGone
        self._inbox += chunk
        *lines, self._inbox = self._inbox.split(b"\n")
        for line in lines:
            try:
                reply = self._decode(line)
            except msgspec.DecodeError:
                continue  # not from a runner of this protocol: ignore
            if isinstance(reply, Ended):
                if len(self.ended) >= MAX_UNCLAIMED:
                    self.ended.clear()  # nobody claims these; the status files say the same
                self.ended[reply.job_dir] = reply
            else:
                self._replies.append(reply)
        return True


class _RunnerGone(Exception):
    """The runner closed the connection."""


def started_pid(job_dir: str) -> int | None:
    """The pid a runner recorded for ``job_dir`` if it started the job; None if it did not.

    A runner writes ``pid`` right after the spawn (the job's pid on its first line, the
    runner's on the second), so an existing ``pid`` means started.

    Raises:
        SchedulerError: the job was started but its pid was never written out (the
            runner died mid-write): it may be running, so it must not be started again.
    """
    try:
        with open(f"{job_dir}/pid", encoding="utf-8") as handle:
            text = handle.read().partition("\n")[0].strip()
    except FileNotFoundError:
        return None
    except OSError as exc:
        msg = f"cannot tell whether the local runner started {job_dir}: {exc}"
        raise SchedulerError(msg) from exc
    if not text.isdigit():
        msg = f"the local runner died while recording the start of {job_dir}; the job may be running without a pid"
        raise SchedulerError(msg)
    return int(text)


def _split_environment(environ: Mapping[bytes, bytes]) -> tuple[dict[str, str], tuple[tuple[bytes, bytes], ...]]:
    """The environment as UTF-8 text, plus the variables that are not UTF-8 as raw bytes.

    JSON carries text only; a byte that is not UTF-8 (``os.environ`` holds it as a lone
    surrogate) travels base64-encoded in ``env_bytes`` and reaches the job unchanged.
    """
    text: dict[str, str] = {}
    raw: list[tuple[bytes, bytes]] = []
    for key, value in environ.items():
        try:
            text[key.decode()] = value.decode()
        except UnicodeDecodeError:
            raw.append((key, value))
    return text, tuple(raw)
