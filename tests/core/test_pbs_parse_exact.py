"""PBS parsers: the exact attributes, errors, queue entries and qdel verdicts of captured output (tests/fixtures/pbs)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from molq.core._errors import SchedulerOutputError
from molq.core._records import Observation, QueueEntry
from molq.core._sched._pbs_parse import (
    match_ids,
    parse_qstat_errors,
    parse_qstat_full,
    parse_qstat_json,
    parse_queue,
    parse_status,
    qdel_outcome,
    queue_entries,
    sequence_key,
)
from molq.core._state import JobState as S


FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "pbs"


def fixture(name: str) -> str:
    return (FIXTURES / name).read_text().partition("# ---\n")[2]


def test_openpbs_wrapped_values_are_joined_without_a_space() -> None:
    jobs = parse_qstat_full(fixture("openpbs_qstat_xf_finished.txt"))
    ok = jobs["13.pbshost"]
    assert ok["Variable_List"].startswith("PBS_O_HOME=/root,PBS_O_LANG=C.UTF-8,PBS_O_PATH=/root/.cargo/bin:")
    assert "/root/.pyenv/plugins/pyenv-virtualenv/shims:" in ok["Variable_List"]
    assert ok["Variable_List"].endswith("PBS_O_QUEUE=workq,PBS_O_HOST=pbshost")
    assert ok["Job_Name"] == "ok"
    assert ok["resources_used.walltime"] == "00:00:01"
    assert ok["comment"] == "Job run at Wed Dec 02 at 11:02 on (pbshost:ncpus=1) and finished"


def test_openpbs_finished_capture_states() -> None:
    seen = parse_status(fixture("openpbs_qstat_xf_finished.txt"))
    assert seen["13.pbshost"] == Observation(S.SUCCEEDED, "F", 0)
    assert seen["14.pbshost"] == Observation(S.FAILED, "F", 3)
    assert seen["15.pbshost"] == Observation(S.TIMED_OUT, "F", -29, reason="walltime exceeded (exit status -29)")
    assert seen["16.pbshost"].state is S.CANCELLED
    assert seen["17.pbshost"] == Observation(S.CANCELLED, "F", reason="deleted before it ran (qdel)")
    assert seen["18.pbshost"] == Observation(S.FAILED, "F", 3)
    assert seen["21.pbshost"].state is S.CANCELLED
    assert seen["19[].pbshost"] == Observation(S.FAILED, "F", 5, reason="subjob 19[2].pbshost: exit status 5")


def test_torque_wrapper_tab_indent_never_continues() -> None:
    jobs = parse_qstat_full(fixture("torque_qstat_f_finished.txt"))
    assert jobs["19"]["Job_Name"] == "ok"
    assert jobs["19"]["Resource_List.walltime"] == "8760:00:00"
    assert jobs["20"]["Job_Name"] == "fail"


@pytest.mark.parametrize(
    "text",
    [
        "    job_state = R\n",  # an attribute before any Job Id
        "Job Id: 1.s\n    job_state = R\n  odd = 1\n",  # another indent
        "Job Id: 1.s\n    job_state = R\n     spaced = 1\n",  # deeper indent
        "Job Id: 1.s\n    job_state = R\nnot an attribute\n",
        "Job Id: 1.s\n\tcontinuation before any attribute\n",
        "Job Id: 1.s\n\tjob_state = C\n\tstray tab line\n",  # tab indent: no continuations
        "Job Id: 1.s\n    1bad = x\n",
    ],
)
def test_unexpected_lines_are_output_errors(text: str) -> None:
    with pytest.raises(SchedulerOutputError, match="unexpected line in qstat -f output"):
        parse_qstat_full(text)


def test_blank_lines_and_values() -> None:
    text = "\n\nJob Id: 7.srv  \n    job_state = Q\n    comment =\n    Job_Name = a = b\n\nJob Id: 8.srv\n    job_state = R\n"
    assert parse_qstat_full(text) == {
        "7.srv": {"job_state": "Q", "comment": "", "Job_Name": "a = b"},
        "8.srv": {"job_state": "R"},
    }
    assert parse_qstat_full("") == {}


def test_repeated_job_id_adds_to_one_job() -> None:
    text = "Job Id: 7.srv\n    job_state = Q\nJob Id: 7.srv\n    queue = workq\n"
    assert parse_qstat_full(text) == {"7.srv": {"job_state": "Q", "queue": "workq"}}


def test_json_capture_flattens_nested_attributes() -> None:
    jobs = parse_qstat_json(fixture("openpbs_qstat_xf_json_finished.json"))
    some = next(iter(jobs.values()))
    assert "Resource_List.ncpus" in some
    assert all(isinstance(v, str) for attrs in jobs.values() for v in attrs.values())
    assert jobs["13.pbshost"]["Resource_List.ncpus"] == "1"
    assert jobs["13.pbshost"]["Exit_status"] == "0"
    text_jobs = parse_qstat_full(fixture("openpbs_qstat_xf_finished.txt"))
    assert set(jobs) == set(text_jobs)
    assert {k: v["job_state"] for k, v in jobs.items()} == {k: v["job_state"] for k, v in text_jobs.items()}


def test_json_values() -> None:
    doc = {
        "Jobs": {
            "5.srv": {
                "job_state": "F",
                "Exit_status": 0,
                "Resource_List": {"walltime": "00:01:00", "nested": {"deep": 1}},
                "list": [1, "a"],
                "none": None,
            }
        }
    }
    assert parse_qstat_json(json.dumps(doc)) == {
        "5.srv": {
            "job_state": "F",
            "Exit_status": "0",
            "Resource_List.walltime": "00:01:00",
            "Resource_List.nested.deep": "1",
            "list": "1,a",
            "none": "",
        }
    }
    assert parse_qstat_json('{"timestamp": 1}') == {}
    assert parse_qstat_json('{"Jobs": {"1": {"comment": "a\tb"}}}'.replace("\\t", "\t")) == {"1": {"comment": "a\tb"}}


@pytest.mark.parametrize(
    ("text", "match"),
    [
        ("qstat: not json", "printed no JSON document"),
        ("[1, 2]", "printed no Jobs object"),
        ('{"Jobs": [1]}', "printed no Jobs object"),
        ('{"Jobs": {"1.s": 3}}', "job '1.s' is not an object"),
    ],
)
def test_json_refusals(text: str, match: str) -> None:
    with pytest.raises(SchedulerOutputError, match=match):
        parse_qstat_json(text)


def test_qstat_errors_from_captures() -> None:
    unknown, finished, other = parse_qstat_errors(fixture("openpbs_qstat_errors.txt"))
    assert unknown == frozenset({"99999.pbshost"})
    assert finished == frozenset({"13.pbshost"})
    assert other == ("rc=153",)
    unknown, finished, other = parse_qstat_errors("qstat: Unknown Job Id Error 12.srv\n\n  qstat: connection refused  \n")
    assert unknown == frozenset({"12.srv"})
    assert finished == frozenset()
    assert other == ("qstat: connection refused",)


def test_sequence_key_and_match_ids() -> None:
    assert sequence_key("12[].srv.example") == "12[]"
    assert sequence_key("12") == "12"
    running = Observation(S.RUNNING, "R")
    queued = Observation(S.QUEUED, "Q")
    found = {"12.srv": running, "13": queued}
    assert match_ids(["12", "13.srv", "14", "13"], found) == {"12": running, "13.srv": queued, "13": queued}


def test_queue_entries_filter_by_owner_and_survive_bad_attributes() -> None:
    jobs = {
        "1.s": {"job_state": "R", "Job_Owner": "alice@host", "Job_Name": "a", "queue": "workq"},
        "2.s": {"job_state": "Q", "Job_Owner": "bob@host"},
        "3.s": {"job_state": "F", "Exit_status": "x", "Job_Owner": "bob"},
        "4.s": {"job_state": "Q"},
    }
    assert queue_entries(jobs) == [
        QueueEntry(scheduler_job_id="1.s", name="a", user="alice", state=S.RUNNING, raw_state="R", partition="workq"),
        QueueEntry(scheduler_job_id="2.s", name=None, user="bob", state=S.QUEUED, raw_state="Q", partition=None),
        QueueEntry(scheduler_job_id="3.s", name=None, user="bob", state=S.SUBMITTED, raw_state="F", partition=None),
        QueueEntry(scheduler_job_id="4.s", name=None, user=None, state=S.QUEUED, raw_state="Q", partition=None),
    ]
    assert [e.scheduler_job_id for e in queue_entries(jobs, user="bob")] == ["2.s", "3.s"]
    assert queue_entries(jobs, user="carol") == []


def test_parse_queue_of_active_capture() -> None:
    entries = parse_queue(fixture("openpbs_qstat_f_active.txt"))
    assert entries
    assert all(e.user == "root" for e in entries)
    assert {e.state for e in entries} <= {S.QUEUED, S.RUNNING}
    assert parse_queue(fixture("openpbs_qstat_f_active.txt"), user="nobody") == []


@pytest.mark.parametrize(
    ("rc", "stderr", "stdout", "outcome"),
    [
        (35, "qdel: Job has finished 13.pbshost", "", "finished"),
        (153, "qdel: Unknown Job Id 99999.pbshost", "", "unknown"),
        (168, "qdel: Request invalid for state of job 5.s", "", "finished"),
        (0, "", "", "deleted"),
        (1, "", "", "finished"),  # Slurm's Torque wrapper: done or unknown, says nothing
        (1, "  ", "\n", "finished"),
        (1, "qdel: Kill job error", "", "error"),
        (1, "", "something", "error"),
    ],
)
def test_qdel_outcome(rc: int, stderr: str, stdout: str, outcome: str) -> None:
    assert qdel_outcome(rc, stderr, stdout) == outcome


def test_match_ids_prefers_the_exact_id() -> None:
    running = Observation(S.RUNNING, "R")
    queued = Observation(S.QUEUED, "Q")
    assert match_ids(["12.a"], {"12.a": running, "12.b": queued}) == {"12.a": running}


def test_queue_entry_without_job_state_keeps_an_empty_raw_state() -> None:
    (entry,) = queue_entries({"9.s": {"Job_Owner": "bob@h"}})
    assert entry == QueueEntry(scheduler_job_id="9.s", name=None, user="bob", state=S.SUBMITTED, raw_state="", partition=None)
