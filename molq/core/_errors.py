"""The molq exception hierarchy: one root, split by who must act.

Rules of this module:
  Rule 1: every error molq raises on purpose derives from MolqError.
  Rule 2: messages name the offending value and say what would be accepted.
"""

from __future__ import annotations


class MolqError(Exception):
    """Root of every error molq raises on purpose."""


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
    """No job with that id exists for this cluster."""


class SchedulerError(MolqError):
    """A scheduler command failed; carries argv, return code and stderr."""

    def __init__(
        self,
        message: str,
        *,
        argv: tuple[str, ...] = (),
        returncode: int | None = None,
        stderr: str = "",
    ) -> None:
        super().__init__(message)
        self.argv = argv
        self.returncode = returncode
        self.stderr = stderr


class SchedulerOutputError(SchedulerError):
    """A scheduler printed something molq cannot interpret."""


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
