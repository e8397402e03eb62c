"""Machine-readable output (--json, --format tsv) and piped/terminal job tables of the real CLI."""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from molq import JobStore
from molq.core import JobSpec
from molq.core._events import JobCreated, JobSubmitted


JOB_FIELDS = [
    "job_id",
    "root_job_id",
    "attempt",
    "name",
    "cluster",
    "scheduler",
    "scheduler_job_id",
    "state",
    "exit_code",
    "failure_reason",
    "command",
    "cwd",
    "created_at",
    "submitted_at",
    "started_at",
    "finished_at",
    "runtime_seconds",
    "job_dir",
    "stdout_path",
    "stderr_path",
    "previous_attempt_job_id",
    "next_attempt_job_id",
    "archived",
    "tasks",
]
GUIDE = Path(__file__).parents[2] / "docs" / "guide" / "cli.md"
BOX = re.compile("[┏┃┡│└━─]")


@pytest.fixture
def finished(molq) -> str:
    """A job that ran ``printf`` and succeeded, named ``greet`` (whose name holds an ESC)."""
    done = molq("submit", "local", "-q", "--name", "gr\x1beet", "--block", "--", "printf", "a\tb")
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def _json(result: subprocess.CompletedProcess[str]) -> object:
    assert result.returncode == 0, result.stderr
    assert "\x1b" not in result.stdout  # JSON escapes control characters; output is ASCII
    return json.loads(result.stdout)


@pytest.mark.parametrize("argv", [("list", "--all", "--json"), ("history", "--format", "json")])
def test_job_lists_are_one_json_array(molq, finished, argv):
    """list and history print one JSON array of job objects with the documented fields, raw strings."""
    jobs = _json(molq(*argv))
    assert [list(j) for j in jobs] == [JOB_FIELDS]
    job = jobs[0]
    assert job["job_id"] == finished
    assert job["name"] == "gr\x1beet"
    assert job["state"] == "succeeded"
    assert job["exit_code"] == 0
    assert job["command"] == "printf 'a\tb'"
    assert job["finished_at"].endswith("+00:00")


def test_empty_list_is_an_empty_array(molq):
    """No jobs: still one JSON document, and a TSV header."""
    assert _json(molq("list", "--json")) == []
    assert molq("list", "--format", "tsv").stdout == "\t".join(JOB_FIELDS) + "\n"


def test_status_inspect_and_watch_json(molq, finished):
    """status gives one job object, inspect a document with family/edges/timeline, watch an array."""
    status = _json(molq("status", finished[:8], "--json"))
    assert list(status) == JOB_FIELDS
    assert status["job_id"] == finished
    inspected = _json(molq("inspect", finished[:8], "--json"))
    assert list(inspected) == ["job", "sweep", "family", "upstream", "downstream", "timeline", "array", "usage"]
    assert inspected["array"] is None  # not an array job
    assert inspected["job"]["tasks"] is None
    assert [t["to"] for t in inspected["timeline"]][-1] == "succeeded"
    assert inspected["family"][0]["job_id"] == finished
    assert inspected["upstream"] == []
    watched = molq("watch", finished[:8], "--json")
    assert [j["job_id"] for j in _json(watched)] == [finished]


def test_tsv_is_a_header_and_one_line_per_job(molq, finished):
    """TSV: the field names, then one row whose tab and ESC are escaped (never a raw tab or ESC in a cell)."""
    result = molq("list", "--all", "--format", "tsv")
    assert result.returncode == 0
    header, row = result.stdout.splitlines()
    assert header.split("\t") == JOB_FIELDS
    cells = dict(zip(JOB_FIELDS, row.split("\t"), strict=True))
    assert cells["command"] == "printf 'a\\tb'"
    assert cells["name"] == "gr\\x1beet"
    assert cells["archived"] == "false"
    assert cells["previous_attempt_job_id"] == ""


def test_guide_documents_every_field():
    """docs/guide/cli.md lists every JSON field and every exit code."""
    text = GUIDE.read_text()
    for field in JOB_FIELDS:
        assert f"| `{field}` |" in text, field
    for code in ("124", "125", "130"):
        assert f"| {code} |" in text, code


def _store_with_command(home: Path, command: str) -> str:
    """A job whose recorded command is ``command`` (too long for any argv), straight into the store."""
    job_id = "f" * 32
    store = JobStore(home / ".molq" / "jobs.db")
    created = JobCreated(
        job_id=job_id,
        at=time.time() - 5,
        cluster_name="local",
        scheduler="local",
        root_job_id=job_id,
        spec=JobSpec("command", command=command),
    )
    submitted = JobSubmitted(job_id=job_id, at=time.time() - 4, scheduler_job_id="999999999")
    store.append(job_id, [created, submitted], expected_version=0, now=time.time())
    store.close()
    return job_id


def test_piped_list_is_one_line_per_job_with_full_ids(molq, cli_env):
    """Piped: a header and one line per job, the full id, no box drawing, a long command cut short."""
    job_id = _store_with_command(Path(cli_env["HOME"]), "python train.py " + "--flag value\n" * 500)
    result = molq("list", "--no-refresh", "--all")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert len(lines) == 2, result.stdout
    assert lines[1].startswith(job_id + "  ")
    assert not BOX.search(result.stdout)
    assert lines[1].endswith("...")
    assert len(lines[1]) < 250


def test_piped_history_is_one_line_per_job(molq, cli_env):
    """history piped: the same plain lines as list, full ids, no box drawing."""
    job_id = _store_with_command(Path(cli_env["HOME"]), "z" * 500)
    lines = molq("history").stdout.splitlines()
    assert len(lines) == 2
    assert lines[1].startswith(job_id + "  ")
    assert not BOX.search("".join(lines))


def test_ten_megabyte_command_prints_a_few_lines(molq, cli_env):
    """`molq list --limit 1` on a 10 MB command prints one short line, not 98,045."""
    _store_with_command(Path(cli_env["HOME"]), "x" * 10_000_000)
    result = molq("list", "--no-refresh", "--all", "--limit", "1")
    assert result.returncode == 0, result.stderr
    assert len(result.stdout) < 1000


TMUX = shutil.which("tmux")


@pytest.mark.skipif(TMUX is None, reason="tmux is not installed (apt-get install -y tmux)")
def test_terminal_table_cuts_a_long_command(cli_env, tmp_path):
    """In a real terminal the table keeps box drawing and a 10 MB command fits in a few lines."""
    _store_with_command(Path(cli_env["HOME"]), "y" * 10_000_000)
    socket = f"molq-out-{os.getpid()}-{time.monotonic_ns()}"
    base = [str(TMUX), "-L", socket]
    done = tmp_path / "done"
    env = " ".join(f"{k}={shlex.quote(cli_env[k])}" for k in ("HOME", "MOLQ_STORE", "MOLQ_CONFIG", "PATH"))
    command = (
        f"env -u COLUMNS -u LINES {env} {shlex.quote(sys.executable)} -m molq.cli list --no-refresh --all --limit 1; "
        f"touch {shlex.quote(str(done))}; sleep 30"
    )
    subprocess.run([*base, "new-session", "-d", "-x", "120", "-y", "40", "-s", "t", command], check=True)
    try:
        deadline = time.monotonic() + 30
        while not done.exists() and time.monotonic() < deadline:
            time.sleep(0.1)
        screen = subprocess.run(
            [*base, "capture-pane", "-p", "-t", "t"], capture_output=True, text=True, check=False
        ).stdout
    finally:
        subprocess.run([*base, "kill-server"], capture_output=True, check=False)
    assert done.exists(), screen
    rows = [line for line in screen.splitlines() if line.strip()]
    assert rows[0].startswith("┏"), screen
    assert len(rows) <= 8, screen
    assert "fffffffffff" in screen
