"""End to end: dry runs, --help everywhere, and one-line errors for user mistakes."""

from __future__ import annotations

import sqlite3

import pytest

from molq import Cluster, JobStore, Submitor


COMMANDS = [
    ("submit",),
    ("list",),
    ("status",),
    ("inspect",),
    ("history",),
    ("cancel",),
    ("watch",),
    ("logs",),
    ("cleanup",),
    ("daemon",),
    ("clusters",),
    ("clusters", "list"),
    ("clusters", "show"),
    ("workspace",),
    ("workspace", "sync"),
    ("workspace", "list"),
    ("monitor",),
    ("replay",),
]


@pytest.mark.parametrize("command", COMMANDS, ids=" ".join)
def test_every_command_has_help(molq, command):
    """``--help`` works on every command and names its usage."""
    result = molq(*command, "--help")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith(f"Usage: molq {' '.join(command)}")


def test_dry_run_prints_command_and_script_and_records_nothing(molq, cli_env):
    """--dry-run shows the exact command, details and script; the store stays empty."""
    result = molq("submit", "local", "--dry-run", "--name", "dry", "--", "echo", "hello world")
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert out.startswith("Dry run: nothing was submitted or recorded.\ncommand: ")
    assert "job_dir: " in out
    assert "--- script " in out
    assert "echo 'hello world'" in out
    assert "No jobs" in molq("list", "--all").stdout
    with sqlite3.connect(cli_env["MOLQ_STORE"]) as conn:
        assert conn.execute("SELECT COUNT(*) FROM events").fetchone()[0] == 0


@pytest.mark.parametrize(
    ("argv", "code", "fragment"),
    [
        (("submit", "nope", "--", "true"), 2, "'nope' is not one of"),
        (("submit", "local"), 2, "Missing argument 'COMMAND...'"),
        (("submit", "local", "--cpus", "0", "--", "true"), 2, "--cpus"),
        (("submit", "local", "--mem", "4Q", "--", "true"), 2, "Unknown memory unit 'Q' in '4Q'"),
        (("submit", "local", "--time", "soon", "--", "true"), 2, "soon"),
        (("submit", "local", "--partition", "gpu", "--", "true"), 1, "does not support scheduling.partition"),
        (("submit", "local", "--retry-on-exit-code", "3", "--", "true"), 2, "needs --retries"),
        (("submit", "local", "--after-success", "abc", "--", "true"), 1, "no job matches 'abc'"),
        (("submit", "local", "--profile", "missing", "--", "true"), 1, "no profile 'missing'"),
        (("list", "--bogus"), 2, "No such option '--bogus'."),
        (("status", "0123abcd"), 1, "no job matches '0123abcd'"),
        (("logs", "0123abcd", "local"), 1, "no job matches '0123abcd' in scheduler 'local'"),
        (("watch",), 2, "give either a JOB_ID or --all"),
        (("clusters", "show", "mars"), 1, "no cluster named 'mars'"),
        (("monitor", "--refresh", "0"), 2, "--refresh"),
    ],
)
def test_user_mistakes_are_one_line_errors(molq, error_line, argv, code, fragment):
    """Bad input exits 2 (usage) or 1 (molq refused) with one ``molq: error:`` line."""
    result = molq(*argv)
    assert result.returncode == code, (result.stdout, result.stderr)
    assert fragment in error_line(result)


def test_unknown_and_ambiguous_prefixes(molq, error_line, cli_env):
    """A prefix matching two jobs is ambiguous; the full id still works."""
    store = JobStore(cli_env["MOLQ_STORE"])
    submitor = Submitor(Cluster("local", "local"), store=store)
    seen: dict[str, str] = {}
    while True:
        handle = submitor.submit_job(argv=["true"])
        first = handle.job_id[0]
        if first in seen:
            break
        seen[first] = handle.job_id
    submitor.watch_jobs(None, timeout=60)
    store.close()
    result = molq("inspect", first)
    assert result.returncode == 1
    line = error_line(result)
    assert f"job id prefix '{first}' is ambiguous" in line
    assert seen[first][:12] in line
    assert molq("inspect", handle.job_id).returncode == 0
    assert molq("status", handle.job_id, "slurm").returncode == 1


def test_unreadable_store_is_one_line(molq, error_line, tmp_path):
    """A --db that is not a molq database gives one clear line, no traceback."""
    junk = tmp_path / "junk.db"
    junk.write_bytes(b"this is not sqlite" * 100)
    result = molq("list", "--db", str(junk))
    assert result.returncode == 1
    assert "junk.db" in error_line(result)
