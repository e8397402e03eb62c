"""Claiming a job directory: a job never runs in (or reads facts from) another job's directory."""

from __future__ import annotations

from molq.core import ConfigError, Transport, TransportError


def claim_job_dir(transport: Transport, job_dir: str) -> bool:
    """Create ``job_dir``, which must not exist yet; whether this call created it.

    The parent is made as needed; the directory itself is made with one exclusive
    ``mkdir``, so of two submitters racing for the same name exactly one wins.

    Raises:
        TransportError: the directory could not be created for another reason.
    """
    parent = job_dir.rstrip("/").rpartition("/")[0]
    if parent:
        transport.mkdir(parent, parents=True, exist_ok=True)
    try:
        transport.mkdir(job_dir, parents=False, exist_ok=False)
    except TransportError:
        if transport.exists(job_dir):
            return False
        raise
    return True


def claim_named_job_dir(transport: Transport, job_dir: str, name: str) -> None:
    """Claim the directory a caller named with ``job_dir_name``.

    Raises:
        ConfigError: it exists already (another job's facts may be in it); nothing
            has been written.
        TransportError: it could not be created.
    """
    if not claim_job_dir(transport, job_dir):
        msg = (
            f"job directory {job_dir} already exists (job_dir_name {name!r} was used before): "
            "choose another job_dir_name, or remove that directory if its job is no longer needed"
        )
        raise ConfigError(msg)
