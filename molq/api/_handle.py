"""What ``submit_job`` returns: a JobHandle (or, with ``dry_run=True``, a JobDryRun)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import attrs

from molq.core import JobState


if TYPE_CHECKING:
    from molq.api._parts import JobVerbs
    from molq.core import JobRecord
    from molq.core._usage import JobUsage


@attrs.frozen
class JobDryRun:
    """What a submission would have done; nothing was submitted or recorded."""

    command: str
    details: dict[str, str]

    def __str__(self) -> str:
        return self.command


@attrs.define(eq=False)
class JobHandle:
    """A lightweight reference to a submitted job (its retry family's root id).

    ``status()`` is the state this handle last saw (no I/O); ``refresh()``, ``wait()`` and
    ``cancel()`` update it, as in upstream molq.
    """

    job_id: str
    cluster_name: str
    scheduler: str
    scheduler_job_id: str | None
    _submitor: JobVerbs = attrs.field(repr=False, alias="submitor")
    _state: JobState = attrs.field(default=JobState.SUBMITTED, alias="state")

    def status(self) -> JobState:
        """The cached state of the family's latest attempt (no I/O; ``refresh()`` updates it)."""
        return self._state

    def refresh(self) -> JobHandle:
        """Reconcile with the scheduler, update this handle's state and scheduler id; returns it."""
        self._submitor.refresh_jobs()
        self._take(self._submitor.latest_attempt(self.job_id))
        return self

    def wait(self, timeout: float | None = None) -> JobRecord:
        """Block until the family's latest attempt is final; returns its record."""
        record = self._submitor.watch_jobs([self.job_id], timeout=timeout)[0]
        self._take(record)
        return record

    def cancel(self) -> None:
        """Cancel the latest active attempt."""
        self._submitor.cancel_job(self.job_id)
        self._take(self._submitor.latest_attempt(self.job_id))

    def usage(self, *, fetch: bool = True) -> JobUsage | None:
        """What the latest attempt used (``Submitor.job_usage``); None while it runs."""
        return self._submitor.job_usage(self.job_id, fetch=fetch)

    def _take(self, record: JobRecord) -> None:
        self._state = record.state
        self.scheduler_job_id = record.scheduler_job_id
