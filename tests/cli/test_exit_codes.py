"""The CLI's exit codes and its one-line errors, run in-process (``molq.cli.run``).

Scripts branch on these codes: 0 done/succeeded, 1 a molq error or a job that did not
succeed, 2 a usage mistake, 130 interrupted. The subprocess CLI tests cover the same
commands end to end; these run in the test process so mutation testing sees them.
"""

from __future__ import annotations

import pytest

from molq.cli import fail, run
from molq.cli._progress import _describe, report_final
from molq.core import JobSpec, JobState, MolqError, Observation, Observe, RecordSubmission, decide
from molq.core._events import JobCreated
from molq.shell.store._store import JobStore


def _record_in(store: JobStore, job_id: str, final: JobState | None, *, exit_code: int | None = None) -> None:
    """A local job created, submitted and (if ``final``) ended with ``final``."""
    created = JobCreated(
        job_id=job_id, at=1.0, cluster_name="local", scheduler="local", root_job_id=job_id,
        spec=JobSpec("argv", argv=("true",)),
    )
    store.append(job_id, [created], expected_version=0, now=1.0)
    record = store.get_record(job_id)
    store.append(job_id, decide(record, RecordSubmission("1"), now=2.0), expected_version=1, now=2.0)
    if final is not None:
        record = store.get_record(job_id)
        observed = Observe(Observation(final, exit_code=exit_code, reason="boom" if exit_code else None))
        events = decide(record, observed, now=3.0)
        store.append(job_id, events, expected_version=record.version, now=3.0)


@pytest.fixture
def cli_store(isolated_home):
    path = isolated_home / ".molq" / "jobs.db"
    path.parent.mkdir(parents=True, exist_ok=True)
    store = JobStore(path)
    yield store
    store.close()


class TestUsageMistakes:
    def test_unknown_command_exits_2_with_a_hint(self, capsys):
        """An unknown command is a usage error: exit 2, one line naming --help."""
        assert run(["frobnicate"]) == 2
        err = capsys.readouterr().err
        assert err.startswith("molq: error: ")
        assert "frobnicate" in err
        assert "(see 'molq --help')" in err
        assert err.count("\n") == 1

    def test_unknown_option_exits_2_naming_the_subcommand_help(self, capsys):
        """A bad option of a subcommand points at that subcommand's --help."""
        assert run(["list", "--no-such-flag"]) == 2
        err = capsys.readouterr().err
        assert "--no-such-flag" in err
        assert "(see 'molq list --help')" in err

    def test_watch_needs_a_job_or_all(self, capsys):
        """`molq watch` with neither a job nor --all is a usage error (2)."""
        assert run(["watch"]) == 2
        assert "give either a JOB_ID or --all" in capsys.readouterr().err

    def test_help_lists_commands_in_order_and_exits_0(self, capsys):
        """--help exits 0 and lists the commands sorted by name."""
        assert run(["--help"]) == 0
        out = capsys.readouterr().out
        commands = ["cancel", "cleanup", "clusters", "daemon", "history", "inspect", "list", "logs",
                    "monitor", "replay", "status", "submit", "sweep", "sweeps", "watch", "workspace"]
        positions = [out.index(f"  {name} ") for name in commands]
        assert positions == sorted(positions)

    def test_version_exits_0(self, capsys):
        """--version prints 'molq VERSION' and exits 0."""
        assert run(["--version"]) == 0
        assert capsys.readouterr().out.startswith("molq ")

    def test_each_listed_command_loads(self, capsys):
        """Every command --help lists can be run with --help (exit 0, its own usage line)."""
        for name in ("status", "sweeps", "logs", "daemon", "clusters"):
            assert run([name, "--help"]) == 0
            assert f"molq {name}" in capsys.readouterr().out


class TestMolqErrors:
    def test_unknown_job_exits_1_naming_it(self, cli_store, capsys):
        """A job id that matches nothing: exit 1 and a one-line error naming the id."""
        assert run(["status", "nosuchjob"]) == 1
        err = capsys.readouterr().err
        assert err == "molq: error: no job matches 'nosuchjob'\n"

    def test_ambiguous_prefix_exits_1_and_lists_matches(self, cli_store, capsys):
        """A prefix matching two jobs: exit 1, both ids shown, nothing chosen for the user."""
        _record_in(cli_store, "abc111", None)
        _record_in(cli_store, "abc222", None)
        assert run(["status", "abc"]) == 1
        err = capsys.readouterr().err
        assert "ambiguous" in err
        assert "2 jobs match" in err
        assert "abc111" in err
        assert "abc222" in err

    def test_exact_id_wins_over_a_longer_match(self, cli_store, capsys):
        """An id that is also a prefix of another job's id picks the exact job (exit 0)."""
        _record_in(cli_store, "abc", JobState.SUCCEEDED, exit_code=0)
        _record_in(cli_store, "abcdef", None)
        assert run(["status", "abc"]) == 0
        assert "abcdef" not in capsys.readouterr().out

    def test_unique_prefix_resolves(self, cli_store, capsys):
        """A unique prefix resolves to its job (exit 0)."""
        _record_in(cli_store, "xyz789", None)
        assert run(["status", "xyz"]) == 0
        assert "xyz789" in capsys.readouterr().out

    def test_empty_job_id_is_refused(self, cli_store, capsys):
        """A blank job id is an error (1), not 'the first job'."""
        _record_in(cli_store, "xyz789", None)
        assert run(["status", " "]) == 1
        assert "must not be empty" in capsys.readouterr().err

    def test_prefix_filtered_by_cluster_names_the_filter(self, cli_store, capsys):
        """With --cluster, a miss says which cluster was searched."""
        _record_in(cli_store, "xyz789", None)
        assert run(["status", "xyz", "--cluster", "elsewhere"]) == 1
        assert "no job matches 'xyz' in cluster 'elsewhere'" in capsys.readouterr().err


    def test_click_error_of_a_command_exits_1_on_one_line(self, cli_store, capsys):
        """A command's own refusal (logs of a job without a recorded log path) exits 1, one line."""
        _record_in(cli_store, "nolog", None)
        assert run(["logs", "nolog"]) == 1
        assert capsys.readouterr().err == "molq: error: job nolog has no recorded stdout path\n"


class TestJobOutcomes:
    def test_watch_of_a_succeeded_job_exits_0(self, cli_store, capsys):
        """`molq watch` exits 0 when the job succeeded."""
        _record_in(cli_store, "ok1", JobState.SUCCEEDED, exit_code=0)
        assert run(["watch", "ok1"]) == 0

    def test_watch_of_a_failed_job_exits_1(self, cli_store, capsys):
        """`molq watch` exits 1 when the job failed."""
        _record_in(cli_store, "bad1", JobState.FAILED, exit_code=3)
        assert run(["watch", "bad1"]) == 1

    @pytest.mark.parametrize(
        ("state", "expected"),
        [(JobState.SUCCEEDED, 0), (JobState.FAILED, 2), (JobState.CANCELLED, 130), (JobState.LOST, 125)],
    )
    def test_report_final_exit_code_follows_the_state(self, cli_store, capsys, state, expected):
        """`submit --block` exits with the job's own code, or the documented one for an end without it."""
        _record_in(cli_store, "j", state, exit_code=0 if state is JobState.SUCCEEDED else 2)
        assert report_final(cli_store.get_record("j")) == expected

    def test_report_final_line_names_state_exit_code_and_reason(self, cli_store, capsys):
        """The final line says the id, the state, the exit code and why it failed."""
        _record_in(cli_store, "j", JobState.FAILED, exit_code=7)
        report_final(cli_store.get_record("j"))
        line = capsys.readouterr().out
        assert line == "Job j failed (exit 7, ran -): boom\n"  # it never reported a start

    def test_report_final_without_exit_code_or_reason(self, cli_store, capsys):
        """No exit code is shown as '-', and no reason adds nothing after the parenthesis."""
        _record_in(cli_store, "j", JobState.SUCCEEDED)
        report_final(cli_store.get_record("j"))
        line = capsys.readouterr().out
        assert line.startswith("Job j succeeded (exit -, ran ")
        assert line.rstrip().endswith(")")

    def test_quiet_report_prints_nothing_but_keeps_the_code(self, cli_store, capsys):
        """--quiet silences the line, not the exit code."""
        _record_in(cli_store, "j", JobState.FAILED, exit_code=1)
        assert report_final(cli_store.get_record("j"), quiet=True) == 1
        assert capsys.readouterr().out == ""


class TestProgressText:
    def test_one_job_waiting_then_its_state(self):
        """The progress line of one job names it and its state ('waiting' before any)."""
        assert _describe(["0123456789abcdef"], {}).endswith(": waiting")
        assert _describe(["j"], {"j": JobState.RUNNING}) == "job j: running"

    def test_several_jobs_count_the_running_ones(self):
        """With several jobs the line counts them and those running."""
        states = {"a": JobState.RUNNING, "b": JobState.QUEUED, "c": JobState.RUNNING}
        assert _describe(["a", "b", "c"], states) == "3 jobs (2 running)"


class TestFailLine:
    def test_multiline_message_becomes_one_line(self, capsys):
        """A multi-line message is joined with '; ' on one stderr line; the given code returns."""
        assert fail("bad profile:\n  field a\n\n  field b\n", 3) == 3
        assert capsys.readouterr().err == "molq: error: bad profile: field a; field b\n"

    def test_default_code_is_1(self, capsys):
        """fail() without a code returns 1."""
        assert fail("x") == 1

    def test_empty_message_still_says_something(self, capsys):
        """An empty message prints 'unknown error', never a bare prefix."""
        fail("  \n")
        assert capsys.readouterr().err == "molq: error: unknown error\n"

    def test_molq_error_without_message_names_its_type(self, monkeypatch, capsys):
        """A MolqError with no text is reported by its type name, exit 1."""

        class Silent(MolqError):
            pass

        def boom(*args, **kwargs):
            raise Silent

        monkeypatch.setattr(JobStore, "find_job_ids", boom)
        assert run(["status", "x"]) == 1
        assert capsys.readouterr().err == "molq: error: Silent\n"


def test_interrupt_exits_130(monkeypatch, capsys):
    """Ctrl-C during a command exits 130 with 'molq: interrupted', no traceback."""

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(JobStore, "find_job_ids", interrupted)
    assert run(["status", "x"]) == 130
    err = capsys.readouterr().err
    assert err.strip() == "molq: interrupted"
    assert "Traceback" not in err


class _WatchingSubmitor:
    """A Submitor stand-in: watch_jobs reports one status change, then returns the records."""

    def __init__(self, store: JobStore, job_ids: list[str], *, raises: Exception | None = None) -> None:
        self.store = store
        self.job_ids = job_ids
        self.handlers: list = []
        self.timeouts: list[float | None] = []
        self.raises = raises

    def on_event(self, kind, handler) -> None:
        self.handlers.append(handler)

    def off_event(self, kind, handler) -> None:
        self.handlers.remove(handler)

    def watch_jobs(self, job_ids, timeout=None):
        self.timeouts.append(timeout)
        for handler in list(self.handlers):
            handler(None)
        if self.raises is not None:
            raise self.raises
        return [self.store.get_record(i) for i in job_ids]


class TestWaitWithProgress:
    def test_returns_the_final_records_and_unsubscribes(self, cli_store):
        """Waiting returns each job's final record, passes the timeout on and leaves no handler behind."""
        from molq.cli._progress import wait_with_progress

        _record_in(cli_store, "a", JobState.SUCCEEDED, exit_code=0)
        _record_in(cli_store, "b", None)
        submitor = _WatchingSubmitor(cli_store, ["a", "b"])
        records = wait_with_progress(submitor, ["a", "b"], 12.5)
        assert [(r.job_id, r.state) for r in records] == [("a", JobState.SUCCEEDED), ("b", JobState.SUBMITTED)]
        assert submitor.timeouts == [12.5]
        assert submitor.handlers == []

    def test_a_timeout_still_unsubscribes(self, cli_store):
        """When the wait times out the error reaches the caller and the handler is removed."""
        from molq.cli._progress import wait_with_progress
        from molq.core import MolqTimeoutError

        _record_in(cli_store, "a", None)
        submitor = _WatchingSubmitor(cli_store, ["a"], raises=MolqTimeoutError("waited 1s"))
        with pytest.raises(MolqTimeoutError):
            wait_with_progress(submitor, ["a"], 1.0)
        assert submitor.handlers == []


class TestProgressOnATerminal:
    def test_the_bar_shows_each_jobs_state_and_the_count(self, cli_store, capsys, monkeypatch):
        """On a terminal the progress line names the job's state and how many of the jobs are done."""
        from molq.cli._progress import wait_with_progress

        monkeypatch.setenv("TTY_COMPATIBLE", "1")
        monkeypatch.setenv("COLUMNS", "120")
        _record_in(cli_store, "a", JobState.SUCCEEDED, exit_code=0)
        wait_with_progress(_WatchingSubmitor(cli_store, ["a"]), ["a"], None)
        err = capsys.readouterr().err
        assert "job a: succeeded" in err
        assert "1/1" in err

    def test_several_jobs_count_the_finished_ones(self, cli_store, capsys, monkeypatch):
        """With several jobs the bar counts finished jobs (a job not yet known counts as not done)."""
        from molq.cli._progress import wait_with_progress

        monkeypatch.setenv("TTY_COMPATIBLE", "1")
        monkeypatch.setenv("COLUMNS", "120")
        _record_in(cli_store, "a", JobState.SUCCEEDED, exit_code=0)
        _record_in(cli_store, "b", JobState.FAILED, exit_code=1)
        _record_in(cli_store, "c", None)
        wait_with_progress(_WatchingSubmitor(cli_store, ["a", "b", "c"]), ["a", "b", "c"], None)
        err = capsys.readouterr().err
        assert "3 jobs (0 running)" in err
        assert "2/3" in err

    def test_a_job_not_in_the_store_is_waiting(self, cli_store, capsys, monkeypatch):
        """A job the store does not know yet shows as waiting, not done."""
        from molq.cli._progress import wait_with_progress

        monkeypatch.setenv("TTY_COMPATIBLE", "1")
        monkeypatch.setenv("COLUMNS", "120")
        wait_with_progress(_WatchingSubmitor(cli_store, ["ghost"]), ["ghost"], None)
        err = capsys.readouterr().err
        assert "job ghost: waiting" in err
        assert "0/1" in err

    def test_no_terminal_no_bar(self, cli_store, capsys, monkeypatch):
        """Without a terminal nothing is drawn (logs and pipes stay clean)."""
        from molq.cli._progress import wait_with_progress

        for name in ("TTY_COMPATIBLE", "FORCE_COLOR", "TTY_INTERACTIVE"):
            monkeypatch.delenv(name, raising=False)
        _record_in(cli_store, "a", JobState.SUCCEEDED, exit_code=0)
        wait_with_progress(_WatchingSubmitor(cli_store, ["a"]), ["a"], None)
        assert capsys.readouterr().err == ""
