"""The sweeps projection: same transaction as the log, rebuilt and verified like jobs."""

from __future__ import annotations

import pytest

from molq.core import ConcurrencyConflict, JobSpec
from molq.core._events import JobCreated
from molq.core._sweep_events import SweepCancelRequested, SweepCell, SweepCellLaunched, SweepCreated


def _created() -> SweepCreated:
    cells = tuple(SweepCell(index=i, job_id=f"c{i}", args=(("x", i),)) for i in range(3))
    return SweepCreated(
        sweep_id="sw",
        at=1.0,
        cluster_name="k",
        scheduler="local",
        spec=JobSpec("argv", argv=("echo", "{x}")),
        job_dir="/j/sw",
        cells=cells,
        max_parallel=2,
    )


def _cell_job(job_id: str) -> JobCreated:
    return JobCreated(
        job_id=job_id,
        at=2.0,
        cluster_name="k",
        scheduler="local",
        root_job_id=job_id,
        spec=JobSpec("argv", argv=("x",)),
    )


def test_projection_follows_appends_and_rebuilds(store):
    """Launch and cell creation land atomically; rebuild reproduces the projection."""
    store.append("sw", [_created()], expected_version=0, now=1)
    store.append_batch(
        [
            ("sw", [SweepCellLaunched(sweep_id="sw", at=2, index=0, job_id="c0")], 1),
            ("c0", [_cell_job("c0")], 0),
        ],
        now=2,
    )
    store.append("sw", [SweepCancelRequested(sweep_id="sw", at=3)], expected_version=2, now=3)
    record = store.get_sweep("sw")
    assert record is not None
    assert (record.launched, record.cancel_requested_at, record.is_open) == ((0,), 3, False)
    assert store.list_sweeps("k", open_only=True) == []
    assert store.get_record("c0") is not None
    assert store.verify_projections() == []
    store.rebuild_projections()
    assert store.get_sweep("sw") == record
    assert store.verify_projections() == []


def test_conflicting_launch_writes_nothing(store):
    """A second launcher at a stale sweep version conflicts and its cell job is not created."""
    store.append("sw", [_created()], expected_version=0, now=1)
    launch = [
        ("sw", [SweepCellLaunched(sweep_id="sw", at=2, index=0, job_id="c0")], 1),
        ("c0", [_cell_job("c0")], 0),
    ]
    store.append_batch(launch, now=2)
    with pytest.raises(ConcurrencyConflict):
        store.append_batch(
            [
                ("sw", [SweepCellLaunched(sweep_id="sw", at=2, index=1, job_id="c1")], 1),
                ("c1", [_cell_job("c1")], 0),
            ],
            now=2,
        )
    assert store.get_record("c1") is None
    assert store.get_sweep("sw").launched == (0,)


def test_verify_reports_a_tampered_sweep(store):
    """A sweeps row that disagrees with the log is reported."""
    store.append("sw", [_created()], expected_version=0, now=1)
    store._conn.execute("DELETE FROM sweeps")
    assert store.verify_projections() == ["sweep sw: missing from the sweeps projection"]
