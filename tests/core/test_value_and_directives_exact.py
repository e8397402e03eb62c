"""Directive values that need quoting, and how paths and field order are stored."""

from __future__ import annotations

import dataclasses
from pathlib import Path, PurePosixPath

import pytest

from molq.core._errors import ConfigError
from molq.core._sched._batch import directive_value, literal_path
from molq.core._value import decode_extra, encode_extra, sorted_fields


@pytest.mark.parametrize("value", ['a"b', "a\\b", "a$b", "a`b", "a b$", "x y\\"])
def test_a_value_with_quote_backslash_dollar_or_backtick_is_refused(value: str) -> None:
    with pytest.raises(ConfigError) as info:
        directive_value("account", value)
    assert str(info.value) == f'account value {value!r} needs quoting but has ", \\, $ or `'


def test_newline_message() -> None:
    with pytest.raises(ConfigError) as info:
        directive_value("account", "a\0b")
    assert str(info.value) == "account value 'a\\x00b' has a newline or NUL: not allowed in a directive"


def test_literal_path_message_lists_what_it_found() -> None:
    with pytest.raises(ConfigError) as info:
        literal_path("stdout path", "/w/%J.%I", "%J %I", "LSF")
    assert str(info.value) == (
        "stdout path '/w/%J.%I' contains %I, %J, which LSF replaces in output paths and cannot escape: "
        "choose a path without it"
    )


def test_paths_are_stored_as_text_and_read_back_as_paths() -> None:
    assert encode_extra(PurePosixPath("/w/run.sh")) == "/w/run.sh"
    assert decode_extra(Path, "/w/run.sh") == Path("/w/run.sh")
    with pytest.raises(NotImplementedError, match="cannot encode int"):
        encode_extra(3)
    with pytest.raises(NotImplementedError, match="cannot decode"):
        decode_extra(Path, 3)
    with pytest.raises(NotImplementedError, match="cannot decode"):
        decode_extra(str, "x")


def test_sorted_fields_orders_fields_but_keeps_the_constructor() -> None:
    @sorted_fields
    @dataclasses.dataclass(frozen=True)
    class Value:
        zeta: int
        alpha: int = 0

    assert [f.name for f in dataclasses.fields(Value)] == ["alpha", "zeta"]
    assert Value(1) == Value(zeta=1, alpha=0)

    class NotData:
        pass

    with pytest.raises(TypeError, match="NotData is not a dataclass"):
        sorted_fields(NotData)
