"""The API reference is built from docstrings: every public parameter of ``submit_job`` is documented."""

from __future__ import annotations

import inspect
import re

from molq import Submitor


def _documented_args(doc: str) -> set[str]:
    section = doc.split("Args:", 1)[1].split("Returns:", 1)[0]
    return set(re.findall(r"^\s{4}(\w+):", section, flags=re.M))


def test_every_submit_job_parameter_is_documented():
    """Each keyword of ``Submitor.submit_job`` has an entry under ``Args:`` in its docstring."""
    params = {n for n in inspect.signature(Submitor.submit_job).parameters if n != "self"}
    doc = inspect.getdoc(Submitor.submit_job) or ""
    assert params == _documented_args(doc)


def test_every_submit_function_parameter_is_documented():
    """Each keyword of ``Submitor.submit_function`` has an entry under ``Args:`` in its docstring."""
    params = {n for n in inspect.signature(Submitor.submit_function).parameters if n != "self"}
    doc = inspect.getdoc(Submitor.submit_function) or ""
    assert params == _documented_args(doc) | {"args", "kwargs"}  # *args and **kwargs are documented as such
