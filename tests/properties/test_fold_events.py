"""fold_events (one record built per fold) equals the per-event fold with evolve, event for event."""

from __future__ import annotations

import functools

import hypothesis.strategies as st
import pytest
from hypothesis import given
from tests.strategies import created_events, events, histories

from molq.core import CorruptLogError, JobEvent, JobRecord, evolve
from molq.core._fold import fold_events


def reference(record: JobRecord | None, history: list[JobEvent]) -> tuple[JobRecord, list[tuple[object, ...]]]:
    """Per-event evolve, noting each event after which the state differs (how _project did it)."""
    transitions: list[tuple[object, ...]] = []
    for index, event in enumerate(history):
        after = evolve(record, event)
        if record is None or record.state != after.state:
            transitions.append((index, record.state if record else None, after.state))
        record = after
    assert record is not None
    return record, transitions


def outcome(fold, record, history):
    try:
        return fold(record, history)
    except CorruptLogError as exc:
        return ("CorruptLogError", str(exc))


@given(histories())
def test_fold_events_equals_evolve_on_valid_histories(history):
    record, transitions = fold_events(None, history)
    expected, expected_transitions = reference(None, list(history))
    assert record == expected
    assert transitions == expected_transitions
    assert record == functools.reduce(evolve, history, None)


@given(histories(), st.data())
def test_fold_events_continues_from_any_prefix(history, data):
    """Folding a suffix onto the record of its prefix equals folding the whole history."""
    cut = data.draw(st.integers(1, len(history)))
    prefix = functools.reduce(evolve, history[:cut], None)
    suffix = list(history[cut:])
    if not suffix:
        return
    record, transitions = fold_events(prefix, suffix)
    expected, expected_transitions = reference(prefix, suffix)
    assert record == expected
    assert transitions == expected_transitions


arbitrary_histories = st.one_of(
    st.lists(events, min_size=1, max_size=12),
    st.tuples(created_events(), st.lists(events, max_size=12)).map(lambda t: [t[0], *t[1]]),
    st.tuples(histories(), st.lists(events, max_size=4)).map(lambda t: [*t[0], *t[1]]),
)


@given(arbitrary_histories)
def test_fold_events_fails_exactly_like_evolve(history):
    """On impossible histories both folds raise the same CorruptLogError; otherwise both agree."""
    assert outcome(fold_events, None, history) == outcome(reference, None, history)


@given(histories(), arbitrary_histories)
def test_fold_events_from_a_record_fails_exactly_like_evolve(history, more):
    start = functools.reduce(evolve, history, None)
    assert outcome(fold_events, start, more) == outcome(reference, start, more)


def test_fold_events_needs_events():
    with pytest.raises(ValueError, match="at least one event"):
        fold_events(None, [])
