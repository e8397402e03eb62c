"""The exit status of ``molq submit --block``: the job's own, as ``sbatch --wait`` and ``bsub -K`` give."""

from __future__ import annotations

from typing import TYPE_CHECKING, Final


if TYPE_CHECKING:
    from molq import JobRecord

TIMED_OUT: Final = 124
"""The scheduler (or ``--max-duration``) stopped the job at its time limit (as GNU ``timeout``)."""
LOST: Final = 125
"""The job vanished from the scheduler and its end could not be learned."""
CANCELLED: Final = 130
"""The job was cancelled (as a shell reports an interrupted command)."""

_WITHOUT_CODE: Final = {"timed_out": TIMED_OUT, "lost": LOST, "cancelled": CANCELLED}


def job_exit_status(record: JobRecord) -> int:
    """0 if the job succeeded; its exit code (1-255) if it failed; a fixed code otherwise.

    A failed job without a usable exit code (none recorded, 0, or outside 1-255) gives 1.
    """
    state = record.state.value
    if state == "succeeded":
        return 0
    if state in _WITHOUT_CODE:
        return _WITHOUT_CODE[state]
    code = record.exit_code
    return code if code is not None and 1 <= code <= 255 else 1


__all__ = ["CANCELLED", "LOST", "TIMED_OUT", "job_exit_status"]
