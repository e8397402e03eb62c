"""A script's directive block, exactly: which lines each scheduler reads, and the flags they set.

Each test pins what a user's script gives (ADR 0033): the exact option texts, the line
that ends the block for Slurm and PBS, continuation lines, and the flag keys molq
compares with its own request.
"""

from __future__ import annotations

import pytest

from molq.core import ConfigError
from molq.core._sched._directives import (
    check_flag_shape,
    check_flag_text,
    option_keys,
    parse_directive_block,
    split_option,
)


NBSP = "\u00a0"


class TestWhatEndsTheBlock:
    @pytest.mark.parametrize("dialect", ["slurm", "pbs"])
    @pytest.mark.parametrize("command", ["X", "XX", "w", "true", "echo hi", "X=1"])
    def test_any_command_ends_it(self, dialect, command):
        """The first command, however short, ends the block; later directives are not read."""
        prefix = "#SBATCH" if dialect == "slurm" else "#PBS"
        text = f"#!/bin/sh\n{prefix} -A early\n{command}\n{prefix} -A late\n"
        assert parse_directive_block(text, dialect) == ("-A early",)

    @pytest.mark.parametrize("dialect", ["slurm", "pbs"])
    @pytest.mark.parametrize("blank", [NBSP, "\u3000", "\x1c", NBSP + "# not a comment"])
    def test_a_line_of_non_c_blanks_is_a_command(self, dialect, blank):
        """Both schedulers skip only C ``isspace`` blanks: a no-break space is text."""
        prefix = "#SBATCH" if dialect == "slurm" else "#PBS"
        text = f"{prefix} -A early\n{blank}\n{prefix} -A late\n"
        assert parse_directive_block(text, dialect) == ("-A early",)

    @pytest.mark.parametrize("dialect", ["slurm", "pbs"])
    def test_c_blanks_and_comments_do_not_end_it(self, dialect):
        """Blank lines (spaces, tabs, form feeds, CR) and comments are passed over."""
        prefix = "#SBATCH" if dialect == "slurm" else "#PBS"
        text = f"{prefix} -A one\n \t\f\v\r\n\t# comment\n#!/not/a/command\n{prefix} -A two\n"
        assert parse_directive_block(text, dialect) == ("-A one", "-A two")

    def test_pbs_passes_over_colon_lines_but_slurm_stops(self):
        """``:`` in column 0 is not executable for qsub; for sbatch it is a command."""
        assert parse_directive_block("#PBS -N a\n: note\n:\n#PBS -N b\n", "pbs") == ("-N a", "-N b")
        assert parse_directive_block("#SBATCH -J a\n: note\n#SBATCH -J b\n", "slurm") == ("-J a",)

    def test_lsf_reads_past_commands(self):
        """bsub reads #BSUB lines anywhere in the script."""
        text = "#BSUB -J a\nX\necho hi\n  # BSUB -q late\n"
        assert parse_directive_block(text, "lsf") == ("-J a", "-q late")


class TestContinuations:
    def test_pbs_continuation_in_the_middle_of_the_block(self):
        """The continued line is joined and the directives after it are still read."""
        text = "#!/bin/sh\n#PBS -N a\\\nb\n#PBS -q short\n#PBS -A acct\nrun\n"
        assert parse_directive_block(text, "pbs") == ("-N ab", "-q short", "-A acct")

    def test_lsf_continuation_over_two_lines(self):
        """Each trailing backslash takes the next line in."""
        text = "#BSUB -J x\\\ny\\\nz\n#BSUB -q q\n"
        assert parse_directive_block(text, "lsf") == ("-J xyz", "-q q")

    @pytest.mark.parametrize("dialect", ["pbs", "lsf"])
    def test_a_backslash_on_the_last_line_stays(self, dialect):
        """Nothing follows it: the option keeps its backslash (and nothing breaks)."""
        prefix = "#PBS" if dialect == "pbs" else "#BSUB"
        assert parse_directive_block(f"{prefix} -N a\\", dialect) == ("-N a\\",)

    def test_slurm_has_no_continuation(self):
        """sbatch reads one line per directive: the backslash is kept, the next line read alone."""
        text = "#SBATCH --comment=a\\\n#SBATCH -J x\n"
        assert parse_directive_block(text, "slurm") == ("--comment=a\\", "-J x")


class TestOptionTexts:
    @pytest.mark.parametrize(
        ("text", "dialect", "expected"),
        [
            ("#SBATCH --job-name=MAX\n", "slurm", ("--job-name=MAX",)),
            ("#PBS -N XX \n", "pbs", ("-N XX",)),
            ("#BSUB -J X\t\r\n", "lsf", ("-J X",)),
            (f"#SBATCH --comment=a{NBSP}\n", "slurm", (f"--comment=a{NBSP}",)),
        ],
        ids=["slurm", "pbs", "lsf", "no-break space kept"],
    )
    def test_only_c_blanks_are_stripped(self, text, dialect, expected):
        """The option text is kept byte for byte between the C blanks around it."""
        assert parse_directive_block(text, dialect) == expected


class TestFlagShape:
    @pytest.mark.parametrize("flag", ["--job-name=MAX", "-q X", "--comment=a" + NBSP])
    def test_the_text_is_kept_inside_its_spaces_and_tabs(self, flag):
        """Only spaces and tabs around the flag go; its own text stays."""
        assert check_flag_shape(f" \t{flag}\t ") == flag

    def test_a_no_break_space_before_the_dash_is_refused(self):
        """It is not a blank for any scheduler, so the flag does not start with '-'."""
        with pytest.raises(ConfigError, match="must start with '-'"):
            check_flag_shape(NBSP + "--comment=x")

    def test_pbs_has_no_trailing_comment_to_hide_an_open_quote(self):
        """qsub reads ``#`` as text, so the quote after it is left open; sbatch reads a comment."""
        with pytest.raises(ConfigError, match="quote is left open"):
            check_flag_text("-N a #'b", "pbs")
        assert check_flag_text("--comment=a #'b", "slurm") == "--comment=a #'b"


class TestSplitOption:
    def test_words_keep_every_letter(self):
        """Uppercase letters, X included, are plain text for every dialect."""
        assert split_option("-N MAX", "pbs") == ["-N", "MAX"]
        assert split_option("--job-name=X1 -J XX", "slurm") == ["--job-name=X1", "-J", "XX"]
        assert split_option("-J X", "lsf") == ["-J", "X"]

    def test_hash_is_a_comment_except_for_pbs(self):
        """sbatch and bsub drop a trailing comment; qsub keeps ``#`` as text."""
        assert split_option("-N a # note", "pbs") == ["-N", "a", "#", "note"]
        assert split_option("-J a # note", "slurm") == ["-J", "a"]
        assert split_option("-J a # note", "lsf") == ["-J", "a"]


class TestOptionKeys:
    def test_slurm_long_option_with_equals_in_its_value(self):
        """The name is what comes before the first '='."""
        assert option_keys("--export=A=1,B=2", "slurm") == ("--export",)

    @pytest.mark.parametrize(
        ("text", "expected"),
        [("-n4", ("-n",)), ("-wnode1", ("-w",)), ("-Jname", ("--job-name",)), ("-t1:00", ("--time",))],
    )
    def test_slurm_short_option_with_its_value_attached(self, text, expected):
        """A one-letter option is its two characters, by its long name where molq sets it."""
        assert option_keys(text, "slurm") == expected

    def test_pbs_resource_list_after_other_flags(self):
        """``-l``'s value is the word right after it, not another flag's value."""
        assert option_keys("-q short -l mem=4gb,nodes=1:ppn=2", "pbs") == ("-q", "-l mem", "-l nodes")

    def test_pbs_resource_list_with_equals_in_values(self):
        """A resource name is what comes before its first '='."""
        assert option_keys("-W depend=afterok:1=2", "pbs") == ("-W depend",)

    def test_a_bare_list_flag_at_the_end(self):
        """``-l`` with nothing after it is the flag alone."""
        assert option_keys("-N a -l", "pbs") == ("-N", "-l")

    def test_lsf_unknown_option_stays_as_given(self):
        """An option bsub molq does not know is compared as written."""
        assert option_keys("-Yfoo -q short", "lsf") == ("-Yfoo", "-q")

    @pytest.mark.parametrize(
        ("text", "expected"),
        [
            ("-Rspan[hosts=1]", ("-R span",)),
            ("-R 'span[hosts=1] rusage[mem=100]'", ("-R span", "-R rusage")),
            ("-R", ("-R select",)),
            ("-Rselect[mem>100]", ("-R select",)),
        ],
    )
    def test_lsf_resource_sections(self, text, expected):
        """Each section of ``-R`` is its own key, attached to the flag or not."""
        assert option_keys(text, "lsf") == expected
