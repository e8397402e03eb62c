"""A job writing into its own job dir cannot speak for another job (local probe, context probe)."""

from __future__ import annotations

import subprocess

from molq.core._sched._local import PROBE_SCRIPT, parse_probe


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
