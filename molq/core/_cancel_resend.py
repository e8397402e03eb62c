"""When a cancel the scheduler has not acted on is sent again.

A scheduler can drop a kill: OpenLava 4.0 loses a ``bkill`` that arrives while it is
still starting the job (``bhist`` shows "Signal <KILL> requested", then the job runs
on), and a transient failure of ``scancel``/``qdel`` leaves a job running just the
same. The log keeps the user's request (``job.cancel_requested``); while the scheduler
still reports the job active, the reconcile loop asks again, at a pace that never
hammers the scheduler.

Rules of this module:
  Rule 1: pure: the caller passes the record, what the scheduler reports and the time.
"""

from __future__ import annotations

from typing import Final

from ._records import JobRecord
from ._state import JobState


CANCEL_RESEND_AFTER: Final = 10.0  # seconds after the request before the first resend
CANCEL_RESEND_EVERY: Final = 30.0  # seconds between later resends


def cancel_due_again(
    record: JobRecord, observed: JobState | None, *, now: float, last_sent: float | None
) -> bool:
    """Whether to send ``record``'s cancel to the scheduler again now.

    Only a job whose cancel is recorded, that reached the scheduler and that the
    scheduler still reports active: ``CANCEL_RESEND_AFTER`` seconds after the request,
    then every ``CANCEL_RESEND_EVERY`` seconds after the last resend (``last_sent``).
    """
    if record.cancel_requested_at is None or record.scheduler_job_id is None:
        return False
    if observed is None or observed.is_terminal:
        return False
    if last_sent is None:
        return now - record.cancel_requested_at >= CANCEL_RESEND_AFTER
    return now - last_sent >= CANCEL_RESEND_EVERY
