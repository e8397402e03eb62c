"""Sweeps, part 2: the sweep projection, its status and the launch decisions.

Rules of this module:
  Rule 1: ``evolve_sweep`` applies sweep events without judging them; an impossible
          history is a CorruptLogError.
  Rule 2: which cells to launch is decided here from cell states the shell reads;
          nothing here reads the clock or the store.
  Rule 3: a cell's state is the state of its retry family's latest attempt; the
          shell passes an active state for a family whose retry is still pending.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

import attrs

from ._errors import CorruptLogError
from ._events import JobCreated
from ._state import JobState
from ._sweep import ScalarValue, render_spec, render_text
from ._sweep_events import (
    SweepCancelRequested,
    SweepCell,
    SweepCellLaunched,
    SweepCreated,
    SweepEvent,
    SweepStopped,
)


FAILED_STATES: Final = frozenset({JobState.FAILED, JobState.TIMED_OUT, JobState.LOST})
CellStates = Mapping[int, JobState | None]
"""Cell index -> state of the cell's latest attempt (None: launched, no job yet)."""


@attrs.frozen
class SweepRecord:
    """Immutable snapshot of one sweep, folded from its events."""

    sweep_id: str
    cluster_name: str
    scheduler: str
    created_at: float
    cells: tuple[SweepCell, ...]
    axes: tuple[str, ...] = ()
    max_parallel: int = 1
    fail_fast: bool = False
    launched: tuple[int, ...] = ()
    cancel_requested_at: float | None = None
    stopped_at: float | None = None
    stop_reason: str | None = None
    version: int = 0

    @property
    def is_open(self) -> bool:
        """Whether cells may still be launched."""
        return (
            self.cancel_requested_at is None
            and self.stopped_at is None
            and len(self.launched) < len(self.cells)
        )

    @property
    def job_ids(self) -> tuple[str, ...]:
        """The job ids of every cell, in cell order."""
        return tuple(cell.job_id for cell in self.cells)


@attrs.frozen
class SweepStatus:
    """A sweep aggregated over its cells.

    ``state`` is ``pending``, ``running``, ``succeeded``, ``failed`` or
    ``cancelled``; ``counts`` maps a job state value, ``pending`` (not launched yet)
    or ``skipped`` (never launched: cancelled or stopped by fail_fast) to a count.
    """

    sweep_id: str
    state: str
    total: int
    counts: tuple[tuple[str, int], ...]
    record: SweepRecord

    def count(self, name: str) -> int:
        """How many cells are in ``name`` (a job state value, ``pending`` or ``skipped``)."""
        return dict(self.counts).get(name, 0)

    @property
    def is_final(self) -> bool:
        """Whether no cell is active or still to be launched."""
        return self.state in ("succeeded", "failed", "cancelled")


def evolve_sweep(record: SweepRecord | None, event: SweepEvent) -> SweepRecord:
    """Apply one sweep event.

    Raises:
        CorruptLogError: the event cannot follow the record.
    """
    if record is None or isinstance(event, SweepCreated):
        if record is not None or not isinstance(event, SweepCreated):
            msg = f"sweep {event.sweep_id}: history must start with exactly one sweep.created"
            raise CorruptLogError(msg)
        return _initial(event)
    version = record.version + 1
    match event:
        case SweepCellLaunched():
            if event.index in record.launched or not 0 <= event.index < len(record.cells):
                msg = f"sweep {record.sweep_id}: cell {event.index} launched twice or does not exist"
                raise CorruptLogError(msg)
            return attrs.evolve(record, launched=(*record.launched, event.index), version=version)
        case SweepCancelRequested():
            return attrs.evolve(
                record, cancel_requested_at=record.cancel_requested_at or event.at, version=version
            )
        case SweepStopped():
            return attrs.evolve(record, stopped_at=event.at, stop_reason=event.reason, version=version)


def _initial(event: SweepCreated) -> SweepRecord:
    return SweepRecord(
        sweep_id=event.sweep_id,
        cluster_name=event.cluster_name,
        scheduler=event.scheduler,
        created_at=event.at,
        cells=event.cells,
        axes=event.axes,
        max_parallel=event.max_parallel,
        fail_fast=event.fail_fast,
        version=1,
    )


def _is_active(state: JobState | None) -> bool:
    return state is None or not state.is_terminal


def plan_sweep(record: SweepRecord, states: CellStates, *, now: float) -> tuple[SweepEvent, ...]:
    """The next sweep events: launch cells into free slots, or stop after a failure.

    Returns:
        ``sweep.stopped`` when ``fail_fast`` and a launched cell failed; otherwise
        one ``sweep.cell_launched`` per free slot, lowest unlaunched index first.
    """
    if not record.is_open:
        return ()
    if record.fail_fast:
        failed = [i for i in record.launched if states.get(i) in FAILED_STATES]
        if failed:
            state = states[failed[0]]
            reason = f"fail_fast: cell {failed[0]} ended {state}"
            return (SweepStopped(sweep_id=record.sweep_id, at=now, reason=reason),)
    active = sum(1 for i in record.launched if _is_active(states.get(i)))
    free = max(0, record.max_parallel - active)
    launched = set(record.launched)
    todo = [cell for cell in record.cells if cell.index not in launched][:free]
    return tuple(
        SweepCellLaunched(sweep_id=record.sweep_id, at=now, index=c.index, job_id=c.job_id) for c in todo
    )


def request_sweep_cancel(record: SweepRecord, reason: str | None, *, now: float) -> tuple[SweepEvent, ...]:
    """``sweep.cancel_requested`` unless already requested or the sweep is final."""
    if record.cancel_requested_at is not None:
        return ()
    return (SweepCancelRequested(sweep_id=record.sweep_id, at=now, reason=reason),)


def sweep_status(record: SweepRecord, states: CellStates) -> SweepStatus:
    """Aggregate the cells' states into counts and an overall state."""
    counts: dict[str, int] = {}
    launched = set(record.launched)
    for cell in record.cells:
        if cell.index in launched:
            state = states.get(cell.index)
            name = state.value if state is not None else JobState.CREATED.value
        else:
            name = "pending" if record.is_open else "skipped"
        counts[name] = counts.get(name, 0) + 1
    overall = _overall(record, states, counts)
    ordered = tuple(sorted(counts.items()))
    return SweepStatus(
        sweep_id=record.sweep_id, state=overall, total=len(record.cells), counts=ordered, record=record
    )


def _overall(record: SweepRecord, states: CellStates, counts: Mapping[str, int]) -> str:
    if any(_is_active(states.get(i)) for i in record.launched):
        return "running"
    if counts.get("pending", 0):
        return "running" if record.launched else "pending"
    if record.cancel_requested_at is not None:
        return "cancelled"
    if any(states.get(i) in FAILED_STATES for i in record.launched):
        return "failed"
    if any(states.get(i) == JobState.CANCELLED for i in record.launched):
        return "cancelled"
    return "succeeded"


def cell_job_dir(sweep_job_dir: str, index: int) -> str:
    """Where cell ``index`` keeps its files: under the sweep's directory."""
    return f"{sweep_job_dir}/cell-{index:04d}"


def cell_created(sweep: SweepCreated, cell: SweepCell, *, now: float) -> JobCreated:
    """The ``job.created`` event of one cell: the template rendered with its arguments.

    Raises:
        SpecError: a placeholder names no argument.
    """
    args: dict[str, ScalarValue] = dict(cell.args)
    spec = render_spec(sweep.spec, args)
    job_dir = cell_job_dir(sweep.job_dir, cell.index)
    metadata = dict(spec.metadata)
    for key, name in (("molq.stdout_path", "stdout.log"), ("molq.stderr_path", "stderr.log")):
        path = metadata.get(key, "")
        metadata[key] = f"{job_dir}/{name}" if path == f"{sweep.job_dir}/{name}" else _render_path(path, args)
    metadata.update(
        {"molq.job_dir": job_dir, "molq.sweep_id": sweep.sweep_id, "molq.sweep_cell": str(cell.index)}
    )
    return JobCreated(
        job_id=cell.job_id,
        at=now,
        cluster_name=sweep.cluster_name,
        scheduler=sweep.scheduler,
        root_job_id=cell.job_id,
        profile_name=sweep.profile_name,
        spec=attrs.evolve(spec, metadata=metadata),
        retry=sweep.retry,
        job_dir=job_dir,
    )


def _render_path(path: str, args: Mapping[str, ScalarValue]) -> str:
    return render_text(path, args)
