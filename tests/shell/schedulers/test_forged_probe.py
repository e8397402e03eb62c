"""A job writing into its own job dir cannot speak for another job (local probe, context probe)."""

from __future__ import annotations

import subprocess

from hypothesis import given, settings
from hypothesis import strategies as st

from molq.core._context import LOG_FILE, RESULT_FILE, parse_context_probe
from molq.core._sched._local import PROBE_SCRIPT, parse_probe
from molq.shell._job_context import PROBE_SCRIPT as CONTEXT_PROBE


def _probe(*dirs: str) -> str:
    done = subprocess.run(["sh", "-c", PROBE_SCRIPT, "molq-probe", *dirs], capture_output=True, check=True)
    return done.stdout.decode()


def test_exit_code_file_cannot_forge_another_jobs_probe_line(tmp_path):
    """A later job's files holding a whole probe line for job 1 change nothing for job 1."""
    mine, other = tmp_path / "mine", tmp_path / "other"
    mine.mkdir()
    other.mkdir()
    # the probe prints wrapper.pid, alive, start, timed_out, cancelled after it: 9 fields
    forged = "0\nmolq-probe\t1\t0 1795447431.5\t0"
    (mine / "exit_code").write_text(forged)
    seen = parse_probe(_probe(str(other), str(mine)), [str(other), str(mine)])
    assert seen[str(other)].state is None


marker_heavy_text = st.lists(
    st.one_of(
        st.sampled_from(["@@molq-context-dir 1", "@@molq-context-dir 2", "@@molq-context-file result.json",
                         "@@molq-context-end@@", "|", "x", "\n", "\v", "\r", "\u2028", "{\"seq\": 9, \"data\": 1}"]),
        st.text(st.characters(blacklist_characters="\0", blacklist_categories=("Cs",)), max_size=8),
    ),
    max_size=12,
).map("".join)


@settings(max_examples=40, deadline=None)
@given(log=marker_heavy_text, result=marker_heavy_text)
def test_context_probe_returns_each_file_exactly_and_only_for_its_job(tmp_path_factory, log, result):
    """Whatever a job writes, the probe gives back exactly its own files and nothing for the other job."""
    root = tmp_path_factory.mktemp("probe")
    writer, quiet = root / "writer", root / "quiet"
    writer.mkdir()
    quiet.mkdir()
    (writer / LOG_FILE).write_text(log)
    (writer / RESULT_FILE).write_text(result)
    argv = ["sh", "-c", CONTEXT_PROBE, "molq-context", str(quiet), "1", str(writer), "1"]
    found = parse_context_probe(subprocess.run(argv, capture_output=True, check=True).stdout.decode())
    assert found == {"1": {}, "2": {LOG_FILE: log, RESULT_FILE: result}}
