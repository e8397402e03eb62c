"""Usage values, seff-style efficiency math, the summary over many jobs, and the field parsers."""

from __future__ import annotations

import pytest

from molq.core._usage import (
    JobUsage,
    complete_usage,
    core_hours,
    cpu_efficiency,
    memory_efficiency,
    parse_clock,
    parse_count,
    parse_size,
    summarise_usage,
)


MIB = 1024**2


class TestCpuEfficiency:
    def test_seff_formula(self):
        """CPU time over elapsed times cores: 30 s of CPU in 10 s on 4 cores is 75 %."""
        usage = JobUsage(source="sacct", elapsed_seconds=10.0, cpu_seconds=30.0, cpus=4)
        assert cpu_efficiency(usage) == 0.75
        assert usage.cpu_efficiency == 0.75

    def test_one_core_when_count_unknown(self):
        """A usage without a CPU count is taken as one core (as the local backend runs)."""
        assert cpu_efficiency(JobUsage(source="rusage", elapsed_seconds=4.0, cpu_seconds=1.0)) == 0.25

    @pytest.mark.parametrize(
        "usage",
        [
            JobUsage(source="sacct", elapsed_seconds=None, cpu_seconds=1.0, cpus=1),
            JobUsage(source="sacct", elapsed_seconds=10.0, cpu_seconds=None, cpus=1),
            JobUsage(source="sacct", elapsed_seconds=0.0, cpu_seconds=0.001, cpus=1),
        ],
    )
    def test_unknown(self, usage):
        """A missing figure or a zero walltime gives None, not 0 or a division error."""
        assert cpu_efficiency(usage) is None


class TestMemoryEfficiency:
    def test_seff_formula(self):
        """Peak RSS over requested memory."""
        usage = JobUsage(source="sacct", max_rss_bytes=75 * MIB, requested_memory_bytes=300 * MIB)
        assert memory_efficiency(usage) == 0.25
        assert usage.memory_efficiency == 0.25

    @pytest.mark.parametrize(("rss", "requested"), [(None, MIB), (MIB, None), (MIB, 0)])
    def test_unknown(self, rss, requested):
        """No peak, no request, or a zero request: None."""
        usage = JobUsage(source="sacct", max_rss_bytes=rss, requested_memory_bytes=requested)
        assert memory_efficiency(usage) is None


class TestCoreHours:
    def test_cores_times_hours(self):
        """Two cores for half an hour are one core-hour."""
        assert core_hours(JobUsage(source="sacct", elapsed_seconds=1800.0, cpus=2)) == 1.0

    def test_unknown_elapsed(self):
        """No elapsed time, no core-hours."""
        assert core_hours(JobUsage(source="sacct", cpus=2)) is None
        assert JobUsage(source="sacct", elapsed_seconds=3600.0).core_hours == 1.0


class TestCompleteUsage:
    def test_fills_only_unknown(self):
        """molq's own facts fill the gaps; the accounting's figures always win."""
        accounted = JobUsage(source="bjobs", elapsed_seconds=38.0, cpu_seconds=1.8)
        done = complete_usage(accounted, elapsed_seconds=41.0, requested_memory_bytes=MIB, cpus=2)
        assert (done.elapsed_seconds, done.requested_memory_bytes, done.cpus) == (38.0, MIB, 2)
        assert done.cpu_seconds == 1.8

    def test_keeps_unknown_when_no_fact(self):
        """With no fact to offer, a None stays None."""
        done = complete_usage(
            JobUsage(source="qstat"), elapsed_seconds=None, requested_memory_bytes=None, cpus=None
        )
        assert done == JobUsage(source="qstat")


class TestSummary:
    def test_figures(self):
        """Total core-hours, medians over the known figures, and the over-requesting jobs, lowest first."""
        pairs = [
            (
                "a",
                JobUsage(
                    source="sacct",
                    elapsed_seconds=3600.0,
                    cpu_seconds=1800.0,
                    cpus=1,
                    max_rss_bytes=10 * MIB,
                    requested_memory_bytes=100 * MIB,
                ),
            ),
            (
                "b",
                JobUsage(
                    source="sacct",
                    elapsed_seconds=1800.0,
                    cpu_seconds=3600.0,
                    cpus=4,
                    max_rss_bytes=90 * MIB,
                    requested_memory_bytes=100 * MIB,
                ),
            ),
            (
                "c",
                JobUsage(
                    source="sacct",
                    elapsed_seconds=3600.0,
                    cpu_seconds=3600.0,
                    cpus=1,
                    max_rss_bytes=20 * MIB,
                    requested_memory_bytes=100 * MIB,
                ),
            ),
            ("d", None),
            ("e", JobUsage(source="sacct", note="the scheduler's accounting has no record of the job")),
        ]
        summary = summarise_usage(pairs)
        assert summary.jobs == 5
        assert summary.with_usage == 3
        assert summary.core_hours == 1.0 + 2.0 + 1.0
        assert summary.median_cpu_efficiency == 0.5  # 0.5, 0.5, 1.0
        assert summary.median_memory_efficiency == 0.2  # 0.1, 0.9, 0.2
        assert summary.over_requested == (("a", 0.1), ("c", 0.2))

    def test_ratio_is_a_parameter(self):
        """The threshold for "far more memory than used" can be raised."""
        pairs = [("a", JobUsage(source="sacct", max_rss_bytes=40, requested_memory_bytes=100))]
        assert summarise_usage(pairs).over_requested == ()
        assert summarise_usage(pairs, ratio=0.5).over_requested == (("a", 0.4),)

    def test_empty(self):
        """No jobs: zero core-hours and no medians."""
        summary = summarise_usage([])
        assert (summary.jobs, summary.with_usage, summary.core_hours) == (0, 0, 0.0)
        assert summary.median_cpu_efficiency is None
        assert summary.median_memory_efficiency is None


class TestFieldParsers:
    @pytest.mark.parametrize(
        ("text", "seconds"),
        [
            ("00:00:05", 5.0),
            ("00:01.038", 1.038),
            ("01:02:03", 3723.0),
            ("1-02:03:04", 93784.0),
            ("2-00:00:00", 172800.0),
            ("09:59", 599.0),
        ],
    )
    def test_clock(self, text, seconds):
        """sacct's and qstat's time forms."""
        assert parse_clock(text) == pytest.approx(seconds)

    @pytest.mark.parametrize("text", ["", "-", "Unknown", "INVALID", "12", "a:b:c", "1-", "00:00:05x"])
    def test_clock_garbage(self, text):
        """Anything else is None."""
        assert parse_clock(text) is None

    @pytest.mark.parametrize(
        ("text", "n_bytes"),
        [
            ("96884K", 96884 * 1024),
            ("300M", 300 * MIB),
            ("307200kb", 307200 * 1024),
            ("1.5G", 3 * 1024**3 // 2),
            ("0", 0),
            ("2T", 2 * 1024**4),
            ("5 MB", 5 * MIB),
        ],
    )
    def test_size(self, text, n_bytes):
        """sacct's, qstat's and LSF's memory forms (binary units)."""
        assert parse_size(text) == n_bytes

    def test_size_default_unit(self):
        """A bare number takes the given unit (LSF's MEMLIMIT is in KiB)."""
        assert parse_size("300000", default_unit="K") == 300000 * 1024

    @pytest.mark.parametrize("text", ["", "-", "16?", "M", "1e9999", "12Q", "--"])
    def test_size_garbage(self, text):
        """Anything else is None."""
        assert parse_size(text) is None

    def test_count(self):
        """Digits only."""
        assert parse_count(" 4 ") == 4
        assert parse_count("") is None
        assert parse_count("-1") is None


def test_a_vanishing_walltime_gives_no_cpu_efficiency():
    """A walltime so small the ratio overflows says nothing: None, not infinity (found by hypothesis)."""
    tiny = JobUsage(source="sacct", elapsed_seconds=2.2250738585e-313, cpu_seconds=1.0)
    assert tiny.cpu_efficiency is None
