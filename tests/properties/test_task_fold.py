"""Fold laws for array tasks: the one-pass fold equals per-event evolve; replaying events is stable."""

from __future__ import annotations

import functools

import hypothesis.strategies as st
from hypothesis import given
from tests.strategies import events, task_changed_events

from molq.core import JobState, Observation
from molq.core._tasks import NO_TASKS, evolve_tasks, fold_tasks, task_events


mixed = st.lists(st.one_of(task_changed_events, events), max_size=30)


@given(mixed)
def test_fold_equals_reduce_of_evolve(history):
    """fold_tasks(events) == reduce(evolve_tasks, events, NO_TASKS)."""
    assert fold_tasks(history) == functools.reduce(evolve_tasks, history, NO_TASKS)


@given(mixed, st.data())
def test_fold_continues_from_any_prefix(history, data):
    """Folding a suffix onto the prefix's tasks equals folding the whole history."""
    cut = data.draw(st.integers(0, len(history)))
    assert fold_tasks(history[cut:], fold_tasks(history[:cut])) == fold_tasks(history)


@given(mixed)
def test_tasks_are_sorted_unique_and_counted(history):
    """One record per index, ascending; counts add up to the number of tasks."""
    tasks = fold_tasks(history)
    indices = [t.index for t in tasks.tasks]
    assert indices == sorted(set(indices))
    assert sum(tasks.counts().values()) == len(tasks.tasks)


observations = st.builds(
    Observation,
    st.none() | st.sampled_from(list(JobState)),
    exit_code=st.none() | st.integers(0, 3),
)
replies = st.dictionaries(st.integers(0, 8).map(lambda i: f"5_{i}"), observations, max_size=9)


@given(st.lists(replies, max_size=6))
def test_recording_a_reply_twice_adds_nothing(polls):
    """After a reply's events are folded in, the same reply is no news; ended tasks never reopen."""
    tasks = NO_TASKS
    for reply in polls:
        before = {t.index: t.state for t in tasks.tasks}
        tasks = fold_tasks(task_events(tasks, "j", reply, now=1.0), tasks)
        assert task_events(tasks, "j", reply, now=2.0) == ()
        for index, state in before.items():
            after = tasks.get(index)
            assert after is not None
            if state.is_terminal:
                assert after.state is state
