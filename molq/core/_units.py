"""Memory and Duration quantities with parsing and scheduler dialect conversions.

Rules of this module:
  Rule 1: quantities are exact integers (bytes, seconds); no floats are stored.
  Rule 2: parse errors are ConfigError naming the text and the accepted forms.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

from ._errors import ConfigError
from ._value import sorted_fields


if TYPE_CHECKING:
    from fractions import Fraction  # imported where text is parsed: it loads decimal (start-up, ADR 0032)


_KIB = 1024
_MEM_UNITS: dict[str, int] = {
    "": 1,
    "B": 1,
    "K": _KIB,
    "KB": _KIB,
    "KIB": _KIB,
    "M": _KIB**2,
    "MB": _KIB**2,
    "MIB": _KIB**2,
    "G": _KIB**3,
    "GB": _KIB**3,
    "GIB": _KIB**3,
    "T": _KIB**4,
    "TB": _KIB**4,
    "TIB": _KIB**4,
}
_MEM_RE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([A-Za-z]*)\s*$")


def _ceil_div(n: int, d: int) -> int:
    return -(-n // d)


def _byte_count(value: int) -> None:
    # Zero stays constructible so that logs written before it was refused still decode;
    # the constructors below and every submission refuse it.
    if isinstance(value, bool) or not isinstance(value, int):
        msg = f"Memory n_bytes must be an int, got {type(value).__name__} {value!r}"
        raise ConfigError(msg)
    if value < 0:
        msg = f"Memory n_bytes must be non-negative, got {value!r}"
        raise ConfigError(msg)


@sorted_fields
@dataclass(frozen=True, order=True, slots=True)
class Memory:
    """Immutable memory quantity stored as bytes (binary units: 1G = 1024**3 bytes)."""

    n_bytes: int

    def __post_init__(self) -> None:
        _byte_count(self.n_bytes)

    @classmethod
    def kb(cls, n: float) -> Memory:
        """Return ``n`` kibibytes."""
        return cls(_whole_bytes(_number(n, "K") * _KIB, n, "K"))

    @classmethod
    def mb(cls, n: float) -> Memory:
        """Return ``n`` mebibytes."""
        return cls(_whole_bytes(_number(n, "M") * _KIB**2, n, "M"))

    @classmethod
    def gb(cls, n: float) -> Memory:
        """Return ``n`` gibibytes."""
        return cls(_whole_bytes(_number(n, "G") * _KIB**3, n, "G"))

    @classmethod
    def tb(cls, n: float) -> Memory:
        """Return ``n`` tebibytes."""
        return cls(_whole_bytes(_number(n, "T") * _KIB**4, n, "T"))

    @classmethod
    def parse(cls, text: object) -> Memory:
        """Parse ``"32G"``, ``"512MB"``, ``"1.5GiB"`` or a byte count.

        Raises:
            ConfigError: the text is not a non-negative size with a known unit.
        """
        if isinstance(text, Memory):
            return text
        if isinstance(text, bool):
            msg = f"invalid memory {text!r}: expected a size such as '4G' or '512M'"
            raise ConfigError(msg)
        if isinstance(text, int):
            return cls(_whole_bytes(text, text))
        match = _MEM_RE.match(text) if isinstance(text, str) else None
        unit = match.group(2).upper() if match else ""  # pragma: no mutate - "" is never read: no match raises below
        if match is not None and unit not in _MEM_UNITS:
            msg = f"Unknown memory unit {match.group(2)!r} in {text!r}: expected B, K, M, G or T (e.g. '4G', '512M')"
            raise ConfigError(msg)
        if match is None:
            msg = (
                f"invalid memory {text!r}: expected a number with a unit "
                "B, K, M, G or T (e.g. '4G', '512M', '1.5GB')"
            )
            raise ConfigError(msg)
        from fractions import Fraction

        return cls(_whole_bytes(Fraction(match.group(1)) * _MEM_UNITS[unit], text))

    @property
    def bytes(self) -> int:
        """The byte count (upstream molq's name for ``n_bytes``)."""
        return self.n_bytes

    def to_slurm(self) -> str:
        """Render for ``sbatch --mem`` in the largest exact unit, e.g. ``8G``, ``256K``, ``1T``."""
        count, unit = _exact_unit(self.n_bytes)
        if not unit:  # SLURM has no byte unit (a bare number means MiB): the one round-up left
            return f"{_ceil_div(self.n_bytes, _KIB)}K"
        return f"{count}{unit}"

    def to_pbs(self) -> str:
        """Render for ``-l mem=`` in the largest exact unit, e.g. ``8gb``, ``256kb``, ``100b``."""
        count, unit = _exact_unit(self.n_bytes)
        return f"{count}{unit.lower()}b"

    def to_lsf_kb(self) -> int:
        """Return whole kibibytes (rounded up) for LSF ``-M`` / ``rusage[mem=]``."""
        return _ceil_div(self.n_bytes, _KIB)

    def __str__(self) -> str:
        count, unit = _exact_unit(self.n_bytes)
        return f"{count}{unit or 'B'}"


def _exact_unit(n_bytes: int) -> tuple[int, str]:
    """The largest binary unit that divides ``n_bytes`` exactly; never rounds a request up."""
    for unit in ("T", "G", "M", "K"):
        size = _MEM_UNITS[unit]
        if n_bytes >= size and n_bytes % size == 0:
            return n_bytes // size, unit
    return n_bytes, ""


def _number(n: object, unit: str) -> float:
    if isinstance(n, bool) or not isinstance(n, (int, float)):
        msg = f"invalid memory {n!r}: expected a number of {unit}iB, e.g. Memory.gb(4)"
        raise ConfigError(msg)
    return n


def _whole_bytes(value: float | Fraction, given: object, unit: str = "") -> int:
    """Bytes from a size; a size under one byte (``0``, ``"0.0001K"``) is refused, not rounded to 0."""
    if math.isnan(value) or math.isinf(value) or value < 1:
        msg = f"invalid memory {given!r}{unit}: must be at least 1 byte"
        raise ConfigError(msg)
    return round(value)


def _whole(value: float | Fraction, what: str) -> int:
    # Fractions keep parsed text exact: float(text) loses whole units above 2**53.
    if value < 0 or math.isnan(value):
        msg = f"{what} must be non-negative, got {value!r}"
        raise ConfigError(msg)
    return round(value)


def _non_negative(value: int, what: str) -> int:
    if value < 0:
        msg = f"invalid {what} {value!r}: must be non-negative"
        raise ConfigError(msg)
    return value


_DUR_UNITS: dict[str, int] = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
_DUR_PART = re.compile(r"(\d+(?:\.\d+)?)\s*([smhdw])")
_DUR_FULL = re.compile(r"^(?:\s*\d+(?:\.\d+)?\s*[smhdw])+\s*$")
_CLOCK = re.compile(r"^(?:(\d+)-)?(\d+)(?::(\d+))?(?::(\d+))?$")


@sorted_fields
@dataclass(frozen=True, order=True, slots=True)
class Duration:
    """Immutable time quantity stored as whole seconds."""

    seconds: int

    def __post_init__(self) -> None:
        if isinstance(self.seconds, bool) or not isinstance(self.seconds, int):
            msg = f"Duration seconds must be an int, got {type(self.seconds).__name__} {self.seconds!r}"
            raise ConfigError(msg)
        if self.seconds < 0:
            msg = f"Duration seconds must be non-negative, got {self.seconds!r}"
            raise ConfigError(msg)

    @classmethod
    def minutes(cls, n: float) -> Duration:
        """Return ``n`` minutes."""
        return cls(_whole(n * 60, "duration"))

    @classmethod
    def hours(cls, n: float) -> Duration:
        """Return ``n`` hours."""
        return cls(_whole(n * 3600, "duration"))

    @classmethod
    def parse(cls, text: object) -> Duration:
        """Parse ``"2h30m"``, ``"90s"``, ``"7d"``, ``"04:00:00"``, ``"1-12:00:00"`` or seconds.

        A bare number is seconds (``"3600"`` is one hour). Clock forms are those SLURM
        writes: ``MM:SS``, ``HH:MM:SS``, ``D-HH[:MM[:SS]]``.

        Raises:
            ConfigError: the text is not a duration in one of those forms.
        """
        if isinstance(text, Duration):
            return text
        if isinstance(text, bool):
            msg = f"invalid duration {text!r}: expected e.g. '2h30m' or '04:00:00'"
            raise ConfigError(msg)
        if isinstance(text, int):
            return cls(_non_negative(text, "duration"))
        if not isinstance(text, str):
            msg = f"invalid duration {text!r}: expected e.g. '2h30m' or '04:00:00'"
            raise ConfigError(msg)
        stripped = text.strip().lower()
        if stripped.isdigit():
            return cls(int(stripped))  # a bare number is seconds, as Duration.parse(30) is
        if _DUR_FULL.match(stripped):
            from fractions import Fraction

            total = sum(
                Fraction(num) * _DUR_UNITS[unit] for num, unit in _DUR_PART.findall(stripped)
            )
            return cls(_whole(total, "duration"))
        clock = _CLOCK.match(stripped)
        if clock:
            return cls(_clock_seconds(clock))
        msg = (
            f"invalid duration {text!r}: expected units like '2h30m', '90s', '7d' "
            "or a clock like '04:00:00' / '1-12:00:00'"
        )
        raise ConfigError(msg)

    def to_slurm(self) -> str:
        """Render for ``sbatch --time``: ``D-HH:MM:SS`` or ``HH:MM:SS``."""
        days, rest = divmod(self.seconds, 86400)
        hms = _hms(rest)
        return f"{days}-{hms}" if days else hms

    def to_pbs(self) -> str:
        """Render for ``-l walltime=`` as ``HH:MM:SS`` (hours may exceed 24)."""
        return _hms(self.seconds)

    def to_lsf_minutes(self) -> int:
        """Return whole minutes (rounded up, at least 1) for LSF ``-W``."""
        return max(1, _ceil_div(self.seconds, 60))

    def __str__(self) -> str:
        return _hms(self.seconds)


def _hms(seconds: int) -> str:
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours:02d}:{minutes:02d}:{secs:02d}"


def _clock_seconds(match: re.Match[str]) -> int:
    days_s, first, second, third = match.groups()
    days = int(days_s) if days_s else 0
    if days_s is not None:
        # SLURM: D-HH, D-HH:MM, D-HH:MM:SS
        hours, minutes, secs = int(first), int(second or 0), int(third or 0)
    elif third is not None:
        hours, minutes, secs = int(first), int(second), int(third)
    elif second is not None:
        hours, minutes, secs = 0, int(first), int(second)
    else:  # unreachable from parse: a lone number is all digits, read as seconds before the clock form
        hours, minutes, secs = 0, int(first), 0  # pragma: no mutate - unreachable (above)
    if minutes >= 60 or secs >= 60:
        msg = f"invalid duration clock {match.group(0)!r}: minutes and seconds must be < 60"
        raise ConfigError(msg)
    return ((days * 24 + hours) * 60 + minutes) * 60 + secs
