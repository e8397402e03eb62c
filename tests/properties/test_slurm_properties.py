"""Properties of the SLURM renderer and parsers.

Round trips: directive values read back (as sbatch tokenises them, checked on Slurm
22.05.8) give what was rendered; squeue/sacct rows parse back to their fields.
Robustness: parsers fed any text raise nothing but SchedulerOutputError and report
no terminal state unless the text names a native state that means it.
"""

from __future__ import annotations

import attrs
from hypothesis import given
from hypothesis import strategies as st

from molq.core import (
    Duration,
    JobExecution,
    JobResources,
    JobSpec,
    JobState,
    Memory,
    Observation,
    SchedulerOutputError,
)
from molq.core._sched._slurm import slurm_directives
from molq.core._sched._slurm_parse import (
    SLURM_STATES,
    parse_exit_code,
    parse_queue,
    parse_sacct,
    parse_sbatch_output,
    parse_scontrol_show_job,
    parse_squeue,
    slurm_state,
)


NATIVES = sorted(SLURM_STATES)
TOKENS = {
    state: {native for native, mapped in SLURM_STATES.items() if mapped is state}
    for state in JobState
}
BASE = JobSpec(command_type="argv", argv=("true",), cwd="/w")

no_breaks = st.text(st.characters(exclude_characters="\n\r\0"))
job_ids = st.from_regex(r"\A[0-9]{1,7}(_[0-9]{1,3}|_\[[0-9]-[0-9]{1,2}\])?\Z")
epochs = st.integers(min_value=1, max_value=4_000_000_000)
fields = st.one_of(
    st.sampled_from(NATIVES),
    st.sampled_from(["N/A", "Unknown", "None", "0:0", "3:0", "0:15", "", "(null)"]),
    job_ids,
    epochs.map(str),
    st.text(max_size=8),
)
pipe_lines = st.lists(fields, min_size=1, max_size=8).map("|".join)
slurmish = st.lists(pipe_lines, max_size=6).map("\n".join)
texts = st.one_of(st.text(), slurmish)
scontrol_lines = st.one_of(
    fields.map(lambda f: f"   JobState={f} Reason=None"),
    fields.map(lambda f: f"   Requeue=1 ExitCode={f}"),
    st.tuples(fields, fields).map(lambda p: f"   StartTime={p[0]} EndTime={p[1]}"),
    st.text(max_size=30),
)
scontrol_texts = st.lists(
    st.tuples(job_ids, st.lists(scontrol_lines, max_size=5)).map(
        lambda r: "\n".join([f"JobId={r[0]} JobName=x", *r[1]])
    ),
    max_size=4,
).map("\n\n".join)


def sbatch_tokens(line: str) -> list[str]:
    """Split a directive's arguments the way sbatch does: "..." groups, \\ escapes."""
    tokens: list[str] = []
    current: list[str] = []
    quoted = escaped = started = False
    for char in line:
        if escaped:
            current.append(char)
            escaped = False
        elif char == "\\":
            escaped = started = True
        elif char == '"':
            quoted = not quoted
            started = True
        elif char.isspace() and not quoted:
            if started:
                tokens.append("".join(current))
                current, started = [], False
        else:
            current.append(char)
            started = True
    if started:
        tokens.append("".join(current))
    return tokens


def justified(state: JobState | None, text: str) -> bool:
    """A terminal state may only come from text naming one of its native states."""
    if state is None or not state.is_terminal:
        return True
    return any(token in text for token in TOKENS[state])


class TestRoundTrips:
    @given(name=no_breaks, cwd=no_breaks)
    def test_directive_values_read_back_whole(self, name, cwd):
        """Any value without a line break is read back by sbatch as one argument."""
        spec = attrs.evolve(
            BASE, execution=JobExecution(job_name=name or None), cwd=cwd
        )
        got = slurm_directives(spec, "/j/d")
        assert sbatch_tokens(got[0]) == [f"--job-name={name or 'molq-d'}"]
        assert sbatch_tokens(got[3]) == [f"--chdir={cwd}"]

    @given(st.integers(min_value=1, max_value=2**50))
    def test_memory_reads_back_at_least_as_large(self, n_bytes):
        """--mem reads back as the request rounded up to a whole MiB."""
        spec = attrs.evolve(BASE, resources=JobResources(memory=Memory(n_bytes)))
        (mem,) = [d for d in slurm_directives(spec, "/j") if d.startswith("--mem=")]
        back = Memory.parse(mem.removeprefix("--mem=")).n_bytes
        assert n_bytes <= back < n_bytes + 1024**2

    @given(st.integers(min_value=1, max_value=10**9))
    def test_time_reads_back_exactly(self, seconds):
        """--time reads back as the same number of seconds."""
        spec = attrs.evolve(BASE, resources=JobResources(time_limit=Duration(seconds)))
        (limit,) = [d for d in slurm_directives(spec, "/j") if d.startswith("--time=")]
        assert Duration.parse(limit.removeprefix("--time=")).seconds == seconds

    @given(
        job_id=st.from_regex(r"\A[0-9]{1,9}\Z"),
        native=st.sampled_from(NATIVES),
        times=st.tuples(epochs, epochs),
        status=st.tuples(st.integers(0, 255), st.integers(0, 64)),
    )
    def test_sacct_row(self, job_id, native, times, status):
        """A sacct row parses back to its state, exit status and times."""
        (start, end), (code, signal) = times, status
        row = f"{job_id}|{native}|{code}:{signal}|{start}|{end}\n"
        obs = parse_sacct(row)[job_id]
        state = SLURM_STATES[native]
        assert obs.state is state
        assert obs.raw_state == native
        ended = state.is_terminal
        assert obs.exit_code == ((128 + signal if signal else code) if ended else None)
        assert obs.finished_at == (float(end) if ended else None)
        assert obs.started_at == (None if state is JobState.QUEUED else float(start))

    @given(job_id=job_ids, native=st.sampled_from(NATIVES), start=epochs)
    def test_squeue_row(self, job_id, native, start):
        """A squeue row parses back under its id (and an array's base id)."""
        obs = parse_squeue(f"{job_id}|{native}|{start}|N/A|None\n")
        assert obs[job_id].state is SLURM_STATES[native]
        assert obs[job_id.split("_")[0]].state is SLURM_STATES[native]

    @given(code=st.integers(0, 255), signal=st.integers(0, 255))
    def test_exit_code(self, code, signal):
        """exit:signal is the exit code, or 128 + signal when killed."""
        assert parse_exit_code(f"{code}:{signal}") == (128 + signal if signal else code)


class TestRobustness:
    @given(texts)
    def test_squeue_and_sacct(self, text):
        """Any text parses to observations whose terminal states the text names."""
        for parse in (parse_squeue, parse_sacct):
            for obs in parse(text).values():
                assert isinstance(obs, Observation)
                assert justified(obs.state, text)

    @given(st.one_of(scontrol_texts, st.text()))
    def test_scontrol(self, text):
        """scontrol text yields None or an Observation the text justifies."""
        obs = parse_scontrol_show_job(text)
        assert obs is None or justified(obs.state, text)

    @given(texts)
    def test_queue(self, text):
        """Queue rows carry only states the text names."""
        for entry in parse_queue(text):
            assert justified(entry.state, text)
            assert entry.raw_state in text

    @given(st.one_of(texts, st.from_regex(r"\A\s*[0-9]{1,9}(;[a-z]{1,5})?\s*\Z")))
    def test_sbatch(self, text):
        """sbatch output gives a number that is in the text, or SchedulerOutputError."""
        try:
            job_id = parse_sbatch_output(text)
        except SchedulerOutputError:
            return
        assert job_id.isdigit()
        assert job_id in text

    @given(texts)
    def test_state(self, text):
        """slurm_state never makes a terminal state out of text lacking its token."""
        assert justified(slurm_state(text), text)
