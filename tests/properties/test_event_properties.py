"""Events: encode/decode round trips for generated events and histories."""

from __future__ import annotations

from typing import get_args

from hypothesis import given, settings
from tests.strategies import events, histories

from molq.core import JobEvent, decode_event, encode_event, event_tag, fold_job


@given(events)
def test_round_trip(event):
    """decode(encode(e)) == e, with the same type and tag."""
    back = decode_event(encode_event(event))
    assert back == event
    assert type(back) is type(event)
    assert event_tag(back) == event_tag(event)


@given(events)
def test_encoding_stable(event):
    """Re-encoding a decoded event gives identical bytes."""
    data = encode_event(event)
    assert encode_event(decode_event(data)) == data


@given(histories())
def test_history_round_trip(history):
    """A decoded history folds to the same record as the original."""
    decoded = [decode_event(encode_event(e)) for e in history]
    assert fold_job(decoded) == fold_job(history)


def test_strategy_covers_every_event_type():
    """The events strategy can produce every member of JobEvent."""
    seen: set[type] = set()

    @settings(max_examples=3000, database=None)  # 300 missed a rare type now and then
    @given(events)
    def collect(event):
        seen.add(type(event))

    collect()
    assert seen == set(get_args(JobEvent))
