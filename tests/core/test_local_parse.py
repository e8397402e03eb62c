"""The local backend's pure parts: probe parsing, body and wrapper rendering."""

from __future__ import annotations

import shlex

import pytest

from molq.core import ConfigError, JobExecution, JobResources, JobSpec, JobState, Observation, Script
from molq.core._sched._body import command_line, env_lines, inline_script, quote, render_body
from molq.core._sched._local import observe_facts, parse_probe, render_job_script, render_wrapper


S = JobState
D = "/jobs/a"
T0 = "1700000000.5"


def probe(
    index: int = 1,
    status: str = "-",
    exit_file: str = "-",
    wrapper_pid: str = "4242",
    alive: str = "0",
    started: str = T0,
    timed_out: str = "0",
    cancelled: str = "0",
) -> str:
    fields = [str(index), status, exit_file, wrapper_pid, alive, started, timed_out, cancelled]
    return "\t".join(["molq-probe", *fields])


def one(line: str) -> Observation:
    return parse_probe(line + "\n", [D])[D]


class TestParseProbe:
    def test_success(self):
        """A status of 0 is SUCCEEDED with exit code, finish and start times."""
        assert one(probe(status="0 1700000100.25")) == Observation(
            state=S.SUCCEEDED,
            raw_state="exited 0",
            exit_code=0,
            started_at=1700000000.5,
            finished_at=1700000100.25,
        )

    def test_failure(self):
        """A non-zero status is FAILED naming the exit code."""
        obs = one(probe(status="3 1700000100"))
        assert (obs.state, obs.exit_code, obs.reason) == (S.FAILED, 3, "exit code 3")

    def test_signal(self):
        """A status above 128 is FAILED naming the signal."""
        obs = one(probe(status="137 1700000100"))
        assert (obs.state, obs.exit_code, obs.reason) == (S.FAILED, 137, "killed by signal 9")

    def test_timed_out(self):
        """A non-zero status with the timed_out marker is TIMED_OUT."""
        obs = one(probe(status="143 1700000100", timed_out="1", cancelled="1"))
        assert (obs.state, obs.reason) == (S.TIMED_OUT, "time limit reached")

    def test_cancelled(self):
        """A non-zero status with the cancel marker is CANCELLED."""
        obs = one(probe(status="143 1700000100", cancelled="1"))
        assert (obs.state, obs.exit_code) == (S.CANCELLED, 143)

    def test_zero_wins_over_late_cancel(self):
        """Exit 0 is SUCCEEDED even if a cancel or the watchdog came too late."""
        assert one(probe(status="0 1", cancelled="1", timed_out="1")).state == S.SUCCEEDED

    def test_running(self):
        """No status and a live wrapper is RUNNING with its start time."""
        obs = one(probe(alive="1"))
        assert (obs.state, obs.started_at) == (S.RUNNING, 1700000000.5)

    def test_never_started(self):
        """No wrapper pid yet is unknown (state None), not a verdict."""
        obs = one(probe(wrapper_pid="-", started="-"))
        assert obs.state is None
        assert obs.reason == "the wrapper has not started"

    def test_wrapper_gone(self):
        """A dead wrapper without status or exit file is LOST with a reason."""
        obs = one(probe())
        assert obs.state == S.LOST
        assert obs.reason is not None
        assert "exit status unknown" in obs.reason

    @pytest.mark.parametrize(("code", "state"), [("0", S.SUCCEEDED), ("2", S.FAILED)])
    def test_exit_code_file_fallback(self, code, state):
        """A dead wrapper without status falls back to the exit_code file."""
        obs = one(probe(exit_file=code))
        assert (obs.state, obs.exit_code, obs.finished_at) == (state, int(code), None)

    def test_unreadable_status(self):
        """A status file that is not a number is LOST, not guessed."""
        obs = one(probe(status="garbage"))
        assert obs.state == S.LOST
        assert obs.reason == "exit status file is unreadable"

    def test_unformatted_date(self):
        """A start time whose fraction was not expanded (date without %N) keeps seconds."""
        assert one(probe(alive="1", started="1700000000.N")).started_at == 1700000000.0

    def test_garbage_lines_ignored(self):
        """Lines that are not probe records, or name no job, are skipped."""
        lines = [
            "bash: warning: something",
            "molq-probe\t1\tonly-three",
            probe(index=0, status="0 1"),
            probe(index=9, status="0 1"),
            "molq-probe\tx\t0 1\t-\t1\t0\t-\t0\t0",
            "",
            probe(index=2, alive="1"),
        ]
        result = parse_probe("\n".join(lines), [D, "/jobs/b"])
        assert result[D] == Observation(state=None, reason="no probe output")
        assert result["/jobs/b"].state == S.RUNNING

    def test_several_dirs(self):
        """Each probe line goes to the job dir at its 1-based index."""
        out = "\n".join([probe(2, status="0 5"), probe(1, status="1 5")])
        result = parse_probe(out, ["/a", "/b"])
        assert (result["/a"].state, result["/b"].state) == (S.FAILED, S.SUCCEEDED)

    def test_empty(self):
        """No output means every dir is unknown."""
        assert parse_probe("", [D]) == {D: Observation(state=None, reason="no probe output")}


def spec(**kwargs: object) -> JobSpec:
    kwargs.setdefault("command_type", "argv")
    if kwargs["command_type"] == "argv":
        kwargs.setdefault("argv", ("true",))
    return JobSpec(**kwargs)  # type: ignore[arg-type]


class TestQuote:
    @pytest.mark.parametrize(
        "word",
        ["plain", "a b", "it's", '"dq"', "$(rm -rf /)", "`id`", "line1\nline2", "", "*", "$HOME"],
    )
    def test_shlex_round_trip(self, word):
        """quote() yields one shell word that splits back to the original."""
        assert shlex.split(quote(word)) == [word]

    def test_no_expansion_characters_unquoted(self):
        """Dangerous characters only appear inside single quotes."""
        assert quote("$(id)") == "'$(id)'"

    def test_nul(self):
        """NUL cannot be passed to a shell."""
        with pytest.raises(ConfigError, match="NUL"):
            quote("a\0b")


class TestRenderBody:
    def test_argv_quoted(self):
        """The argv line splits back into the exact argv."""
        argv = ("printf", "%s\n", "it's", "$(whoami)", "`id`", "a\nb", "")
        line = command_line(spec(argv=argv), D)
        assert shlex.split(line) == list(argv)

    def test_layout(self):
        """cd, exports, the command, then the exit code is recorded atomically."""
        body = render_body(spec(execution=JobExecution(env={"A": "x y"}), cwd="/w d"), D)
        lines = body.splitlines()
        assert lines[0] == "cd '/w d' || exit 127"
        assert lines[1] == "export A='x y'"
        assert lines[2] == "true"
        assert lines[3] == "__molq_rc=$?"
        assert "/jobs/a/exit_code.tmp" in lines[4]
        assert lines[4].endswith("/jobs/a/exit_code")
        assert lines[5] == 'exit "$__molq_rc"'
        assert body.endswith("\n")

    def test_without_exit_code_file(self):
        """exit_code_file=False leaves out the recording lines."""
        body = render_body(spec(), D, exit_code_file=False)
        assert body == "cd . || exit 127\ntrue\n"

    def test_command_verbatim(self):
        """A command string is run as shell text."""
        s = spec(command_type="command", command="echo $HOME | wc -c")
        assert command_line(s, D) == "echo $HOME | wc -c"

    def test_command_nul(self):
        """A NUL in a command string is refused."""
        with pytest.raises(ConfigError, match="NUL"):
            command_line(spec(command_type="command", command="a\0"), D)

    @pytest.mark.parametrize("where", ["argv", "env", "cwd"])
    def test_nul_rejected(self, where):
        """NUL bytes anywhere user text reaches the shell are a ConfigError."""
        kwargs: dict[str, object] = {
            "argv": {"argv": ("a\0",)},
            "env": {"execution": JobExecution(env={"A": "\0"})},
            "cwd": {"cwd": "/a\0"},
        }[where]
        with pytest.raises(ConfigError, match="NUL"):
            render_body(spec(**kwargs), D)

    @pytest.mark.parametrize("name", ["1A", "A-B", "", "A B", "A=B", "$A", "é"])
    def test_env_name_validation(self, name):
        """Environment names must be shell identifiers."""
        with pytest.raises(ConfigError, match="environment variable name"):
            env_lines(spec(execution=JobExecution(env={name: "v"})))

    @pytest.mark.parametrize("name", ["A", "_x", "PATH2", "a_b_C"])
    def test_env_name_valid(self, name):
        """Valid identifiers are exported with quoted values."""
        assert env_lines(spec(execution=JobExecution(env={name: "$v"}))) == [f"export {name}='$v'"]

    def test_script_path(self):
        """A path script runs directly when executable, else via /bin/sh."""
        line = command_line(spec(command_type="script", script=Script.path("/s p.sh")), D)
        assert line == "if [ -x '/s p.sh' ]; then '/s p.sh'; else /bin/sh '/s p.sh'; fi"

    def test_script_inline(self):
        """An inline script is written to the job dir and run from there."""
        s = spec(command_type="script", script=Script.inline("echo hi"))
        assert "/jobs/a/script.sh" in command_line(s, D)
        assert inline_script(s) == "echo hi"
        assert inline_script(spec()) is None


class TestLocalScripts:
    def test_job_script_memory_limit(self):
        """A memory request becomes a ulimit -v in KiB before the body."""
        script = render_job_script(spec(resources=JobResources(memory="1M")), D)
        assert script.startswith("#!/bin/sh\n")
        assert "ulimit -v 1024 || exit 126" in script
        assert "ulimit" not in render_job_script(spec(), D)

    def test_wrapper(self):
        """The wrapper quotes its paths and only has a watchdog with a time limit."""
        w = render_wrapper(spec(), "/j d", "/o d/out", "/o d/err")
        assert "D='/j d'" in w
        assert ">>'/o d/out' 2>>'/o d/err'" in w
        assert "molq-watchdog" not in w
        timed = render_wrapper(spec(resources=JobResources(time_limit="90s")), D, "/o", "/e")
        assert "molq-watchdog 90 " in timed


class TestStoppedWithoutARecord:
    @pytest.mark.parametrize(
        ("timed_out", "cancelled", "state"),
        [("0", "1", JobState.CANCELLED), ("1", "0", JobState.TIMED_OUT), ("1", "1", JobState.TIMED_OUT)],
    )
    def test_marked_and_gone(self, timed_out, cancelled, state):
        """A job molq stopped whose processes are gone with no status is what molq stopped it for."""
        obs = observe_facts("-", "-", "123", "0", "-", timed_out, cancelled)
        assert obs.state == state
        assert obs.exit_code is None
        assert "not recorded" in (obs.reason or "")

    def test_unmarked_and_gone_is_lost(self):
        """Without a cancel or limit marker, a job gone without a status stays LOST."""
        assert observe_facts("-", "-", "123", "0", "-", "0", "0").state == JobState.LOST
