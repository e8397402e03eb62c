"""The molq exception hierarchy: one root, split by who must act.

Rules of this module:
  Rule 1: every error molq raises on purpose derives from MolqError.
  Rule 2: messages name the offending value and say what would be accepted.
"""

from __future__ import annotations

from collections.abc import Sequence


class MolqError(Exception):
    """Root of every error molq raises on purpose; keyword ``context`` is kept on ``.context``."""

    def __init__(self, message: str = "", *args: object, **context: object) -> None:
        super().__init__(message, *args)
        self.context: dict[str, object] = context


class ConfigError(MolqError, ValueError):
    """A job spec, profile or option is invalid; nothing was written or started."""


class SpecError(ConfigError):
    """Structured input failed validation; ``errors`` lists every problem found."""

    def __init__(self, message: str, errors: list[str] | None = None) -> None:
        super().__init__(message)
        self.errors: list[str] = list(errors or [message])


class DependencyError(ConfigError):
    """A dependency names an unknown job or cannot be expressed."""


class DependencyCycle(DependencyError):
    """Dependencies form a cycle."""


class InvalidTransition(MolqError):
    """A command is not allowed in the job's current state."""


class JobNotFoundError(MolqError, LookupError):
    """No job with that id exists for this cluster (``.job_id``, ``.cluster_name``)."""

    def __init__(self, job_id: str, cluster_name: str | None = None, *, message: str | None = None) -> None:
        where = f" in cluster {cluster_name!r}" if cluster_name is not None else ""
        super().__init__(message or f"Job {job_id!r} not found{where}", job_id=job_id, cluster_name=cluster_name)
        self.job_id = job_id
        self.cluster_name = cluster_name


class SchedulerError(MolqError):
    """A scheduler command failed; carries the command (``argv``), return code and stderr.

    ``command=`` is upstream molq's name for the command; ``argv`` is ours (both are kept).
    """

    def __init__(
        self,
        message: str,
        *,
        argv: Sequence[str] = (),
        returncode: int | None = None,
        stderr: str | None = "",
        command: str | Sequence[str] | None = None,
        **context: object,
    ) -> None:
        if command is not None and not argv:
            argv = (command,) if isinstance(command, str) else tuple(command)
        super().__init__(message, **context)
        self.argv: tuple[str, ...] = tuple(argv)
        self.returncode = returncode
        self.stderr = stderr or ""
        self.command = command if command is not None else (" ".join(self.argv) or None)


class SchedulerOutputError(SchedulerError):
    """A scheduler printed something molq cannot interpret."""


class SubmitError(MolqError):
    """A submission could not be made as given (upstream molq's name)."""


class CommandError(SubmitError, ConfigError):
    """``argv`` / ``command`` is missing, doubled or malformed."""


class ScriptError(SubmitError, ConfigError):
    """A ``Script`` is malformed or its file cannot be used."""


class TransportError(MolqError, OSError):
    """A transport could not run a command or move a file."""


class StoreError(MolqError):
    """The job store cannot be opened or written."""


class ConcurrencyConflict(StoreError):
    """Another writer appended to the same stream first."""


class CorruptLogError(StoreError):
    """The stored event history is impossible or unreadable."""


class SchemaVersionError(StoreError):
    """The database was written by a newer molq than this one."""


class MolqTimeoutError(MolqError, TimeoutError):
    """A wait ran out of time before the jobs finished."""
