"""What an SshTransport is configured with, and the errors it raises (one class per kind of failure)."""

from __future__ import annotations

import os
import re
import tempfile
from collections.abc import Iterable
from pathlib import Path
from typing import Final

import attrs

from molq.core import ConfigError, TransportError
from molq.core._ssh_plan import (
    SshFailure,
    validate_ssh_options,
)
from molq.core._sync_plan import DEFAULT_RSYNC_OPTS


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
    rsync_opts: tuple[str, ...] = attrs.field(default=DEFAULT_RSYNC_OPTS, converter=_tuple_of_str)

    def __attrs_post_init__(self) -> None:
        validate_ssh_options(self.host, self.port, self.identity_file, self.ssh_opts, self.rsync_opts)


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


_ERRORS: Final[dict[SshFailure, type[SshError]]] = {
    "connection": SshConnectionError,
    "auth": SshAuthError,
    "host_key": SshHostKeyError,
    "timeout": SshTimeoutError,
    "link_dropped": SshLinkDropped,
}
