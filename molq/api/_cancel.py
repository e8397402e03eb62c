"""Cancelling the latest attempt of a retry family."""

from __future__ import annotations

from typing import TYPE_CHECKING

from molq.core import ConcurrencyConflict, RequestCancel, decide
from molq.shell._job_context import cancel_with_marker
from molq.shell._reconcile import CONFLICT_RETRIES


if TYPE_CHECKING:
    from molq.api._parts import SubmitorParts


def cancel_latest(submitor: SubmitorParts, job_id: str) -> None:
    """Record the request, ask the scheduler, then reconcile that job once.

    A final attempt with a pending retry gets the request too, which stops the retry.
    The request is judged again on a fresh record when another process appended to
    the job meanwhile (a reconcile, a retry being created).

    Raises:
        ConcurrencyConflict: the family changed under every attempt to record the request.
    """
    store = submitor.store
    for attempt in range(CONFLICT_RETRIES):
        latest = submitor.latest_attempt(job_id)
        before_submission = latest.scheduler_job_id is None
        now = submitor.reconciler.clock()
        command = RequestCancel(reason="cancelled by user", before_submission=before_submission)
        events = decide(latest, command, now=now)
        if not events:
            return
        try:
            store.append(latest.job_id, events, expected_version=latest.version, now=now)
        except ConcurrencyConflict:
            if attempt == CONFLICT_RETRIES - 1:
                raise
            continue
        break
    if latest.state.is_terminal or before_submission or latest.scheduler_job_id is None:
        return
    cancel_with_marker(submitor.target.scheduler_impl, submitor.target.transport, latest, now)
    submitor.reconciler.reconcile([latest.job_id])
