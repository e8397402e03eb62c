"""PBS dialects: detection, and every captured qstat output judged as molq must judge it.

The fixtures are real captures (OpenPBS 23.06.06, Slurm 22.05.8's Torque wrappers; see
tests/fixtures/pbs/README.md), so these tests pin what real clients print.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from molq.core import JobState, SchedulerOutputError
from molq.core._sched._pbs_dialect import (
    dialect_from_version,
    history_argv,
    json_supported,
    listing_argv,
    listing_is_empty,
    match_keys,
    parse_adopt,
    relevant_jobs,
)
from molq.core._sched._pbs_outcome import array_tasks, needs_exit_file, observation_from_attrs, observations
from molq.core._sched._pbs_parse import (
    parse_qstat_errors,
    parse_qstat_full,
    parse_qstat_json,
    parse_status,
    qdel_outcome,
    queue_entries,
)


FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "pbs"
S = JobState


def fixture(name: str) -> str:
    """A captured output without its provenance header (``# …`` lines up to ``# ---``)."""
    head, sep, body = (FIXTURES / name).read_text().partition("# ---\n")
    assert sep, name
    assert all(line.startswith("# ") for line in head.splitlines()), name
    return body


def _rc(text: str) -> list[int]:
    return [int(line[3:]) for line in text.splitlines() if line.startswith("rc=")]


FINISHED = {
    "13.pbshost": (S.SUCCEEDED, 0),
    "14.pbshost": (S.FAILED, 3),
    "15.pbshost": (S.TIMED_OUT, -29),
    "16.pbshost": (S.CANCELLED, 0),
    "17.pbshost": (S.CANCELLED, None),
    "18.pbshost": (S.FAILED, 3),
    "21.pbshost": (S.CANCELLED, None),
    "19[].pbshost": (S.FAILED, 5),
}


class TestDetection:
    def test_openpbs_names_its_pbs_version(self):
        """OpenPBS answers `qstat --version` with `pbs_version = 23.06.06`: pro."""
        assert dialect_from_version(0, fixture("openpbs_qstat_version.txt")) == "pro"

    @pytest.mark.parametrize(
        ("version", "json"),
        [("pbs_version = 23.06.06", True), ("pbs_version = 13.0.40", True), ("pbs_version = 12.2.1", False), ("", True)],
    )
    def test_json_only_where_the_server_has_it(self, version, json):
        """PBS Pro added `-F json` in 13.0; older servers are read as text."""
        assert json_supported(version) is json
        assert ("json" in listing_argv("qstat", "pro", json=json)) is json
        assert ("json" in history_argv("qstat", ["1"], json=json)) is json
        assert json_supported(fixture("openpbs_qstat_version.txt"))

    def test_torque_wrappers_do_not_know_the_option(self):
        """Slurm's wrapper prints its usage and exits 2: torque."""
        text = fixture("torque_qstat_version.txt")
        assert _rc(text) == [2]
        assert dialect_from_version(2, text) == "torque"


class TestOpenPBSText:
    def test_finished_jobs_keep_their_outcome_and_reason(self):
        """qstat -x -f -t: exit 0/3, walltime -29, qdel (91), afterok never run, array with a failed subjob."""
        seen = parse_status(fixture("openpbs_qstat_xf_finished.txt"))
        assert {k: (seen[k].state, seen[k].exit_code) for k in FINISHED} == FINISHED
        assert seen["21.pbshost"].reason == "dependency never satisfied (afterok:18.pbshost@pbshost)"
        assert seen["17.pbshost"].reason == "deleted before it ran (qdel)"
        assert seen["19[].pbshost"].reason == "subjob 19[2].pbshost: exit status 5"

    def test_continuations_join_mid_word_without_a_space(self):
        """A TAB line continues the value exactly: `…exceeded ` + `resource walltime`."""
        jobs = parse_qstat_full(fixture("openpbs_qstat_xf_finished.txt"))
        assert jobs["15.pbshost"]["comment"].endswith("and exceeded resource walltime")
        assert "/root/.pyenv/plugins/pyenv-virtualenv/shims:" in jobs["13.pbshost"]["Variable_List"]

    def test_wrapped_long_name_is_whole(self):
        """The 90-character job name is wrapped by qstat -f and joined back."""
        jobs = parse_qstat_full(fixture("openpbs_qstat_f_active.txt"))
        assert jobs["20.pbshost"]["Job_Name"].endswith("two_lines_abcdefghijklmnopqrstuvwxyz")

    def test_active_jobs(self):
        """R is RUNNING; Q and H (held, or waiting on a dependency) are QUEUED."""
        seen = parse_status(fixture("openpbs_qstat_f_active.txt"))
        assert {k: o.state for k, o in seen.items() if k in ("15.pbshost", "17.pbshost", "21.pbshost")} == {
            "15.pbshost": S.RUNNING,
            "17.pbshost": S.QUEUED,
            "21.pbshost": S.QUEUED,
        }


class TestOpenPBSJson:
    def test_json_and_text_say_the_same(self):
        """-F json gives the same attributes and outcomes as the text form."""
        from_json = parse_qstat_json(fixture("openpbs_qstat_xf_json_finished.json"))
        from_text = parse_qstat_full(fixture("openpbs_qstat_xf_finished.txt"))
        assert from_json.keys() == from_text.keys()
        for job in ("13.pbshost", "15.pbshost", "21.pbshost"):
            for name in ("job_state", "Exit_status", "substate", "comment", "depend"):
                assert from_json[job].get(name) == from_text[job].get(name), (job, name)
        seen = observations(from_json)
        assert {k: (seen[k].state, seen[k].exit_code) for k in FINISHED} == FINISHED

    def test_nested_attributes_are_flattened(self):
        """`Resource_List: {walltime: …}` becomes `Resource_List.walltime`."""
        jobs = parse_qstat_json(fixture("openpbs_qstat_xf_json_finished.json"))
        assert jobs["15.pbshost"]["Resource_List.walltime"] == "00:00:02"
        assert jobs["19[].pbshost"]["array"] == "True"

    def test_array_subjobs_each_have_their_state(self):
        """qstat -t lists each subjob: 1 and 3 succeeded, 2 failed with 5."""
        jobs = parse_qstat_json(fixture("openpbs_qstat_xf_json_finished.json"))
        tasks = array_tasks(jobs, observations(jobs))["19[].pbshost"]
        assert {k: (o.state, o.exit_code) for k, o in tasks.items()} == {
            "19[1].pbshost": (S.SUCCEEDED, 0),
            "19[2].pbshost": (S.FAILED, 5),
            "19[3].pbshost": (S.SUCCEEDED, 0),
        }

    def test_array_parent_exit_0_with_a_failed_subjob_is_not_success(self):
        """Without its subjobs, the parent (Exit_status 0, substate 93) is still FAILED."""
        jobs = parse_qstat_json(fixture("openpbs_qstat_xf_json_finished.json"))
        obs = observation_from_attrs(jobs["19[].pbshost"])
        assert (obs.state, obs.exit_code, obs.reason) == (S.FAILED, None, "a subjob failed")

    def test_active_listing(self):
        """qstat -f -F json of the whole queue, including the array parent."""
        seen = observations(parse_qstat_json(fixture("openpbs_qstat_f_json_active.json")))
        assert seen["19[].pbshost"].state is S.QUEUED
        assert seen["16.pbshost"].state is S.RUNNING

    def test_server_down_prints_an_empty_document_and_fails(self):
        """rc 255 with a Jobs-less document: the caller must look at rc, parsing says {}."""
        text = fixture("openpbs_qstat_server_down.txt")
        stdout, _, stderr = text.partition("rc=")
        assert _rc("rc=" + stderr) == [255]
        assert parse_qstat_json(stdout) == {}
        assert "cannot connect to server" in stderr

    @pytest.mark.parametrize("text", ["", "{", "[]", '{"Jobs": []}', '{"Jobs": {"1.x": 3}}'])
    def test_bad_json_is_scheduler_output_error(self, text):
        """Anything but a qstat JSON document is refused."""
        with pytest.raises(SchedulerOutputError):
            parse_qstat_json(text)


class TestTorqueWrappers:
    def test_tab_indented_attributes_parse(self):
        """`Job Id:\\t19` and TAB-indented attributes: the line that broke molq before."""
        jobs = parse_qstat_full(fixture("torque_qstat_f_finished.txt"))
        assert jobs["19"]["Job_Name"] == "ok"
        assert all(a["job_state"] == "C" for a in jobs.values())

    def test_completed_jobs_need_the_exit_file(self):
        """The wrappers show no exit status: C jobs are judged with the exit_code file."""
        jobs = parse_qstat_full(fixture("torque_qstat_f_finished.txt"))
        assert all(needs_exit_file(a) for a in jobs.values())
        ok = observation_from_attrs(jobs["19"], exit_file="0\n")
        fail = observation_from_attrs(jobs["20"], exit_file="3\n")
        assert (ok.state, ok.exit_code, fail.state, fail.exit_code) == (S.SUCCEEDED, 0, S.FAILED, 3)

    def test_outcomes_without_an_exit_file(self):
        """Ran its whole walltime: TIMED_OUT; killed by qdel: CANCELLED; never ran: CANCELLED."""
        seen = parse_status(fixture("torque_qstat_f_finished.txt"))
        assert seen["21"].state is S.TIMED_OUT
        assert seen["22"].state is S.CANCELLED
        assert (seen["26"].state, seen["29"].state) == (S.CANCELLED, S.CANCELLED)
        assert seen["26"].reason is not None
        assert "never ran" in seen["26"].reason

    def test_timeout_beats_a_nonzero_exit_file(self):
        """A job killed at its limit that still wrote 143 is TIMED_OUT, not FAILED."""
        jobs = parse_qstat_full(fixture("torque_qstat_f_finished.txt"))
        assert observation_from_attrs(jobs["21"], exit_file="143\n").state is S.TIMED_OUT

    def test_killed_after_a_cancel_request_is_cancelled(self):
        """qdel (SIGKILL) can let the job's shell record 137 first: with molq's cancel marker that is CANCELLED."""
        jobs = parse_qstat_full(fixture("torque_qstat_f_finished.txt"))
        asked = observation_from_attrs(jobs["22"], exit_file="137\n", cancel_requested=True)
        assert (asked.state, asked.exit_code) == (S.CANCELLED, 137)
        assert observation_from_attrs(jobs["22"], exit_file="137\n").state is S.FAILED
        assert observation_from_attrs(jobs["22"], exit_file="3\n", cancel_requested=True).state is S.FAILED

    def test_active_listing(self):
        """R is RUNNING; a job waiting on its dependency is Q."""
        seen = parse_status(fixture("torque_qstat_f_active.txt"))
        names = {a["Job_Name"]: k for k, a in parse_qstat_full(fixture("torque_qstat_f_active.txt")).items()}
        assert seen[names["long_runner"]].state is S.RUNNING
        assert seen[names["child_never_runs"]].state is S.QUEUED

    def test_unknown_id_is_rc_153_and_no_output(self):
        """qstat -f of an unknown id prints nothing and exits 153: "no jobs"."""
        text = fixture("torque_qstat_errors.txt")
        assert _rc(text) == [153]
        assert listing_is_empty(153, text.replace("rc=153", ""), "")
        assert not listing_is_empty(153, "", "qstat: error")

    def test_qdel_of_a_finished_or_unknown_job_is_silent_rc_1(self):
        """The wrapper's silent rc 1 means there is nothing to delete, not an error."""
        text = fixture("torque_qdel_errors.txt")
        assert _rc(text) == [1, 1]
        assert qdel_outcome(1, "", "") == "finished"
        assert qdel_outcome(1, "", "qdel: Kill job error on job id 5: Access denied") == "error"

    def test_manual_torque_exit_status(self):
        """Real Torque (manual, not a capture): exit_status -11 is a walltime kill."""
        seen = parse_status(fixture("manual_torque_qstat_f_completed.txt"))
        assert [(o.state, o.exit_code) for o in seen.values()] == [
            (S.FAILED, -1),
            (S.TIMED_OUT, -11),
            (S.SUCCEEDED, 0),
        ]


class TestErrorsIdsAdoption:
    def test_openpbs_errors(self):
        """`Job has finished` (35) and `Unknown Job Id` (153) are told apart from other errors."""
        text = fixture("openpbs_qstat_errors.txt")
        unknown, finished, other = parse_qstat_errors(text.split("rc=")[0])
        assert (unknown, finished, other) == (frozenset({"99999.pbshost"}), frozenset({"13.pbshost"}), ())
        assert _rc(text) == [153]

    def test_openpbs_qdel_errors(self):
        """qdel of a finished (35) or unknown (153) job is not an error."""
        text = fixture("openpbs_qdel_errors.txt")
        lines = [line for line in text.splitlines() if line.startswith("qdel:")]
        assert [qdel_outcome(rc, line) for rc, line in zip(_rc(text), lines, strict=True)] == ["finished", "unknown"]
        assert qdel_outcome(255, "qdel: cannot connect to server pbshost (errno=15010)") == "error"

    def test_ids_match_with_or_without_the_server(self):
        """`13` finds `13.pbshost`; an array parent keeps its subjobs."""
        jobs = parse_qstat_full(fixture("openpbs_qstat_xf_finished.txt"))
        keys = match_keys(["13", "19[].pbshost", "404.pbshost"], jobs)
        assert keys == {"13": "13.pbshost", "19[].pbshost": "19[].pbshost"}
        assert len(relevant_jobs(jobs, list(keys.values()))) == 5

    def test_adoption_matches_name_and_script(self):
        """OpenPBS records Submit_arguments: the script path must match too."""
        jobs = {"7.h": {"Job_Name": "molq-a", "Submit_arguments": "/j/a/job.pbs", "job_state": "Q"}}
        assert parse_adopt(jobs, name="molq-a", script_path="/j/a/job.pbs") == "7.h"
        assert parse_adopt(jobs, name="molq-a", script_path="/j/b/job.pbs") is None
        assert parse_adopt({"8": {"Job_Name": "molq-a"}}, name="molq-a", script_path="/x") == "8"

    def test_one_unreadable_foreign_job_does_not_break_the_queue(self):
        """A job with a garbage Exit_status is listed SUBMITTED with its raw state."""
        entries = queue_entries({"1.h": {"job_state": "F", "Exit_status": "zero"}, "2.h": {"job_state": "R"}})
        assert [(e.state, e.raw_state) for e in entries] == [(S.SUBMITTED, "F"), (S.RUNNING, "R")]

    def test_queue_entries_from_both_dialects(self):
        """Owner, name, queue and state from OpenPBS JSON and from the wrappers' text."""
        pro = queue_entries(parse_qstat_json(fixture("openpbs_qstat_f_json_active.json")), user="root")
        assert ("arr", "root", "workq") in [(e.name, e.user, e.partition) for e in pro]
        torque = queue_entries(parse_qstat_full(fixture("torque_qstat_f_active.txt")))
        assert {e.partition for e in torque} == {"debug"}
        assert queue_entries(parse_qstat_full(fixture("torque_qstat_f_active.txt")), user="nobody") == []


class TestQdelWhileStarting:
    def test_exit_0_without_an_exit_file_is_cancelled(self):
        """OpenPBS says finished/Exit_status 0 for a job qdel'd as it started: no exit file, so CANCELLED."""
        from molq.core._sched._pbs_outcome import confirm_success

        [obs] = parse_status(fixture("openpbs_qstat_xf_qdel_while_starting.txt")).values()
        assert (obs.state, obs.exit_code) == (S.SUCCEEDED, 0)
        assert confirm_success(obs, None).state is S.CANCELLED
        assert confirm_success(obs, "0\n") is obs
