"""Every status parser fed mangled real output: truncated, reordered, localised, padded.

The starting points are the recorded outputs under tests/fixtures (real Slurm 22.05
and the PBS/LSF references) and a well-formed local probe reply. Hypothesis cuts,
shuffles, duplicates and pads them, swaps state words for other languages and adds
columns. The promises: nothing but ``SchedulerOutputError`` escapes; a terminal state
is reported only when the text states one for that job; unknown states stay raw.
"""

from __future__ import annotations

import contextlib
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from molq.core import JobState, SchedulerOutputError
from molq.core._sched import _local, _lsf, _lsf_parse, _pbs, _pbs_parse, _slurm_parse
from molq.core._sched._lsf_long import observe_long

from .conftest import sized


FIXTURES = Path(__file__).parent.parent / "fixtures"
EXAMPLES = sized("EXAMPLES", ci=150, soak=3000)
PROBE_DIRS = ["/j/a", "/j/b", "/j/c"]
PROBE = (
    "molq-probe\t1\t0 1795447431.5\t0\t4242\t0\t1795447430.1\t0\t0\n"
    "molq-probe\t2\t-\t-\t4243\t1\t1795447430.2\t0\t0\n"
    "molq-probe\t3\t137 1795447432.0\t-\t4244\t0\t-\t1\t1\n"
)
LOCALISED = {
    "COMPLETED": "ABGESCHLOSSEN",
    "FAILED": "ÉCHOUÉ",
    "RUNNING": "実行中",
    "PENDING": "EN_ATTENTE",
    "DONE": "FERTIG",
    "EXIT": "SALIDA",
    "RUN": "LÄUFT",
    "job_state = F": "job_state = Ф",
    "job_state = R": "job_state = \u0420",  # Cyrillic Er
}


def _texts(kind: str) -> list[str]:
    return [p.read_text() for p in sorted((FIXTURES / kind).glob("*.txt"))]


def _localise(text: str) -> str:
    for word, other in LOCALISED.items():
        text = text.replace(word, other)
    return text


@st.composite
def mangled(draw: st.DrawFn, sources: list[str]) -> str:
    """A real output, damaged in a few of the ways networks, locales and versions do."""
    lines = draw(st.sampled_from(sources)).splitlines(keepends=True)
    for _ in range(draw(st.integers(0, 4))):
        op = draw(
            st.sampled_from(["truncate", "shuffle", "dup", "junk", "column", "localise", "empty", "crlf"])
        )
        if op == "shuffle":
            lines = draw(st.permutations(lines))
        elif op == "dup" and lines:
            lines = [*lines, draw(st.sampled_from(lines))]
        elif op == "junk":
            junk = draw(st.text(max_size=60)) + "\n"
            lines.insert(draw(st.integers(0, len(lines))), junk)
        elif op == "column":
            extra = draw(st.sampled_from(["|x", "|", "\tx", " extra", "|COMPLETED", "|0:0"]))
            lines = [line.rstrip("\n") + extra + "\n" for line in lines]
        elif op == "localise":
            lines = [_localise(line) for line in lines]
        elif op == "empty":
            lines = []
        elif op == "crlf":
            lines = [line.replace("\n", "\r\n") for line in lines]
        text = "".join(lines)
        if op == "truncate":
            text = text[: draw(st.integers(0, len(text)))]
        lines = text.splitlines(keepends=True)
    return "".join(lines)


def _terminal(obs: object) -> bool:
    state = getattr(obs, "state", None)
    return state is not None and state.is_terminal


SLURM_TERMINAL = {native for native, state in _slurm_parse.SLURM_STATES.items() if state.is_terminal}


def _slurm_line_states(text: str, job_id: str) -> set[str]:
    words: set[str] = set()
    for line in text.splitlines():
        if line.lstrip().startswith((job_id, f"JobId={job_id}")) or "JobState=" in line:
            words |= {w for w in SLURM_TERMINAL if w in line}
    return words


@settings(max_examples=EXAMPLES)
@given(text=mangled(_texts("slurm")))
def test_slurm_parsers_on_mangled_output(text):
    """squeue/sacct/scontrol/queue/sbatch: only typed errors; terminal only if the job's line says so."""
    for parse in (_slurm_parse.parse_squeue, _slurm_parse.parse_sacct):
        for job_id, obs in parse(text).items():
            if _terminal(obs):
                base = job_id.split("_")[0]
                assert _slurm_line_states(text, base), (job_id, obs, text)
            if obs.state is None and obs.raw_state:  # unknown states are kept raw (arrays: joined)
                assert all(part in text for part in obs.raw_state.split(","))
    scontrol = _slurm_parse.parse_scontrol_show_job(text)
    assert scontrol is None or not _terminal(scontrol) or "JobState=" in text
    for entry in _slurm_parse.parse_queue(text):
        assert entry.raw_state in text
    with contextlib.suppress(SchedulerOutputError):
        assert _slurm_parse.parse_sbatch_output(text) in text


@settings(max_examples=EXAMPLES)
@given(text=mangled(_texts("pbs")))
def test_pbs_parsers_on_mangled_output(text):
    """qstat -f / qsub: only SchedulerOutputError; terminal only with job_state F, X or C."""
    with contextlib.suppress(SchedulerOutputError):
        for obs in _pbs_parse.parse_status(text).values():
            if _terminal(obs):
                assert f"job_state = {obs.raw_state}" in text
            elif obs.state is None:
                assert obs.raw_state is None or obs.raw_state in text
    with contextlib.suppress(SchedulerOutputError):
        _pbs_parse.parse_queue(text)
    with contextlib.suppress(SchedulerOutputError):
        assert _pbs.parse_qsub_output(text) in text


@settings(max_examples=EXAMPLES)
@given(text=mangled(_texts("lsf")))
def test_lsf_parsers_on_mangled_output(text):
    """bjobs -o, bjobs -l / bhist -l, bsub: only SchedulerOutputError; terminal only with an end in the text."""
    with contextlib.suppress(SchedulerOutputError):
        for obs in _lsf_parse.parse_status(text).values():
            if _terminal(obs):
                assert set(obs.raw_state.split(",")) <= {"DONE", "EXIT"}
                assert "DONE" in text or "EXIT" in text
    with contextlib.suppress(SchedulerOutputError):
        _lsf_parse.parse_queue(text)
    with contextlib.suppress(SchedulerOutputError):
        _lsf.parse_bsub_output(text)
    with contextlib.suppress(SchedulerOutputError):  # OpenLava's bjobs -l / bhist -l (ADR 0020)
        for obs in observe_long(text).values():
            if _terminal(obs):
                assert any(word in text for word in ("DONE", "EXIT", "Done successfully", "Exited", "never satisfied"))


@settings(max_examples=EXAMPLES)
@given(text=mangled([PROBE]))
def test_local_probe_on_mangled_output(text):
    """The local probe: never raises; a terminal state needs a whole line for that job dir."""
    observed = _local.parse_probe(text, PROBE_DIRS)
    assert set(observed) == set(PROBE_DIRS)
    for index, job_dir in enumerate(PROBE_DIRS, start=1):
        obs = observed[job_dir]
        if obs.state is not None:
            lines = [line.rstrip("\r").split("\t") for line in text.splitlines()]
            assert any(len(f) == 9 and f[0] == "molq-probe" and f[1] == str(index) for f in lines), text


@pytest.mark.parametrize(
    ("parse", "text", "raw"),
    [
        (_slurm_parse.parse_squeue, "7|HIBERNATING|1795447431|N/A|None\n", "HIBERNATING"),
        (_slurm_parse.parse_sacct, "7|ABGESCHLOSSEN|0:0|1795447431|1795447431\n", "ABGESCHLOSSEN"),
        (_pbs_parse.parse_status, "Job Id: 7.srv\n    job_state = Z\n", "Z"),
        (_lsf_parse.parse_status, "7|-|ZOMBI|-|-|u|q|n\n", "ZOMBI"),
    ],
)
def test_unknown_states_are_kept_raw_and_not_guessed(parse, text, raw):
    """A state word molq does not know is never terminal (Slurm: None; PBS/LSF: exists) and is kept."""
    (obs,) = {k: v for k, v in parse(text).items() if k.split(".")[0] == "7"}.values()
    assert obs.state in (None, JobState.SUBMITTED)
    assert obs.raw_state == raw
