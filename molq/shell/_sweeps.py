"""Driving sweeps from the log: launch cells into free slots, stop on failure, cancel.

Each pass reads the open sweeps, asks the core which cells to launch, and appends
``sweep.cell_launched`` together with each cell's ``job.created`` in one
transaction (the cell ids are fixed in ``sweep.created``, so concurrent drivers
conflict and one wins). The scheduler is asked afterwards, like any submission;
a crash in between leaves a CREATED job that the reconciler adopts or marks.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import TYPE_CHECKING

from molq.core import ConcurrencyConflict, JobState, MolqError
from molq.core._context import with_context_env
from molq.core._events import JobCreated, LogEvent
from molq.core._sweep_events import SweepCellLaunched, SweepCreated
from molq.core._sweep_state import (
    CellStates,
    SweepRecord,
    SweepStatus,
    cell_created,
    plan_sweep,
    request_sweep_cancel,
    sweep_status,
)
from molq.shell._submission import submit_recorded, with_submitter
from molq.shell.store._store import JobStore


if TYPE_CHECKING:
    from molq.shell._pass import ReconcilePass, ReconcileReport


log = logging.getLogger("molq.sweeps")


def sweep_status_of(store: JobStore, sweep: SweepRecord) -> SweepStatus:
    """A stored sweep aggregated over its cells' latest attempts (``store.get_sweep`` / ``list_sweeps`` give ``sweep``).

    The same value as ``Submitor.get_sweep``, read from the store alone (no cluster, no reconcile).
    """
    return sweep_status(sweep, cell_states(store, sweep))


def cell_states(store: JobStore, sweep: SweepRecord) -> dict[int, JobState | None]:
    """State of each launched cell's latest attempt (a pending retry counts as SUBMITTED)."""
    states: dict[int, JobState | None] = {}
    for index in sweep.launched:
        latest = store.latest_attempt(sweep.cells[index].job_id)
        if latest is None:
            states[index] = None
        elif latest.state.is_terminal and latest.next_attempt_job_id and latest.cancel_requested_at is None:
            states[index] = JobState.SUBMITTED
        else:
            states[index] = latest.state
    return states


def sweep_created(store: JobStore, sweep_id: str) -> SweepCreated:
    """The ``sweep.created`` event of a sweep."""
    first = store.read_stream(sweep_id)[0].event
    assert isinstance(first, SweepCreated)  # noqa: S101 - the projection exists only after sweep.created
    return first


def advance_sweeps(
    reconciler: ReconcilePass, report: ReconcileReport, sweep_ids: Sequence[str] | None = None
) -> None:
    """Launch the cells each open sweep of the cluster has room for."""
    store = reconciler.store
    for sweep in store.list_sweeps(reconciler.cluster_name, open_only=True):
        if sweep_ids is None or sweep.sweep_id in sweep_ids:
            _advance(reconciler, sweep, cell_states(store, sweep), report)


def _advance(
    reconciler: ReconcilePass, sweep: SweepRecord, states: CellStates, report: ReconcileReport
) -> None:
    store = reconciler.store
    now = reconciler.clock()
    events = plan_sweep(sweep, states, now=now)
    if not events:
        return
    template = sweep_created(store, sweep.sweep_id)
    cells = [
        with_submitter(with_context_env(cell_created(template, sweep.cells[e.index], now=now)))
        for e in events
        if isinstance(e, SweepCellLaunched)
    ]
    batch: list[tuple[str, Sequence[LogEvent], int]] = [(sweep.sweep_id, events, sweep.version)]
    batch += [(cell.job_id, [cell], 0) for cell in cells]
    try:
        store.append_batch(batch, now=now)
    except ConcurrencyConflict:
        log.debug("sweep %s advanced by another process", sweep.sweep_id)
        return
    for cell in cells:
        _submit_cell(reconciler, cell, report)


def _submit_cell(reconciler: ReconcilePass, cell: JobCreated, report: ReconcileReport) -> None:
    try:
        submit_recorded(reconciler.store, reconciler.scheduler, cell, clock=reconciler.clock)
    except MolqError as exc:
        report.errors.append(f"sweep cell {cell.job_id} failed to submit: {exc}")
    for transition in reconciler.store.transitions(cell.job_id):
        report.transitions.append(transition)


def cancel_sweep_events(store: JobStore, sweep_id: str, reason: str | None, now: float) -> SweepRecord | None:
    """Record ``sweep.cancel_requested`` (idempotent); returns the sweep after it."""
    for _ in range(3):
        sweep = store.get_sweep(sweep_id)
        if sweep is None:
            return None
        events = request_sweep_cancel(sweep, reason, now=now)
        if not events:
            return sweep
        try:
            store.append(sweep_id, events, expected_version=sweep.version, now=now)
        except ConcurrencyConflict:
            continue
        return store.get_sweep(sweep_id)
    return store.get_sweep(sweep_id)
