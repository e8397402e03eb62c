"""Sending again the cancels a scheduler did not act on (the decision: ``molq.core._cancel_resend``)."""

from __future__ import annotations

import logging
from collections.abc import Iterable

from molq.core import JobRecord, MolqError, Observation, Scheduler
from molq.core._cancel_resend import cancel_due_again
from molq.shell._pass import ReconcileReport


log = logging.getLogger("molq.reconcile")
MAX_REMEMBERED = 100_000  # jobs whose resend time is kept; beyond it the memory starts afresh


class CancelResender:
    """Remembers when this process last re-sent each job's cancel, and re-sends when due."""

    def __init__(self) -> None:
        self._sent: dict[str, float] = {}

    def resend(
        self,
        scheduler: Scheduler,
        observed: Iterable[tuple[JobRecord, Observation]],
        *,
        now: float,
        report: ReconcileReport,
    ) -> None:
        """Cancel again each job the scheduler still reports active long after its cancel.

        A failed resend is an error in ``report`` and is tried again at the next due time.
        """
        for record, observation in observed:
            last = self._sent.get(record.job_id)
            if not cancel_due_again(record, observation.state, now=now, last_sent=last):
                if last is not None and (observation.state is None or observation.state.is_terminal):
                    del self._sent[record.job_id]
                continue
            if len(self._sent) >= MAX_REMEMBERED:
                self._sent.clear()
            self._sent[record.job_id] = now
            sid = record.scheduler_job_id
            assert sid is not None  # noqa: S101 - cancel_due_again requires it
            try:
                scheduler.cancel(sid, job_dir=record.metadata.get("molq.job_dir"))
            except MolqError as exc:
                report.errors.append(f"cancel of {record.job_id} sent again: {exc}")
                continue
            log.info(
                "cancel of %s (%s) sent again: the scheduler still reports it %s",
                record.job_id,
                sid,
                observation.state,
            )
            report.cancels_resent.append(record.job_id)
