"""Click parameter types that check a value where it is typed, so a bad one exits 2 (usage)."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import click

from molq import ConfigError, Duration, Memory


if TYPE_CHECKING:
    _ParamType = click.ParamType[object, object]  # generic in click >= 8.2's stubs
else:
    _ParamType = click.ParamType


class _Checked(_ParamType):
    """A string option checked by a molq parser; the string itself is passed on unchanged."""

    def __init__(self, name: str, parse: Callable[[object], object]) -> None:
        self.name = name
        self._parse = parse

    def convert(self, value: object, param: click.Parameter | None, ctx: click.Context | None) -> object:
        try:
            self._parse(value)
        except ConfigError as exc:
            self.fail(str(exc), param, ctx)
        return value


MEMORY = _Checked("memory", Memory.parse)
"""``--mem``: ``4G``, ``512M``, ... (a bad value is a usage error)."""

DURATION = _Checked("duration", Duration.parse)
"""``--time`` and ``--max-duration``: ``2h30m``, ``04:00:00``, ``7d``, ..."""

__all__ = ["DURATION", "MEMORY"]
