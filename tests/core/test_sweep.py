"""Sweeps in the pure core: expansion, flags, templates, projection, status and launch plans."""

from __future__ import annotations

import pytest

from molq.core import CorruptLogError, JobSpec, JobState, Script, SpecError
from molq.core._context import context_events, duration_exceeded, parse_context_probe
from molq.core._machine import fold_job
from molq.core._sweep import (
    SweepSpec,
    expand_matrix,
    merge_sweep_specs,
    parse_arg_flags,
    parse_sweep_flags,
    render_spec,
    render_text,
)
from molq.core._sweep_events import (
    SweepCancelRequested,
    SweepCell,
    SweepCellLaunched,
    SweepCreated,
    SweepStopped,
)
from molq.core._sweep_state import cell_created, evolve_sweep, plan_sweep, request_sweep_cancel, sweep_status


S = JobState


class TestExpandMatrix:
    def test_cross_product_in_insertion_order(self):
        """Axes iterate in insertion order, the last axis fastest."""
        cells = expand_matrix({"a": [1, 2], "b": ["x", "y"]})
        assert cells == [{"a": 1, "b": "x"}, {"a": 1, "b": "y"}, {"a": 2, "b": "x"}, {"a": 2, "b": "y"}]

    def test_matrix_overrides_base_args(self):
        """A matrix value wins over a base arg of the same name; other base args are kept."""
        assert expand_matrix({"lr": [0.1]}, {"lr": 9, "seed": 1}) == [{"lr": 0.1, "seed": 1}]

    @pytest.mark.parametrize(
        ("matrix", "problem"),
        [
            ({}, "matrix is empty"),
            ({"a": []}, "has no values"),
            ({"a": [[1]]}, "non-scalar value"),
            ({"a": [None]}, "non-scalar value"),
            ({"a": [{"k": 1}]}, "non-scalar value"),
        ],
    )
    def test_invalid_matrices_name_the_problem(self, matrix, problem):
        """Empty matrix, empty axis and non-scalar values are SpecErrors saying what is wrong (no internal rule ids)."""
        with pytest.raises(SpecError, match=problem):
            expand_matrix(matrix)

    @pytest.mark.parametrize("name", ["", "1a", "a-b", "a b"])
    def test_axis_names_must_be_identifiers(self, name):
        """An axis must be usable as a {placeholder}."""
        with pytest.raises(SpecError, match="identifier"):
            expand_matrix({name: [1]})

    def test_axis_must_be_a_list(self):
        """A bare string is not an axis (it would be swept character by character)."""
        with pytest.raises(SpecError, match="list of values"):
            expand_matrix({"a": "xyz"})  # type: ignore[dict-item]


class TestFlags:
    def test_arg_splits_at_first_equals_and_last_wins(self):
        """--arg splits on the first '=' (R1.2: last duplicate wins; R3.10: strings)."""
        assert parse_arg_flags(["a=1", "b=x=y", "a=2"]) == {"a": "2", "b": "x=y"}

    def test_sweep_keeps_empty_elements(self):
        """--sweep splits on every ',' with no escapes and keeps empty strings (R3.5, R3.9)."""
        assert parse_sweep_flags(["lr=0.1,,0.3", "o=a\\,b"]) == {"lr": ["0.1", "", "0.3"], "o": ["a\\", "b"]}

    def test_sweep_last_axis_wins(self):
        """A repeated axis keeps the last occurrence."""
        assert parse_sweep_flags(["a=1,2", "a=3"]) == {"a": ["3"]}

    @pytest.mark.parametrize("parse", [parse_arg_flags, parse_sweep_flags])
    def test_missing_equals_is_refused(self, parse):
        """A flag without '=' is refused (R3.8)."""
        with pytest.raises(SpecError, match="needs KEY=VALUE"):
            parse(["novalue"])


class TestMerge:
    def test_cli_axes_replace_and_extend(self):
        """CLI axes replace same-named axes and add new ones; CLI options win."""
        base = SweepSpec(matrix={"a": [1], "b": [2]}, max_parallel=3)
        merged = merge_sweep_specs(base, {"a": ["9"], "c": ["x"]}, {}, True, None)
        assert merged == SweepSpec(
            matrix=(("a", ("9",)), ("b", (2,)), ("c", ("x",))), max_parallel=3, fail_fast=True
        )

    def test_no_axes_means_no_sweep(self):
        """Without axes on either side the caller runs a single job."""
        assert merge_sweep_specs(None, {}, {"a": "1"}, None, 2) is None

    def test_arg_colliding_with_sweep_is_refused(self):
        """--arg KEY and --sweep KEY together are refused."""
        with pytest.raises(SpecError, match="either fixed or swept"):
            merge_sweep_specs(None, {"a": ["1"]}, {"a": "2"}, None, 1)

    @pytest.mark.parametrize("value", [None, 0, -1, True])
    def test_max_parallel_is_checked(self, value):
        """max_parallel must be set and >= 1."""
        with pytest.raises(SpecError, match="max_parallel must be"):
            merge_sweep_specs(None, {"a": ["1"]}, {}, None, value)


class TestTemplates:
    def test_command_values_become_variable_references(self):
        """In a command a value is never text: {v} is $MOLQ_ARG_v, exported; ${VAR} and {{x}} stay."""
        spec = render_spec(JobSpec("command", command="echo {v} ${HOME} {{v}}"), {"v": "a b'c", "n": 2})
        assert spec.command == 'echo "${MOLQ_ARG_v}" ${HOME} {v}'
        assert spec.execution.env == {"MOLQ_ARG_v": "a b'c", "MOLQ_ARG_n": "2"}

    @pytest.mark.parametrize(
        ("template", "expected"),
        [
            ('echo "tag={v}"', 'echo "tag=${MOLQ_ARG_v}"'),
            ("echo 'tag={v}'", "echo 'tag='\"${MOLQ_ARG_v}\"''"),
            ("cat <<EOF\n{v}\nEOF\necho {v}", 'cat <<EOF\n${MOLQ_ARG_v}\nEOF\necho "${MOLQ_ARG_v}"'),
            ('echo "$(cat {v})"', 'echo "$(cat "${MOLQ_ARG_v}")"'),
            ("sleep 1 # {v} isn't", 'sleep 1 # "${MOLQ_ARG_v}" isn\'t'),
        ],
    )
    def test_each_quoting_context_gets_its_reference(self, template, expected):
        """Double quotes, single quotes, here-documents, $(...) and comments each get a fitting reference."""
        assert render_spec(JobSpec("command", command=template), {"v": "$(id)"}).command == expected

    @pytest.mark.parametrize(
        ("template", "value", "match"),
        [
            ("cat <<'EOF'\n{v}\nEOF", "a b", "quoted here-document"),
            ("echo $(( {v} + 1 ))", "a[$(id)]", "must be an integer"),
            ("(( x = {v} ))", "1+1", "must be an integer"),
            ("echo $'{v}'", "1", r"\$'\.\.\.'"),
        ],
    )
    def test_contexts_that_cannot_carry_the_value_are_spec_errors(self, template, value, match):
        """Where no reference works and the value is not plain, the template is refused."""
        with pytest.raises(SpecError, match=match):
            render_spec(JobSpec("command", command=template), {"v": value})

    def test_plain_values_are_written_into_a_quoted_heredoc(self):
        """A quoted here-document is never expanded: a plain value is written as it is."""
        spec = render_spec(JobSpec("command", command="cat <<'EOF'\nlr: {v}\nEOF"), {"v": 0.1})
        assert spec.command == "cat <<'EOF'\nlr: 0.1\nEOF"

    def test_non_shell_inline_script_placeholders_are_refused(self):
        """A python inline script cannot take a shell reference: the error names the variable."""
        script = Script.inline("#!/usr/bin/env python3\nprint('{v}')\n")
        with pytest.raises(SpecError, match="MOLQ_ARG_v"):
            render_spec(JobSpec("script", script=script), {"v": 1})

    def test_argv_values_are_plain_and_bools_lowercase(self):
        """argv items get the plain text; bools render as true/false."""
        spec = render_spec(JobSpec("argv", argv=("run", "--flag={f}", "{n}")), {"f": True, "n": 0.5})
        assert spec.argv == ("run", "--flag=true", "0.5")

    def test_unknown_placeholder(self):
        """A placeholder without an argument is a SpecError listing the known names."""
        with pytest.raises(SpecError, match=r"known: a, b"):
            render_text("{zz}", {"a": 1, "b": 2})


def _created(n: int = 3, *, max_parallel: int = 1, fail_fast: bool = False) -> SweepCreated:
    cells = tuple(SweepCell(index=i, job_id=f"c{i}", args=(("x", i),)) for i in range(n))
    return SweepCreated(
        sweep_id="sw",
        at=1.0,
        cluster_name="k",
        scheduler="local",
        spec=JobSpec("command", command="echo {x}", metadata={"molq.stdout_path": "/j/sw/stdout.log"}),
        job_dir="/j/sw",
        cells=cells,
        axes=("x",),
        max_parallel=max_parallel,
        fail_fast=fail_fast,
    )


class TestSweepState:
    def test_plan_fills_free_slots_in_order(self):
        """With two slots and one active cell, one more cell (the lowest unlaunched) starts."""
        record = evolve_sweep(None, _created(4, max_parallel=2))
        record = evolve_sweep(record, SweepCellLaunched(sweep_id="sw", at=2, index=0, job_id="c0"))
        events = plan_sweep(record, {0: S.RUNNING}, now=3)
        assert events == (SweepCellLaunched(sweep_id="sw", at=3, index=1, job_id="c1"),)
        assert plan_sweep(record, {0: S.SUCCEEDED}, now=3)[1].index == 2

    def test_launched_cell_without_job_holds_its_slot(self):
        """A launched cell whose job is not visible yet counts as active."""
        record = evolve_sweep(
            evolve_sweep(None, _created()), SweepCellLaunched(sweep_id="sw", at=2, index=0, job_id="c0")
        )
        assert plan_sweep(record, {0: None}, now=3) == ()

    def test_fail_fast_stops(self):
        """A failed cell under fail_fast yields sweep.stopped instead of launches."""
        record = evolve_sweep(None, _created(fail_fast=True))
        record = evolve_sweep(record, SweepCellLaunched(sweep_id="sw", at=2, index=0, job_id="c0"))
        (stopped,) = plan_sweep(record, {0: S.TIMED_OUT}, now=5)
        assert stopped == SweepStopped(sweep_id="sw", at=5, reason="fail_fast: cell 0 ended timed_out")
        closed = evolve_sweep(record, stopped)
        assert not closed.is_open
        assert plan_sweep(closed, {0: S.TIMED_OUT}, now=6) == ()
        status = sweep_status(closed, {0: S.TIMED_OUT})
        assert (status.state, status.count("skipped")) == ("failed", 2)

    def test_cancel_is_idempotent_and_drains(self):
        """A cancel closes the sweep once; unlaunched cells become skipped."""
        record = evolve_sweep(None, _created())
        (event,) = request_sweep_cancel(record, "user", now=2)
        cancelled = evolve_sweep(record, event)
        assert request_sweep_cancel(cancelled, "again", now=3) == ()
        assert plan_sweep(cancelled, {}, now=3) == ()
        status = sweep_status(cancelled, {})
        assert (status.state, status.count("skipped"), status.is_final) == ("cancelled", 3, True)

    @pytest.mark.parametrize(
        ("states", "expected"),
        [
            ({}, "pending"),
            ({0: S.RUNNING}, "running"),
            ({0: S.SUCCEEDED}, "running"),
            ({0: S.SUCCEEDED, 1: S.SUCCEEDED, 2: S.SUCCEEDED}, "succeeded"),
            ({0: S.SUCCEEDED, 1: S.FAILED, 2: S.SUCCEEDED}, "failed"),
            ({0: S.SUCCEEDED, 1: S.CANCELLED, 2: S.SUCCEEDED}, "cancelled"),
        ],
    )
    def test_overall_state(self, states, expected):
        """The overall state follows the cells."""
        record = evolve_sweep(None, _created())
        for index in states:
            record = evolve_sweep(
                record, SweepCellLaunched(sweep_id="sw", at=2, index=index, job_id=f"c{index}")
            )
        assert sweep_status(record, states).state == expected

    def test_impossible_histories(self):
        """A second sweep.created, a double launch or a history without creation is corrupt."""
        record = evolve_sweep(None, _created())
        launch = SweepCellLaunched(sweep_id="sw", at=2, index=0, job_id="c0")
        with pytest.raises(CorruptLogError):
            evolve_sweep(record, _created())
        with pytest.raises(CorruptLogError):
            evolve_sweep(evolve_sweep(record, launch), launch)
        with pytest.raises(CorruptLogError):
            evolve_sweep(None, SweepCancelRequested(sweep_id="sw", at=1))
        with pytest.raises(CorruptLogError, match="sweep event"):
            fold_job([launch])

    def test_cell_created_renders_and_links(self):
        """A cell's job.created has its rendered command, its own dir and the sweep link."""
        created = cell_created(_created(), SweepCell(index=2, job_id="c2", args=(("x", 2),)), now=9)
        assert created.spec.command == 'echo "${MOLQ_ARG_x}"'
        assert created.spec.execution.env == {"MOLQ_ARG_x": "2"}
        assert created.job_dir == "/j/sw/cell-0002"
        assert created.spec.metadata["molq.stdout_path"] == "/j/sw/cell-0002/stdout.log"
        assert created.spec.metadata["molq.sweep_id"] == "sw"
        assert created.root_job_id == "c2"


class TestContextAndDuration:
    def _record(self, **changes):
        import dataclasses

        from molq.core._events import JobCreated
        from molq.core._machine import initial_record

        base = initial_record(
            JobCreated(
                job_id="j",
                at=0,
                cluster_name="k",
                scheduler="local",
                root_job_id="j",
                spec=JobSpec("argv", argv=("x",)),
            )
        )
        return dataclasses.replace(base, **changes)

    def test_probe_round_trip_keeps_partial_last_line(self):
        """The probe parser recovers exact file contents, trailing newline or not."""
        text = "@@molq-context-dir 1\n@@molq-context-file molq_log.jsonl\n|a\n|b\n|x\n@@molq-context-end@@\n"
        text += "@@molq-context-file result.json\n|{}x\n\n@@molq-context-end@@\n"
        assert parse_context_probe(text) == {"1": {"molq_log.jsonl": "a\nb\n", "result.json": "{}"}}

    def test_marker_lines_inside_content_are_content(self):
        """A file whose lines look like probe markers cannot open another job's entry."""
        forged = "|@@molq-context-dir 2\n|@@molq-context-file result.json\n|@@molq-context-end@@\n"
        text = f"@@molq-context-dir 1\n@@molq-context-file molq_log.jsonl\n{forged}|x\n@@molq-context-end@@\n"
        found = parse_context_probe(text)
        assert list(found) == ["1"]
        assert found["1"]["molq_log.jsonl"].count("@@molq-context-dir 2") == 1

    def test_line_break_look_alikes_do_not_split_log_lines(self):
        """``\\v`` and friends stay inside a log line; only ``\\n`` ends one."""
        record = self._record(log_lines=0)
        events = context_events(record, {"molq_log.jsonl": "a\vb\u2028c\nnext\n"}, now=1)
        assert [(e.line, e.message) for e in events] == [(1, "a\vb\u2028c"), (2, "next")]

    def test_only_complete_new_lines_and_newer_saves(self):
        """Log lines are numbered after those recorded; an incomplete line waits; old saves are skipped."""
        record = self._record(log_lines=4, checkpoint_seq=2)
        files = {
            "molq_log.jsonl": '{"message":"m","level":"DEBUG","at":3}\n{"message":"half',
            "checkpoint.json": '{"seq":2,"data":{}}',
            "result.json": '{"seq":1,"data":{"r":1}}',
        }
        events = context_events(record, files, now=10)
        assert [type(e).__name__ for e in events] == ["JobLogged", "JobResultSaved"]
        assert (events[0].line, events[0].level, events[0].logged_at) == (5, "DEBUG", 3)
        assert events[1].data == '{"r":1}'

    @pytest.mark.parametrize(
        ("state", "started", "now", "expected"),
        [
            (S.RUNNING, 0, 59, False),
            (S.RUNNING, 0, 60, True),
            (S.QUEUED, None, 999, False),
            (S.SUCCEEDED, 0, 999, False),
        ],
    )
    def test_duration_exceeded(self, state, started, now, expected):
        """Only a running job past max_duration since its start is over the limit."""
        record = self._record(state=state, started_at=started, max_duration_seconds=60)
        assert duration_exceeded(record, now=now) is expected

    @pytest.mark.parametrize(("state", "ends"), [(S.RUNNING, True), (S.CREATED, False), (S.FAILED, False)])
    def test_expire_duration_decides_timed_out(self, state, ends):
        """ExpireDuration ends a live job TIMED_OUT with the reason; otherwise nothing."""
        from molq.core import decide
        from molq.core._commands import ExpireDuration

        events = decide(self._record(state=state), ExpireDuration(), now=7)
        assert [(type(e).__name__, getattr(e, "reason", None)) for e in events] == (
            [("JobTimedOut", "duration limit reached")] if ends else []
        )
