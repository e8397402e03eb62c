"""Dependency compilation to SLURM, PBS and LSF, and merging of dependency refs."""

from __future__ import annotations

import pytest

from molq.core import (
    CompiledEdge,
    DependencyCycle,
    DependencyError,
    DependencyRef,
    JobScheduling,
    compile_dependencies,
    merge_dependency_refs,
    native_edge,
)


IDS = {"a": "101", "b": "102", "c": "103", "d": "104"}


class TestNativeEdge:
    @pytest.mark.parametrize(
        ("condition", "slurm", "pbs", "lsf"),
        [
            ("after_success", "afterok:9", "afterok:9", "done(9)"),
            ("after_failure", "afternotok:9", "afternotok:9", "exit(9)"),
            ("after_started", "after:9", "after:9", "started(9)"),
            ("after", "afterany:9", "afterany:9", "ended(9)"),
        ],
    )
    def test_conditions(self, condition, slurm, pbs, lsf):
        """Each condition has its native keyword in every dialect."""
        assert native_edge(condition, "9", "slurm") == slurm
        assert native_edge(condition, "9", "pbs") == pbs
        assert native_edge(condition, "9", "lsf") == lsf


class TestCompile:
    @pytest.mark.parametrize(
        ("condition", "expected"),
        [
            ("after_success", {"slurm": "afterok:101", "pbs": "afterok:101", "lsf": "done(101)"}),
            (
                "after_failure",
                {"slurm": "afternotok:101", "pbs": "afternotok:101", "lsf": "exit(101)"},
            ),
            ("after_started", {"slurm": "after:101", "pbs": "after:101", "lsf": "started(101)"}),
            ("after", {"slurm": "afterany:101", "pbs": "afterany:101", "lsf": "ended(101)"}),
        ],
    )
    @pytest.mark.parametrize("dialect", ["slurm", "pbs", "lsf"])
    def test_single(self, condition, expected, dialect):
        """One ref compiles to one native term and one edge."""
        expr, edges = compile_dependencies([DependencyRef("a", condition)], IDS, dialect)
        assert expr == expected[dialect]
        assert edges == (CompiledEdge("a", condition, "101", expected[dialect]),)

    @pytest.mark.parametrize(
        ("dialect", "expected"),
        [
            ("slurm", "afterok:101:102,afternotok:103,afterany:104"),
            ("pbs", "afterok:101:102,afternotok:103,afterany:104"),
            ("lsf", "done(101) && done(102) && exit(103) && ended(104)"),
        ],
    )
    def test_grouping(self, dialect, expected):
        """SLURM/PBS group ids per condition; LSF joins every term with &&."""
        refs = [
            DependencyRef("a"),
            DependencyRef("b"),
            DependencyRef("c", "after_failure"),
            DependencyRef("d", "after"),
        ]
        expr, edges = compile_dependencies(refs, IDS, dialect)
        assert expr == expected
        assert [e.dependency_job_id for e in edges] == ["a", "b", "c", "d"]

    def test_groups_keep_first_appearance_order(self):
        """Groups appear in the order their condition first appears."""
        refs = [DependencyRef("c", "after"), DependencyRef("a"), DependencyRef("b", "after")]
        expr, _ = compile_dependencies(refs, IDS, "slurm")
        assert expr == "afterany:103:102,afterok:101"

    def test_empty(self):
        """No refs compile to an empty expression."""
        assert compile_dependencies([], IDS, "slurm") == ("", ())

    def test_self_dependency(self):
        """A job depending on itself is a DependencyCycle."""
        with pytest.raises(DependencyCycle, match="itself"):
            compile_dependencies([DependencyRef("a")], IDS, "slurm", job_id="a")

    def test_unknown_upstream(self):
        """An upstream without a scheduler id is a DependencyError naming it."""
        with pytest.raises(DependencyError, match="'zz'"):
            compile_dependencies([DependencyRef("zz")], IDS, "pbs")

    def test_unsubmitted_upstream(self):
        """An empty scheduler id counts as not submitted."""
        with pytest.raises(DependencyError, match="not submitted"):
            compile_dependencies([DependencyRef("a")], {"a": ""}, "lsf")

    def test_cycle_is_dependency_error(self):
        """DependencyCycle is a DependencyError and a ValueError."""
        assert issubclass(DependencyCycle, DependencyError)
        assert issubclass(DependencyCycle, ValueError)


class TestMergeRefs:
    def test_merge_order_and_dedup(self):
        """Scheduling refs come first, then keywords; exact repeats are dropped."""
        sched = JobScheduling(dependencies=(DependencyRef("a"), DependencyRef("b", "after")))
        refs = merge_dependency_refs(
            sched,
            after_success=["a", "c", "c"],
            after=["b"],
            after_failure=["a"],
            after_started=["d"],
        )
        assert refs == (
            DependencyRef("a"),
            DependencyRef("b", "after"),
            DependencyRef("c"),
            DependencyRef("a", "after_failure"),
            DependencyRef("d", "after_started"),
        )

    def test_nothing(self):
        """No refs anywhere gives an empty tuple."""
        assert merge_dependency_refs(JobScheduling()) == ()

    @pytest.mark.parametrize("bad", ["", 12, None])
    def test_invalid_ids(self, bad):
        """Ids must be non-empty strings."""
        with pytest.raises(DependencyError, match="after_failure"):
            merge_dependency_refs(JobScheduling(), after_failure=[bad])
