"""One status command and at most one history command per poll, whatever the number of jobs.

Which command a poll sends for N tracked jobs: their ids on the command line while
they are few and fit, otherwise the user's (or the server's) whole listing, which
molq then filters by id. See docs/adr/0031-one-status-call-per-poll.md.

Rules of this module:
  Rule 1: pure: argv in and out; the shell runs them.
  Rule 2: an id list never goes beyond ``ID_BUDGET`` characters: over SSH the whole
    command is one argument of the remote shell, which Linux caps at 128 KiB.
  Rule 3: a listing that is not scoped to ids may hold other users' jobs and jobs
    of the same user that molq does not track (or another store tracks); callers
    keep only the ids they asked about.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final

from .._errors import ConfigError
from ._slurm import SACCT_FIELDS, SQUEUE_FORMAT, is_slurm_job_id


ID_BUDGET: Final = 100_000
"""Characters of ids (with separators) one command line may carry."""


def fits(ids: Sequence[str], *, budget: int = ID_BUDGET) -> bool:
    """Whether ``ids``, joined by one separator each, take at most ``budget`` characters."""
    return sum(len(i) + 1 for i in ids) <= budget


def squeue_poll_argv(ids: Sequence[str], *, ids_limit: int) -> tuple[str, ...]:
    """The one squeue of a poll: ``-j ids`` for up to ``ids_limit`` ids, else ``--me``.

    ``--me`` (Slurm >= 20.11) lists the user's jobs in every state slurmctld still
    holds; the caller keeps the ids it tracks.

    Raises:
        ConfigError: an id is not a SLURM job id.
    """
    _check_slurm_ids(ids)
    if ids and len(ids) <= ids_limit and fits(ids):
        return ("squeue", "-h", "-t", "all", "-j", ",".join(ids), "-o", SQUEUE_FORMAT)
    return ("squeue", "-h", "-t", "all", "--me", "-o", SQUEUE_FORMAT)


def sacct_poll_argv(ids: Sequence[str], *, window_days: int) -> tuple[str, ...]:
    """The one sacct of a poll: ``-j ids`` while they fit, else the last ``window_days`` days.

    Without ``-j`` sacct reports the calling user's jobs (every user's for root or
    an operator); ``-S now-<n>days`` replaces its default start, midnight today.

    Raises:
        ConfigError: an id is not a SLURM job id, or ``window_days`` is below 1.
    """
    _check_slurm_ids(ids)
    if window_days < 1:
        msg = f"the sacct history window must be at least 1 day, got {window_days}"
        raise ConfigError(msg)
    base = ("sacct", "-X", "-P", "-n")
    if ids and fits(ids):
        return (*base, "-j", ",".join(ids), "-o", SACCT_FIELDS)
    return (*base, "-S", f"now-{window_days}days", "-o", SACCT_FIELDS)


def pbs_history_argv(qstat: str, ids: Sequence[str], *, json: bool = True) -> tuple[str, ...]:
    """The one ``qstat -x`` of an OpenPBS poll: the ids while they fit, else the server's history."""
    shown = tuple(ids) if fits(ids) else ()
    return (qstat, "-x", "-f", *(("-F", "json") if json else ()), "-t", *shown)


def bhist_poll_argv(ids: Sequence[str]) -> tuple[str, ...]:
    """The one ``bhist -l`` of an LSF poll: the ids while they fit, else the user's finished jobs."""
    return ("bhist", "-l", *ids) if fits(ids) else ("bhist", "-l", "-d")


def _check_slurm_ids(ids: Sequence[str]) -> None:
    bad = [i for i in ids if not is_slurm_job_id(i)]
    if bad:
        msg = f"SLURM job ids must look like 123 or 123_4, got {bad[:5]!r}"
        raise ConfigError(msg)
