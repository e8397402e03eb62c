"""Fold laws: decide/evolve histories, folded in memory and projected by the real JobStore."""

from __future__ import annotations

import functools
import tempfile
from pathlib import Path

import hypothesis.strategies as st
from hypothesis import given
from tests.strategies import command_runs, created_events, histories, job_ids

from molq.core import InvalidTransition, JobEvent, JobRecord, decide, evolve, fold_job
from molq.shell.store._store import JobStore


def states(history: tuple[JobEvent, ...]) -> list[JobRecord]:
    """The record after each event."""
    records: list[JobRecord] = []
    record: JobRecord | None = None
    for event in history:
        record = evolve(record, event)
        records.append(record)
    return records


def expected_transitions(history: tuple[JobEvent, ...]) -> list[tuple[object, ...]]:
    """(old, new, at) for the creation and each state change of the fold."""
    out: list[tuple[object, ...]] = []
    before: JobRecord | None = None
    for event, after in zip(history, states(history), strict=True):
        if before is None or before.state != after.state:
            out.append((before.state if before else None, after.state, event.at))
        before = after
    return out


@given(created_events(), command_runs())
def test_fold_equals_incremental(created, steps):
    """Folding all events equals the record evolved step by step while deciding."""
    record = evolve(None, created)
    history: list[JobEvent] = [created]
    now = created.at
    for command, step in steps:
        now += step
        try:
            new = decide(record, command, now=now)
        except InvalidTransition:
            continue
        for event in new:
            record = evolve(record, event)
        history.extend(new)
    assert fold_job(history) == record
    assert functools.reduce(evolve, history, None) == record
    assert record.version == len(history)


@given(histories())
def test_terminal_never_left(history):
    """Once a record is terminal its state never changes again."""
    terminal = None
    for record in states(history):
        if terminal is not None:
            assert record.state == terminal
        elif record.state.is_terminal:
            terminal = record.state


@given(histories())
def test_every_prefix_folds(history):
    """Every prefix of a valid history is itself a valid history."""
    for n in range(1, len(history) + 1):
        assert fold_job(history[:n]) is not None


def snapshot(store: JobStore, ids: list[str]) -> tuple[object, ...]:
    return (
        store.list_records(None, include_archived=True),
        [store.transitions(j) for j in ids],
        [store.dependencies(j) for j in ids],
        [store.dependents(j) for j in ids],
        store.last_seq(),
    )


def append_in_chunks(store: JobStore, streams: dict[str, tuple[JobEvent, ...]], data: st.DataObject) -> None:
    """Append every stream's events in random chunks, interleaving streams."""
    offsets = dict.fromkeys(streams, 0)
    now = 0.0
    while any(offsets[j] < len(h) for j, h in streams.items()):
        pending = sorted(j for j, h in streams.items() if offsets[j] < len(h))
        chosen = data.draw(st.lists(st.sampled_from(pending), min_size=1, unique=True))
        batch = []
        for j in chosen:
            size = data.draw(st.integers(1, len(streams[j]) - offsets[j]))
            batch.append((j, streams[j][offsets[j] : offsets[j] + size], offsets[j]))
            offsets[j] += size
        now += 1.0
        store.append_batch(batch, now=now)


@given(
    st.lists(job_ids, min_size=1, max_size=3, unique=True).flatmap(
        lambda ids: st.tuples(*(histories(st.just(j)) for j in ids))
    ),
    st.data(),
)
def test_store_projections(stream_list, data):
    """Chunked appends project the fold; verify finds nothing; rebuild is idempotent."""
    streams = {h[0].job_id: h for h in stream_list}
    ids = sorted(streams)
    with tempfile.TemporaryDirectory() as tmp:
        store = JobStore(Path(tmp) / "jobs.db")
        try:
            append_in_chunks(store, streams, data)
            for j, history in streams.items():
                assert store.get_record(j) == fold_job(history)
                assert store.stream_version(j) == len(history)
                got = [(t.old_state, t.new_state, t.timestamp) for t in store.transitions(j)]
                assert got == expected_transitions(history)
            assert store.verify_projections() == []
            before = snapshot(store, ids)
            total = sum(len(h) for h in streams.values())
            assert store.rebuild_projections() == total
            once = snapshot(store, ids)
            assert store.rebuild_projections() == total
            assert snapshot(store, ids) == once == before
            assert store.verify_projections() == []
        finally:
            store.close()
