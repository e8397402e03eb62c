"""Sweep templates rendered per cell: where values are shell-quoted, where they are not, flags and merging.

A value reaches a shell only quoted (command and script text); argv, paths, names and
env values are passed as they are. A wrong choice either breaks a cell or lets a value
run as shell code.
"""

from __future__ import annotations

import pytest

from molq.core import JobSpec, SpecError
from molq.core._spec import JobExecution, Script
from molq.core._sweep import (
    SweepSpec,
    check_max_parallel,
    expand_matrix,
    merge_sweep_specs,
    parse_arg_flags,
    parse_sweep_flags,
    render_spec,
    render_text,
    scalar_text,
)


ARGS = {"name": "a b; rm -rf ~", "n": 3, "flag": False}


class TestRenderSpec:
    def test_argv_values_are_not_quoted(self):
        """argv elements get the raw value: no shell reads them."""
        spec = render_spec(JobSpec("argv", argv=("run", "--name={name}", "{n}")), ARGS)
        assert spec.argv == ("run", "--name=a b; rm -rf ~", "3")

    def test_command_values_are_environment_references(self):
        """A command line holds references to MOLQ_ARG_ variables, never the values' text (ADR 0023)."""
        spec = render_spec(JobSpec("command", command="run {name} {n}"), ARGS)
        assert spec.command == 'run "${MOLQ_ARG_name}" "${MOLQ_ARG_n}"'
        assert "rm -rf" not in spec.command

    def test_inline_script_values_are_environment_references(self):
        """An inline script gets references too; the values travel in the job's environment."""
        spec = render_spec(JobSpec("script", script=Script.inline("echo {name}\n")), ARGS)
        assert spec.script == Script.inline('echo "${MOLQ_ARG_name}"\n')

    def test_script_path_is_not_quoted(self):
        """A script path is a file name, not shell text: rendered as is."""
        spec = render_spec(JobSpec("script", script=Script.path("/w/run-{n}.sh")), ARGS)
        assert spec.script == Script.path("/w/run-3.sh")

    def test_execution_fields_are_rendered_unquoted(self):
        """Job name, log files and env values get raw values; unset ones stay unset."""
        execution = JobExecution(env={"X": "{n}", "Y": "fixed"}, job_name="job-{n}", output_file="out-{n}.log")
        spec = render_spec(JobSpec("argv", argv=("true",), execution=execution), ARGS)
        assert dict(spec.execution.env) == {"X": "3", "Y": "fixed"}
        assert spec.execution.job_name == "job-3"
        assert spec.execution.output_file == "out-3.log"
        assert spec.execution.error_file is None

    def test_no_env_stays_none(self):
        """A template without env renders without env."""
        assert render_spec(JobSpec("argv", argv=("true",)), ARGS).execution.env is None


class TestRenderText:
    def test_booleans_render_lowercase(self):
        """True/False render as true/false (as TOML writes them)."""
        assert scalar_text(True) == "true"
        assert scalar_text(False) == "false"
        assert render_text("x={flag}", ARGS) == "x=false"

    def test_unknown_placeholder_names_the_known_arguments(self):
        """A placeholder without an argument is an error listing the known ones (or 'none')."""
        with pytest.raises(SpecError, match="flag, n, name"):
            render_text("{missing}", ARGS)
        with pytest.raises(SpecError, match="none"):
            render_text("{missing}", {})


class TestFlags:
    def test_last_arg_wins_and_moves_last(self):
        """--arg k=v twice: the last value wins; values split at the first '='."""
        assert parse_arg_flags(["a=1", "b=x=y", "a=2"]) == {"b": "x=y", "a": "2"}
        assert list(parse_arg_flags(["a=1", "b=2", "a=3"])) == ["b", "a"]

    def test_sweep_flags_keep_order_of_last_use(self):
        """--sweep k=v1,v2 twice: the last one wins."""
        parsed = parse_sweep_flags(["a=1,2", "b=3", "a=4"])
        assert list(parsed) == ["b", "a"]
        assert parsed["a"] == ["4"]

    @pytest.mark.parametrize(("parse", "kind"), [(parse_arg_flags, "arg"), (parse_sweep_flags, "sweep")])
    def test_flag_without_equals_names_the_option(self, parse, kind):
        """A flag without '=' is refused, naming --arg or --sweep."""
        with pytest.raises(SpecError, match=f"--{kind} 'oops' needs KEY=VALUE"):
            parse(["oops"])


class TestMatrixAndMerge:
    def test_max_parallel_one_is_allowed(self):
        """max_parallel 1 is valid; 0 is not."""
        assert check_max_parallel(1) == 1
        with pytest.raises(SpecError):
            check_max_parallel(0)

    def test_expand_crosses_axes_last_fastest(self):
        """Cells are the cross product, the last axis varying fastest, over the base args."""
        cells = expand_matrix({"a": [1, 2], "b": ["x", "y"]}, {"c": 0, "a": 9})
        assert cells == [
            {"c": 0, "a": 1, "b": "x"}, {"c": 0, "a": 1, "b": "y"},
            {"c": 0, "a": 2, "b": "x"}, {"c": 0, "a": 2, "b": "y"},
        ]

    def test_command_line_settings_override_the_file(self):
        """--max-parallel and --fail-fast from the command line win over the file's."""
        base = SweepSpec(matrix=(("a", (1,)),), max_parallel=4, fail_fast=True)
        merged = merge_sweep_specs(base, {}, {}, False, 2)
        assert (merged.max_parallel, merged.fail_fast) == (2, False)
        kept = merge_sweep_specs(base, {}, {}, None, None)
        assert (kept.max_parallel, kept.fail_fast) == (4, True)

    def test_fail_fast_defaults_off(self):
        """Without a file or flag, fail_fast is off."""
        merged = merge_sweep_specs(None, {"a": ["1"]}, {}, None, 1)
        assert merged.fail_fast is False
