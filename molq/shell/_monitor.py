"""JobMonitor: blocking waits on top of reconciliation."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence

from molq.core import JobNotFoundError, JobRecord, MolqTimeoutError
from molq.core._polling import AdaptiveStrategy, PollingStrategy
from molq.shell._bus import EventBus, EventPayload, EventType
from molq.shell._reconcile import JobReconciler
from molq.shell.store._store import JobStore


NOTIFIED_POLL_FLOOR = 1.0  # seconds between polls while the scheduler can wake a wait


class JobMonitor:
    """Waits until jobs (following their retry families) reach a final state."""

    def __init__(
        self,
        reconciler: JobReconciler,
        store: JobStore,
        *,
        strategy: PollingStrategy | None = None,
        event_bus: EventBus | None = None,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.reconciler = reconciler
        self.store = store
        self.strategy = strategy or AdaptiveStrategy()
        self.event_bus = event_bus
        self.clock = clock
        self.sleep = sleep

    def final_record(self, job_id: str) -> tuple[JobRecord, bool]:
        """The family's latest attempt and whether the family is finished."""
        record = self.store.get_record(job_id)
        if record is None:
            msg = f"no job {job_id!r}"
            raise JobNotFoundError(job_id, message=msg)
        # Only a scheduled retry (which sets next_attempt_job_id) makes a newer attempt.
        latest = record if record.next_attempt_job_id is None else self.store.latest_attempt(record.root_job_id) or record
        pending_retry = latest.next_attempt_job_id is not None and latest.cancel_requested_at is None
        return latest, latest.state.is_terminal and not pending_retry

    def wait(self, job_ids: Sequence[str], timeout: float | None = None) -> list[JobRecord]:
        """Reconcile until every job's family is finished; records in ``job_ids`` order.

        Raises:
            MolqTimeoutError: ``timeout`` seconds passed first.
        """
        start = self.clock()
        polls = 0
        self._settle(job_ids, timeout)
        while True:
            self.reconciler.reconcile()
            results = [self.final_record(job_id) for job_id in job_ids]
            if all(done for _, done in results):
                records = [record for record, _ in results]
                if self.event_bus is not None and records:
                    self.event_bus.emit(EventType.ALL_COMPLETED, EventPayload(EventType.ALL_COMPLETED, data=records))
                return records
            elapsed = self.clock() - start
            if timeout is not None and elapsed >= timeout:
                pending = [r.job_id for r, done in results if not done]
                msg = f"timed out after {timeout:g}s waiting for {len(pending)} job(s): {', '.join(pending[:5])}"
                raise MolqTimeoutError(msg)
            interval = self.strategy.next_interval(elapsed=elapsed, polls=polls)
            if timeout is not None:
                interval = min(interval, max(0.0, timeout - elapsed))
            limit = None if timeout is None else max(0.0, timeout - elapsed)
            self._pause([record for record, done in results if not done], interval, limit)
            polls += 1

    def wait_any(self, job_ids: Sequence[str], timeout: float | None = None) -> dict[str, JobRecord]:
        """Reconcile until at least one job's family is finished; ``{job_id: latest attempt}`` of those.

        Waits as ``wait`` does (idle between polls, woken by a runner that can tell).

        Raises:
            MolqTimeoutError: ``timeout`` seconds passed first.
        """
        start = self.clock()
        polls = 0
        while True:
            self.reconciler.reconcile()
            results = {job_id: self.final_record(job_id) for job_id in job_ids}
            ended = {job_id: record for job_id, (record, done) in results.items() if done}
            elapsed = self.clock() - start
            if ended or not job_ids:
                return ended
            if timeout is not None and elapsed >= timeout:
                msg = f"timed out after {timeout:g}s waiting for any of {len(job_ids)} job(s)"
                raise MolqTimeoutError(msg)
            interval = self.strategy.next_interval(elapsed=elapsed, polls=polls)
            limit = None if timeout is None else max(0.0, timeout - elapsed)
            self._pause([record for record, _ in results.values()], interval if limit is None else min(interval, limit), limit)
            polls += 1

    def _settle(self, job_ids: Sequence[str], timeout: float | None) -> None:
        """Before the first poll, give jobs that are still running one poll interval to end.

        A scheduler that can tell when a job ends (``wait_for_any``) returns at once if one
        already has; otherwise a just-submitted short job is caught by the first poll
        instead of costing a poll while it runs and another when it ends.
        """
        if getattr(self.reconciler.scheduler, "wait_for_any", None) is None or self.sleep is not time.sleep:
            return
        records = [self.final_record(job_id) for job_id in job_ids]
        pending = [record for record, done in records if not done]
        if pending and len(pending) == len(records):
            interval = self.strategy.next_interval(elapsed=0.0, polls=0)
            self._pause(pending, interval if timeout is None else min(interval, max(0.0, timeout)))

    def _pause(self, pending: list[JobRecord], interval: float, limit: float | None = None) -> None:
        """Sleep ``interval`` (never past ``limit``), or less when the scheduler can tell a job just ended.

        A job that has ended and waits for its retry's back-off has nothing to tell: it
        is left out of ``wait_for_any`` (which would return at once, every time, and spin
        a core), and when only such jobs remain the pause lasts until the first retry is
        due.
        """
        waiting = [r for r in pending if r.state.is_terminal]
        due = min((r.retry_due_at for r in waiting if r.retry_due_at is not None), default=None)
        if waiting and len(waiting) == len(pending):
            if due is not None:
                interval = max(interval, due - time.time())
            self.sleep(max(0.0, interval if limit is None else min(interval, limit)))
            return
        pending = [r for r in pending if not r.state.is_terminal]
        wait_for_any = getattr(self.reconciler.scheduler, "wait_for_any", None)
        dirs = {r.job_id: r.metadata.get("molq.job_dir", "") for r in pending if r.scheduler_job_id}
        if wait_for_any is None or self.sleep is not time.sleep or not dirs or len(dirs) < len(pending):
            self.sleep(interval)
            return
        # The scheduler wakes us when a job ends, so polls are only a safety net (a runner
        # that died, a job ended elsewhere): at least a second apart keeps waiting idle.
        span = max(interval, NOTIFIED_POLL_FLOOR)
        if due is not None:  # a retry beside the running jobs starts on time
            span = min(span, max(0.05, due - time.time()))
        wait_for_any(dirs, timeout=span if limit is None else min(span, limit))
