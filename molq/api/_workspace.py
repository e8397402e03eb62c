"""Workspace and Project: named directories on a cluster's filesystem.

Paths are POSIX strings interpreted by the cluster's Transport (local files for
LocalTransport, the remote host's for SshTransport).
"""

from __future__ import annotations

import dataclasses
import posixpath
from collections.abc import Iterable
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Any, Protocol

import attrs

from molq.core import ConfigError, JobExecution, ScriptError, Transport


class ClusterLike(Protocol):
    """What Workspace needs from a Cluster: its name and its transport."""

    @property
    def name(self) -> str:
        """The cluster's name."""
        ...

    @property
    def transport(self) -> Transport:
        """How to reach the cluster's filesystem."""
        ...


class SubmitorLike(Protocol):
    """What Project.submit_job needs from a Submitor."""

    @property
    def target(self) -> object:
        """The cluster the submitor submits to."""
        ...

    def submit_job(self, **kwargs: Any) -> Any:
        """Submit one job."""
        ...


def _check_name(_instance: object, attribute: attrs.Attribute[str], value: str) -> None:
    if not isinstance(value, str) or value in {"", ".", ".."} or "/" in value:
        msg = f"{attribute.name} must be a plain name (no '/', not '..'): {value!r}"
        raise ConfigError(msg)
    if "\0" in value:
        msg = f"{attribute.name} must not contain NUL: {value!r}"
        raise ConfigError(msg)


def _normalize_path(value: str) -> str:
    if not isinstance(value, str) or "\0" in value or not value.startswith("/"):
        msg = f"workspace path must be an absolute POSIX path, got {value!r}"
        raise ConfigError(msg)
    return posixpath.normpath(value).replace("//", "/")


def _join_relative(base: str, rel: str) -> str:
    """``base/rel``, refusing a ``rel`` that is absolute or climbs out of ``base``."""
    parts = PurePosixPath(posixpath.normpath(rel or ".")).parts
    if "\0" in rel or rel.startswith("/") or (parts and parts[0] == ".."):
        msg = f"path must stay inside {base}: {rel!r}"
        raise ConfigError(msg)
    return posixpath.normpath(posixpath.join(base, rel))


class _Directory:
    """Upload/download/exists/ensure shared by Workspace and Project."""

    if TYPE_CHECKING:

        @property
        def path(self) -> str:
            """The directory's absolute path on the cluster."""

        @property
        def cluster(self) -> ClusterLike:
            """The cluster whose filesystem holds the directory."""

    def upload(self, local: str | Path, *, recursive: bool = False) -> None:
        """Copy a local file (or tree) into this directory, keeping its name.

        Creates the directory first if needed.

        Raises:
            TransportError: the copy failed (a directory needs ``recursive``).
        """
        name = Path(local).resolve().name
        self.ensure()
        dest = posixpath.join(self.path, name)
        self.cluster.transport.upload(str(local), dest, recursive=recursive)

    def download(
        self, remote_rel: str, local: str | Path, *, recursive: bool = False
    ) -> None:
        """Copy ``remote_rel`` (relative to this directory) to ``local``.

        Raises:
            ConfigError: ``remote_rel`` is absolute or escapes the directory.
            TransportError: the copy failed.
        """
        source = _join_relative(self.path, remote_rel)
        self.cluster.transport.download(source, str(local), recursive=recursive)

    def exists(self) -> bool:
        """Whether the directory exists."""
        return self.cluster.transport.exists(self.path)

    def ensure(self) -> None:
        """Create the directory and its parents (``mkdir -p``) if missing."""
        self.cluster.transport.mkdir(self.path, parents=True, exist_ok=True)


@attrs.frozen
class Workspace(_Directory):
    """A base directory on a cluster's filesystem.

    Args:
        cluster: any object with ``.name`` and ``.transport`` (a Cluster).
        name: a plain name (no ``/``, not ``..``).
        path: absolute POSIX path, interpreted by the cluster's transport.

    Raises:
        ConfigError: a bad name or a relative path.
    """

    cluster: ClusterLike
    name: str = attrs.field(validator=_check_name)
    path: str = attrs.field(converter=_normalize_path)

    def get_project(self, name: str) -> Project:
        """The project ``name`` under this workspace."""
        return Project(self, name)


@attrs.frozen
class Project(_Directory):
    """A sub-namespace of a Workspace; its path is ``workspace.path / name``.

    Raises:
        ConfigError: a bad name.
    """

    workspace: Workspace
    name: str = attrs.field(validator=_check_name)

    @property
    def path(self) -> str:
        """``workspace.path / name`` as a POSIX string."""
        return posixpath.join(self.workspace.path, self.name)

    @property
    def cluster(self) -> ClusterLike:
        """The workspace's cluster."""
        return self.workspace.cluster

    def submit_job(self, submitor: SubmitorLike, **kwargs: Any) -> Any:
        """Submit through ``submitor`` with the job's working directory set to ``path``.

        An ``execution=`` keyword is kept, with only its ``cwd`` replaced.

        Returns:
            Whatever ``submitor.submit_job`` returns (a JobHandle).

        Raises:
            ConfigError: ``submitor`` targets a different cluster.
        """
        if submitor.target is not self.cluster:
            msg = (
                f"Project belongs to cluster {self.cluster.name!r} (project {self.name!r}); "
                f"the submitor targets cluster {getattr(submitor.target, 'name', '?')!r}"
            )
            raise ConfigError(msg)
        execution = kwargs.pop("execution", None)
        if execution is None:
            execution = JobExecution(cwd=self.path)
        else:
            execution = dataclasses.replace(execution, cwd=self.path)
        return submitor.submit_job(execution=execution, **kwargs)


def check_script_path(path: str | Path, allowed_roots: Iterable[str | Path]) -> None:
    """Refuse a script path that escapes every allowed root (``..`` and links resolved).

    Raises:
        ScriptError: (a ConfigError) the path is outside all of ``allowed_roots`` (or none are given).
    """
    resolved = Path(path).resolve()
    roots = [Path(root).resolve() for root in allowed_roots]
    if any(resolved.is_relative_to(root) for root in roots):
        return
    shown = ", ".join(str(root) for root in roots) or "(none)"
    msg = f"script path {str(path)!r} is outside the allowed roots: {shown}"
    raise ScriptError(msg)
