"""``Submitor.job_usage`` and ``Submitor.fetch_usage``: reading what finished jobs used.

The reconciler records a job's usage when it sees the job end; these calls serve jobs
that ended without it (cancelled through ``cancel_job``, or while molq was not
looking): one batched accounting call for all of them, one event per job, ever.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, cast

from molq.core._usage import JobUsage
from molq.shell._usage import record_usage, wants_usage


if TYPE_CHECKING:
    from molq.api._parts import SubmitorParts


def fetch_usage(submitor: SubmitorParts, job_ids: Sequence[str] | None = None) -> int:
    """Record the usage of finished jobs that have none (all of the cluster's when None).

    Returns:
        How many usage events were appended.

    Raises:
        JobNotFoundError: a job id is not in this cluster.
        SchedulerError: the accounting query failed.
    """
    if job_ids is None:
        records = [r for r in submitor.store.list_records(submitor.cluster_name, include_terminal=True) if wants_usage(r)]
    else:
        records = [submitor.get_job(job_id) for job_id in job_ids]
    return record_usage(
        submitor.store, submitor.target.scheduler_impl, records, now=submitor.reconciler.clock()
    )


def job_usage(submitor: SubmitorParts, job_id: str, *, fetch: bool = True) -> JobUsage | None:
    """The usage of ``job_id``'s latest attempt; None while it runs (or if none can be had).

    With ``fetch`` (the default), a finished attempt without usage is asked for once.

    Raises:
        JobNotFoundError: no such job in this cluster.
        SchedulerError: the accounting query failed.
    """
    record = submitor.latest_attempt(job_id)
    if record.usage is None and fetch and wants_usage(record):
        fetch_usage(submitor, [record.job_id])
        record = submitor.get_job(record.job_id)
    return record.usage


def _parts(verbs: UsageVerbs) -> SubmitorParts:
    # The mixin is only ever a base of Submitor, which is a SubmitorParts.
    return cast("SubmitorParts", verbs)


class UsageVerbs:
    """Submitor's usage verbs (a mixin: the logic is in the functions above)."""

    def job_usage(self, job_id: str, *, fetch: bool = True) -> JobUsage | None:
        """What ``job_id``'s latest attempt used, from the scheduler's accounting.

        Args:
            job_id: any attempt of the family.
            fetch: ask the accounting once if the attempt finished without a usage record.

        Returns:
            The recorded ``JobUsage`` (``cpu_efficiency``, ``memory_efficiency``), or None
            while the job runs.

        Raises:
            JobNotFoundError: no such job in this cluster.
            SchedulerError: the accounting query failed.
        """
        return job_usage(_parts(self), job_id, fetch=fetch)

    def fetch_usage(self, job_ids: Sequence[str] | None = None) -> int:
        """Record the usage of finished jobs that have none, in one accounting call; returns how many.

        Raises:
            JobNotFoundError: a job id is not in this cluster.
            SchedulerError: the accounting query failed.
        """
        return fetch_usage(_parts(self), job_ids)
