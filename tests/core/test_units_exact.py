"""Exact unit arithmetic: every accepted unit, every rendering, every refusal a user can meet."""

from __future__ import annotations

from fractions import Fraction

import pytest

from molq.core._errors import ConfigError
from molq.core._units import Duration, Memory


KIB = 1024


@pytest.mark.parametrize(
    ("text", "n_bytes"),
    [
        ("7", 7),
        ("7B", 7),
        ("7b", 7),
        ("3K", 3 * KIB),
        ("3kb", 3 * KIB),
        ("3KiB", 3 * KIB),
        ("5M", 5 * KIB**2),
        ("5MB", 5 * KIB**2),
        ("5mib", 5 * KIB**2),
        ("2G", 2 * KIB**3),
        ("2GB", 2 * KIB**3),
        ("2GiB", 2 * KIB**3),
        ("1T", KIB**4),
        ("1TB", KIB**4),
        ("1TiB", KIB**4),
        ("1.5G", 3 * KIB**3 // 2),
        ("  4 G  ", 4 * KIB**3),
        ("0.5K", 512),
        ("9007199254740993K", 9007199254740993 * KIB),  # above 2**53: no float rounding
    ],
)
def test_memory_parse_is_exact_for_every_unit(text: str, n_bytes: int) -> None:
    assert Memory.parse(text).n_bytes == n_bytes


def test_memory_parse_passes_memory_and_ints_through() -> None:
    mem = Memory(10)
    assert Memory.parse(mem) is mem
    assert Memory.parse(4096).n_bytes == 4096
    assert Memory(123).bytes == 123


@pytest.mark.parametrize("text", ["0", "0G", "0.0001K", "0.4", "-1G", "", "G", "4X", "4 GG", "4.G", "1e3", True, 1.5, None, 0])
def test_memory_parse_refuses_bad_sizes(text: object) -> None:
    with pytest.raises(ConfigError) as info:
        Memory.parse(text)
    assert str(info.value)


def test_memory_unknown_unit_is_named() -> None:
    with pytest.raises(ConfigError, match="Unknown memory unit 'X'"):
        Memory.parse("4X")
    with pytest.raises(ConfigError, match="at least 1 byte"):
        Memory.parse("0.0001K")
    with pytest.raises(ConfigError, match="expected a number with a unit"):
        Memory.parse("four gigs!")


@pytest.mark.parametrize(
    ("make", "n_bytes"),
    [
        (lambda: Memory.kb(2), 2 * KIB),
        (lambda: Memory.mb(3), 3 * KIB**2),
        (lambda: Memory.gb(4), 4 * KIB**3),
        (lambda: Memory.tb(2), 2 * KIB**4),
        (lambda: Memory.gb(0.5), KIB**3 // 2),
        (lambda: Memory.kb(1.0), KIB),
    ],
)
def test_memory_constructors_use_binary_units(make: object, n_bytes: int) -> None:
    assert make().n_bytes == n_bytes  # type: ignore[operator]


@pytest.mark.parametrize("bad", [True, "4", None, 0, -1, float("nan"), float("inf"), 1e-15])
def test_memory_constructors_refuse_non_numbers_and_zero(bad: object) -> None:
    for make in (Memory.kb, Memory.mb, Memory.gb, Memory.tb):
        with pytest.raises(ConfigError):
            make(bad)  # type: ignore[arg-type]


def test_memory_constructor_error_names_the_unit() -> None:
    with pytest.raises(ConfigError, match=r"expected a number of GiB"):
        Memory.gb("4")  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match=r"0T: must be at least 1 byte"):
        Memory.tb(0)


@pytest.mark.parametrize("bad", [True, 1.0, "1", -1])
def test_memory_refuses_non_int_or_negative_byte_counts(bad: object) -> None:
    with pytest.raises(ConfigError):
        Memory(bad)  # type: ignore[arg-type]


def test_memory_zero_stays_constructible_for_old_logs() -> None:
    assert Memory(0).n_bytes == 0


@pytest.mark.parametrize(
    ("n_bytes", "slurm", "pbs", "lsf_kb", "text"),
    [
        (KIB**4, "1T", "1tb", KIB**3, "1T"),
        (3 * KIB**4, "3T", "3tb", 3 * KIB**3, "3T"),
        (8 * KIB**3, "8G", "8gb", 8 * KIB**2, "8G"),
        (KIB**3, "1G", "1gb", KIB**2, "1G"),
        (1536 * KIB**2, "1536M", "1536mb", 1536 * KIB, "1536M"),
        (KIB**2, "1M", "1mb", KIB, "1M"),
        (256 * KIB, "256K", "256kb", 256, "256K"),
        (KIB, "1K", "1kb", 1, "1K"),
        (1025, "2K", "1025b", 2, "1025B"),
        (100, "1K", "100b", 1, "100B"),
        (1, "1K", "1b", 1, "1B"),
        (KIB**4 + KIB**3, "1025G", "1025gb", KIB**3 + KIB**2, "1025G"),
    ],
)
def test_memory_renders_in_the_largest_exact_unit(n_bytes: int, slurm: str, pbs: str, lsf_kb: int, text: str) -> None:
    mem = Memory(n_bytes)
    assert mem.to_slurm() == slurm
    assert mem.to_pbs() == pbs
    assert mem.to_lsf_kb() == lsf_kb
    assert str(mem) == text


def test_memory_orders_by_size() -> None:
    assert Memory.parse("1G") < Memory.parse("1025M")
    assert Memory.parse("1024M") == Memory.parse("1G")


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("90s", 90),
        ("2m", 120),
        ("2h", 7200),
        ("3d", 3 * 86400),
        ("2w", 2 * 604800),
        ("2h30m", 9000),
        ("1d2h3m4s", 86400 + 7200 + 180 + 4),
        ("1.5h", 5400),
        (" 2H 30M ", 9000),
        ("3600", 3600),
        (" 42 ", 42),
        ("05:30", 330),
        ("04:00:00", 14400),
        ("100:00:00", 360000),
        ("1-12:00:00", 129600),
        ("2-03", 2 * 86400 + 3 * 3600),
        ("2-03:04", 2 * 86400 + 3 * 3600 + 4 * 60),
        ("0-00:00:59", 59),
        ("00:59:59", 3599),
    ],
)
def test_duration_parse_every_form(text: str, seconds: int) -> None:
    assert Duration.parse(text).seconds == seconds


def test_duration_parse_passes_durations_and_ints_through() -> None:
    d = Duration(5)
    assert Duration.parse(d) is d
    assert Duration.parse(0).seconds == 0
    assert Duration.parse(7).seconds == 7


@pytest.mark.parametrize(
    ("text", "match"),
    [
        ("00:60", "minutes and seconds must be < 60"),
        ("01:60:00", "minutes and seconds must be < 60"),
        ("01:00:60", "minutes and seconds must be < 60"),
        ("1-00:60", "minutes and seconds must be < 60"),
        ("2x", "invalid duration '2x'"),
        ("", "invalid duration"),
        ("h", "invalid duration"),
        ("1:2:3:4", "invalid duration"),
        (True, "invalid duration True"),
        (1.5, "invalid duration 1.5"),
        (-1, "must be non-negative"),
        (None, "invalid duration None"),
    ],
)
def test_duration_parse_refusals(text: object, match: str) -> None:
    with pytest.raises(ConfigError, match=match):
        Duration.parse(text)


def test_duration_single_number_clock_is_minutes() -> None:
    # "5" is seconds (digits only) but the clock regex alone, e.g. "1-5", reads days-hours
    assert Duration.parse("1-5").seconds == 86400 + 5 * 3600


@pytest.mark.parametrize("bad", [True, 1.0, "1", -1])
def test_duration_refuses_non_int_or_negative_seconds(bad: object) -> None:
    with pytest.raises(ConfigError):
        Duration(bad)  # type: ignore[arg-type]


def test_duration_constructors() -> None:
    assert Duration.minutes(2).seconds == 120
    assert Duration.minutes(0.5).seconds == 30
    assert Duration.hours(2).seconds == 7200
    assert Duration.hours(0.25).seconds == 900
    assert Duration.minutes(0).seconds == 0
    with pytest.raises(ConfigError, match="duration must be non-negative, got -60"):
        Duration.minutes(-1)
    with pytest.raises(ConfigError, match="duration must be non-negative"):
        Duration.hours(float("nan"))


@pytest.mark.parametrize(
    ("seconds", "slurm", "pbs", "lsf_minutes"),
    [
        (0, "00:00:00", "00:00:00", 1),
        (1, "00:00:01", "00:00:01", 1),
        (59, "00:00:59", "00:00:59", 1),
        (60, "00:01:00", "00:01:00", 1),
        (61, "00:01:01", "00:01:01", 2),
        (120, "00:02:00", "00:02:00", 2),
        (3599, "00:59:59", "00:59:59", 60),
        (3600, "01:00:00", "01:00:00", 60),
        (86399, "23:59:59", "23:59:59", 1440),
        (86400, "1-00:00:00", "24:00:00", 1440),
        (129600 + 61, "1-12:01:01", "36:01:01", 2162),
        (10 * 86400, "10-00:00:00", "240:00:00", 14400),
    ],
)
def test_duration_renders_for_each_scheduler(seconds: int, slurm: str, pbs: str, lsf_minutes: int) -> None:
    d = Duration(seconds)
    assert d.to_slurm() == slurm
    assert d.to_pbs() == pbs
    assert d.to_lsf_minutes() == lsf_minutes
    assert str(d) == pbs


def test_fractional_units_sum_exactly() -> None:
    assert Duration.parse("0.5m30s").seconds == 60
    assert Memory.parse("1.25K").n_bytes == int(Fraction("1.25") * KIB)


@pytest.mark.parametrize(
    ("make", "unit"), [(Memory.kb, "K"), (Memory.mb, "M"), (Memory.gb, "G"), (Memory.tb, "T")]
)
def test_constructor_errors_name_the_value_and_unit(make: object, unit: str) -> None:
    with pytest.raises(ConfigError) as info:
        make("4")  # type: ignore[operator]
    assert str(info.value) == f"invalid memory '4': expected a number of {unit}iB, e.g. Memory.gb(4)"
    with pytest.raises(ConfigError) as info:
        make(0)  # type: ignore[operator]
    assert str(info.value) == f"invalid memory 0{unit}: must be at least 1 byte"


def test_parse_errors_name_the_text() -> None:
    with pytest.raises(ConfigError) as info:
        Memory.parse(0)
    assert str(info.value) == "invalid memory 0: must be at least 1 byte"
    with pytest.raises(ConfigError) as info:
        Memory.parse("0.5")
    assert str(info.value) == "invalid memory '0.5': must be at least 1 byte"
    with pytest.raises(ConfigError) as info:
        Memory.parse("4lots")
    assert str(info.value) == "Unknown memory unit 'lots' in '4lots': expected B, K, M, G or T (e.g. '4G', '512M')"
    with pytest.raises(ConfigError) as info:
        Memory.parse("-")
    assert str(info.value) == "invalid memory '-': expected a number with a unit B, K, M, G or T (e.g. '4G', '512M', '1.5GB')"
    with pytest.raises(ConfigError) as info:
        Duration.parse(-5)
    assert str(info.value) == "invalid duration -5: must be non-negative"
    with pytest.raises(ConfigError) as info:
        Duration.parse("soon")
    assert str(info.value) == (
        "invalid duration 'soon': expected units like '2h30m', '90s', '7d' or a clock like '04:00:00' / '1-12:00:00'"
    )


@pytest.mark.parametrize(("text", "n_bytes"), [("1", 1), ("1B", 1), ("1.4", 1), ("2", 2), (1, 1), ("1.5", 2)])
def test_smallest_sizes(text: object, n_bytes: int) -> None:
    assert Memory.parse(text).n_bytes == n_bytes
