"""SshTransport: commands and files on another machine through OpenSSH ssh/rsync/scp.

Design notes live in docs/adr/0014-ssh-transport.md.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
import time
from collections.abc import Mapping, Sequence
from pathlib import Path

from molq.core import Completed, ConfigError, TransportError
from molq.core._ssh_plan import (
    NO_CWD_MARKER,
    NOT_FOUND_MARKER,
    build_remote_command,
    classify_ssh_failure,
    rsync_missing,
    split_markers,
    ssh_option_args,
)
from molq.core._sync_plan import home_relative, rsh_command, rsync_argv
from molq.shell.transport._command_log import log_command
from molq.shell.transport._ssh_options import (
    _ERRORS,
    RemoteFileNotFound,
    SshTimeoutError,
    SshTransportOptions,
    _control_dir,
)
from molq.shell.transport._transport_compat import CommandResult, filtered_copy, need_recursive, stdin_bytes


_READ = 'if [ -e "$1" ]; then exec cat -- "$1"; fi; echo "$1: not found" >&2; exit 3'
_WRITE = """case $1 in */*) d=${1%/*}; b=${1##*/};; *) d=.; b=$1;; esac
[ -n "$d" ] || d=/
[ -d "$d" ] || (umask 077; mkdir -p -- "$d") || exit 1
t=$(mktemp "$d/.$b.XXXXXX") || exit 1
if cat > "$t" && chmod "$2" "$t" && mv -f -- "$t" "$1"; then exit 0; fi
rm -f -- "$t"; exit 1"""
_EXISTS = '[ -e "$1" ]'
_MKDIR = """if [ "$2" = 0 ] && [ -e "$1" ]; then echo "$1: File exists" >&2; exit 1; fi
if [ "$3" = 1 ]; then exec mkdir -p -m 700 -- "$1"; fi
exec mkdir -m 700 -- "$1"
"""
_MKPARENT = """case $1 in */*) p=${1%/*};; *) exit 0;; esac
[ -z "$p" ] || { umask 077; mkdir -p -- "$p"; }"""
_REMOVE = 'if [ "$2" = 1 ]; then exec rm -rf -- "$1"; fi; exec rm -f -- "$1"'
_KIND = 'if [ -d "$1" ]; then echo d; elif [ -e "$1" ]; then echo f; else echo m; fi'


def _tail(stderr: str) -> str:
    lines = [line for line in stderr.strip().split("\n") if line.strip()]
    return lines[-1] if lines else "no message from ssh"


class SshTransport:
    """Runs commands and file operations on a host through OpenSSH.

    Args:
        options: how to reach the host.
    """

    name = "ssh"

    def __init__(self, options: SshTransportOptions) -> None:
        self.options = options
        self._control: str | None = None
        self._remote_rsync = True

    def __repr__(self) -> str:
        return f"SshTransport({self.options.host!r})"

    def option_args(self) -> tuple[str, ...]:
        """The ssh/scp options molq uses, before the destination."""
        if self._control is None:
            self._control = _control_dir()
        return ssh_option_args(
            self.options.ssh_opts,
            port=self.options.port,
            identity_file=self.options.identity_file,
            control_path=f"{self._control}/%C",
        )

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
        """Run ``argv`` on the host, each argument arriving byte-exact (``input=`` is upstream's ``stdin``).

        Returns:
            The remote command's exit status and output (any status but ssh's 255).

        Raises:
            TransportError: the command or ``cwd`` does not exist on the host.
            SshError: ssh failed; the subclass says how (connection, auth, ...).
        """
        argv = tuple(argv)
        stdin = stdin_bytes(stdin, input)
        line = build_remote_command(argv, cwd=cwd, env=env)
        started = time.monotonic()
        try:
            code, out, err = self._ssh(line, stdin=stdin, timeout=timeout)
        except TransportError:
            log_command(f"ssh {self.options.host}", argv, started, None)
            raise
        log_command(f"ssh {self.options.host}", argv, started, code)
        for marker, status, what in (
            (NO_CWD_MARKER, 126, f"no such remote directory: {cwd!r}"),
            (NOT_FOUND_MARKER, 127, f"command not found on {self.options.host}"),
        ):
            if code == status and err.rstrip().endswith(marker):
                msg = f"{what}: {argv[0]!r}" if status == 127 else what
                raise TransportError(msg)
        return CommandResult(argv, code, out.decode("utf-8", "replace"), err)

    def _ssh(
        self, line: str, *, stdin: bytes | None, timeout: float | None
    ) -> tuple[int, bytes, str]:
        argv = ("ssh", *self.option_args(), "-T", "--", self.options.host, line)
        try:
            proc = subprocess.run(
                argv,
                input=stdin or b"",
                capture_output=True,
                timeout=timeout,
                check=False,
            )
        except FileNotFoundError as exc:
            msg = "the OpenSSH client 'ssh' is not on PATH"
            raise TransportError(msg) from exc
        except subprocess.TimeoutExpired as exc:
            msg = f"ssh {self.options.host}: no result after {timeout}s"
            raise SshTimeoutError(msg) from exc
        started, status, err = split_markers(proc.stderr.decode("utf-8", "replace"))
        if proc.returncode == 255:
            self._raise_for(err, started=started, exit_status=status)
        return proc.returncode, proc.stdout, err

    def _raise_for(
        self, stderr: str, *, started: bool = False, exit_status: int | None = None
    ) -> None:
        kind = classify_ssh_failure(stderr, started=started, exit_status=exit_status)
        if kind is not None:
            msg = f"ssh {self.options.host}: {kind.replace('_', ' ')}: {_tail(stderr)}"
            raise _ERRORS[kind](msg)

    def _sh(self, script: str, *args: str, stdin: bytes | None = None) -> Completed:
        return self.run(["sh", "-c", script, "sh", *args], stdin=stdin)

    def _check(self, done: Completed, what: str) -> Completed:
        if not done.ok:
            msg = f"cannot {what} on {self.options.host}: {_tail(done.stderr)}"
            raise TransportError(msg)
        return done

    def read_text(self, path: str) -> str:
        """Return a remote file's text (UTF-8, undecodable bytes replaced)."""
        return self.read_bytes(path).decode("utf-8", "replace")

    def read_bytes(self, path: str) -> bytes:
        """Return a remote file's bytes.

        Raises:
            RemoteFileNotFound: the path does not exist.
            TransportError: it cannot be read, or ssh failed (SshError).
        """
        line = build_remote_command(["sh", "-c", _READ, "sh", home_relative(path)])
        code, out, err = self._ssh(line, stdin=None, timeout=None)
        if code == 3:
            msg = f"no such remote file on {self.options.host}: {path}"
            raise RemoteFileNotFound(msg)
        self._check(Completed((), code, "", err), f"read {path}")
        return out

    def write_text(self, path: str, text: str, *, mode: int = 0o600) -> None:
        """Write text atomically (UTF-8); parent directories are created."""
        self.write_bytes(path, text.encode("utf-8"), mode=mode)

    def write_bytes(self, path: str, data: bytes, *, mode: int = 0o600) -> None:
        """Write bytes atomically with ``mode``: a temp file in the same directory, then ``mv``.

        Missing parent directories are created (mode 0700), as upstream molq does.
        """
        if isinstance(mode, bool) or not isinstance(mode, int) or not 0 <= mode <= 0o7777:
            msg = f"invalid file mode {mode!r}"
            raise ConfigError(msg)
        done = self._sh(_WRITE, home_relative(path), format(mode, "o"), stdin=data)
        self._check(done, f"write {path}")

    def exists(self, path: str) -> bool:
        """Whether the remote path exists."""
        done = self._sh(_EXISTS, home_relative(path))
        if done.returncode not in (0, 1):
            self._check(done, f"test {path}")
        return done.ok

    def mkdir(self, path: str, *, parents: bool = True, exist_ok: bool = True) -> None:
        """Create a remote directory private to the user (mode 0700)."""
        flags = ("1" if exist_ok else "0", "1" if parents else "0")
        self._check(self._sh(_MKDIR, home_relative(path), *flags), f"mkdir {path}")

    def chmod(self, path: str, mode: int) -> None:
        """Change a remote path's mode."""
        if isinstance(mode, bool) or not 0 <= mode <= 0o7777:
            msg = f"invalid file mode {mode!r}"
            raise ConfigError(msg)
        done = self.run(["chmod", format(mode, "o"), "--", home_relative(path)])
        self._check(done, f"chmod {path}")

    def remove(self, path: str, *, recursive: bool = False) -> None:
        """Remove a remote file or (with ``recursive``) a tree; missing is fine."""
        flag = "1" if recursive else "0"
        self._check(self._sh(_REMOVE, home_relative(path), flag), f"remove {path}")

    def upload(self, local: str, remote: str, *, recursive: bool = False, exclude: Sequence[str] = ()) -> None:
        """Copy a local file or (with ``recursive``) tree to the host, leaving out ``exclude`` globs."""
        source = Path(local)
        if not source.exists():
            msg = f"cannot upload {local}: no such local file"
            raise TransportError(msg)
        target = home_relative(remote)
        if source.is_dir():
            need_recursive(local, recursive=recursive)
            self.mkdir(target)
            if exclude:
                with tempfile.TemporaryDirectory(prefix="molq-upload-") as scratch:
                    filtered_copy(local, scratch, exclude)
                    self._copy(f"{scratch}/", f"{target}/", to_remote=True)
                return
            self._copy(f"{local.rstrip('/')}/", f"{target}/", to_remote=True)
        else:
            self._check(self._sh(_MKPARENT, target), f"create parent of {remote}")
            self._copy(local, target, to_remote=True)

    def download(self, remote: str, local: str, *, recursive: bool = False, exclude: Sequence[str] = ()) -> None:
        """Copy a remote file or (with ``recursive``) tree to this machine, leaving out ``exclude`` globs.

        Raises:
            RemoteFileNotFound: the remote path does not exist.
        """
        source = home_relative(remote)
        kind = self._check(self._sh(_KIND, source), f"inspect {remote}").stdout.strip()
        if kind == "m":
            msg = f"no such remote path on {self.options.host}: {remote}"
            raise RemoteFileNotFound(msg)
        try:
            if kind == "d":
                need_recursive(remote, recursive=recursive)
                Path(local).mkdir(parents=True, exist_ok=True)
                if exclude:
                    with tempfile.TemporaryDirectory(prefix="molq-download-") as scratch:
                        self._copy(f"{source.rstrip('/')}/", f"{scratch}/", to_remote=False)
                        filtered_copy(scratch, local, exclude)
                    return
                self._copy(f"{source.rstrip('/')}/", f"{local}/", to_remote=False)
            else:
                Path(local).parent.mkdir(parents=True, exist_ok=True)
                self._copy(source, local, to_remote=False)
        except OSError as exc:
            if isinstance(exc, TransportError):
                raise
            msg = f"cannot download {remote} to {local}: {exc.strerror or exc}"
            raise TransportError(msg) from exc

    def remote_spec(self, path: str) -> str:
        """``host:path``, as rsync and scp name a remote path."""
        return f"{self.options.host}:{path}"

    def rsync(
        self,
        flags: Sequence[str],
        sources: Sequence[str],
        dest: str,
        *,
        to_remote: bool,
        live_stdout: bool = False,
    ) -> Completed:
        """Run rsync between here and the host over this transport's ssh options.

        Remote paths are given bare; ``to_remote`` says which side is remote.
        rsync's own failures come back in the Completed; ssh failures raise.

        Raises:
            TransportError: rsync is not installed here.
            SshError: ssh could not connect or the link dropped.
        """
        if to_remote:
            srcs, dst = tuple(sources), self.remote_spec(dest)
        else:
            srcs, dst = tuple(self.remote_spec(s) for s in sources), dest
        rsh = rsh_command(("ssh", *self.option_args()))
        argv = rsync_argv(self.options.rsync_opts, flags, srcs, dst, rsh=rsh)
        try:
            proc = subprocess.run(
                argv,
                stdin=subprocess.DEVNULL,
                stdout=2 if live_stdout else subprocess.PIPE,
                stderr=subprocess.PIPE,
                check=False,
            )
        except FileNotFoundError as exc:
            msg = "rsync is not installed on this machine"
            raise TransportError(msg) from exc
        err = proc.stderr.decode("utf-8", "replace")
        if proc.returncode == 255:
            self._raise_for(err)
        out = (proc.stdout or b"").decode("utf-8", "replace")
        return Completed(argv, proc.returncode, out, err)

    def _copy(self, source: str, dest: str, *, to_remote: bool) -> None:
        if self._remote_rsync and shutil.which("rsync"):
            done = self.rsync((), [source], dest, to_remote=to_remote)
            if done.ok:
                return
            if not rsync_missing(done.stderr):
                self._check(done, f"rsync {source} to {dest}")
            self._remote_rsync = False
        self._scp(source, dest, to_remote=to_remote)

    def _scp(self, source: str, dest: str, *, to_remote: bool) -> None:
        """Fallback copy with scp, keeping rsync's ``src/`` = contents semantics."""
        if not source.endswith("/"):
            pair = (source, self.remote_spec(dest))
            self._run_scp(pair if to_remote else (self.remote_spec(source), dest))
        elif to_remote:
            for child in sorted(Path(source).iterdir()):
                self._run_scp((str(child), self.remote_spec(dest)))
        else:
            with tempfile.TemporaryDirectory(prefix="molq-scp-") as scratch:
                here = f"{scratch}/tree"
                self._run_scp((self.remote_spec(source.rstrip("/")), here))
                shutil.copytree(here, dest, dirs_exist_ok=True)

    def _run_scp(self, spec: tuple[str, str]) -> None:
        argv = ("scp", "-q", "-p", "-r", *self.option_args(), "--", *spec)
        try:
            proc = subprocess.run(
                argv, stdin=subprocess.DEVNULL, capture_output=True, check=False
            )
        except FileNotFoundError as exc:
            msg = "the OpenSSH client 'scp' is not on PATH"
            raise TransportError(msg) from exc
        err = proc.stderr.decode("utf-8", "replace")
        if proc.returncode == 255:
            self._raise_for(err)
        self._check(Completed(argv, proc.returncode, "", err), f"scp {spec[0]}")

    def close(self) -> None:
        """Let the shared connection (ControlMaster) end once its sessions have, if one is running.

        ``-O stop``, not ``-O exit``: the master is shared by every molq process of this
        user talking to this host, and ``exit`` would cut their running commands off.
        """
        if self._control is None:
            return
        argv = ("ssh", *self.option_args(), "-O", "stop", "--", self.options.host)
        subprocess.run(argv, capture_output=True, stdin=subprocess.DEVNULL, check=False)


