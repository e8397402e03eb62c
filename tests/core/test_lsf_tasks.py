"""LSF arrays element by element, from captured bjobs output of both dialects."""

from __future__ import annotations

from pathlib import Path

from molq.core import JobState
from molq.core._sched._lsf_tasks import needs_history, tasks_from_long, tasks_from_rows


FIXTURES = Path(__file__).parents[1] / "fixtures" / "lsf"
S = JobState


def test_rows_give_the_elements_of_the_asked_array_only():
    """IBM bjobs -o: 5313's three elements; other jobs and plain jobs are not tasks."""
    tasks = tasks_from_rows((FIXTURES / "bjobs_o_rows.txt").read_text(), "5313")
    assert {k: (o.state, o.exit_code) for k, o in tasks.items()} == {
        "5313[1]": (S.SUCCEEDED, 0),
        "5313[2]": (S.FAILED, 1),
        "5313[3]": (S.RUNNING, None),
    }
    assert tasks_from_rows((FIXTURES / "bjobs_o_rows.txt").read_text(), "5302") == {}


def test_long_output_gives_each_element_with_its_exit_code():
    """OpenLava bjobs -l: 105[1..3] with element 2 exited 1; 121's running elements; 122 (plain) none."""
    text = (FIXTURES / "openlava_bjobs_l_mixed.txt").read_text()
    assert {k: (o.state, o.exit_code) for k, o in tasks_from_long(text, "105").items()} == {
        "105[1]": (S.SUCCEEDED, 0),
        "105[2]": (S.FAILED, 1),
        "105[3]": (S.SUCCEEDED, 0),
    }
    assert {k: o.state for k, o in tasks_from_long(text, "121").items()} == {
        "121[1]": S.RUNNING,
        "121[2]": S.RUNNING,
    }
    assert tasks_from_long(text, "122") == {}


def test_a_bkilled_element_is_cancelled_by_what_bhist_says():
    """bkill 534[2]: bjobs shows EXIT 130 (unsure); bhist's KILL request makes it CANCELLED, 534[1] runs on."""
    bjobs = (FIXTURES / "openlava_bjobs_l_element_killed.txt").read_text()
    bhist = (FIXTURES / "openlava_bhist_l_element_killed.txt").read_text()
    assert needs_history(bjobs, "534")
    unsure = tasks_from_long(bjobs, "534")
    assert (unsure["534[2]"].state, unsure["534[2]"].exit_code) == (S.FAILED, 130)
    told = tasks_from_long(bjobs, "534", bhist)
    assert {k: (o.state, o.exit_code) for k, o in told.items()} == {
        "534[1]": (S.RUNNING, None),
        "534[2]": (S.CANCELLED, 130),
    }
    running = (FIXTURES / "openlava_bjobs_l_mixed.txt").read_text()
    assert not needs_history(running, "121")
