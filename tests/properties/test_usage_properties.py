"""Usage parsers never raise on garbage, render→parse round-trips, and efficiency/summary laws."""

from __future__ import annotations

import math

from hypothesis import given
from hypothesis import strategies as st
from tests.strategies import usages

from molq.core._sched._local_usage import parse_rusage, parse_usage_probe, render_rusage
from molq.core._sched._lsf_usage import parse_bjobs_usage
from molq.core._sched._pbs_usage import pbs_usage
from molq.core._sched._slurm_usage import SACCT_USAGE_FIELDS, parse_sacct_usage
from molq.core._usage import JobUsage, parse_clock, parse_size, summarise_usage


junk = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=200)
cells = st.text(alphabet="0123456789:.-KMGTkbn|x ", max_size=12)


@given(junk)
def test_field_parsers_never_raise(text):
    """Arbitrary text gives a number or None, never an exception or a non-finite value."""
    seconds = parse_clock(text)
    assert seconds is None or (math.isfinite(seconds) and seconds >= 0)
    n_bytes = parse_size(text)
    assert n_bytes is None or n_bytes >= 0


@given(st.integers(0, 400), st.integers(0, 23), st.integers(0, 59), st.integers(0, 59))
def test_clock_round_trip(days, hours, minutes, seconds):
    """``[D-]HH:MM:SS`` as sacct prints it parses back to the same seconds."""
    text = f"{hours:02d}:{minutes:02d}:{seconds:02d}"
    if days:
        text = f"{days}-{text}"
    assert parse_clock(text) == days * 86400 + hours * 3600 + minutes * 60 + seconds


@given(st.integers(0, 2**40), st.sampled_from(["", "K", "M", "G", "T"]))
def test_size_round_trip(number, unit):
    """``<n><unit>`` parses to n times the binary unit."""
    scale = {"": 1, "K": 1024, "M": 1024**2, "G": 1024**3, "T": 1024**4}[unit]
    assert parse_size(f"{number}{unit}") == number * scale


@given(
    st.lists(st.lists(cells, min_size=len(SACCT_USAGE_FIELDS), max_size=len(SACCT_USAGE_FIELDS)), max_size=5),
    junk,
)
def test_sacct_tolerates_garbage(rows, noise):
    """Any sacct-shaped or other text parses without raising; every job found was asked for."""
    text = "\n".join("|".join(row) for row in rows) + "\n" + noise
    wanted = [row[0].split(".", 1)[0].strip() for row in rows][:3]
    found = parse_sacct_usage(text, wanted)
    assert set(found) <= set(wanted)
    assert all(u.source == "sacct" for u in found.values())


@given(
    st.dictionaries(
        st.sampled_from(
            [
                "resources_used.cput",
                "resources_used.mem",
                "resources_used.walltime",
                "resources_used.ncpus",
                "Resource_List.mem",
                "exec_host",
                "job_state",
            ]
        ),
        cells,
    )
)
def test_pbs_tolerates_garbage(attrs):
    """Any attribute values give a usage (unknown figures are None)."""
    usage = pbs_usage(attrs)
    assert usage.source == "qstat"
    assert usage.max_rss_bytes is None or usage.max_rss_bytes > 0


@given(junk, st.lists(st.from_regex(r"\A[0-9]{1,4}\Z"), max_size=3))
def test_bjobs_tolerates_garbage(text, wanted):
    """Arbitrary text after a job header parses without raising."""
    header = "Job <12>, User <u>, Project <p>, Status <DONE>, Queue <q>, Command <c>\n"
    found = parse_bjobs_usage(header + text, [*wanted, "12"])
    assert "12" in found


@given(st.floats(0, 1e6), st.floats(0, 1e6), st.integers(0, 2**40))
def test_rusage_round_trip(utime, stime, maxrss_kib):
    """The runner's file gives back its CPU seconds (to the microsecond) and bytes."""
    cpu, rss = parse_rusage(render_rusage(utime, stime, maxrss_kib))
    assert cpu is not None
    assert math.isclose(cpu, utime + stime, abs_tol=2e-6)
    assert rss == maxrss_kib * 1024


@given(junk, st.lists(st.text(min_size=1, max_size=5), max_size=4))
def test_probe_tolerates_garbage(text, dirs):
    """Any probe output maps only to the dirs asked about."""
    assert set(parse_usage_probe(text, dirs)) <= set(dirs)


@given(usages)
def test_efficiencies_are_ratios_or_none(usage):
    """Efficiencies are None or finite non-negative ratios; core-hours follow elapsed."""
    for value in (usage.cpu_efficiency, usage.memory_efficiency):
        assert value is None or (math.isfinite(value) and value >= 0)
    assert (usage.core_hours is None) == (usage.elapsed_seconds is None)


@given(st.lists(st.tuples(st.text(max_size=4), st.none() | usages), max_size=8), st.floats(0, 1))
def test_summary_laws(pairs, ratio):
    """Counts add up, core-hours sum, medians lie within the figures, over-requests sit under the ratio."""
    summary = summarise_usage(pairs, ratio=ratio)
    assert summary.jobs == len(pairs)
    assert 0 <= summary.with_usage <= summary.jobs
    known = [u for _, u in pairs if u is not None]
    hours = [h for u in known if (h := u.core_hours) is not None]
    assert math.isclose(summary.core_hours, math.fsum(hours), rel_tol=1e-9, abs_tol=1e-9)
    cpu = [e for u in known if (e := u.cpu_efficiency) is not None]
    if summary.median_cpu_efficiency is not None:
        assert min(cpu) <= summary.median_cpu_efficiency <= max(cpu)
    assert all(e < ratio for _, e in summary.over_requested)
    assert list(summary.over_requested) == sorted(summary.over_requested, key=lambda p: (p[1], p[0]))


def test_empty_usage_is_not_counted():
    """A usage with no figure (accounting had no record) does not count as "with usage"."""
    assert summarise_usage([("a", JobUsage(source="sacct", note="none"))]).with_usage == 0
