"""How a PBS job ended: the exact state, exit code and reason for each qstat attribute set a user meets."""

from __future__ import annotations

import pytest

from molq.core._errors import SchedulerOutputError
from molq.core._records import Observation
from molq.core._sched._pbs_outcome import (
    combine_tasks,
    confirm_success,
    exit_file_signal,
    exit_status,
    needs_exit_file,
    observation_from_attrs,
    observations,
)
from molq.core._state import JobState as S


FROM_FILE = "from the job's exit_code file"


@pytest.mark.parametrize(
    ("letter", "state"),
    [("Q", S.QUEUED), ("H", S.QUEUED), ("W", S.QUEUED), ("T", S.QUEUED),
     ("R", S.RUNNING), ("E", S.RUNNING), ("B", S.RUNNING), ("S", S.RUNNING), ("U", S.RUNNING)],
)
def test_active_letters(letter: str, state: S) -> None:
    assert observation_from_attrs({"job_state": f" {letter} ", "comment": "Not Running"}) == Observation(
        state, letter, reason="Not Running"
    )
    assert observation_from_attrs({"job_state": letter}) == Observation(state, letter)


def test_unknown_letter_stays_submitted_with_its_raw_letter() -> None:
    assert observation_from_attrs({"job_state": "Z"}) == Observation(S.SUBMITTED, "Z", reason="unrecognised PBS job_state 'Z'")


@pytest.mark.parametrize("attrs", [{}, {"job_state": "  "}])
def test_no_job_state_is_an_output_error(attrs: dict[str, str]) -> None:
    with pytest.raises(SchedulerOutputError, match="no job_state"):
        observation_from_attrs(attrs)


@pytest.mark.parametrize(
    ("attrs", "expected"),
    [
        ({"Exit_status": "0"}, 0),
        ({"exit_status": " 3 "}, 3),
        ({"Exit_status": "-29", "exit_status": "5"}, -29),
        ({"Exit_status": ""}, None),
        ({"Exit_status": "  "}, None),
        ({}, None),
    ],
)
def test_exit_status_from_either_spelling(attrs: dict[str, str], expected: int | None) -> None:
    assert exit_status(attrs) == expected


def test_exit_status_not_an_integer() -> None:
    with pytest.raises(SchedulerOutputError, match="Exit_status is not an integer: 'abc'"):
        exit_status({"Exit_status": "abc"})


@pytest.mark.parametrize(
    ("attrs", "needed"),
    [
        ({"job_state": "F"}, True),
        ({"job_state": "C"}, True),
        ({"job_state": "X"}, True),
        ({"job_state": "F", "Exit_status": "0"}, False),
        ({"job_state": "R"}, False),
        ({}, False),
    ],
)
def test_needs_exit_file(attrs: dict[str, str], needed: bool) -> None:
    assert needs_exit_file(attrs) is needed


@pytest.mark.parametrize(
    ("attrs", "expected"),
    [
        ({"job_state": "F", "Exit_status": "0"}, Observation(S.SUCCEEDED, "F", 0)),
        ({"job_state": "X", "Exit_status": "2"}, Observation(S.FAILED, "X", 2)),
        ({"job_state": "C", "exit_status": "0"}, Observation(S.SUCCEEDED, "C", 0)),
        ({"job_state": "F", "Exit_status": "271"}, Observation(S.FAILED, "F", 271, reason="killed by signal 15")),
        ({"job_state": "F", "Exit_status": "256"}, Observation(S.FAILED, "F", 256, reason="killed by signal 0")),
        ({"job_state": "F", "Exit_status": "255"}, Observation(S.FAILED, "F", 255)),
        ({"job_state": "F", "Exit_status": "-1"}, Observation(S.FAILED, "F", -1, reason="PBS could not run the job (exit status -1)")),
        # walltime: OpenPBS -29, Torque -11, or the comment, or killed by a signal at the limit
        ({"job_state": "F", "Exit_status": "-29"}, Observation(S.TIMED_OUT, "F", -29, reason="walltime exceeded (exit status -29)")),
        ({"job_state": "C", "exit_status": "-11"}, Observation(S.TIMED_OUT, "C", -11, reason="walltime exceeded (exit status -11)")),
        ({"job_state": "F", "Exit_status": "-11"}, Observation(S.FAILED, "F", -11, reason="PBS could not run the job (exit status -11)")),
        ({"job_state": "C", "exit_status": "-29"}, Observation(S.FAILED, "C", -29, reason="PBS could not run the job (exit status -29)")),
        (
            {"job_state": "F", "Exit_status": "1", "comment": "job killed: exceeded resource walltime"},
            Observation(S.TIMED_OUT, "F", 1, reason="walltime exceeded (exit status 1)"),
        ),
        (
            {"job_state": "F", "Exit_status": "271", "resources_used.walltime": "00:01:00", "Resource_List.walltime": "00:01:00"},
            Observation(S.TIMED_OUT, "F", 271, reason="walltime exceeded (exit status 271)"),
        ),
        (
            {"job_state": "F", "Exit_status": "137", "resources_used.walltime": "00:01:01", "Resource_List.walltime": "00:01:00"},
            Observation(S.TIMED_OUT, "F", 137, reason="walltime exceeded (exit status 137)"),
        ),
        (
            {"job_state": "F", "Exit_status": "129", "resources_used.walltime": "01:00:00", "Resource_List.walltime": "01:00:00"},
            Observation(S.TIMED_OUT, "F", 129, reason="walltime exceeded (exit status 129)"),
        ),
        (  # under the limit: a plain kill, not a timeout
            {"job_state": "F", "Exit_status": "271", "resources_used.walltime": "00:00:59", "Resource_List.walltime": "00:01:00"},
            Observation(S.FAILED, "F", 271, reason="killed by signal 15"),
        ),
        (  # exit 128 is not a signal; exit 1 at the limit is the job's own failure
            {"job_state": "F", "Exit_status": "128", "resources_used.walltime": "00:01:00", "Resource_List.walltime": "00:01:00"},
            Observation(S.FAILED, "F", 128),
        ),
        (
            {"job_state": "F", "Exit_status": "1", "resources_used.walltime": "00:01:00", "Resource_List.walltime": "00:01:00"},
            Observation(S.FAILED, "F", 1),
        ),
        (
            {"job_state": "F", "Exit_status": "271", "substate": "91"},
            Observation(S.CANCELLED, "F", 271, reason="deleted while running (qdel; exit status 271)"),
        ),
        ({"job_state": "F", "Exit_status": "0", "array": "True"}, Observation(S.SUCCEEDED, "F", None)),
        ({"job_state": "F", "Exit_status": "0", "array": "True", "substate": "93"}, Observation(S.FAILED, "F", None, reason="a subjob failed")),
        ({"job_state": "F", "Exit_status": "0", "array": "False", "substate": "93"}, Observation(S.SUCCEEDED, "F", 0)),
    ],
)
def test_finished_with_exit_status(attrs: dict[str, str], expected: Observation) -> None:
    assert observation_from_attrs(attrs) == expected


TORQUE_TIMES = {"mtime": "Wed Dec  2 10:00:00 2026", "ctime": "Wed Dec  2 10:01:00 2026"}


@pytest.mark.parametrize(
    ("attrs", "exit_file", "cancel", "expected"),
    [
        ({"job_state": "C"}, "0\n", False, Observation(S.SUCCEEDED, "C", 0, reason=FROM_FILE)),
        ({"job_state": "C"}, "3\n", False, Observation(S.FAILED, "C", 3, reason=FROM_FILE)),
        ({"job_state": "C", "exec_host": "n1"}, "143\n", True,
         Observation(S.CANCELLED, "C", 143, reason="cancelled: killed by signal 15 after molq asked to cancel (qdel)")),
        ({"job_state": "C", "exec_host": "n1"}, "143\n", False, Observation(S.FAILED, "C", 143, reason=FROM_FILE)),
        ({"job_state": "C", "exec_host": "n1"}, "1\n", True, Observation(S.FAILED, "C", 1, reason=FROM_FILE)),
        # ran its whole walltime (Torque wrapper times) and was killed: a timeout, not the file's failure
        ({"job_state": "C", "exec_host": "n1", "Resource_List.walltime": "00:01:00", **TORQUE_TIMES}, "143\n", False,
         Observation(S.TIMED_OUT, "C", reason="walltime exceeded (ran for its whole limit)")),
        # exit 0 at the limit still succeeded
        ({"job_state": "C", "exec_host": "n1", "Resource_List.walltime": "00:01:00", **TORQUE_TIMES}, "0\n", False,
         Observation(S.SUCCEEDED, "C", 0, reason=FROM_FILE)),
        ({"job_state": "C", "stime": "x", "Resource_List.walltime": "00:01:00", **TORQUE_TIMES}, None, False,
         Observation(S.TIMED_OUT, "C", reason="walltime exceeded (ran for its whole limit)")),
        ({"job_state": "C", "stime": "x", "Resource_List.walltime": "00:01:01", **TORQUE_TIMES}, None, False,
         Observation(S.CANCELLED, "C", reason="ended without an exit status or exit_code file: deleted while running (qdel) or killed")),
        ({"job_state": "C", "exec_host": "n1"}, "garbage", False,
         Observation(S.CANCELLED, "C", reason="ended without an exit status or exit_code file: deleted while running (qdel) or killed")),
        ({"job_state": "F", "substate": "91"}, None, False, Observation(S.CANCELLED, "F", reason="deleted before it ran (qdel)")),
        ({"job_state": "F", "depend": "afterok:7.srv"}, None, False,
         Observation(S.CANCELLED, "F", reason="dependency never satisfied (afterok:7.srv)")),
        ({"job_state": "F"}, None, False,
         Observation(S.CANCELLED, "F", reason="never ran: deleted (qdel) or its dependency was never satisfied")),
        # not run, but walltime attributes alone do not make a timeout
        ({"job_state": "F", "Resource_List.walltime": "00:01:00", **TORQUE_TIMES}, None, False,
         Observation(S.CANCELLED, "F", reason="never ran: deleted (qdel) or its dependency was never satisfied")),
    ],
)
def test_finished_without_exit_status(attrs: dict[str, str], exit_file: str | None, cancel: bool, expected: Observation) -> None:
    assert observation_from_attrs(attrs, exit_file=exit_file, cancel_requested=cancel) == expected


@pytest.mark.parametrize(
    ("text", "signal"),
    [(None, None), ("0\n", None), ("128\n", None), ("129\n", 1), ("143\n", 15), ("159\n", 31), ("160\n", None), ("x", None)],
)
def test_exit_file_signal(text: str | None, signal: int | None) -> None:
    assert exit_file_signal(text) == signal


@pytest.mark.parametrize(
    ("walltime", "limit", "timed_out"),
    [("00:10:00", "00:10:00", True), ("00:09:59", "00:10:00", False), ("02:00:00", "01:59:59", True),
     ("1:00", "01:00:00", False), ("00:10:00", "10m", False), ("0a:00:00", "00:00:00", False)],
)
def test_walltime_used_against_limit(walltime: str, limit: str, timed_out: bool) -> None:
    obs = observation_from_attrs(
        {"job_state": "F", "Exit_status": "271", "resources_used.walltime": walltime, "Resource_List.walltime": limit}
    )
    assert (obs.state is S.TIMED_OUT) is timed_out


def test_torque_wrapper_times_measure_elapsed_time() -> None:
    attrs = {"job_state": "C", "exit_status": "271", "Resource_List.walltime": "00:00:59", **TORQUE_TIMES}
    assert observation_from_attrs(attrs).state is S.TIMED_OUT
    attrs["Resource_List.walltime"] = "00:01:01"
    assert observation_from_attrs(attrs).state is S.FAILED
    attrs["mtime"] = "not a time"
    attrs["Resource_List.walltime"] = "00:00:01"
    assert observation_from_attrs(attrs).state is S.FAILED


def test_array_parent_takes_its_worst_subjob() -> None:
    jobs = {
        "5[].srv": {"job_state": "F", "Exit_status": "0", "array": "True"},
        "5[1].srv": {"job_state": "F", "Exit_status": "0", "array_id": "5[].srv"},
        "5[2].srv": {"job_state": "F", "Exit_status": "3", "array_id": "5[].srv"},
        "5[3].srv": {"job_state": "F", "Exit_status": "7", "array_id": "5[].srv"},
        "6.srv": {"job_state": "R"},
    }
    seen = observations(jobs)
    assert seen["5[].srv"] == Observation(S.FAILED, "F", 7, reason="subjob 5[3].srv: exit status 7")
    assert seen["5[2].srv"] == Observation(S.FAILED, "F", 3)
    assert seen["6.srv"] == Observation(S.RUNNING, "R")


def test_array_parent_still_running_keeps_its_own_state() -> None:
    jobs = {
        "5[].srv": {"job_state": "B", "array": "True"},
        "5[1].srv": {"job_state": "F", "Exit_status": "3", "array_id": "5[].srv"},
    }
    assert observations(jobs)["5[].srv"] == Observation(S.RUNNING, "B")


def test_combine_tasks_cases() -> None:
    parent = Observation(S.SUCCEEDED, "F", None)
    ok = Observation(S.SUCCEEDED, "F", 0)
    assert combine_tasks(parent, {}) == parent
    assert combine_tasks(parent, {"1": ok, "2": Observation(S.RUNNING, "R")}) == parent
    assert combine_tasks(parent, {"1": ok, "2": ok}) == Observation(S.SUCCEEDED, "F", 0)
    cancelled = Observation(S.CANCELLED, "F", None, reason="deleted before it ran (qdel)")
    assert combine_tasks(parent, {"1": ok, "2": cancelled}) == Observation(
        S.CANCELLED, "F", None, reason="subjob 2: deleted before it ran (qdel)"
    )
    assert combine_tasks(parent, {"1": Observation(S.CANCELLED, "F")}) == Observation(
        S.CANCELLED, "F", None, reason="subjob 1: cancelled"
    )
    # the parent says a subjob failed though every listed subjob succeeded
    failed_parent = Observation(S.FAILED, "F", None, reason="a subjob failed")
    assert combine_tasks(failed_parent, {"1": ok}) == Observation(S.FAILED, "F", None, reason="a subjob failed")
    # the highest exit code among the worst subjobs is named
    two = {"a": Observation(S.FAILED, "F", 9), "b": Observation(S.FAILED, "F", 2), "c": Observation(S.FAILED, "F", None)}
    assert combine_tasks(parent, two) == Observation(S.FAILED, "F", 9, reason="subjob a: exit status 9")
    assert combine_tasks(parent, {"x": Observation(None)}) == parent


def test_confirm_success_needs_the_exit_file() -> None:
    ok = Observation(S.SUCCEEDED, "F", 0)
    assert confirm_success(ok, "0\n") == ok
    assert confirm_success(ok, None) == Observation(
        S.CANCELLED, "F", 0,
        reason="PBS says Exit_status 0 but the job wrote no exit_code file: killed before it finished (qdel)",
    )
    failed = Observation(S.FAILED, "F", 1)
    assert confirm_success(failed, None) == failed


@pytest.mark.parametrize(
    ("code", "used", "limit", "state"),
    [
        (256, "00:01:00", "00:01:00", S.TIMED_OUT),  # killed by signal 0 at the limit
        (271, "01:00:00", "01:00:01", S.FAILED),  # one second short: hours count 3600 s
        (271, "01:00:01", "01:00:01", S.TIMED_OUT),
        (271, "00:59:59", "01:00:00", S.FAILED),
    ],
)
def test_walltime_edges(code: int, used: str, limit: str, state: S) -> None:
    attrs = {"job_state": "F", "Exit_status": str(code), "resources_used.walltime": used, "Resource_List.walltime": limit}
    assert observation_from_attrs(attrs).state is state


def test_a_cancelled_parent_with_successful_subjobs_succeeds() -> None:
    ok = Observation(S.SUCCEEDED, "F", 0)
    assert combine_tasks(Observation(S.CANCELLED, "F"), {"1": ok}) == Observation(S.SUCCEEDED, "F", 0)
