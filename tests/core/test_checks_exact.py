"""A wrong type is refused with one message naming the field, the expected type and the value given."""

from __future__ import annotations

import pytest

from molq.core._checks import check_bool, check_int, check_number, check_str, check_str_mapping
from molq.core._errors import ConfigError


@pytest.mark.parametrize(
    ("check", "message"),
    [
        (lambda: check_int("cpus", "4"), "cpus must be an integer, got str '4'"),
        (lambda: check_int("cpus", True), "cpus must be an integer, got bool True"),
        (lambda: check_int("cpus", 2.0), "cpus must be an integer, got float 2.0"),
        (lambda: check_int("cpus", 0, minimum=1), "cpus must be an integer >= 1, got int 0"),
        (lambda: check_int("cpus", None, optional=False), "cpus must be an integer, got NoneType None"),
        (lambda: check_number("delay", "1"), "delay must be a finite number, got str '1'"),
        (lambda: check_number("delay", float("nan")), "delay must be a finite number, got float nan"),
        (lambda: check_number("delay", False), "delay must be a finite number, got bool False"),
        (lambda: check_number("delay", -0.5, minimum=0), "delay must be a number >= 0, got float -0.5"),
        (lambda: check_bool("exclusive", 1), "exclusive must be a boolean (true or false), got int 1"),
        (lambda: check_str("name", 3), "name must be a string, got int 3"),
        (lambda: check_str("name", None, optional=False), "name must be a string, got NoneType None"),
        (lambda: check_str_mapping("env", ["A"]), "env must be a dict of strings to strings, got list ['A']"),
    ],
)
def test_refusal_messages(check: object, message: str) -> None:
    with pytest.raises(ConfigError) as info:
        check()  # type: ignore[operator]
    assert str(info.value) == message


def test_accepted_values() -> None:
    check_int("n", None)
    check_int("n", 1, minimum=1)
    check_number("x", 0, minimum=0)
    check_number("x", 2.5)
    check_bool("b", False)
    check_str("s", None)
    check_str("s", "")
    check_str_mapping("env", None)
    check_str_mapping("env", {"A": "1"})
