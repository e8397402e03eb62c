"""What ``submit_job`` returns: a JobHandle (or, with ``dry_run=True``, a JobDryRun)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, cast

import attrs

from molq.core import JobState


if TYPE_CHECKING:
    from molq.api._parts import JobVerbs, SubmitorParts
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
        """What the latest attempt used (``molq.job_usage``); None while it runs."""
        from molq.api._usage_api import job_usage

        return job_usage(cast("SubmitorParts", self._submitor), self.job_id, fetch=fetch)
    def done(self) -> bool:
        """Whether the job has finished, following retries (reconciles once, does not wait)."""
        self._submitor.refresh_jobs()
        latest = self._submitor.latest_attempt(self.job_id)
        self._take(latest)
        retry_due = latest.next_attempt_job_id is not None and latest.cancel_requested_at is None
        return latest.state.is_terminal and not retry_due

    def result(self, timeout: float | None = None) -> Any:
        """Wait for a function job (following retries) and return its function's value.

        Raises:
            Exception: the exception the function raised, re-created here; its
                ``__cause__`` is a `RemoteTraceback` holding the remote traceback.
            JobFailedError: the job ended without a Python outcome (killed, timed out,
                lost, cancelled).
            ResultUnavailableError: the outcome was cleaned away or cannot be read.
            MolqTimeoutError: ``timeout`` seconds passed first.
            ConfigError: this job did not run a Python function.
        """
        from molq.api._outcomes import value_of

        record = self.wait(timeout)
        return value_of(self._submitor.store, self._submitor.target.transport, record)

    def exception(self, timeout: float | None = None) -> BaseException | None:
        """Wait as ``result()`` does; the exception it would raise, or None after a value.

        Raises:
            MolqTimeoutError: ``timeout`` seconds passed first.
            ConfigError / ResultUnavailableError: as ``result()``.
        """
        from molq.api._outcomes import outcome_of

        record = self.wait(timeout)
        return outcome_of(self._submitor.store, self._submitor.target.transport, record)

    def _take(self, record: JobRecord) -> None:
        self._state = record.state
        self.scheduler_job_id = record.scheduler_job_id
