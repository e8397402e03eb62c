"""PBS dialects: the exact qstat commands sent, and what each dialect's captured replies mean."""

from __future__ import annotations

from pathlib import Path

import pytest

from molq.core._sched._pbs_dialect import (
    adopt_select_argv,
    dialect_from_version,
    history_argv,
    json_supported,
    listing_argv,
    listing_is_empty,
    match_keys,
    parse_adopt,
    parse_listing,
    relevant_jobs,
    tasks_argv,
    version_argv,
)


FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "pbs"


def fixture(name: str) -> str:
    return (FIXTURES / name).read_text().partition("# ---\n")[2]


def test_dialect_from_captured_version_probes() -> None:
    assert version_argv("/opt/pbs/bin/qstat") == ("/opt/pbs/bin/qstat", "--version")
    assert dialect_from_version(0, fixture("openpbs_qstat_version.txt")) == "pro"
    assert dialect_from_version(2, fixture("torque_qstat_version.txt")) == "torque"
    assert dialect_from_version(1, "pbs_version = 23.06.06") == "torque"
    assert dialect_from_version(0, "Version: 6.1.3") == "torque"


@pytest.mark.parametrize(
    ("stdout", "json"),
    [("pbs_version = 23.06.06", True), ("pbs_version = 13.0", True), ("pbs_version=12.2.1", False),
     ("pbs_version = 9", False), ("no version here", True)],
)
def test_json_supported(stdout: str, json: bool) -> None:
    assert json_supported(stdout) is json


def test_commands_per_dialect() -> None:
    assert listing_argv("qstat", "pro") == ("qstat", "-f", "-F", "json")
    assert listing_argv("qstat", "pro", json=False) == ("qstat", "-f")
    assert listing_argv("qstat", "torque") == ("qstat", "-f")
    assert history_argv("qstat", ["1.s", "2.s"]) == ("qstat", "-x", "-f", "-F", "json", "-t", "1.s", "2.s")
    assert history_argv("qstat", ["1.s"], json=False) == ("qstat", "-x", "-f", "-t", "1.s")
    assert tasks_argv("qstat", "pro", "5[].s") == ("qstat", "-x", "-f", "-F", "json", "-t", "5[].s")
    assert tasks_argv("qstat", "pro", "5[].s", json=False) == ("qstat", "-x", "-f", "-t", "5[].s")
    assert tasks_argv("qstat", "torque", "5[]") == ("qstat", "-f", "5[]")
    assert adopt_select_argv("qselect", "molq-x") == ("qselect", "-x", "-N", "molq-x")


def test_parse_listing_per_dialect() -> None:
    text = fixture("openpbs_qstat_xf_finished.txt")
    json_text = fixture("openpbs_qstat_xf_json_finished.json")
    assert parse_listing("pro", json_text)["13.pbshost"]["job_state"] == "F"
    assert parse_listing("pro", text, json=False)["13.pbshost"]["job_state"] == "F"
    assert parse_listing("torque", fixture("torque_qstat_f_finished.txt"))["19"]["job_state"] == "C"


@pytest.mark.parametrize(
    ("rc", "stdout", "stderr", "empty"),
    [(153, "", "", True), (153, " \n", "\n", True), (153, "Job Id: 1", "", False),
     (153, "", "qstat: Unknown Job Id 9.s", False), (0, "", "", False), (1, "", "", False)],
)
def test_listing_is_empty(rc: int, stdout: str, stderr: str, empty: bool) -> None:
    assert listing_is_empty(rc, stdout, stderr) is empty


def test_match_keys_and_relevant_jobs() -> None:
    jobs = {
        "12.srv": {"job_state": "R"},
        "13[].srv": {"job_state": "B", "array": "True"},
        "13[1].srv": {"job_state": "R", "array_id": "13[].srv"},
        "14.srv": {"job_state": "Q"},
        "99": {"job_state": "Q"},
    }
    assert match_keys(["12", "13[]", "15", "99"], jobs) == {"12": "12.srv", "13[]": "13[].srv", "99": "99"}
    assert relevant_jobs(jobs, ["13[].srv", "99"]) == {
        "13[].srv": jobs["13[].srv"], "13[1].srv": jobs["13[1].srv"], "99": jobs["99"]
    }
    assert relevant_jobs(jobs, []) == {}


def test_parse_adopt() -> None:
    jobs = {
        "1.s": {"Job_Name": "other", "Submit_arguments": "/w/job.sh"},
        "2[1].s": {"Job_Name": "molq-a", "array_id": "2[].s"},
        "3.s": {"Job_Name": "molq-a", "Submit_arguments": "-h /w/other.sh"},
        "4.s": {"Job_Name": "molq-a", "Submit_arguments": "-h /w/job.sh"},
        "5": {"Job_Name": "molq-b"},
    }
    assert parse_adopt(jobs, name="molq-a", script_path="/w/job.sh") == "4.s"
    assert parse_adopt(jobs, name="molq-b", script_path="/w/job.sh") == "5"
    assert parse_adopt(jobs, name="molq-c", script_path="/w/job.sh") is None
    assert parse_adopt({"6.s": {"Job_Name": "n", "Submit_arguments": ""}}, name="n", script_path="/w/x.sh") is None


def test_parse_adopt_of_captured_active_jobs() -> None:
    jobs = parse_listing("pro", fixture("openpbs_qstat_f_active.txt"), json=False)
    name = next(a["Job_Name"] for a in jobs.values() if a.get("Submit_arguments") == "-h held_then_qdel.sh")
    found = parse_adopt(jobs, name=name, script_path="held_then_qdel.sh")
    assert found is not None
    assert jobs[found]["Submit_arguments"] == "-h held_then_qdel.sh"
    assert parse_adopt(jobs, name=name, script_path="wt.sh") is None


def test_match_keys_prefers_the_exact_id() -> None:
    assert match_keys(["12.a"], {"12.a": {}, "12.b": {}}) == {"12.a": "12.a"}
