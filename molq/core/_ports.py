"""Ports: the protocols the shell's adapters implement, and the values they exchange.

Rules of this module:
  Rule 1: only Protocols and plain values; no adapter is imported here.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

import attrs

from ._records import Observation, QueueEntry, TerminalStatus
from ._spec import JobSpec
from ._state import JobState
from ._value import sorted_fields


@attrs.frozen
class Completed:
    """The result of one command run through a Transport."""

    argv: tuple[str, ...]
    returncode: int
    stdout: str
    stderr: str

    @property
    def ok(self) -> bool:
        """Whether the command exited 0."""
        return self.returncode == 0


@runtime_checkable
class Transport(Protocol):
    """Runs commands and moves files on the machine where jobs run."""

    def run(
        self,
        argv: Sequence[str],
        *,
        stdin: bytes | None = None,
        cwd: str | None = None,
        env: Mapping[str, str] | None = None,
        timeout: float | None = None,
        input: str | bytes | None = None,
    ) -> Completed:
        """Run ``argv`` (no shell) and return its output; raises TransportError if it cannot run.

        ``input`` is upstream molq's spelling of ``stdin`` (text is sent as UTF-8); give one of them.
        """
        ...

    def read_text(self, path: str) -> str:
        """Return a file's text."""
        ...

    def read_bytes(self, path: str) -> bytes:
        """Return a file's bytes."""
        ...

    def write_text(self, path: str, text: str, *, mode: int = 0o600) -> None:  # pragma: no mutate - a Protocol default is never run
        """Write a file atomically with ``mode``, creating missing parent directories."""
        ...

    def write_bytes(self, path: str, data: bytes, *, mode: int = 0o600) -> None:  # pragma: no mutate - a Protocol default is never run
        """Write a file atomically with ``mode``, creating missing parent directories."""
        ...

    def exists(self, path: str) -> bool:
        """Whether the path exists."""
        ...

    def mkdir(self, path: str, *, parents: bool = True, exist_ok: bool = True) -> None:  # pragma: no mutate - a Protocol default is never run
        """Create a directory (private to the user)."""
        ...

    def chmod(self, path: str, mode: int) -> None:
        """Change a path's mode."""
        ...

    def remove(self, path: str, *, recursive: bool = False) -> None:  # pragma: no mutate - a Protocol default is never run
        """Remove a file, or a directory tree with ``recursive``."""
        ...

    def upload(  # pragma: no mutate - a Protocol default is never run
        self, local: str, remote: str, *, recursive: bool = False, exclude: Sequence[str] = ()
    ) -> None:
        """Copy a local path to the transport's side (a directory needs ``recursive``; ``exclude`` holds glob patterns)."""
        ...

    def download(  # pragma: no mutate - a Protocol default is never run
        self, remote: str, local: str, *, recursive: bool = False, exclude: Sequence[str] = ()
    ) -> None:
        """Copy a path on the transport's side to the local machine (``exclude`` holds glob patterns)."""
        ...


@sorted_fields
@dataclass(frozen=True, slots=True)
class SchedulerCapabilities:
    """Which JobSpec fields a scheduler can honour; used for submit-time validation."""

    cpu_count: bool = True
    memory: bool = True
    time_limit: bool = True
    gpu_count: bool = False
    gpu_type: bool = False
    partition: bool = False
    account: bool = False
    priority: bool = False
    dependencies: bool = False
    node_count: bool = False
    exclusive_node: bool = False
    array_spec: bool = False
    email: bool = False
    qos: bool = False
    reservation: bool = False
    extra_flags: bool = False
    output_file: bool = True
    error_file: bool = True
    job_name: bool = True


@attrs.frozen
class Submission:
    """What a scheduler would be asked to run: the exact argv and the rendered script."""

    argv: tuple[str, ...]
    script: str
    script_path: str
    details: tuple[tuple[str, str], ...] = ()

    @property
    def display(self) -> str:
        """The command as one shell-quoted line."""
        import shlex

        return shlex.join(self.argv)


class Scheduler(Protocol):
    """A batch system (or the local no-batch backend) reached through a Transport."""

    name: str

    def capabilities(self) -> SchedulerCapabilities:
        """Which spec fields this scheduler supports."""
        ...

    def prepare(self, spec: JobSpec, job_dir: str) -> Submission:
        """Render the script and argv for ``spec`` without running anything."""
        ...

    def submit(self, spec: JobSpec, job_dir: str) -> str:
        """Submit and return the scheduler's job id; raises SchedulerError on refusal."""
        ...

    def poll_many(self, scheduler_job_ids: Sequence[str]) -> dict[str, JobState]:
        """Batched state query (absent ids are omitted)."""
        ...

    def observe_many(
        self,
        scheduler_job_ids: Sequence[str],
        *,
        job_dirs: Mapping[str, str] | None = None,
    ) -> dict[str, Observation]:
        """Batched detailed query: one Observation per id (state None when unknown)."""
        ...

    def cancel(self, scheduler_job_id: str, *, job_dir: str | None = None) -> None:
        """Ask the scheduler to stop the job."""
        ...

    def resolve_terminal(
        self, scheduler_job_id: str, *, job_dir: str | None = None
    ) -> TerminalStatus | None:
        """How a finished job ended, or None if that can no longer be known."""
        ...

    def list_queue(self, *, user: str | None = None) -> list[QueueEntry]:
        """The scheduler's queue as it reports it."""
        ...
