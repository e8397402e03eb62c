"""LocalTransport: commands through subprocess, files through pathlib."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from collections.abc import Mapping, Sequence
from pathlib import Path

from molq.core import TransportError
from molq.shell.transport._command_log import log_command
from molq.shell.transport._transport_compat import (
    CommandResult,
    filtered_copy,
    need_recursive,
    same_file,
    stdin_bytes,
)


class LocalTransport:
    """Runs commands and file operations on this machine."""

    name = "local"

    _sweep_at = 64

    def __repr__(self) -> str:
        return "LocalTransport()"

    def run(
        self,
        argv: Sequence[str],
        *,
        stdin: bytes | None = None,
        cwd: str | None = None,
        env: Mapping[str, str] | None = None,
        timeout: float | None = None,
        input: str | bytes | None = None,
    ) -> CommandResult:
        """Run ``argv`` without a shell and capture its output (``input=`` is upstream's ``stdin``).

        Raises:
            TransportError: the program cannot be started or ran past ``timeout``.
        """
        argv = tuple(argv)
        _check_argv(argv)
        stdin = stdin_bytes(stdin, input)
        full_env = None if env is None else {**os.environ, **env}
        started, returncode = time.monotonic(), None
        try:
            proc = subprocess.run(
                argv,
                input=stdin if stdin is not None else b"",
                capture_output=True,
                cwd=cwd,
                env=full_env,
                timeout=timeout,
                check=False,
            )
        except FileNotFoundError as exc:
            msg = f"command not found: {argv[0]!r}"
            raise TransportError(msg) from exc
        except subprocess.TimeoutExpired as exc:
            msg = f"command timed out after {timeout}s: {argv[0]}"
            raise TransportError(msg) from exc
        except OSError as exc:
            msg = f"cannot run {argv[0]!r}: {exc}"
            raise TransportError(msg) from exc
        else:
            returncode = proc.returncode
        finally:
            log_command("local", argv, started, returncode)
        return CommandResult(
            argv=argv,
            returncode=proc.returncode,
            stdout=proc.stdout.decode("utf-8", "replace"),
            stderr=proc.stderr.decode("utf-8", "replace"),
        )

    def spawn_detached(self, argv: Sequence[str]) -> int:
        """Start ``argv`` in a new session with stdio on /dev/null; return its pid at once.

        This process stays the parent, so :meth:`pid_alive` reaps the child when it
        ends; a finished wrapper never lingers as a zombie that looks alive.

        Raises:
            TransportError: the program cannot be started.
        """
        argv = tuple(argv)
        _check_argv(argv)
        self._reap()
        devnull = [(os.POSIX_SPAWN_OPEN, fd, os.devnull, os.O_RDWR, 0) for fd in (0, 1, 2)]
        try:
            pid = os.posix_spawnp(
                argv[0], argv, os.environ, file_actions=devnull, setsid=True, setsigdef=_PYTHON_IGNORED
            )
        except OSError as exc:
            msg = f"cannot start {argv[0]!r}: {exc}"
            raise TransportError(msg) from exc
        self._spawned().add(pid)
        return pid

    def pid_alive(self, pid: int) -> bool:
        """Whether process ``pid`` exists on this machine (a zombie counts as gone)."""
        children = self._spawned()
        if pid in children:
            if not _reaped(pid):
                return True
            children.discard(pid)
            return False
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return False
        except PermissionError:
            return True
        except OSError:
            return False
        return not _is_zombie(pid)

    def _spawned(self) -> set[int]:
        # Created on first use, so subclasses that skip __init__ still work.
        children: set[int] = self.__dict__.setdefault("_children", set())
        return children

    def _reap(self) -> None:
        # Amortised: sweep finished children once the set has doubled since the last sweep.
        children = self._spawned()
        if len(children) < self._sweep_at:
            return
        children.difference_update([pid for pid in children if _reaped(pid)])
        self._sweep_at = max(64, 2 * len(children))

    def read_text(self, path: str) -> str:
        """Return a file's text (UTF-8)."""
        return self.read_bytes(path).decode("utf-8", "replace")

    def read_bytes(self, path: str) -> bytes:
        """Return a file's bytes."""
        try:
            return Path(path).read_bytes()
        except OSError as exc:
            msg = f"cannot read {path}: {exc.strerror or exc}"
            raise TransportError(msg) from exc

    def write_text(self, path: str, text: str, *, mode: int = 0o600) -> None:
        """Write text atomically (temp file + rename); parent directories are created."""
        self.write_bytes(path, text.encode("utf-8"), mode=mode)

    def create_text(self, path: str, text: str) -> None:
        """Create a file that must not exist yet (one open, no temp file and rename).

        For files in a directory this process has just made: nobody can see them half
        written, so the atomic rename of :meth:`write_text` would only cost time.
        """
        data = memoryview(text.encode("utf-8"))
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o600)
            try:
                while data:  # raw writes: a buffered file object costs four more system calls
                    data = data[os.write(fd, data) :]
            finally:
                os.close(fd)
        except OSError as exc:
            msg = f"cannot write {path}: {exc.strerror or exc}"
            raise TransportError(msg) from exc

    def write_bytes(self, path: str, data: bytes, *, mode: int = 0o600) -> None:
        """Write bytes atomically (temp file + rename in the same directory) with ``mode``.

        Missing parent directories are created (mode 0700), as upstream molq does.
        """
        target = Path(path)
        try:
            target.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
            import tempfile  # here: it loads random and hashlib (start-up, ADR 0032)

            fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.")
            try:
                if mode != 0o600:
                    os.fchmod(fd, mode)
                with os.fdopen(fd, "wb") as handle:
                    handle.write(data)
                os.replace(tmp, target)
            except BaseException:
                Path(tmp).unlink(missing_ok=True)
                raise
        except OSError as exc:
            msg = f"cannot write {path}: {exc.strerror or exc}"
            raise TransportError(msg) from exc

    def exists(self, path: str) -> bool:
        """Whether the path exists."""
        return os.path.exists(path)

    def mkdir(self, path: str, *, parents: bool = True, exist_ok: bool = True) -> None:
        """Create a directory private to the user (mode 0700)."""
        try:
            Path(path).mkdir(mode=0o700, parents=parents, exist_ok=exist_ok)
        except OSError as exc:
            msg = f"cannot create directory {path}: {exc.strerror or exc}"
            raise TransportError(msg) from exc

    def chmod(self, path: str, mode: int) -> None:
        """Change a path's mode."""
        try:
            Path(path).chmod(mode)
        except OSError as exc:
            msg = f"cannot chmod {path}: {exc.strerror or exc}"
            raise TransportError(msg) from exc

    def remove(self, path: str, *, recursive: bool = False) -> None:
        """Remove a file or (with ``recursive``) a tree; a missing path is fine."""
        target = Path(path)
        try:
            if recursive and target.is_dir() and not target.is_symlink():
                import shutil  # here: it loads bz2 and lzma (start-up, ADR 0032)

                shutil.rmtree(target)
            else:
                target.unlink(missing_ok=True)
        except OSError as exc:
            msg = f"cannot remove {path}: {exc.strerror or exc}"
            raise TransportError(msg) from exc

    def upload(self, local: str, remote: str, *, recursive: bool = False, exclude: Sequence[str] = ()) -> None:
        """Copy ``local`` to ``remote`` on this machine (``exclude``: glob patterns left out)."""
        _copy(local, remote, recursive=recursive, exclude=exclude)

    def download(self, remote: str, local: str, *, recursive: bool = False, exclude: Sequence[str] = ()) -> None:
        """Copy ``remote`` to ``local`` on this machine (``exclude``: glob patterns left out)."""
        _copy(remote, local, recursive=recursive, exclude=exclude)


def _copy(src: str, dst: str, *, recursive: bool, exclude: Sequence[str] = ()) -> None:
    source = Path(src)
    if same_file(src, dst):
        return  # a file or tree copied onto itself: nothing to do
    try:
        if source.is_dir():
            need_recursive(src, recursive=recursive)
            filtered_copy(src, dst, exclude)
        else:
            target = Path(dst)
            if target.is_dir():
                target = target / source.name
            target.parent.mkdir(parents=True, exist_ok=True)
            import shutil

            shutil.copy2(source, target)
    except OSError as exc:
        if isinstance(exc, TransportError):
            raise
        msg = f"cannot copy {src} to {dst}: {exc.strerror or exc}"
        raise TransportError(msg) from exc


# Python ignores these; an ignored signal stays ignored across exec, so started programs
# (and the jobs under them) get them back at their defaults.
_PYTHON_IGNORED = tuple(getattr(signal, name) for name in ("SIGPIPE", "SIGXFSZ") if hasattr(signal, name))


def _reaped(pid: int) -> bool:
    """Collect our child ``pid`` if it has ended; whether it is gone."""
    try:
        done, _ = os.waitpid(pid, os.WNOHANG)
    except ChildProcessError:
        return True  # reaped elsewhere (or not ours after all)
    return done == pid


def _is_zombie(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat", "rb") as handle:
            stat = handle.read()
    except OSError:
        return False  # no procfs (or the process just went): kill -0 is all we know
    return stat[stat.rfind(b")") + 2 : stat.rfind(b")") + 3] == b"Z"


def _check_argv(argv: tuple[object, ...]) -> None:
    if not argv:
        msg = "cannot run an empty command"
        raise TransportError(msg)
    for arg in argv:
        if not isinstance(arg, str):
            msg = f"command arguments must be strings, got {arg!r}"
            raise TransportError(msg)
        if "\0" in arg:
            msg = f"command argument contains a NUL byte: {arg!r}"
            raise TransportError(msg)
