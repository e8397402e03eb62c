"""Issue 13 items 16/17 as a class: a wrong-typed value anywhere is refused naming its key, never converted."""

from __future__ import annotations

import json
import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from molq.core import (
    ConfigError,
    JobExecution,
    JobResources,
    JobScheduling,
    RetentionPolicy,
    RetryBackoff,
    RetryPolicy,
    SpecError,
)


INT_KEYS = [
    ("defaults.resources", "cpu_count"),
    ("defaults.resources", "gpu_count"),
    ("defaults.scheduling", "node_count"),
    ("retry", "max_attempts"),
    ("retention", "keep_job_dirs_for_days"),
    ("retention", "keep_terminal_records_for_days"),
]
BOOL_KEYS = [("defaults.scheduling", "exclusive_node"), ("retention", "keep_failed_job_dirs")]
STR_KEYS = [
    *(("defaults.scheduling", k) for k in ("partition", "account", "priority", "qos", "reservation", "email", "array_spec")),
    *(("defaults.execution", k) for k in ("cwd", "job_name", "output_file", "error_file")),
    ("", "jobs_dir"),
    ("", "host"),
]
FLOAT_KEYS = [("retry.backoff", k) for k in ("initial_seconds", "maximum_seconds", "factor")]

texts = st.text(st.characters(codec="utf-8", exclude_categories=("Cs", "Cc")), max_size=8)
floats = st.floats(allow_nan=False, allow_infinity=False)
arrays = st.lists(st.integers(-5, 5), max_size=2)
tables = st.dictionaries(st.sampled_from(["a", "b"]), st.integers(0, 3), max_size=2)
WRONG = {
    "int": st.one_of(texts, st.booleans(), floats, arrays, tables),
    "bool": st.one_of(texts, st.integers(), floats, arrays, tables),
    "str": st.one_of(st.integers(), floats, st.booleans(), arrays, tables),
    "float": st.one_of(texts, st.booleans(), arrays, tables),
}


def toml_value(value: object) -> str:
    """One value as TOML text."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return repr(value) if math.isfinite(value) else str(value)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, list):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    assert isinstance(value, dict)
    return "{" + ", ".join(f"{k} = {toml_value(v)}" for k, v in value.items()) + "}"


def profile(section: str, key: str, value: object) -> str:
    head = '[profiles.p]\nscheduler = "local"\ncluster_name = "c"\n'
    if not section:
        return head + f"{key} = {toml_value(value)}\n"
    return head + f"[profiles.p.{section}]\n{key} = {toml_value(value)}\n"


@st.composite
def wrong_entries(draw: st.DrawFn) -> tuple[str, str, object]:
    kind, keys = draw(st.sampled_from([("int", INT_KEYS), ("bool", BOOL_KEYS), ("str", STR_KEYS), ("float", FLOAT_KEYS)]))
    section, key = draw(st.sampled_from(keys))
    return section, key, draw(WRONG[kind])


@settings(max_examples=300, deadline=None)
@given(wrong_entries())
def test_every_profile_key_refuses_every_wrong_type(entry):
    """Any profile value of the wrong TOML type is a SpecError naming profiles.p.<section>.<key>."""
    import tomllib

    from molq.api._config import structure_config

    section, key, value = entry
    raw = tomllib.loads(profile(section, key, value))
    dotted = ".".join(part for part in ("profiles.p", section, key) if part)
    with pytest.raises(SpecError) as info:
        structure_config(raw)
    assert dotted in str(info.value)


VALUE_FIELDS = [
    (JobResources, "cpu_count", "int"),
    (JobResources, "gpu_count", "int"),
    (JobScheduling, "node_count", "int"),
    (JobScheduling, "exclusive_node", "bool"),
    (JobScheduling, "partition", "str"),
    (JobScheduling, "account", "str"),
    (JobExecution, "job_name", "str"),
    (JobExecution, "output_file", "str"),
    (RetryPolicy, "max_attempts", "int"),
    (RetentionPolicy, "keep_job_dirs_for_days", "int"),
    (RetentionPolicy, "keep_terminal_records_for_days", "int"),
    (RetentionPolicy, "keep_failed_job_dirs", "bool"),
]


@settings(max_examples=300, deadline=None)
@given(st.sampled_from(VALUE_FIELDS).flatmap(lambda f: st.tuples(st.just(f), WRONG[f[2]])))
def test_every_value_field_refuses_every_wrong_type(case):
    """A wrong-typed Python value is a ConfigError naming the field (never a bare TypeError, never kept)."""
    (cls, field, _kind), value = case
    with pytest.raises(ConfigError, match=field):
        cls(**{field: value})


@settings(max_examples=100, deadline=None)
@given(st.sampled_from(["initial_seconds", "maximum_seconds", "factor"]), WRONG["float"])
def test_backoff_numbers_refuse_non_numbers(field, value):
    """RetryBackoff numbers of another type are a ConfigError naming the field, not a bare TypeError."""
    with pytest.raises(ConfigError, match=field):
        RetryBackoff(**{field: value})
