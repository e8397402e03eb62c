"""Whether a dependency edge is satisfied, pending or impossible, for every condition and upstream state."""

from __future__ import annotations

import pytest

from molq.core._dep_preview import dependency_relation_state
from molq.core._state import JobState as S


ACTIVE = (S.CREATED, S.SUBMITTED, S.QUEUED)
FAILED = (S.FAILED, S.CANCELLED, S.TIMED_OUT, S.LOST)


@pytest.mark.parametrize("state", [*ACTIVE, S.RUNNING])
@pytest.mark.parametrize("condition", ["after_success", "after_failure", "after", "unknown"])
def test_unfinished_upstream_is_pending(condition: str, state: S) -> None:
    assert dependency_relation_state(condition, state) == "pending"


@pytest.mark.parametrize(
    ("state", "success", "failure", "after"),
    [(S.SUCCEEDED, "satisfied", "impossible", "satisfied")]
    + [(s, "impossible", "satisfied", "satisfied") for s in FAILED],
)
def test_finished_upstream(state: S, success: str, failure: str, after: str) -> None:
    assert dependency_relation_state("after_success", state) == success
    assert dependency_relation_state("after_failure", state) == failure
    assert dependency_relation_state("after", state) == after
    assert dependency_relation_state("afterok", state) == "pending"


@pytest.mark.parametrize(
    ("state", "started_at", "relation"),
    [(S.QUEUED, None, "pending"), (S.CREATED, None, "pending"), (S.QUEUED, 5.0, "satisfied"),
     (S.RUNNING, None, "satisfied"), (S.SUCCEEDED, None, "satisfied"), (S.CANCELLED, None, "satisfied")],
)
def test_after_started(state: S, started_at: float | None, relation: str) -> None:
    assert dependency_relation_state("after_started", state, started_at) == relation


def test_state_given_as_text() -> None:
    assert dependency_relation_state("after_success", "succeeded") == "satisfied"  # type: ignore[arg-type]
