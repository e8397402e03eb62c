"""Memory and Duration: constructors, parsing and scheduler renderings."""

from __future__ import annotations

import pytest

from molq.core import ConfigError, Duration, Memory


KIB = 1024
MIB = KIB**2
GIB = KIB**3


class TestMemoryConstructors:
    def test_binary_units(self):
        """kb/mb/gb/tb are binary multiples of bytes."""
        assert Memory.kb(1).n_bytes == KIB
        assert Memory.mb(1).n_bytes == MIB
        assert Memory.gb(1).n_bytes == GIB
        assert Memory.tb(1).n_bytes == KIB**4

    def test_fractional(self):
        """Fractional amounts are converted to whole bytes."""
        assert Memory.gb(1.5) == Memory.mb(1536)

    def test_negative_rejected(self):
        """A negative amount is a ConfigError."""
        with pytest.raises(ConfigError):
            Memory.gb(-1)

    def test_validator(self):
        """The raw constructor refuses negative and non-int byte counts with a ConfigError."""
        for bad in (-1, 1.5, "4G", True):
            with pytest.raises(ConfigError, match="n_bytes"):
                Memory(bad)  # type: ignore[arg-type]

    def test_zero_still_decodes(self):
        """Memory(0) stays constructible so logs written before it was refused still decode."""
        assert Memory(0).n_bytes == 0

    @pytest.mark.parametrize("make", [Memory.kb, Memory.mb, Memory.gb, Memory.tb])
    def test_zero_refused(self, make):
        """Memory.gb(0) is refused: a job cannot run in no memory (issue 13 item 17)."""
        with pytest.raises(ConfigError, match="at least 1 byte"):
            make(0)

    def test_string_amount_refused(self):
        """Memory.gb("4") is a ConfigError, not a string repeated a billion times."""
        with pytest.raises(ConfigError, match="expected a number"):
            Memory.gb("4")  # type: ignore[arg-type]

    def test_bytes_alias(self):
        """``.bytes`` is the byte count, as upstream molq names it; ``n_bytes`` stays."""
        assert Memory.gb(8).bytes == Memory.gb(8).n_bytes == 8 * GIB

    def test_frozen(self):
        """Memory cannot be mutated."""
        m = Memory(1)
        with pytest.raises(AttributeError):
            m.n_bytes = 2  # type: ignore[misc]


class TestMemoryParse:
    @pytest.mark.parametrize(
        ("text", "expected"),
        [
            ("32G", 32 * GIB),
            ("512MB", 512 * MIB),
            ("1.5GiB", 1536 * MIB),
            ("4g", 4 * GIB),
            (" 2 T ", 2 * KIB**4),
            ("100K", 100 * KIB),
            ("7B", 7),
            ("7", 7),
            (4096, 4096),
        ],
    )
    def test_valid(self, text, expected):
        """Accepted forms give the exact byte count."""
        assert Memory.parse(text) == Memory(expected)

    def test_memory_passthrough(self):
        """A Memory parses to itself."""
        m = Memory.gb(1)
        assert Memory.parse(m) is m

    @pytest.mark.parametrize("text", ["", "abc", "-1G", "4X", "1.2.3G", "G", True, -5, 0, "0", "0G", "0.0001K", "0.5B"])
    def test_invalid(self, text):
        """Malformed sizes, unknown units, negatives and booleans are ConfigErrors."""
        with pytest.raises(ConfigError, match="memory"):
            Memory.parse(text)

    def test_exact_above_float_precision(self):
        """Byte counts beyond 2**53 parse exactly (no float rounding)."""
        assert Memory.parse("9007199254740993B").n_bytes == 2**53 + 1


class TestMemoryRender:
    @pytest.mark.parametrize(
        ("n_bytes", "slurm", "pbs", "lsf"),
        [
            (1, "1K", "1b", 1),
            (MIB, "1M", "1mb", 1024),
            (MIB + KIB, "1025K", "1025kb", 1025),
            (256 * KIB, "256K", "256kb", 256),
            (8 * GIB, "8G", "8gb", 8 * MIB),
            (1536 * MIB, "1536M", "1536mb", 1536 * KIB),
            (KIB**4, "1T", "1tb", KIB**3),
            (KIB + 1, "2K", "1025b", 2),
        ],
    )
    def test_largest_exact_unit(self, n_bytes, slurm, pbs, lsf):
        """to_slurm/to_pbs use the largest exact unit (8G, 1T, 256K); only SLURM rounds bytes up to K."""
        m = Memory(n_bytes)
        assert m.to_slurm() == slurm
        assert m.to_pbs() == pbs
        assert m.to_lsf_kb() == lsf

    @pytest.mark.parametrize(
        ("n_bytes", "text"),
        [(5, "5B"), (KIB, "1K"), (1536 * MIB, "1536M"), (2 * GIB, "2G")],
    )
    def test_str(self, n_bytes, text):
        """str() uses the largest unit that divides exactly."""
        assert str(Memory(n_bytes)) == text

    def test_ordering(self):
        """Memories order by size."""
        assert Memory.mb(512) < Memory.gb(1) < Memory.tb(1)
        assert max(Memory.kb(3), Memory.kb(2)) == Memory.kb(3)


class TestDurationConstructors:
    def test_minutes_hours(self):
        """minutes() and hours() convert to seconds."""
        assert Duration.minutes(2).seconds == 120
        assert Duration.hours(1.5).seconds == 5400

    def test_negative(self):
        """Negative durations are rejected."""
        with pytest.raises(ConfigError):
            Duration.minutes(-1)
        with pytest.raises(ValueError, match="seconds"):
            Duration(-1)


class TestDurationParse:
    @pytest.mark.parametrize(
        ("text", "seconds"),
        [
            ("2h30m", 9000),
            ("90s", 90),
            ("7d", 7 * 86400),
            ("1w", 604800),
            ("1.5h", 5400),
            ("1H 2M", 3720),
            ("04:00:00", 4 * 3600),
            ("1-12:00:00", 36 * 3600),
            ("2-03", 2 * 86400 + 3 * 3600),
            ("2-03:04", 2 * 86400 + 3 * 3600 + 4 * 60),
            ("30", 30),
            ("3600", 3600),
            ("59", 59),
            ("0", 0),
            ("05:30", 330),
            ("100:00:00", 360000),
            (45, 45),
        ],
    )
    def test_valid(self, text, seconds):
        """Unit and SLURM clock forms give the exact second count."""
        assert Duration.parse(text) == Duration(seconds)

    def test_duration_passthrough(self):
        """A Duration parses to itself."""
        d = Duration(3)
        assert Duration.parse(d) is d

    @pytest.mark.parametrize("text", ["1:99", "1:00:60", "soon", "", "h", "1-", "1:2:3:4", True, -1, 1.5])
    def test_invalid(self, text):
        """Out-of-range clocks, words, empty text, booleans and negatives are rejected."""
        with pytest.raises(ConfigError, match="duration"):
            Duration.parse(text)


class TestDurationRender:
    @pytest.mark.parametrize(
        ("seconds", "slurm", "pbs", "lsf"),
        [
            (0, "00:00:00", "00:00:00", 1),
            (1, "00:00:01", "00:00:01", 1),
            (60, "00:01:00", "00:01:00", 1),
            (61, "00:01:01", "00:01:01", 2),
            (86400, "1-00:00:00", "24:00:00", 1440),
            (90061, "1-01:01:01", "25:01:01", 1502),
            (4 * 86400, "4-00:00:00", "96:00:00", 5760),
        ],
    )
    def test_dialects(self, seconds, slurm, pbs, lsf):
        """SLURM uses D-HH:MM:SS, PBS HH:MM:SS, LSF whole minutes (rounded up, >= 1)."""
        d = Duration(seconds)
        assert d.to_slurm() == slurm
        assert d.to_pbs() == pbs
        assert d.to_lsf_minutes() == lsf

    def test_str(self):
        """str() is HH:MM:SS."""
        assert str(Duration(3723)) == "01:02:03"

    def test_ordering(self):
        """Durations order by length."""
        assert Duration.minutes(59) < Duration.hours(1) < Duration.parse("1-00:00:00")
        assert sorted([Duration(3), Duration(1)]) == [Duration(1), Duration(3)]
