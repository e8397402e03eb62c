"""OpenLava's long output (``bjobs -l -UF``, ``bhist -l``) and LSF dialect detection, on real captures."""

from __future__ import annotations

from pathlib import Path

import pytest

from molq.core import JobState, Observation, SchedulerOutputError
from molq.core._sched._lsf_dialect import (
    adopt_from_rows,
    detect_dialect,
    history_argv,
    queue_argv,
    status_argv,
)
from molq.core._sched._lsf_long import (
    adopt_from_long,
    after_cancel_request,
    long_queue,
    needs_history,
    never_satisfied,
    observe_long,
    parse_long,
    unwrap,
)
from molq.core._sched._lsf_parse import bkill_outcome, parse_bjobs_errors


FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "lsf"


def capture(name: str) -> str:
    """A captured output without its ``# captured from ...`` first line."""
    text = (FIXTURES / name).read_text()
    first, _, rest = text.partition("\n")
    assert first.startswith("# captured from OpenLava 4.0"), name
    return rest


@pytest.fixture(scope="module")
def mixed():
    return observe_long(capture("openlava_bjobs_l_mixed.txt"))


class TestBjobsLong:
    @pytest.mark.parametrize(
        ("job", "state", "code"),
        [
            ("112", JobState.SUCCEEDED, 0),
            ("123", JobState.FAILED, 3),
            ("109", JobState.FAILED, 1),
            ("108", JobState.TIMED_OUT, 140),
            ("111", JobState.CANCELLED, None),
            ("122", JobState.RUNNING, None),
        ],
    )
    def test_states_and_exit_codes(self, mixed, job, state, code):
        """DONE, exit codes, the run limit (140) and a job killed while pending, as OpenLava prints them."""
        assert (mixed[job].state, mixed[job].exit_code) == (state, code)

    def test_bkill_of_running_job_needs_history(self):
        """bjobs alone shows a bkill as exit 130 (or another code), which a script can also return: bhist must tell."""
        records = {r.key: r for r in parse_long(capture("openlava_bjobs_l_mixed.txt"))}
        assert needs_history(records["107"])
        assert {r.job_id for r in records.values() if needs_history(r)} == {"105", "107", "108", "109", "111", "123"}
        assert observe_long(capture("openlava_bjobs_l_mixed.txt"))["107"].state is JobState.FAILED

    def test_never_satisfied_dependency_is_cancelled_with_the_reason(self, mixed):
        """PEND with "Dependency condition invalid or never satisfied" can never run: CANCELLED, reason kept."""
        for job in ("110", "119"):
            assert mixed[job].state is JobState.CANCELLED
            assert "Dependency condition invalid or never satisfied" in mixed[job].reason
        assert never_satisfied(capture("openlava_bjobs_l_mixed.txt")) == ["110", "119[1]", "119[2]", "119[3]"]

    def test_arrays_fold_their_elements(self, mixed):
        """105[1..3] (one exited 1) is one FAILED job; 121[1..2] running is RUNNING."""
        assert (mixed["105"].state, mixed["105"].exit_code) == (JobState.FAILED, 1)
        assert "array of 3" in mixed["105"].reason
        assert mixed["121"].state is JobState.RUNNING

    def test_a_job_without_a_name(self):
        """A script without -J has no Job Name field; it still parses, with its output file."""
        [record] = parse_long(capture("openlava_bjobs_l_no_name.txt"))
        assert (record.job_id, record.name, record.stat) == ("137", "", "DONE")
        assert record.output_file == "/tmp/lsfx/noname.out"

    def test_not_found_is_absent_not_an_error(self):
        """``Job <N> is not found`` (rc 255) leaves the id out; the rest is read."""
        text = capture("openlava_bjobs_l_not_found.txt")
        assert set(observe_long(text)) == {"112"}
        unknown, other = parse_bjobs_errors("Job <999999> is not found\n")
        assert (unknown, other) == (frozenset({"999999"}), ())

    def test_queue_lists_elements(self):
        """Queue entries keep array elements apart, with name, user and queue."""
        entries = {e.scheduler_job_id: e for e in long_queue(capture("openlava_bjobs_l_mixed.txt"))}
        assert entries["121[2]"].state is JobState.RUNNING
        assert (entries["122"].name, entries["122"].user, entries["122"].partition) == ("run1", "root", "normal")

    def test_adoption_finds_the_job_by_its_output_file(self):
        """An interrupted submission is found by the LSF output file in its job dir."""
        text = capture("openlava_bjobs_l_no_name.txt")
        assert adopt_from_long(text, "/tmp/lsfx/noname.out") == "137"
        assert adopt_from_long(text, "/tmp/elsewhere") is None

    def test_garbage_is_scheduler_output_error(self):
        """Text that is no long output raises SchedulerOutputError."""
        with pytest.raises(SchedulerOutputError):
            parse_long("5301|0|DONE|-|-|alice|normal|prep\n")


@pytest.mark.parametrize(
    ("code", "state"),
    [(130, JobState.CANCELLED), (143, JobState.CANCELLED), (None, JobState.CANCELLED), (3, JobState.FAILED)],
)
def test_cancel_marker_turns_only_kill_exits_into_cancelled(code, state):
    """With molq's cancel request on record, an exit by SIGINT/SIGTERM/SIGKILL or with no code is CANCELLED; exit 3 is not."""
    assert after_cancel_request(Observation(JobState.FAILED, "EXIT", code)).state is state


class TestBhist:
    def test_wrapped_lines_are_joined_without_spaces(self):
        """bhist wraps at 80 columns, mid-word; continuation lines join back exactly."""
        lines = unwrap(capture("openlava_bhist_l.txt"))
        assert "Job Id <107>, Job Name <sl>, User <root>, Project <default>, Command <sleep 300>" in lines

    @pytest.mark.parametrize(
        ("job", "state", "code"),
        [
            ("107", JobState.CANCELLED, 130),
            ("111", JobState.CANCELLED, None),
            ("112", JobState.SUCCEEDED, 0),
            ("108", JobState.TIMED_OUT, 140),
        ],
    )
    def test_history_tells_a_bkill_from_an_exit(self, job, state, code):
        """"Signal <KILL> requested by user or administrator" makes an exit CANCELLED."""
        seen = observe_long(capture("openlava_bhist_l.txt"))
        assert (seen[job].state, seen[job].exit_code) == (state, code)

    def test_history_of_an_unknown_id_is_empty(self):
        """bhist's "No matching job found" (stdout, rc 255) is no job and no error."""
        text = capture("openlava_bhist_unknown.txt")
        assert observe_long(text) == {}
        assert parse_bjobs_errors(text) == (frozenset(), ())

    def test_history_of_an_array(self):
        """bhist lists the elements of an array; they fold like bjobs'."""
        seen = observe_long(capture("openlava_bhist_l_array.txt"))
        assert (seen["105"].state, seen["105"].exit_code) == (JobState.FAILED, 1)


class TestDialect:
    @pytest.mark.parametrize(
        ("banner", "dialect"),
        [
            (capture("openlava_bjobs_V.txt"), "openlava"),
            # IBM Spectrum LSF 10.1 command reference, "lsid" / "-V" examples:
            ("IBM Spectrum LSF 10.1.0.0 build 403338, May 27 2016\nCopyright IBM Corp. 1992, 2016.", "ibm"),
            ("IBM Platform LSF 9.1.3.0 build 238688, Jul 11 2014", "ibm"),
            ("Platform LSF 7.0.6.134609, Sep 04 2009", "openlava"),
            ("something else", "openlava"),
        ],
    )
    def test_detect(self, banner, dialect):
        """OpenLava and LSF before 9.1 read the long form; LSF 9.1+ has bjobs -o."""
        assert detect_dialect(banner) == dialect

    def test_one_status_command_whatever_the_number_of_jobs(self):
        """Ids go on the command line up to the limit; beyond it, the user's whole listing."""
        few = status_argv("openlava", ["1", "2"], ids_limit=2)
        many = status_argv("openlava", ["1", "2", "3"], ids_limit=2)
        assert few == ("bjobs", "-a", "-l", "-UF", "1", "2")
        assert many == ("bjobs", "-a", "-l", "-UF")
        assert status_argv("ibm", ["7"], ids_limit=5)[:4] == ("bjobs", "-a", "-noheader", "-o")
        assert history_argv(["7"]) == ("bhist", "-l", "7")
        assert queue_argv("openlava", None) == ("bjobs", "-l", "-UF", "-u", "all")

    def test_ibm_adoption_rows(self):
        """``bjobs -o "jobid output_file"`` rows find the job by its output file."""
        assert adopt_from_rows("12|/j/a/lsf.stdout\n13|/j/b/lsf.stdout\n", "/j/b/lsf.stdout") == "13"


def test_bkill_replies_captured_from_openlava():
    """bkill's replies: terminating, unknown id, already finished, and an array's "in progress" (rc 255)."""
    lines = capture("openlava_bkill.txt").splitlines()
    assert [bkill_outcome(255, line) for line in lines] == ["terminating", "unknown", "finished", "terminating"]


def test_scheduler_down_messages_are_errors_not_unknown_ids():
    """"Connection refused by server" is a real error, never "not in the queue"."""
    unknown, other = parse_bjobs_errors(capture("openlava_mbatchd_down.txt"))
    assert unknown == frozenset()
    assert other
    assert bkill_outcome(255, "Job <1>: Connection refused by server") == "error"
