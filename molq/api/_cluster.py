"""Cluster: a submission destination, a scheduler kind bound to a transport."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from molq.core import ConfigError, QueueEntry, Scheduler, Transport, TransportError
from molq.shell.transport._local import LocalTransport


if TYPE_CHECKING:
    from molq.api._config import MolqProfile
    from molq.api._submit_spec import RemoteLocation
    from molq.api._workspace import Project, Workspace

from molq.api._scheduler_kinds import SCHEDULER_KINDS as SCHEDULER_KINDS
from molq.api._scheduler_kinds import check_options, unknown_scheduler_message


def build_scheduler(kind: str, transport: Transport, options: object | None) -> Scheduler:
    """Construct the scheduler adapter for ``kind`` over ``transport``."""
    if kind == "local":
        from molq.shell.schedulers._shell_scheduler import ShellScheduler

        return ShellScheduler(transport, options)
    if kind == "slurm":
        from molq.shell.schedulers._slurm import SlurmScheduler

        return SlurmScheduler(transport, options)  # type: ignore[arg-type]
    if kind == "pbs":
        from molq.shell.schedulers._pbs import PBSScheduler

        return PBSScheduler(transport, options)  # type: ignore[arg-type]
    if kind == "lsf":
        from molq.shell.schedulers._lsf import LSFScheduler

        return LSFScheduler(transport, options)  # type: ignore[arg-type]
    msg = unknown_scheduler_message(kind)
    raise ConfigError(msg)


class Cluster:
    """A submission destination: a scheduler kind bound to a transport.

    Args:
        name: namespace that scopes persisted records and CLI listings.
        scheduler: ``"local"``, ``"slurm"``, ``"pbs"`` or ``"lsf"``.
        host: SSH shortcut; builds ``SshTransport(SshTransportOptions(host=host))``.
        transport: an explicit Transport; mutually exclusive with ``host``.
        scheduler_options: scheduler-specific options.

    Raises:
        ConfigError: unknown scheduler, empty name, or both host and transport.
        TypeError: ``scheduler_options`` is of another scheduler's options class.
    """

    def __init__(
        self,
        name: str,
        scheduler: str = "local",
        *,
        host: str | None = None,
        transport: Transport | None = None,
        scheduler_options: object | None = None,
    ) -> None:
        if not isinstance(name, str) or not name.strip():
            msg = f"cluster name must be a non-empty string, got {name!r}"
            raise ConfigError(msg)
        if scheduler not in SCHEDULER_KINDS:
            msg = unknown_scheduler_message(scheduler)
            raise ConfigError(msg)
        if host is not None and transport is not None:
            msg = "Cluster takes either host= or transport=, not both"
            raise ConfigError(msg)
        check_options(scheduler, scheduler_options)
        if host is not None:
            from molq.shell.transport._ssh import SshTransport
            from molq.shell.transport._ssh_options import SshTransportOptions

            transport = SshTransport(SshTransportOptions(host=host))
        self._name = name
        self._scheduler = scheduler
        self._transport: Transport = transport if transport is not None else LocalTransport()
        self._scheduler_options = scheduler_options
        self._scheduler_impl: Scheduler | None = None
        self._remote_location: RemoteLocation | None = None

    @property
    def name(self) -> str:
        """The namespace of this cluster's records."""
        return self._name

    @property
    def scheduler(self) -> str:
        """The scheduler kind."""
        return self._scheduler

    @property
    def transport(self) -> Transport:
        """Where commands and files go."""
        return self._transport

    @property
    def scheduler_options(self) -> object | None:
        """Scheduler-specific options."""
        return self._scheduler_options

    @property
    def scheduler_impl(self) -> Scheduler:
        """The scheduler adapter (built on first use)."""
        if self._scheduler_impl is None:
            self._scheduler_impl = build_scheduler(self._scheduler, self._transport, self._scheduler_options)
        return self._scheduler_impl

    @property
    def is_local_transport(self) -> bool:
        """Whether commands run on this machine."""
        return isinstance(self._transport, LocalTransport)

    def remote_location(self) -> RemoteLocation | None:
        """The remote login directory and home (asked once per Cluster); None on a local transport.

        Raises:
            TransportError: the host cannot be reached or gives no absolute paths.
        """
        if self.is_local_transport:
            return None
        if self._remote_location is None:
            from molq.api._submit_spec import RemoteLocation

            done = self._transport.run(["sh", "-c", 'pwd && printf "%s\\n" "$HOME"'], timeout=60)
            if not done.ok:
                msg = f"cannot learn the working directory on {self!r}: {done.stderr.strip()[-300:]}"
                raise TransportError(msg)
            self._remote_location = RemoteLocation.parse(done.stdout, host=repr(self._transport))
        return self._remote_location

    def __repr__(self) -> str:
        return f"Cluster({self._name!r}, {self._scheduler!r}, transport={self._transport!r})"

    def get_queue(self, *, user: str | None = None) -> list[QueueEntry]:
        """The scheduler's queue (including jobs submitted outside molq); [] for local."""
        return self.scheduler_impl.list_queue(user=user)

    def get_workspace(self, name: str, *, path: str) -> Workspace:
        """A handle to a directory on the cluster's filesystem."""
        from molq.api._workspace import Workspace

        return Workspace(self, name, path)

    def get_project(self, name: str, *, workspace: Workspace) -> Project:
        """A sub-namespace under ``workspace``."""
        return workspace.get_project(name)

    @classmethod
    def from_profile(cls, profile_name: str, *, config_path: str | Path | None = None) -> Cluster:
        """The destination half of a TOML profile (scheduler, host, scheduler_options)."""
        from molq.api._config import load_profile

        return cluster_from_profile(load_profile(profile_name, config_path))


def cluster_from_profile(profile: MolqProfile) -> Cluster:
    """The Cluster a profile describes (scheduler options typed for its scheduler)."""
    return Cluster(profile.resolved_cluster_name, profile.scheduler, host=profile.host, scheduler_options=profile.scheduler_options)
