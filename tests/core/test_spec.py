"""Spec value types: invariants, immutability and the merge functions."""

from __future__ import annotations

from pathlib import Path, PurePosixPath

import pytest

from molq.core import (
    ConfigError,
    DependencyRef,
    Duration,
    FrozenDict,
    JobExecution,
    JobResources,
    JobScheduling,
    JobSpec,
    JobState,
    Memory,
    RetentionPolicy,
    RetryBackoff,
    RetryPolicy,
    Script,
)
from molq.core._spec import merge_execution, merge_resources, merge_scheduling


class TestScript:
    def test_inline(self):
        """Script.inline holds text and no path."""
        s = Script.inline("echo hi")
        assert (s.variant, s.text, s.file_path) == ("inline", "echo hi", None)

    def test_path(self):
        """Script.path holds a str path and no text, converting PurePaths."""
        s = Script.path(PurePosixPath("/opt/run.sh"))
        assert (s.variant, s.text, s.file_path) == ("path", None, Path("/opt/run.sh"))

    @pytest.mark.parametrize(
        "kwargs",
        [
            {"variant": "inline"},
            {"variant": "inline", "text": "x", "file_path": "/a"},
            {"variant": "path"},
            {"variant": "path", "file_path": ""},
            {"variant": "path", "file_path": "/a", "text": "x"},
            {"variant": "other", "text": "x"},
        ],
    )
    def test_invariants(self, kwargs):
        """Inline needs text only, path needs a non-empty path only, nothing else."""
        with pytest.raises(ConfigError, match="Script"):
            Script(**kwargs)


class TestJobResources:
    def test_converts_units(self):
        """Memory and time limit accept text and become value objects."""
        r = JobResources(memory="4G", time_limit="1h")
        assert r.memory == Memory.gb(4)
        assert r.time_limit == Duration.hours(1)

    @pytest.mark.parametrize(
        "kwargs",
        [{"cpu_count": 0}, {"gpu_count": -1}, {"cpu_count": True}, {"gpu_type": "a100"}],
    )
    def test_invalid(self, kwargs):
        """Counts must be positive ints; gpu_type needs gpu_count."""
        with pytest.raises(ConfigError):
            JobResources(**kwargs)


class TestJobScheduling:
    def test_dependency_exclusive(self):
        """A raw dependency and logical dependencies together are a ValueError."""
        with pytest.raises(ValueError, match="not both") as info:
            JobScheduling(dependency="afterok:1", dependencies=(DependencyRef("a"),))
        assert isinstance(info.value, ConfigError)

    def test_dependencies_become_tuple(self):
        """Dependencies given as a list are stored as a tuple (hashable)."""
        s = JobScheduling(dependencies=[DependencyRef("a")])  # type: ignore[arg-type]
        assert s.dependencies == (DependencyRef("a"),)
        hash(s)

    def test_legacy_queue(self):
        """``queue`` is a read-only alias of ``partition``."""
        assert JobScheduling(partition="gpu").queue == "gpu"
        assert JobScheduling().queue is None

    def test_node_count(self):
        """node_count must be positive."""
        with pytest.raises(ConfigError, match="node_count"):
            JobScheduling(node_count=0)

    def test_unknown_condition(self):
        """DependencyRef only accepts the four conditions."""
        with pytest.raises(ConfigError, match="condition"):
            DependencyRef("a", "afterok")  # type: ignore[arg-type]


class TestJobExecution:
    def test_env_frozen(self):
        """env becomes a FrozenDict that refuses every mutation."""
        e = JobExecution(env={"A": "1"})
        assert isinstance(e.env, FrozenDict)
        assert e.env == {"A": "1"}
        env = e.env
        with pytest.raises(TypeError):
            env["B"] = "2"
        with pytest.raises(TypeError):
            del env["A"]
        with pytest.raises(TypeError):
            env.update(B="2")
        with pytest.raises(TypeError):
            env.pop("A")
        with pytest.raises(TypeError):
            env.setdefault("B", "2")
        with pytest.raises(TypeError):
            env.clear()
        assert e.env == {"A": "1"}

    def test_hashable(self):
        """Executions with equal env hash equally, regardless of insertion order."""
        a = JobExecution(env={"A": "1", "B": "2"})
        b = JobExecution(env={"B": "2", "A": "1"})
        assert a == b
        assert hash(a) == hash(b)

    def test_caller_dict_not_shared(self):
        """Mutating the caller's dict afterwards does not change the execution."""
        source = {"A": "1"}
        e = JobExecution(env=source)
        source["A"] = "2"
        assert e.env == {"A": "1"}

    def test_cwd_path(self):
        """cwd accepts paths and stores text."""
        assert JobExecution(cwd=PurePosixPath("/w")).cwd == "/w"  # type: ignore[arg-type]


class TestJobSpec:
    @pytest.mark.parametrize(
        "kwargs",
        [
            {"command_type": "argv"},
            {"command_type": "argv", "argv": ("a",), "command": "b"},
            {"command_type": "command", "argv": ("a",)},
            {"command_type": "script", "script": Script.inline("x"), "command": "y"},
            {"command_type": "argv", "argv": ()},
        ],
    )
    def test_exactly_one(self, kwargs):
        """Exactly one of argv/command/script, matching command_type and non-empty."""
        with pytest.raises(ConfigError, match="argv"):
            JobSpec(**kwargs)

    def test_metadata_frozen(self):
        """Metadata becomes a FrozenDict and the spec is hashable."""
        spec = JobSpec("command", command="true", metadata={"k": "v"})
        assert isinstance(spec.metadata, FrozenDict)
        hash(spec)

    @pytest.mark.parametrize(
        ("spec", "display"),
        [
            (JobSpec("argv", argv=("echo", "a b", "it's")), "echo 'a b' 'it'\"'\"'s'"),
            (JobSpec("argv", argv=("x", "")), "x ''"),
            (JobSpec("command", command="echo $HOME | wc"), "echo $HOME | wc"),
            (JobSpec("script", script=Script.path("/r.sh")), "/r.sh"),
            (JobSpec("script", script=Script.inline("echo")), "<inline script>"),
        ],
    )
    def test_display(self, spec, display):
        """display renders argv shell-quoted, commands verbatim and scripts by path."""
        assert spec.display == display


class TestMerge:
    def test_resources_override_wins(self):
        """Fields set in the override win; unset fields fall back to the base."""
        base = JobResources(cpu_count=2, memory="1G")
        merged = merge_resources(base, JobResources(memory="8G", time_limit="1h"))
        assert merged == JobResources(cpu_count=2, memory="8G", time_limit="1h")

    def test_none_sides(self):
        """None on either side yields the other, and both None a default object."""
        r = JobResources(cpu_count=1)
        assert merge_resources(None, r) == r
        assert merge_resources(r, None) == r
        assert merge_resources(None, None) == JobResources()
        assert merge_scheduling(None, None) == JobScheduling()
        assert merge_execution(None, None) == JobExecution()

    def test_env_merged_key_by_key(self):
        """Execution env maps merge per key, the override winning on clashes."""
        base = JobExecution(env={"A": "1", "B": "1"}, cwd="/base")
        merged = merge_execution(base, JobExecution(env={"B": "2", "C": "3"}))
        assert merged.env == {"A": "1", "B": "2", "C": "3"}
        assert isinstance(merged.env, FrozenDict)
        assert merged.cwd == "/base"

    def test_scheduling_override(self):
        """Scheduling overrides win and a raw dependency replaces logical ones."""
        base = JobScheduling(partition="cpu", account="a", dependencies=(DependencyRef("x"),))
        merged = merge_scheduling(base, JobScheduling(partition="gpu", dependency="afterok:1"))
        assert merged.partition == "gpu"
        assert merged.account == "a"
        assert merged.dependency == "afterok:1"
        assert merged.dependencies == ()

    def test_logical_dependencies_replace_raw(self):
        """Logical dependencies in the override replace a raw base dependency."""
        base = JobScheduling(dependency="afterok:1")
        merged = merge_scheduling(base, JobScheduling(dependencies=(DependencyRef("y"),)))
        assert merged.dependency is None
        assert merged.dependencies == (DependencyRef("y"),)


class TestRetryPolicy:
    def test_defaults(self):
        """Default policy: one attempt, retrying failures and timeouts."""
        p = RetryPolicy()
        assert p.max_attempts == 1
        assert p.retry_on_states == (JobState.FAILED, JobState.TIMED_OUT)
        assert p.retry_on_exit_codes is None

    def test_converts(self):
        """States from text and exit codes from lists become tuples."""
        p = RetryPolicy(retry_on_states=["lost"], retry_on_exit_codes=[1, 2])  # type: ignore[arg-type]
        assert p.retry_on_states == (JobState.LOST,)
        assert p.retry_on_exit_codes == (1, 2)

    def test_exit_code_text_refused(self):
        """An exit code given as text is refused, not converted (issue 13 item 17)."""
        with pytest.raises(ConfigError, match="retry_on_exit_codes"):
            RetryPolicy(retry_on_exit_codes=[1, "2"])  # type: ignore[list-item]

    @pytest.mark.parametrize("state", ["running", "queued", "created", "submitted"])
    def test_non_terminal_state_rejected(self, state):
        """Retrying on a non-terminal state is a ConfigError."""
        with pytest.raises(ConfigError, match=state):
            RetryPolicy(retry_on_states=(JobState(state),))

    def test_max_attempts(self):
        """max_attempts must be positive."""
        with pytest.raises(ConfigError, match="max_attempts"):
            RetryPolicy(max_attempts=0)

    @pytest.mark.parametrize(
        "kwargs",
        [
            {"mode": "linear"},
            {"initial_seconds": -1},
            {"maximum_seconds": -1},
            {"factor": 0.5},
        ],
    )
    def test_backoff_invalid(self, kwargs):
        """Backoff needs a known mode, non-negative delays and factor >= 1."""
        with pytest.raises(ConfigError, match="RetryBackoff"):
            RetryBackoff(**kwargs)


def test_retention_negative():
    """Retention days must be non-negative."""
    with pytest.raises(ConfigError, match="keep_job_dirs_for_days"):
        RetentionPolicy(keep_job_dirs_for_days=-1)
