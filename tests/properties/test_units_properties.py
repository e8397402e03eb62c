"""Memory and Duration: text round trips and scheduler renderings that never round down."""

from __future__ import annotations

import re

from hypothesis import given
from tests.strategies import durations, memories

from molq.core import Duration, Memory


SLURM_MEM = re.compile(r"\A[1-9]\d*[KMGT]\Z")
PBS_MEM = re.compile(r"\A[1-9]\d*[kmgt]?b\Z")
SLURM_TIME = re.compile(r"\A(?:[1-9]\d*-)?\d{2}:[0-5]\d:[0-5]\d\Z")
PBS_TIME = re.compile(r"\A\d{2,}:[0-5]\d:[0-5]\d\Z")


@given(memories)
def test_memory_str_round_trip(m):
    """Memory.parse(str(m)) == m."""
    assert Memory.parse(str(m)) == m


@given(memories)
def test_memory_slurm_rounds_up(m):
    """The SLURM rendering matches the dialect, never asks for less and rounds up only below 1 KiB."""
    text = m.to_slurm()
    assert SLURM_MEM.match(text)
    back = Memory.parse(text)
    assert m <= back < Memory(m.n_bytes + 1024)


@given(memories)
def test_memory_pbs_rounds_up(m):
    """The PBS rendering matches the dialect and is exact (PBS has a byte unit)."""
    text = m.to_pbs()
    assert PBS_MEM.match(text)
    assert Memory.parse(text) == m


@given(memories)
def test_memory_lsf_rounds_up(m):
    """LSF kibibytes cover the request by less than one KiB."""
    kib = m.to_lsf_kb()
    assert m <= Memory.kb(kib) < Memory(m.n_bytes + 1024)


@given(durations)
def test_duration_str_round_trip(d):
    """Duration.parse(str(d)) == d."""
    assert Duration.parse(str(d)) == d


@given(durations)
def test_duration_slurm_round_trip(d):
    """The SLURM time matches D-HH:MM:SS and parses back exactly."""
    text = d.to_slurm()
    assert SLURM_TIME.match(text)
    assert Duration.parse(text) == d


@given(durations)
def test_duration_pbs_round_trip(d):
    """The PBS walltime matches HH:MM:SS and parses back exactly."""
    text = d.to_pbs()
    assert PBS_TIME.match(text)
    assert Duration.parse(text) == d


@given(durations)
def test_duration_lsf_rounds_up(d):
    """LSF minutes cover the limit by less than a minute, and are at least 1."""
    minutes = d.to_lsf_minutes()
    assert minutes >= 1
    assert d <= Duration.minutes(minutes)
    assert minutes == 1 or Duration.minutes(minutes - 1) < d


@given(durations)
def test_duration_unit_text(d):
    """Whole-unit text such as '90s' parses exactly."""
    assert Duration.parse(f"{d.seconds}s") == d
