"""Folding many events of one job at once: the same record as repeated ``evolve``, built once.

Rules of this module:
  Rule 1: ``fold_events(record, events)`` equals ``functools.reduce(evolve, events, record)``
          (tests/properties/test_fold_events.py proves it); the per-event rules are
          ``_machine``'s ``_next_state`` and ``_changes``, not copies of them.
  Rule 2: the fields live in a plain dict while folding; the frozen JobRecord is built
          once at the end, so a long history costs one record, not one per event.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Any, Final

from ._events import JobEvent
from ._machine import _changes, _created_fields, _first_event, _next_state
from ._records import JobRecord
from ._state import JobState


Transition = tuple[int, JobState | None, JobState]
"""``(index of the event, state before or None for the first event, state after)``."""

_FIELDS: Final = tuple(field.name for field in dataclasses.fields(JobRecord))
_DEFAULTS: Final = {
    field.name: field.default for field in dataclasses.fields(JobRecord) if field.default is not dataclasses.MISSING
}


class _Draft:
    """A record's fields while folding: attribute reads for ``_changes``, over a plain dict."""

    job_id: str
    state: JobState
    raw_state: str | None
    started_at: float | None
    cancel_requested_at: float | None
    unseen_count: int
    first_unseen_at: float | None
    log_lines: int
    checkpoint_seq: int
    result_seq: int

    def __init__(self, fields: dict[str, Any]) -> None:
        self.__dict__ = fields


def fold_events(record: JobRecord | None, events: Sequence[JobEvent]) -> tuple[JobRecord, list[Transition]]:
    """Apply ``events`` (one job's, oldest first) to ``record``; also say where the state changed.

    Returns the record ``evolve`` would reach and, for every event after which the state
    differs from before it (the first event of a new job included), its transition.

    Raises:
        CorruptLogError: an event cannot follow the record (impossible history).
        ValueError: ``events`` is empty.
    """
    if not events:
        msg = "fold_events needs at least one event"
        raise ValueError(msg)
    transitions: list[Transition] = []
    if record is None:
        fields = {**_DEFAULTS, **_created_fields(_first_event(events[0]))}
        transitions.append((0, None, JobState.CREATED))
        start = 1
    else:
        fields = {name: getattr(record, name) for name in _FIELDS}
        start = 0
    draft = _Draft(fields)
    for index in range(start, len(events)):
        event = events[index]
        before = draft.state
        new_state = _next_state(draft, event)
        fields.update(_changes(draft, event))
        fields["version"] += 1
        if new_state is not None:
            fields["state"] = new_state
            if new_state != before:
                transitions.append((index, before, new_state))
    return JobRecord(**fields), transitions
