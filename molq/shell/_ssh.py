"""SshTransport: commands and files on another machine through OpenSSH ssh/rsync/scp.

Design notes live in docs/adr/0014-ssh-transport.md.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import tempfile
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Final

import attrs

from molq.core import Completed, ConfigError, TransportError
from molq.core._sync_plan import (
    DEFAULT_RSYNC_OPTS,
    NO_CWD_MARKER,
    NOT_FOUND_MARKER,
    SshFailure,
    build_remote_command,
    classify_ssh_failure,
    rsh_command,
    rsync_argv,
    rsync_missing,
    split_started,
    ssh_option_args,
    validate_ssh_options,
)


class SshError(TransportError):
    """ssh itself failed (not the remote command)."""


class SshConnectionError(SshError, ConnectionError):
    """The host could not be reached: refused, unresolvable, unreachable."""


class SshAuthError(SshError, PermissionError):
    """The server refused our credentials."""


class SshHostKeyError(SshAuthError):
    """The server's host key is unknown or changed; it was not trusted."""


class SshTimeoutError(SshError, TimeoutError):
    """Connecting, or the command, ran out of time."""


class SshLinkDropped(SshError, ConnectionError):
    """The connection was lost while the remote command was running."""


class RemoteFileNotFound(TransportError, FileNotFoundError):
    """The remote path does not exist (the connection itself was fine)."""


def _tuple_of_str(value: Iterable[str]) -> tuple[str, ...]:
    if isinstance(value, str):
        msg = f"expected a tuple of strings, got the string {value!r}"
        raise ConfigError(msg)
    return tuple(value)


@attrs.frozen
class SshTransportOptions:
    """How to reach a host with OpenSSH.

    Attributes:
        host: ``user@host`` or an alias from ssh_config.
        port: TCP port, or None for ssh_config's.
        identity_file: private key path, or None for ssh_config's/the agent's.
        ssh_opts: extra ssh options (``-o Key=Value``, ``-F``, ``-i``, ``-J``, ``-l``).
        rsync_opts: rsync options for uploads, downloads and sync.

    Raises:
        ConfigError: any value is malformed or would weaken host-key checking.
    """

    host: str = attrs.field()
    port: int | None = attrs.field(default=None)
    identity_file: str | None = attrs.field(default=None)
    ssh_opts: tuple[str, ...] = attrs.field(default=(), converter=_tuple_of_str)
    rsync_opts: tuple[str, ...] = attrs.field(
        default=DEFAULT_RSYNC_OPTS, converter=_tuple_of_str
    )

    def __attrs_post_init__(self) -> None:
        validate_ssh_options(
            self.host, self.port, self.identity_file, self.ssh_opts, self.rsync_opts
        )


def _control_dir() -> str:
    """A private (0700) directory for ControlMaster sockets, shared per user."""
    base = os.environ.get("XDG_RUNTIME_DIR") or tempfile.gettempdir()
    path = Path(base) / f"molq-ssh-{os.getuid()}"
    try:
        path.mkdir(mode=0o700, exist_ok=True)
        info = path.lstat()
    except OSError:
        return tempfile.mkdtemp(prefix="molq-ssh-")
    private = info.st_uid == os.getuid() and not info.st_mode & 0o077
    usable = path.is_dir() and not path.is_symlink() and len(str(path)) <= 60
    if private and usable and re.fullmatch(r"[\w./-]+", str(path)):
        return str(path)
    return tempfile.mkdtemp(prefix="molq-ssh-")


def _remote_path(path: str) -> str:
    """A path for remote shell commands run from $HOME; ``~/x`` becomes ``x``."""
    if not isinstance(path, str) or not path or "\0" in path:
        msg = f"invalid remote path {path!r}"
        raise TransportError(msg)
    if path == "~":
        return "."
    return (path[2:] or ".") if path.startswith("~/") else path


_ERRORS: Final[dict[SshFailure, type[SshError]]] = {
    "connection": SshConnectionError,
    "auth": SshAuthError,
    "host_key": SshHostKeyError,
    "timeout": SshTimeoutError,
    "link_dropped": SshLinkDropped,
}
_READ = 'if [ -e "$1" ]; then exec cat -- "$1"; fi; echo "$1: not found" >&2; exit 3'
_WRITE = """case $1 in */*) d=${1%/*}; b=${1##*/};; *) d=.; b=$1;; esac
[ -n "$d" ] || d=/
t=$(mktemp "$d/.$b.XXXXXX") || exit 1
if cat > "$t" && mv -f -- "$t" "$1"; then exit 0; fi
rm -f -- "$t"; exit 1"""
_EXISTS = '[ -e "$1" ]'
_MKDIR = """if [ "$2" = 0 ] && [ -e "$1" ]; then echo "$1: File exists" >&2; exit 1; fi
if [ "$3" = 1 ]; then exec mkdir -p -m 700 -- "$1"; fi; exec mkdir -m 700 -- "$1""""
_MKPARENT = 'case $1 in */*) [ -z "${1%/*}" ] || { umask 077; mkdir -p -- "${1%/*}"; };; esac'
_REMOVE = 'if [ "$2" = 1 ]; then exec rm -rf -- "$1"; fi; exec rm -f -- "$1"'
_KIND = 'if [ -d "$1" ]; then echo d; elif [ -e "$1" ]; then echo f; else echo m; fi'


def _tail(stderr: str) -> str:
    lines = [line for line in stderr.strip().splitlines() if line.strip()]
    return lines[-1] if lines else "no error output"
