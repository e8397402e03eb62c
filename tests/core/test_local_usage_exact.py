"""A local job's usage, exactly: the ``rusage`` file's figures, the probe's lines, the JobUsage.

The figures a user sees in ``molq usage`` for a local job come from here (ADR 0036), so
each test pins the exact value a given file or probe reply gives, and what garbage gives.
"""

from __future__ import annotations

import pytest

from molq.core._sched._local_usage import local_usage, parse_rusage, parse_usage_probe, render_rusage
from molq.core._usage import JobUsage


MIB = 1024 * 1024


class TestTimesBuiltin:
    """The sh wrapper's file: what ``times`` prints, minutes and seconds."""

    def test_minutes_count_sixty_seconds_each(self):
        """``1m2.5s`` is 62.5 seconds; all four figures are added up."""
        text = "0m0.010000s 0m0.020000s\n1m2.500000s 2m3.250000s\n"
        cpu, rss = parse_rusage(text)
        assert cpu == pytest.approx(0.01 + 0.02 + 62.5 + 123.25)
        assert rss is None

    def test_a_long_job_in_hours_of_minutes(self):
        """``times`` has no hours field: 90 minutes stay minutes."""
        cpu, _ = parse_rusage("0m0s 0m0s\n90m0s 0m30s\n")
        assert cpu == pytest.approx(5430.0)

    @pytest.mark.parametrize(
        "text",
        ["0m1s 0m1s 0m1s\n", "0m1s 0m1s\n0m1s 0m1s\n0m1s\n", "1s 2s\n3s 4s\n"],
        ids=["three figures", "five figures", "no minutes"],
    )
    def test_anything_but_four_figures_is_unknown(self, text):
        """Only the two lines of ``times`` (four figures) are read."""
        assert parse_rusage(text) == (None, None)


class TestRunnerFile:
    def test_the_runner_file_wins_over_times_figures(self):
        """A runner line anywhere in the text gives its figures and its memory."""
        text = "0m1s 0m1s\n0m1s 0m1s\n" + render_rusage(2.0, 0.25, 10)
        assert parse_rusage(text) == (2.25, 10 * 1024)

    def test_integer_seconds_are_read(self):
        """Whole seconds without a fraction are figures too."""
        assert parse_rusage("rusage utime=3 stime=1 maxrss_kib=0\n") == (4.0, 0)


class TestProbe:
    """``molq-usage<TAB>index<TAB>contents`` lines back to job dirs."""

    def test_an_empty_rusage_file_is_an_empty_text_not_a_missing_dir(self):
        """The probe prints nothing after the second tab for an empty file."""
        assert parse_usage_probe("molq-usage\t1\t\nmolq-usage\t2\t-\n", ["/a", "/b"]) == {"/a": "", "/b": ""}

    def test_contents_are_everything_after_the_second_tab(self):
        """Leading blanks and later tabs are part of the contents."""
        out = "molq-usage\t1\t  a\tb \n"
        assert parse_usage_probe(out, ["/a"]) == {"/a": "  a\tb "}

    def test_noise_before_and_between_lines_is_skipped(self):
        """A login banner or a stray line does not stop the reading."""
        out = "Welcome to node1\nmolq-usage\t1\tx\nmotd\t2\ty\n\nmolq-usage\t2\tz\n"
        assert parse_usage_probe(out, ["/a", "/b"]) == {"/a": "x", "/b": "z"}

    @pytest.mark.parametrize(
        "line",
        [
            "molq-usage\t1",
            "molq-usage",
            "other\t1\tx",
            "molq-usage\tone\tx",
            "molq-usage\t-1\tx",
            "molq-usage\t0\tx",
            "molq-usage\t3\tx",
            "molq-usage\t\u00b2\tx",
            "molq-usage\t\u0661\tx",
            "molq-usage\t\tx",
        ],
        ids=[
            "cut after index",
            "tag only",
            "other tag",
            "word index",
            "negative",
            "zero",
            "past the end",
            "superscript two",
            "arabic-indic one",
            "empty index",
        ],
    )
    def test_a_line_that_is_not_a_whole_probe_line_is_ignored(self, line):
        """Cut, foreign or out-of-range lines give nothing, and never raise."""
        assert parse_usage_probe(line + "\nmolq-usage\t2\tok\n", ["/a", "/b"]) == {"/b": "ok"}


class TestLocalUsage:
    def test_the_whole_record_from_a_runner_file(self):
        """Every field: the file's figures, the facts passed in, localhost, no note."""
        usage = local_usage(
            render_rusage(1.5, 0.5, 4096), elapsed_seconds=10.0, requested_memory_bytes=MIB, cpus=4
        )
        assert usage == JobUsage(
            source="rusage",
            elapsed_seconds=10.0,
            cpu_seconds=2.0,
            max_rss_bytes=4 * MIB,
            requested_memory_bytes=MIB,
            cpus=4,
            nodes="localhost",
            note="",
        )
        assert usage.cpu_efficiency == pytest.approx(2.0 / (10.0 * 4))

    def test_the_whole_record_without_a_file(self):
        """No readable file: no figures, and a note saying why, in these words."""
        usage = local_usage("garbage", elapsed_seconds=None, requested_memory_bytes=None, cpus=2)
        assert usage == JobUsage(
            source="rusage",
            cpus=2,
            nodes="localhost",
            note="the job left no readable rusage file",
        )

    def test_times_figures_have_no_memory_and_no_note(self):
        """The sh wrapper's file gives CPU time only; that is not a missing file."""
        usage = local_usage(
            "0m0s 0m0s\n0m1.5s 0m0.5s\n", elapsed_seconds=4.0, requested_memory_bytes=None, cpus=1
        )
        assert (usage.cpu_seconds, usage.max_rss_bytes, usage.note, usage.cpus) == (2.0, None, "", 1)
