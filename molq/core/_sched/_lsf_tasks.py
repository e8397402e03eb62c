"""LSF job arrays, element by element: bjobs output (either dialect) into per-task Observations.

Rules of this module:
  Rule 1: pure: text in, ``{"123[4]": Observation}`` out, keyed as bjobs names elements.
  Rule 2: only elements of the asked array (index > 0) are tasks; a plain job has none.
"""

from __future__ import annotations

from .._records import Observation
from ._lsf_long import needs_history as long_needs_history
from ._lsf_long import observation_from_long, parse_long
from ._lsf_parse import observation_from_row, parse_bjobs_rows


def tasks_from_rows(text: str, scheduler_job_id: str) -> dict[str, Observation]:
    """The elements of array ``scheduler_job_id`` in ``bjobs -o`` rows (IBM LSF).

    Raises:
        SchedulerOutputError: the text is not bjobs -o output.
    """
    return {
        f"{row.job_id}[{row.index}]": observation_from_row(row)
        for row in parse_bjobs_rows(text)
        if row.job_id == scheduler_job_id and row.index > 0
    }


def tasks_from_long(text: str, scheduler_job_id: str, history: str | None = None) -> dict[str, Observation]:
    """The elements of array ``scheduler_job_id`` in ``bjobs -l`` output (OpenLava).

    ``history`` (``bhist -l`` of the array) decides the elements bjobs leaves unsure:
    an EXIT that a ``Signal <KILL> requested`` line shows was a bkill is CANCELLED.

    Raises:
        SchedulerOutputError: the text is not LSF long output.
    """
    records = [r for r in parse_long(text) if r.job_id == scheduler_job_id and r.index > 0]
    told = tasks_from_long(history, scheduler_job_id) if history is not None else {}
    return {
        r.key: told.get(r.key, observation_from_long(r))
        if long_needs_history(r)
        else observation_from_long(r)
        for r in records
    }


def needs_history(text: str, scheduler_job_id: str) -> bool:
    """Whether an element of the array exited in a way only ``bhist -l`` can explain.

    Raises:
        SchedulerOutputError: the text is not LSF long output.
    """
    return any(
        long_needs_history(r) for r in parse_long(text) if r.job_id == scheduler_job_id and r.index > 0
    )
