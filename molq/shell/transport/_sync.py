"""Workspace sync: rsync push/pull, remote file helpers, hash checks, owner markers.

Works over an SshTransport (rsync through its ssh options) or a LocalTransport
(local-to-local rsync). Design notes live in docs/adr/0014-ssh-transport.md.
"""

from __future__ import annotations

import getpass
import hashlib
import json
import os
import posixpath
import socket
import subprocess
from collections.abc import Sequence
from pathlib import Path
from typing import Final, Protocol, runtime_checkable

import attrs

from molq.core import Completed, ConfigError, Transport, TransportError
from molq.core._sync_plan import (
    DEFAULT_EXCLUDES,
    DEFAULT_RSYNC_OPTS,
    OWNER_MARKER,
    home_relative,
    merge_excludes,
    parse_itemized,
    rsync_argv,
    sync_flags,
)
from molq.core._sync_plan import default_remote_path as _default_path


WORKSPACE_OWNER_FILE: Final = OWNER_MARKER
"""Name of the JSON file (user, machine id, local path) a synced workspace keeps at its root on the cluster."""


@attrs.frozen
class SyncResult:
    """What one rsync run reported.

    Attributes:
        returncode: rsync's exit status (0 = success, 23/24 = partial transfer).
        stdout: rsync's standard output (empty when streamed live).
        stderr: rsync's standard error.
        changes: the itemized change lines (``">f+++++++++ a.txt"``), when asked for.
    """

    returncode: int
    stdout: str
    stderr: str
    changes: tuple[str, ...] = ()

    @property
    def ok(self) -> bool:
        """Whether rsync exited 0."""
        return self.returncode == 0

    @property
    def changed_paths(self) -> tuple[str, ...]:
        """The paths named by ``changes``, in rsync's order."""
        return tuple(line.split(" ", 1)[1].lstrip() for line in self.changes)


@attrs.frozen
class OwnerMarker:
    """Which machine, user and local checkout own a remote workspace."""

    machine_id: str
    user: str
    path: str

    def to_json(self) -> str:
        """Encode as the marker file's text."""
        return json.dumps(attrs.asdict(self), sort_keys=True) + "\n"

    @classmethod
    def from_json(cls, text: str) -> OwnerMarker:
        """Decode a marker file.

        Raises:
            ConfigError: the text is not a marker written by molq.
        """
        try:
            data = json.loads(text)
            return cls(str(data["machine_id"]), str(data["user"]), str(data["path"]))
        except (ValueError, KeyError, TypeError) as exc:
            msg = f"unreadable {OWNER_MARKER}: {text[:80]!r}"
            raise ConfigError(msg) from exc


class WorkspaceOwnershipError(TransportError):
    """Another machine, user or checkout owns the remote workspace."""

    def __init__(self, message: str, *, owner: OwnerMarker | None) -> None:
        super().__init__(message)
        self.owner = owner


@runtime_checkable
class RemoteRsync(Protocol):
    """A transport that can run rsync against its remote side (SshTransport)."""

    def rsync(
        self,
        flags: Sequence[str],
        sources: Sequence[str],
        dest: str,
        *,
        to_remote: bool,
        live_stdout: bool = False,
    ) -> Completed:
        """Run rsync; remote paths are given bare."""
        ...


_SHA256 = """[ -e "$1" ] || exit 3
if command -v sha256sum >/dev/null 2>&1; then exec sha256sum -- "$1"; fi
if command -v shasum >/dev/null 2>&1; then exec shasum -a 256 -- "$1"; fi
exit 4"""


def default_remote_path(local_path: str | os.PathLike[str] | None = None) -> str:
    """``~/molq-workspaces/<name>``, named after the git repo holding ``local_path``.

    Args:
        local_path: a directory inside the project; the current directory if None.
    """
    start = Path(local_path if local_path is not None else Path.cwd()).resolve()
    for candidate in (start, *start.parents):
        if (candidate / ".git").exists():
            return _default_path(candidate.name)
    return _default_path(start.name)


def machine_id() -> str:
    """A stable id for this machine: /etc/machine-id, else the host name."""
    for path in ("/etc/machine-id", "/var/lib/dbus/machine-id"):
        try:
            text = Path(path).read_text(encoding="ascii").strip()
        except (OSError, UnicodeDecodeError):
            continue
        if text:
            return text
    return socket.gethostname()


class SyncClient:
    """rsync-based sync between a local directory and a transport's filesystem.

    Args:
        transport: an SshTransport, or a LocalTransport for local-to-local sync.
        exclude_patterns: excludes for every call, added to ``DEFAULT_EXCLUDES``.
        machine_id: this machine's id for owner markers (default: ``machine_id()``).
        user: this user's name for owner markers (default: the login name).
    """

    def __init__(
        self,
        transport: Transport,
        *,
        exclude_patterns: Sequence[str] | None = None,
        machine_id: str | None = None,
        user: str | None = None,
    ) -> None:
        self.transport = transport
        self.exclude_patterns = merge_excludes(DEFAULT_EXCLUDES, exclude_patterns)
        self._machine_id = machine_id
        self._user = user

    def owner_for(self, local: str | os.PathLike[str]) -> OwnerMarker:
        """The owner marker this machine writes for the checkout at ``local``."""
        ident = self._machine_id if self._machine_id is not None else machine_id()
        user = self._user if self._user is not None else getpass.getuser()
        return OwnerMarker(ident, user, str(Path(local).resolve()))

    def push(
        self,
        local: str | os.PathLike[str],
        remote: str | None = None,
        *,
        delete: bool = True,
        dry_run: bool = False,
        itemize: bool = False,
        verbose: bool = False,
        exclude_patterns: Sequence[str] | None = None,
        force: bool = False,
    ) -> SyncResult:
        """Sync a local directory (or file) to the remote side.

        A directory push first checks the workspace's owner marker, then claims it.

        Args:
            local: the local directory or file.
            remote: destination; ``default_remote_path(local)`` if None.
            delete: remove remote files that are gone locally.
            dry_run: report what would change without changing anything.
            itemize: collect rsync's itemized changes into ``SyncResult.changes``.
            verbose: stream rsync's per-file progress to stderr live.
            exclude_patterns: extra excludes for this call.
            force: take over a workspace owned by another machine or checkout.

        Raises:
            WorkspaceOwnershipError: the workspace belongs to someone else.
            TransportError: ssh failed (SshError) or rsync is missing.
        """
        remote = remote if remote is not None else default_remote_path(local)
        source = Path(local)
        if not source.exists():
            msg = f"cannot push {local}: no such local file or directory"
            raise TransportError(msg)
        if source.is_dir():
            self._claim(source, remote, dry_run=dry_run, force=force)
        flags = self._flags(delete, dry_run, itemize, verbose, exclude_patterns)
        src = f"{source}/" if source.is_dir() else str(source)
        dest = f"{remote.rstrip('/')}/" if source.is_dir() else remote
        return self._rsync(flags, src, dest, to_remote=True, live=verbose)

    def pull(
        self,
        remote: str,
        local: str | os.PathLike[str],
        *,
        delete: bool = False,
        dry_run: bool = False,
        itemize: bool = False,
        exclude_patterns: Sequence[str] | None = None,
    ) -> SyncResult:
        """Sync a remote directory (or file) to the local machine.

        A remote directory is recognised by a trailing ``/`` or by asking the host.

        Raises:
            TransportError: ssh failed (SshError) or rsync is missing.
        """
        flags = self._flags(delete, dry_run, itemize, False, exclude_patterns)
        if remote.endswith("/") or self._is_remote_dir(remote):
            Path(local).mkdir(parents=True, exist_ok=True)
            src, dest = f"{remote.rstrip('/')}/", f"{local}/"
        else:
            Path(local).parent.mkdir(parents=True, exist_ok=True)
            src, dest = remote, str(local)
        return self._rsync(flags, src, dest, to_remote=False, live=False)

    def read_remote_file(self, path: str) -> str | None:
        """A remote file's text, or None if it does not exist.

        Raises:
            TransportError: any other failure, e.g. the connection (SshError).
        """
        try:
            return self.transport.read_text(self._path(path))
        except FileNotFoundError:
            return None
        except TransportError as exc:
            if isinstance(exc.__cause__, FileNotFoundError):
                return None
            raise

    def write_remote_file(self, path: str, content: str) -> None:
        """Write a remote file atomically (temp file, then rename)."""
        self.transport.write_text(self._path(path), content)

    def remote_sha256(self, path: str) -> str | None:
        """The SHA-256 hex digest of a remote file; None if missing or no tool.

        Raises:
            TransportError: the connection or the hash command failed.
        """
        done = self.transport.run(["sh", "-c", _SHA256, "sh", self._path(path)])
        if done.returncode in (3, 4):
            return None
        digest = done.stdout.split(" ", 1)[0].strip().lower()
        if not done.ok or len(digest) != 64:
            msg = f"cannot hash remote {path}: {done.stderr.strip() or done.stdout!r}"
            raise TransportError(msg)
        return digest

    def verify_same(self, local: str | os.PathLike[str], remote: str) -> bool:
        """Whether a local file and a remote file have the same SHA-256."""
        digest = hashlib.sha256(Path(local).read_bytes()).hexdigest()
        return self.remote_sha256(remote) == digest

    def check_owner(self, local: str | os.PathLike[str], remote: str) -> bool:
        """Check the remote workspace's owner marker against this checkout.

        Returns:
            True if ``local`` already owns it, False if it is unclaimed.

        Raises:
            WorkspaceOwnershipError: another machine, user or checkout owns it.
        """
        text = self.read_remote_file(posixpath.join(remote, OWNER_MARKER))
        if text is None:
            return False
        try:
            theirs: OwnerMarker | None = OwnerMarker.from_json(text)
        except ConfigError:
            theirs = None
        if theirs != self.owner_for(local):
            who = "an unreadable marker" if theirs is None else _describe(theirs)
            msg = (
                f"remote workspace {remote} is owned by {who}; "
                "push with force=True to take it over"
            )
            raise WorkspaceOwnershipError(msg, owner=theirs)
        return True

    def _claim(self, local: Path, remote: str, *, dry_run: bool, force: bool) -> None:
        owned = False if force else self.check_owner(local, remote)
        if dry_run or owned:
            return
        self.transport.mkdir(self._path(remote))
        marker = posixpath.join(remote, OWNER_MARKER)
        self.write_remote_file(marker, self.owner_for(local).to_json())

    def _flags(
        self,
        delete: bool,
        dry_run: bool,
        itemize: bool,
        verbose: bool,
        extra: Sequence[str] | None,
    ) -> tuple[str, ...]:
        excludes = merge_excludes(self.exclude_patterns, extra, (OWNER_MARKER,))
        return sync_flags(
            delete=delete,
            dry_run=dry_run,
            itemize=itemize,
            verbose=verbose,
            excludes=excludes,
        )

    def _rsync(
        self,
        flags: tuple[str, ...],
        src: str,
        dest: str,
        *,
        to_remote: bool,
        live: bool,
    ) -> SyncResult:
        transport = self.transport
        if isinstance(transport, RemoteRsync):
            done = transport.rsync(
                flags, [src], dest, to_remote=to_remote, live_stdout=live
            )
        else:
            done = _local_rsync(
                rsync_argv(
                    DEFAULT_RSYNC_OPTS, flags, [self._path(src)], self._path(dest)
                ),
                live=live,
            )
        itemized = "--itemize-changes" in flags
        changes = parse_itemized(done.stdout) if itemized else ()
        return SyncResult(done.returncode, done.stdout, done.stderr, changes)

    def _is_remote_dir(self, path: str) -> bool:
        done = self.transport.run(["test", "-d", self._path(path)])
        if done.returncode not in (0, 1):
            msg = f"cannot inspect remote {path}: {done.stderr.strip()}"
            raise TransportError(msg)
        return done.ok

    def _path(self, path: str) -> str:
        """Remote commands run from $HOME over ssh; locally ``~`` is expanded."""
        if isinstance(self.transport, RemoteRsync):
            return home_relative(path)
        return os.path.expanduser(path)


def _describe(owner: OwnerMarker) -> str:
    return f"{owner.user} on machine {owner.machine_id} (checkout {owner.path})"


def _local_rsync(argv: tuple[str, ...], *, live: bool) -> Completed:
    try:
        proc = subprocess.run(
            argv,
            stdin=subprocess.DEVNULL,
            stdout=2 if live else subprocess.PIPE,
            stderr=subprocess.PIPE,
            check=False,
        )
    except FileNotFoundError as exc:
        msg = "rsync is not installed on this machine"
        raise TransportError(msg) from exc
    out = (proc.stdout or b"").decode("utf-8", "replace")
    return Completed(argv, proc.returncode, out, proc.stderr.decode("utf-8", "replace"))
