"""Checks shared by the scheduler options dataclasses: each names the class and field it refuses."""

from __future__ import annotations

from collections.abc import Collection, Sequence

from molq.core import ConfigError


def str_tuple(owner: str, name: str, value: object) -> tuple[str, ...]:
    """``value`` as a tuple of strings (a list from TOML is accepted)."""
    if isinstance(value, str) or not isinstance(value, Sequence) or not all(isinstance(v, str) for v in value):
        msg = f"{owner}.{name} must be a tuple of strings, got {value!r}"
        raise ConfigError(msg)
    return tuple(value)


def command_name(owner: str, name: str, value: object) -> None:
    """A command to run: a non-empty string."""
    if not isinstance(value, str) or not value:
        msg = f"{owner}.{name} must be a non-empty command, got {value!r}"
        raise ConfigError(msg)


def optional_text(owner: str, name: str, value: object) -> None:
    """None or a non-empty string."""
    if value is not None and (not isinstance(value, str) or not value):
        msg = f"{owner}.{name} must be a non-empty string or None, got {value!r}"
        raise ConfigError(msg)


def at_least_one(owner: str, name: str, value: object) -> None:
    """An integer >= 1 (a bool is not one)."""
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        msg = f"{owner}.{name} must be an integer >= 1, got {value!r}"
        raise ConfigError(msg)


def positive_seconds(owner: str, name: str, value: object, *, optional: bool = False) -> None:
    """A number of seconds > 0 (None too when ``optional``)."""
    if optional and value is None:
        return
    if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
        msg = f"{owner}.{name} must be a number > 0{' or None' if optional else ''}, got {value!r}"
        raise ConfigError(msg)


def flag(owner: str, name: str, value: object, *, optional: bool = False) -> None:
    """A boolean (None too when ``optional``)."""
    if not (isinstance(value, bool) or (optional and value is None)):
        msg = f"{owner}.{name} must be true or false{' or None' if optional else ''}, got {value!r}"
        raise ConfigError(msg)


def one_of(owner: str, name: str, value: object, choices: Collection[str]) -> None:
    """One of the named choices."""
    if value not in choices:
        msg = f"{owner}.{name} must be one of {', '.join(choices)}, got {value!r}"
        raise ConfigError(msg)
