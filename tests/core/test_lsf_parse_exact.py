"""LSF: the exact observation, queue entry and command for captured bjobs/bkill output (tests/fixtures/lsf)."""

from __future__ import annotations

from pathlib import Path

import pytest

from molq.core._errors import SchedulerOutputError
from molq.core._records import Observation, QueueEntry
from molq.core._sched._lsf_dialect import (
    adopt_argv,
    adopt_from_rows,
    detect_dialect,
    history_argv,
    queue_argv,
    status_argv,
)
from molq.core._sched._lsf_parse import (
    BJOBS_FORMAT,
    BjobsRow,
    bkill_outcome,
    merge_elements,
    parse_bjobs_errors,
    parse_bjobs_rows,
    parse_queue,
    parse_status,
)
from molq.core._state import JobState as S


FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "lsf"
ROWS = (FIXTURES / "bjobs_o_rows.txt").read_text()


def _fixture_body(name: str) -> str:
    return "\n".join(line for line in (FIXTURES / name).read_text().splitlines() if not line.startswith("#"))


def test_format_string_sent_to_bjobs() -> None:
    assert BJOBS_FORMAT == "jobid jobindex stat exit_code exit_reason user queue job_name delimiter='|'"


def test_captured_rows_parse_field_by_field() -> None:
    rows = parse_bjobs_rows(ROWS)
    assert len(rows) == 15
    assert rows[0] == BjobsRow("5301", 0, "DONE", None, "", "alice", "normal", "prep")
    assert rows[2] == BjobsRow(
        "5303", 0, "EXIT", 140, "TERM_RUNLIMIT: job killed after reaching LSF run time limit", "alice", "normal", "long"
    )
    assert rows[13] == BjobsRow("5313", 2, "EXIT", 1, "", "dave", "normal", "arr[2]")


def test_captured_rows_give_each_job_its_state() -> None:
    seen = parse_status(ROWS)
    assert seen["5301"] == Observation(S.SUCCEEDED, "DONE", 0)
    assert seen["5302"] == Observation(S.FAILED, "EXIT", 3)
    assert seen["5303"] == Observation(
        S.TIMED_OUT, "EXIT", 140, reason="TERM_RUNLIMIT: job killed after reaching LSF run time limit"
    )
    assert seen["5304"] == Observation(S.CANCELLED, "EXIT", 130, reason="TERM_OWNER: job killed by owner")
    assert seen["5305"] == Observation(
        S.CANCELLED, "EXIT", None, reason="TERM_ORPHAN_SYSTEM: The orphan job was automatically terminated by LSF"
    )
    assert seen["5306"] == Observation(S.QUEUED, "PEND")
    assert seen["5307"] == Observation(S.RUNNING, "RUN")
    assert seen["5308"] == Observation(S.QUEUED, "PSUSP")
    assert seen["5309"] == Observation(S.RUNNING, "USUSP")
    assert seen["5310"] == Observation(S.RUNNING, "SSUSP")
    assert seen["5311"] == Observation(S.SUBMITTED, "UNKWN", reason="LSF reports UNKWN: status not known")
    assert seen["5312"] == Observation(S.SUBMITTED, "ZOMBI", reason="LSF reports ZOMBI: status not known")
    assert seen["5313"] == Observation(S.RUNNING, "DONE,EXIT,RUN", 1, reason="array of 3")


@pytest.mark.parametrize(
    ("row", "expected"),
    [
        ("7|0|EXIT|1|TERM_DEADLINE: past its deadline|u|q|n", Observation(S.TIMED_OUT, "EXIT", 1, reason="TERM_DEADLINE: past its deadline")),
        ("7|0|EXIT|1|TERM_ADMIN: killed by root|u|q|n", Observation(S.CANCELLED, "EXIT", 1, reason="TERM_ADMIN: killed by root")),
        ("7|0|EXIT|1|TERM_MEMLIMIT: over memory|u|q|n", Observation(S.FAILED, "EXIT", 1, reason="TERM_MEMLIMIT: over memory")),
        ("7|0|EXIT|1|see TERM_FORCE_OWNER here|u|q|n", Observation(S.CANCELLED, "EXIT", 1, reason="see TERM_FORCE_OWNER here")),
        ("7|0|DONE|0|-|u|q|n", Observation(S.SUCCEEDED, "DONE", 0)),
        ("7|-|WAIT||-|u|q|n", Observation(S.QUEUED, "WAIT")),
        ("7|0|PROV|-|-|u|q|n", Observation(S.QUEUED, "PROV")),
        ("7|0|EXIT|-1|-|u|q|n", Observation(S.FAILED, "EXIT", -1)),
    ],
)
def test_exit_reasons_decide_the_state(row: str, expected: Observation) -> None:
    assert parse_status(row) == {"7": expected}


def test_a_job_name_may_hold_the_delimiter() -> None:
    (row,) = parse_bjobs_rows("8|0|RUN|-|-|u|q|a|b|c\n")
    assert row.name == "a|b|c"
    assert row.user == "u"
    assert row.queue == "q"


def test_dash_and_blank_fields_are_absent() -> None:
    (row,) = parse_bjobs_rows(" 9 | - | PEND |  | - | - |  - | \n")
    assert row == BjobsRow("9", 0, "PEND", None, "", None, None, None)


@pytest.mark.parametrize(
    "text",
    ["5301|0|DONE|-|-|alice|normal", "x|0|DONE|-|-|u|q|n", "1|a|DONE|-|-|u|q|n", "1|0|D1|-|-|u|q|n",
     "1|0|DONE|3x|-|u|q|n", "1|0|DONE|--3|-|u|q|n", "Job <4242> is not found"],
)
def test_unreadable_rows_are_output_errors(text: str) -> None:
    with pytest.raises(SchedulerOutputError):
        parse_bjobs_rows(text)


def test_a_malformed_exit_code_is_an_output_error_not_a_crash() -> None:
    # "--3" passed the digit check after lstrip("-") and then crashed int() with a ValueError
    with pytest.raises(SchedulerOutputError, match="unreadable bjobs row"):
        parse_bjobs_rows("1|0|EXIT|--3|-|u|q|n")
    with pytest.raises(SchedulerOutputError, match="unreadable bjobs row"):
        parse_bjobs_rows("1|\u00b2|RUN|-|-|u|q|n")  # a superscript two is a digit to isdigit(), not to int()


def test_field_count_named() -> None:
    with pytest.raises(SchedulerOutputError, match="bjobs row has 7 fields, expected 8"):
        parse_bjobs_rows("5301|0|DONE|-|-|alice|normal")


def test_merge_elements() -> None:
    one = Observation(S.RUNNING, "RUN")
    assert merge_elements([one]) is one
    done = Observation(S.SUCCEEDED, "DONE", 0)
    assert merge_elements([done, done]) == Observation(S.SUCCEEDED, "DONE", 0, reason="array of 2")
    failed = Observation(S.FAILED, "EXIT", 2, reason="TERM_X: b")
    killed = Observation(S.CANCELLED, "EXIT", 130, reason="TERM_OWNER: a")
    assert merge_elements([done, failed, killed]) == Observation(
        S.CANCELLED, "DONE,EXIT", 2, reason="array of 3: TERM_OWNER: a; TERM_X: b"
    )
    assert merge_elements([Observation(S.CANCELLED, "EXIT"), Observation(S.CANCELLED, "EXIT")]) == Observation(
        S.CANCELLED, "EXIT", None, reason="array of 2"
    )


def test_bjobs_errors_from_capture() -> None:
    unknown, other = parse_bjobs_errors((FIXTURES / "bjobs_errors.txt").read_text())
    assert unknown == frozenset({"4242", "4243[2]"})
    assert other == ()
    unknown, other = parse_bjobs_errors("No job found\nNo matching job found\n  LSF is down: try later  \n")
    assert unknown == frozenset()
    assert other == ("LSF is down: try later",)


def test_queue_entries_from_capture() -> None:
    entries = parse_queue(ROWS)
    assert entries[0] == QueueEntry(
        scheduler_job_id="5301", name="prep", user="alice", state=S.SUCCEEDED, raw_state="DONE", partition="normal"
    )
    assert entries[10].state is S.SUBMITTED
    assert entries[10].raw_state == "UNKWN"
    assert [e.scheduler_job_id for e in entries[-3:]] == ["5313[1]", "5313[2]", "5313[3]"]
    assert [e.state for e in entries[-3:]] == [S.SUCCEEDED, S.FAILED, S.RUNNING]


@pytest.mark.parametrize(
    ("rc", "output", "outcome"),
    [
        (0, "Job <122> is being terminated", "terminating"),
        (0, "Job <122> is being signaled", "terminating"),
        (255, "Job <161>: Operation is in progress", "terminating"),
        (255, "Job <112>: Job has already finished", "finished"),
        (255, "Job <999999>: No matching job found", "unknown"),
        (255, "Job <5> is not found", "unknown"),
        (0, "  \n", "terminating"),
        (1, "", "error"),
        (0, "something else", "error"),
    ],
)
def test_bkill_outcome(rc: int, output: str, outcome: str) -> None:
    assert bkill_outcome(rc, output) == outcome


def test_bkill_outcomes_of_the_capture() -> None:
    lines = _fixture_body("openlava_bkill.txt").splitlines()
    assert [bkill_outcome(255, line) for line in lines] == ["terminating", "unknown", "finished", "terminating"]


@pytest.mark.parametrize(
    ("banner", "dialect"),
    [
        ("OpenLava 4.0dev4, Dec  2 2026", "openlava"),
        ("IBM Spectrum LSF 10.1.0.0 build 403338, May 27 2016", "ibm"),
        ("IBM Platform LSF Standard 9.1.3.0, Apr 16 2014", "ibm"),
        ("Platform LSF 9.0.1, Jan 1 2013", "openlava"),
        ("Platform LSF 8.3, Jan 1 2012", "openlava"),
        ("LSF 9.2", "ibm"),
        ("LSF 10.0", "ibm"),
        ("OPENLAVA LSF 10.1", "openlava"),
        ("something else", "openlava"),
        ("", "openlava"),
    ],
)
def test_detect_dialect(banner: str, dialect: str) -> None:
    assert detect_dialect(banner) == dialect


def test_detect_dialect_of_the_capture() -> None:
    assert detect_dialect(_fixture_body("openlava_bjobs_V.txt")) == "openlava"


def test_status_argv_lists_ids_up_to_the_limit() -> None:
    assert status_argv("ibm", ["1", "2"], ids_limit=2) == ("bjobs", "-a", "-noheader", "-o", BJOBS_FORMAT, "1", "2")
    assert status_argv("ibm", ["1", "2", "3"], ids_limit=2) == ("bjobs", "-a", "-noheader", "-o", BJOBS_FORMAT)
    assert status_argv("openlava", ["1", "2"], ids_limit=2) == ("bjobs", "-a", "-l", "-UF", "1", "2")
    assert status_argv("openlava", ["1", "2", "3"], ids_limit=2) == ("bjobs", "-a", "-l", "-UF")


def test_other_commands() -> None:
    assert history_argv(["4", "5"]) == ("bhist", "-l", "4", "5")
    assert queue_argv("ibm", "alice") == ("bjobs", "-noheader", "-o", BJOBS_FORMAT, "-u", "alice")
    assert queue_argv("ibm", None) == ("bjobs", "-noheader", "-o", BJOBS_FORMAT, "-u", "all")
    assert queue_argv("openlava", None) == ("bjobs", "-l", "-UF", "-u", "all")
    assert queue_argv("openlava", "bob") == ("bjobs", "-l", "-UF", "-u", "bob")
    assert adopt_argv("ibm") == ("bjobs", "-a", "-noheader", "-o", "jobid output_file delimiter='|'")
    assert adopt_argv("openlava") == ("bjobs", "-a", "-l", "-UF")


def test_adopt_from_rows() -> None:
    text = "10|/w/a.out\n 11| /w/b.out \nxx|/w/c.out\n12/w/d.out\n"
    assert adopt_from_rows(text, "/w/b.out") == "11"
    assert adopt_from_rows(text, "/w/a.out") == "10"
    assert adopt_from_rows(text, "/w/c.out") is None
    assert adopt_from_rows(text, "/w/d.out") is None
    assert adopt_from_rows("", "/w/a.out") is None


def test_adopt_from_rows_with_a_bar_in_the_path() -> None:
    assert adopt_from_rows("10|/w/a|b\n", "/w/a|b") == "10"
