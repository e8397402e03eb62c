"""The fast UTF-8 check of a submission agrees with the field-by-field walk it shortcuts."""

from __future__ import annotations

import dataclasses

import attrs
from hypothesis import given
from hypothesis import strategies as st

from molq import ConfigError
from molq.api._submit_spec import _check_utf8, _ensure_utf8
from molq.core import JobSpec

from ..strategies import job_specs


BAD = "x\ud800y"


def _outcome(check, spec: JobSpec) -> str | None:
    try:
        check(spec)
    except ConfigError as exc:
        return str(exc)
    return None


def _spoil(spec: JobSpec, where: str) -> JobSpec:
    """``spec`` with a lone surrogate put into one of its text fields."""
    execution = spec.execution
    if where == "metadata key":
        return attrs.evolve(spec, metadata={**spec.metadata, BAD: "v"})
    if where == "metadata value":
        return attrs.evolve(spec, metadata={**spec.metadata, "k": BAD})
    if where == "env value":
        return attrs.evolve(spec, execution=dataclasses.replace(execution, env={**(execution.env or {}), "A": BAD}))
    if where == "job name":
        return attrs.evolve(spec, execution=dataclasses.replace(execution, job_name=BAD))
    if where == "cwd":
        return attrs.evolve(spec, cwd=BAD)
    if spec.argv:
        return attrs.evolve(spec, argv=(*spec.argv, BAD))
    return attrs.evolve(spec, metadata={**spec.metadata, "k": BAD})


@given(job_specs)
def test_clean_specs_pass_both_checks(spec):
    assert _outcome(_check_utf8, spec) is None
    assert _outcome(lambda s: _ensure_utf8(s, "job"), spec) is None


@given(job_specs, st.sampled_from(["metadata key", "metadata value", "env value", "job name", "cwd", "argv"]))
def test_a_spoiled_spec_gets_the_walk_s_error_naming_the_field(spec, where):
    spoiled = _spoil(spec, where)
    expected = _outcome(lambda s: _ensure_utf8(s, "job"), spoiled)
    assert expected is not None
    assert _outcome(_check_utf8, spoiled) == expected
