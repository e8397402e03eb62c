"""``molq.job_usage`` and ``molq.fetch_usage``: reading what finished jobs used.

The reconciler records a job's usage when it sees the job end; these calls serve jobs
that ended without it (cancelled through ``cancel_job``, or while molq was not
looking): one batched accounting call for all of them, one event per job, ever.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from molq.core._usage import JobUsage
from molq.shell._usage import record_usage, wants_usage


if TYPE_CHECKING:
    from molq.api._parts import SubmitorParts


def fetch_usage(submitor: SubmitorParts, job_ids: Sequence[str] | None = None) -> int:
    """Record the usage of finished jobs that have none (all of the cluster's when None).

    One accounting call covers them all; each gets one ``job.usage_recorded`` event.

    Args:
        submitor: the ``Submitor`` of the jobs' cluster.
        job_ids: the jobs to fetch (those that already have a usage are skipped).

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

    Args:
        submitor: the ``Submitor`` of the job's cluster.
        job_id: any attempt of the family.
        fetch: ask the accounting once if the attempt finished without a usage record.

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
