"""LSF long output (OpenLava): the exact record, state and reason for each kind of bjobs -l / bhist -l block."""

from __future__ import annotations

from pathlib import Path

import pytest

from molq.core._errors import SchedulerOutputError
from molq.core._records import Observation, QueueEntry
from molq.core._sched._lsf_long import (
    LongRecord,
    adopt_from_long,
    after_cancel_request,
    long_queue,
    needs_history,
    never_satisfied,
    observation_from_long,
    observe_long,
    parse_long,
    unwrap,
)
from molq.core._state import JobState as S


FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "lsf"
T = "Wed Dec  2 10:58:49: "


def block(header: str, *events: str, extra: str = "") -> str:
    return "\n".join([header, *(T + e for e in events)]) + "\n" + extra + "\n" + "-" * 78 + "\n"


def rec(**kw: object) -> LongRecord:
    base: dict[str, object] = {"job_id": "7", "index": 0, "name": "n", "user": "u", "stat": None, "queue": None}
    return LongRecord(**(base | kw))  # type: ignore[arg-type]


def test_header_fields_and_event_facts() -> None:
    text = block(
        "Job <7>, Job Name <train>, User <alice>, Project <default>, Status <RUN>, Queue <gpu>, Command <x>",
        "Submitted from host <vm>, CWD </w>, Output File </w/out>;",
        "[1] started on <vm>, Execution Home </root>;",
        "Resource usage collected. Output File </w/other>;",
    )
    assert parse_long(text) == [
        LongRecord("7", 0, "train", "alice", "RUN", "gpu", output_file="/w/out", started=True)
    ]


@pytest.mark.parametrize(
    ("event", "facts"),
    [
        ("Starting (Pid 11662);", {"started": True}),
        ("Running with execution home </root>;", {"started": True}),
        ("Dispatched to <vm>;", {"started": True}),
        ("Started on <vm>;", {"started": True}),
        ("Done successfully. The CPU time used is 0.0 seconds.", {"done": True, "started": True}),
        ("Exited with exit code 3. The CPU time used is 0.0 seconds.", {"exited": True, "exit_code": 3, "started": True}),
        ("Exited. The CPU time used is 0.0 seconds.", {"exited": True}),
        ("Signal <KILL> requested by user or administrator <root>;", {"kill_requested": True}),
        ("Submitted from host <vm>, CWD </w>;", {}),
    ],
)
def test_event_lines(event: str, facts: dict[str, object]) -> None:
    (record,) = parse_long(block("Job Id <7>, Job Name <n>, User <u>, Project <default>, Command <x>", event))
    assert record == rec(**facts)


def test_an_event_without_a_timestamp_says_nothing() -> None:
    (record,) = parse_long("Job Id <7>, Job Name <n>, User <u>, Command <x>\nExited with exit code 3.\nDone successfully.\n")
    assert record == rec()


def test_run_limit_line_and_array_index() -> None:
    text = block(
        "Job Id <8[3]>, Job Name <wl[3]>, User <root>, Project <default>, Command <x>",
        "Exited with exit code 140. The CPU time used is 0.0 seconds;",
        extra=" RUNLIMIT                \n 1.0 min of vm",
    )
    (record,) = parse_long(text)
    assert record.key == "8[3]"
    assert record.index == 3
    assert record.run_limit
    assert observation_from_long(record) == Observation(S.TIMED_OUT, "EXIT", 140, reason="run limit reached (exit 140)")


def test_pending_reasons_are_read_until_the_blank_line() -> None:
    text = (
        "Job <9>, Job Name <w>, User <u>, Project <default>, Status <PEND>, Queue <normal>, Command <x>\n"
        f"{T}Submitted from host <vm>;\n"
        " PENDING REASONS:\n"
        " Job dependency condition not satisfied: 1 host;\n"
        " Not enough job slot(s): 2 hosts;\n"
        "\n"
        " Later text;\n"
    )
    (record,) = parse_long(text)
    assert record.pending_reasons == ("Job dependency condition not satisfied", "Not enough job slot(s)")
    assert observation_from_long(record) == Observation(
        S.QUEUED, "PEND", reason="Job dependency condition not satisfied; Not enough job slot(s)"
    )


def test_a_never_satisfied_dependency_cancels() -> None:
    text = (
        "Job <10[2]>, User <u>, Project <default>, Status <PEND>, Queue <normal>, Command <x>\n"
        " PENDING REASONS:\n"
        " Dependency condition invalid or never satisfied;\n"
    )
    assert never_satisfied(text) == ["10[2]"]
    (record,) = parse_long(text)
    assert record.name == ""
    assert observation_from_long(record) == Observation(
        S.CANCELLED, "PEND", reason="dependency never satisfied (Dependency condition invalid or never satisfied)"
    )
    running = text.replace("Status <PEND>", "Status <RUN>")
    assert never_satisfied(running) == []


@pytest.mark.parametrize(
    ("record", "expected"),
    [
        (rec(stat="DONE"), Observation(S.SUCCEEDED, "DONE", 0)),
        (rec(done=True), Observation(S.SUCCEEDED, "DONE", 0)),
        (rec(stat="EXIT", exit_code=3, started=True), Observation(S.FAILED, "EXIT", 3)),
        (rec(exited=True, started=True), Observation(S.FAILED, "EXIT", None, reason="exited, no exit code")),
        (rec(stat="EXIT"), Observation(S.CANCELLED, "EXIT", reason="killed while pending")),
        (rec(stat="EXIT", exit_code=130, kill_requested=True),
         Observation(S.CANCELLED, "EXIT", 130, reason="killed by bkill (user or administrator)")),
        (rec(stat="EXIT", exit_code=140, started=True), Observation(S.FAILED, "EXIT", 140)),
        (rec(stat="EXIT", exit_code=139, started=True, run_limit=True), Observation(S.FAILED, "EXIT", 139)),
        (rec(stat="EXIT", exit_code=2), Observation(S.FAILED, "EXIT", 2)),
        (rec(), Observation(S.QUEUED, "bhist")),
        (rec(started=True), Observation(S.RUNNING, "bhist")),
        (rec(stat="RUN", pending_reasons=("x",)), Observation(S.RUNNING, "RUN")),
        (rec(stat="PSUSP"), Observation(S.QUEUED, "PSUSP")),
        (rec(stat="ZOMBI"), Observation(S.SUBMITTED, "ZOMBI", reason="LSF reports ZOMBI: status not known")),
    ],
)
def test_observation_from_long(record: LongRecord, expected: Observation) -> None:
    assert observation_from_long(record) == expected


@pytest.mark.parametrize(
    ("record", "needed"),
    [(rec(stat="EXIT"), True), (rec(stat="EXIT", kill_requested=True), False), (rec(stat="DONE"), False), (rec(), False)],
)
def test_needs_history(record: LongRecord, needed: bool) -> None:
    assert needs_history(record) is needed


@pytest.mark.parametrize(
    ("obs", "state"),
    [
        (Observation(S.FAILED, "EXIT", 130), S.CANCELLED),
        (Observation(S.FAILED, "EXIT", 137), S.CANCELLED),
        (Observation(S.FAILED, "EXIT", 143), S.CANCELLED),
        (Observation(S.FAILED, "EXIT", None), S.CANCELLED),
        (Observation(S.FAILED, "EXIT", 3), S.FAILED),
        (Observation(S.TIMED_OUT, "EXIT", 140), S.TIMED_OUT),
        (Observation(S.SUCCEEDED, "DONE", 0), S.SUCCEEDED),
    ],
)
def test_after_cancel_request(obs: Observation, state: S) -> None:
    after = after_cancel_request(obs)
    assert after.state is state
    assert after.exit_code == obs.exit_code
    if state is not obs.state:
        assert after.reason == "killed by bkill (molq cancel request)"


def test_unwrap_joins_only_indented_non_blank_lines() -> None:
    wrapped = "Job Id <1>, Command <tr\n" + " " * 21 + "ue>\n" + " " * 21 + "\n" + " " * 20 + "x"
    assert unwrap(wrapped) == ["Job Id <1>, Command <true>", " " * 21, " " * 20 + "x"]
    assert unwrap(" " * 21 + "lead") == [" " * 21 + "lead"]


@pytest.mark.parametrize(
    "text",
    ["garbage before any job\n", "Job <12> was submitted\n"],
)
def test_unexpected_text_is_an_output_error(text: str) -> None:
    with pytest.raises(SchedulerOutputError, match="unexpected line in LSF long output"):
        parse_long(text)


@pytest.mark.parametrize(
    "text",
    ["", "# comment\n", "------\n", "Job <12> is not found\n", "Job <12[3]> is not found\n", "No unfinished job found\n",
     "No matching job found\n", "No jobs found at all\n", "Summary of time in seconds\n"],
)
def test_harmless_text_outside_records(text: str) -> None:
    assert parse_long(text) == []


def test_arrays_fold_and_queue_lists_elements() -> None:
    text = block("Job <5[1]>, Job Name <a[1]>, User <u>, Status <DONE>, Queue <q>, Command <x>") + block(
        "Job <5[2]>, Job Name <a[2]>, User <u>, Status <EXIT>, Queue <q>, Command <x>",
        "Exited with exit code 1.",
    ) + block("Job <6>, User <>, Status <RUN>, Command <x>")
    assert observe_long(text) == {
        "5": Observation(S.FAILED, "DONE,EXIT", 1, reason="array of 2"),
        "6": Observation(S.RUNNING, "RUN"),
    }
    assert long_queue(text) == [
        QueueEntry(scheduler_job_id="5[1]", name="a[1]", user="u", state=S.SUCCEEDED, raw_state="DONE", partition="q"),
        QueueEntry(scheduler_job_id="5[2]", name="a[2]", user="u", state=S.FAILED, raw_state="EXIT", partition="q"),
        QueueEntry(scheduler_job_id="6", name=None, user=None, state=S.RUNNING, raw_state="RUN", partition=None),
    ]


def test_adopt_from_long_by_output_file() -> None:
    text = block("Job <5>, User <u>, Status <RUN>, Command <x>", "Submitted from host <vm>, Output File </w/a>;") + block(
        "Job <6>, User <u>, Status <RUN>, Command <x>", "Submitted from host <vm>, Output File </w/b>;"
    )
    assert adopt_from_long(text, "/w/b") == "6"
    assert adopt_from_long(text, "/w/c") is None


def test_captured_history_states() -> None:
    seen = observe_long((FIXTURES / "openlava_bhist_l.txt").read_text())
    assert seen["107"] == Observation(S.CANCELLED, "EXIT", 130, reason="killed by bkill (user or administrator)")
    assert seen["108"] == Observation(S.TIMED_OUT, "EXIT", 140, reason="run limit reached (exit 140)")
    assert seen["112"] == Observation(S.SUCCEEDED, "DONE", 0)


def test_pending_reason_ending_in_a_semicolon() -> None:
    text = (
        "Job <9>, User <u>, Status <PEND>, Queue <normal>, Command <x>\n"
        " PENDING REASONS:\n"
        " ;Not enough job slot(s);\n"
    )
    (record,) = parse_long(text)
    assert record.pending_reasons == (";Not enough job slot(s)",)


def test_queue_entry_of_a_record_without_a_status_word() -> None:
    (entry,) = long_queue(block("Job Id <7>, Job Name <n>, User <u>, Command <x>", "Dispatched to <vm>;"))
    assert entry == QueueEntry(scheduler_job_id="7", name="n", user="u", state=S.RUNNING, raw_state="", partition=None)
