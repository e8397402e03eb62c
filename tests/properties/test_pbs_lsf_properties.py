"""PBS and LSF parsers on arbitrary and on well-formed generated text."""

from __future__ import annotations

import contextlib

import pytest
from hypothesis import given
from hypothesis import strategies as st

from molq.core import ConfigError, JobScheduling, JobSpec, SchedulerOutputError
from molq.core._sched import _lsf, _lsf_long, _lsf_parse, _pbs, _pbs_parse
from molq.core._sched._batch import parse_exit_code_file


PARSERS = [
    _pbs.parse_qsub_output,
    _pbs_parse.parse_status,
    _pbs_parse.parse_queue,
    _lsf.parse_bsub_output,
    _lsf_parse.parse_status,
    _lsf_parse.parse_queue,
    _lsf_long.observe_long,
    _lsf_long.long_queue,
    _lsf_long.never_satisfied,
    parse_exit_code_file,
]
line_text = st.text(st.characters(blacklist_categories=("Cs",)), max_size=400)
pbs_like = st.lists(
    st.one_of(
        st.builds("Job Id: {}".format, st.text(min_size=1, max_size=8)),
        st.builds(
            "    {} = {}".format,
            st.sampled_from(
                ["job_state", "Exit_status", "exit_status", "substate", "x"]
            ),
            st.text(max_size=6),
        ),
        st.builds("\t{}".format, st.text(max_size=10)),
        line_text,
    ),
    max_size=12,
).map("\n".join)
lsf_like = st.lists(
    st.lists(
        st.one_of(
            st.sampled_from(
                ["1", "0", "-", "DONE", "EXIT", "RUN", "TERM_RUNLIMIT", "140"]
            ),
            st.text(max_size=5),
        ),
        max_size=10,
    ).map("|".join),
    max_size=6,
).map("\n".join)


lsf_long_like = st.lists(
    st.one_of(
        st.builds("Job <{}>, User <{}>, Status <{}>, {}".format, st.text(max_size=4), st.text(max_size=4),
                  st.sampled_from(["PEND", "RUN", "EXIT", "DONE", "x"]), st.text(max_size=8)),
        st.builds("Wed Dec  2 10:59:22: {}".format, st.sampled_from(
            ["Exited with exit code 130.", "Exited", "Done successfully.", "Signal <KILL> requested by user or administrator <r>;", "Started on <h>"]
        )),
        st.sampled_from([" PENDING REASONS:", " Dependency condition invalid or never satisfied: 1 host;", " RUNLIMIT", "-" * 20]),
        line_text,
    ),
    max_size=12,
).map("\n".join)


@pytest.mark.parametrize("parse", PARSERS)
@given(text=st.one_of(line_text, pbs_like, lsf_like, lsf_long_like))
def test_parsers_raise_only_scheduler_output_error(parse, text):
    """Arbitrary text either parses or raises SchedulerOutputError, nothing else."""
    with contextlib.suppress(SchedulerOutputError):
        parse(text)


@given(text=st.one_of(line_text, pbs_like))
def test_pbs_terminal_only_when_text_says_finished(text):
    """A terminal observation needs job_state F, X or C in the text."""
    try:
        seen = _pbs_parse.parse_status(text)
    except SchedulerOutputError:
        return
    for obs in seen.values():
        if obs.state is not None and obs.state.is_terminal:
            assert obs.raw_state in {"F", "X", "C"}
            assert f"job_state = {obs.raw_state}" in text


@given(text=st.one_of(line_text, lsf_like))
def test_lsf_terminal_only_when_text_says_done_or_exit(text):
    """A terminal observation needs every element of the job to be DONE or EXIT."""
    try:
        seen = _lsf_parse.parse_status(text)
    except SchedulerOutputError:
        return
    for obs in seen.values():
        if obs.state is not None and obs.state.is_terminal:
            assert set(obs.raw_state.split(",")) <= {"DONE", "EXIT"}


@given(text=line_text)
def test_error_classifiers_never_raise(text):
    """stderr classifiers accept any text."""
    _pbs_parse.parse_qstat_errors(text)
    _lsf_parse.parse_bjobs_errors(text)
    assert _pbs_parse.qdel_outcome(0, text) in {"deleted", "finished", "unknown"}
    assert _lsf_parse.bkill_outcome(1, text) in {
        "terminating",
        "finished",
        "unknown",
        "error",
    }


@given(
    letter=st.sampled_from("QHWTRBESUFXCMZ"),
    code=st.integers(-40, 400),
    job=st.integers(1, 10**6),
)
def test_pbs_generated_blocks_round_trip(letter, code, job):
    """A well-formed qstat -f block parses back to its id and raw state."""
    text = f"Job Id: {job}.srv\n    job_state = {letter}\n    Exit_status = {code}\n"
    obs = _pbs_parse.parse_status(text)[f"{job}.srv"]
    assert obs.raw_state == letter
    assert (obs.state is not None and obs.state.is_terminal) == (letter in "FXC")


@given(value=st.text(max_size=30))
def test_render_never_lets_a_value_break_out_of_its_directive(value):
    """Any partition either is refused or stays inside exactly one directive line."""
    spec = JobSpec(
        command_type="command",
        command="true",
        scheduling=JobScheduling(partition=value, account=value),
    )
    for render, prefix in (
        (_pbs.render_pbs_script, "#PBS"),
        (_lsf.render_lsf_script, "#BSUB"),
    ):
        try:
            script = render(spec, "/jobs/x")
        except ConfigError:
            continue
        base = render(
            JobSpec(
                command_type="command",
                command="true",
                scheduling=JobScheduling(partition="p", account="a"),
            ),
            "/jobs/x",
        )
        assert script.count(f"\n{prefix} ") == base.count(f"\n{prefix} ")
