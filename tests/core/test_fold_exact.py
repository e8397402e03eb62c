"""fold_events on concrete histories: the record and the transitions a user sees in `molq history`."""

from __future__ import annotations

import functools

import pytest

from molq.core import (
    CorruptLogError,
    JobSpec,
    JobState,
    Observation,
    Observe,
    RecordSubmission,
    ScheduleRetry,
    decide,
    evolve,
)
from molq.core._events import JobCreated
from molq.core._fold import fold_events


def created(job_id: str = "j") -> JobCreated:
    return JobCreated(
        job_id=job_id, at=1.0, cluster_name="c", scheduler="slurm", root_job_id=job_id,
        spec=JobSpec("argv", argv=("echo", "hi"), metadata={"k": "v"}),
    )


def history() -> list:
    """created → submitted → running → running again → failed (exit 3) → retry scheduled."""
    events: list = [created()]
    record = evolve(None, events[0])
    commands = [
        (RecordSubmission("42", command="sbatch x"), 2.0),
        (Observe(Observation(JobState.RUNNING, raw_state="R")), 3.0),
        (Observe(Observation(JobState.RUNNING, raw_state="R")), 4.0),
        (Observe(Observation(JobState.FAILED, exit_code=3, reason="oom", raw_state="F")), 5.0),
        (ScheduleRetry("k", 10.0), 5.0),
    ]
    for command, now in commands:
        new = decide(record, command, now=now)
        events += new
        record = functools.reduce(evolve, new, record)
    return events


def test_a_whole_history_folds_to_the_evolved_record():
    """Folding a new job's events gives the record evolve gives, field for field."""
    events = history()
    record, _ = fold_events(None, events)
    expected = functools.reduce(evolve, events, None)
    assert record == expected
    assert record.state is JobState.FAILED
    assert record.exit_code == 3
    assert record.scheduler_job_id == "42"
    assert record.version == len(events)
    assert record.next_attempt_job_id == "k"
    assert record.metadata == {"k": "v"}


def test_transitions_name_each_state_change_once():
    """Transitions list the event index and the states before/after; repeats add none."""
    events = history()
    _, transitions = fold_events(None, events)
    states = [(before, after) for _, before, after in transitions]
    assert states == [
        (None, JobState.CREATED),
        (JobState.CREATED, JobState.SUBMITTED),
        (JobState.SUBMITTED, JobState.RUNNING),
        (JobState.RUNNING, JobState.FAILED),
    ]
    assert transitions[0][0] == 0
    assert [events[i].at for i, _, _ in transitions[1:]] == [2.0, 3.0, 5.0]


def test_folding_onto_a_record_continues_it():
    """Folding the rest of a history onto the record of its start gives the same end."""
    events = history()
    start = functools.reduce(evolve, events[:2], None)
    record, transitions = fold_events(start, events[2:])
    assert record == functools.reduce(evolve, events, None)
    assert [(i, before, after) for i, before, after in transitions] == [
        (0, JobState.SUBMITTED, JobState.RUNNING),
        (1, JobState.RUNNING, JobState.FAILED),
    ]


def test_no_events_is_an_error():
    """An empty fold is refused (there is no record to return)."""
    with pytest.raises(ValueError, match="at least one event"):
        fold_events(None, [])


def test_history_not_starting_with_creation_is_corrupt():
    """A new job's history must begin with job.created."""
    events = history()
    with pytest.raises(CorruptLogError):
        fold_events(None, events[1:])


def test_defaults_of_a_new_record():
    """A job just created has the record defaults: no exit code, nothing unseen, version 1."""
    record, transitions = fold_events(None, [created()])
    assert record == evolve(None, created())
    assert record.unseen_count == 0
    assert record.log_lines == 0
    assert record.version == 1
    assert transitions == [(0, None, JobState.CREATED)]
