"""Reading #SBATCH/#PBS/#BSUB lines the way each scheduler reads them, and splitting them into flags.

The expected values are what Slurm 22.05, OpenPBS 23.06 and OpenLava 4.0 did on this
machine with the same scripts (see docs/adr on scheduler flags and script directives).
"""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st
from tests.strategies import directive_dialects, flag_texts, script_texts

from molq.core import ConfigError
from molq.core._sched._directives import (
    check_flag_shape,
    check_flag_text,
    directive_line,
    option_keys,
    parse_directive_block,
    split_option,
)


SLURM_SCRIPT = """#!/bin/bash

# a comment
#SBATCH --comment=first
   #SBATCH --nice=7
#SBATCH --comment="two words"   # trailing comment
echo hi
#SBATCH --comment=late
"""
PBS_SCRIPT = """#!/bin/bash
#PBS -N first
\t#PBS -A tabbed
#pbs -N lower
:
#PBS -l walltime=00:05:00
  :
#PBS -N late
"""
LSF_SCRIPT = """#!/bin/bash
#BSUB -J first
   #BSUB -P indented
# BSUB -q short # trailing
#bsub -J lower
#BSUB plain words
echo hi
#BSUB -J late
"""


class TestParseDirectiveBlock:
    def test_slurm_reads_column_zero_lines_up_to_the_first_command(self):
        """sbatch: '#SBATCH' in column 0 only; comments and blanks pass; the first command ends the block."""
        assert parse_directive_block(SLURM_SCRIPT, "slurm") == (
            "--comment=first",
            '--comment="two words"   # trailing comment',
        )

    def test_slurm_colon_line_ends_the_block(self):
        """A ':' line is a command for sbatch (a later #SBATCH is ignored)."""
        assert parse_directive_block("#SBATCH -J a\n:\n#SBATCH -J b\n", "slurm") == ("-J a",)

    def test_slurm_prefix_needs_no_blank(self):
        """'#SBATCH--comment=x' is read by sbatch as --comment=x."""
        assert parse_directive_block("#SBATCH--comment=x\n", "slurm") == ("--comment=x",)

    def test_pbs_reads_indented_lines_and_passes_colon_lines(self):
        """qsub: '#PBS' after blanks counts; a column-0 ':' is not executable, an indented one is."""
        assert parse_directive_block(PBS_SCRIPT, "pbs") == ("-N first", "-A tabbed", "-l walltime=00:05:00")

    def test_pbs_backslash_continues_a_directive(self):
        """A #PBS line ending in a backslash takes the next line (pbs_extendable_line)."""
        assert parse_directive_block("#PBS -l select=1:\\\nncpus=2\necho\n", "pbs") == ("-l select=1:ncpus=2",)

    def test_pbs_shebang_does_not_end_the_block(self):
        """'#!' lines are not executable for qsub."""
        assert parse_directive_block("#!/bin/sh\n#!again\n#PBS -A a\n", "pbs") == ("-A a",)

    def test_lsf_reads_the_whole_script(self):
        """bsub reads #BSUB anywhere, after blanks and '#' + blanks, only when a '-' follows."""
        assert parse_directive_block(LSF_SCRIPT, "lsf") == (
            "-J first",
            "-P indented",
            "-q short # trailing",
            "-J late",
        )

    def test_blank_directive_is_skipped(self):
        """A bare prefix holds no option."""
        assert parse_directive_block("#SBATCH\n#SBATCH   \n", "slurm") == ()

    def test_no_break_space_is_kept(self):
        """Only C blanks are stripped: a trailing no-break space is part of the option."""
        assert parse_directive_block("#SBATCH --comment=a\xa0\n", "slurm") == ("--comment=a\xa0",)

    @given(script_texts, directive_dialects)
    def test_never_fails_and_yields_single_lines(self, text, dialect):
        """Any text parses; every option is one stripped line without a newline."""
        for option in parse_directive_block(text, dialect):
            assert option
            assert "\n" not in option
            assert option == option.strip(" \t\f\v\r")

    @given(script_texts, script_texts, st.sampled_from(["slurm", "pbs"]))
    def test_nothing_after_the_first_command_counts(self, head, tail, dialect):
        """Slurm and PBS: whatever follows the first executable line never changes the result."""
        stop = "echo done"
        assert parse_directive_block(f"{head}\n{stop}\n{tail}", dialect) == parse_directive_block(
            f"{head}\n{stop}\n", dialect
        )

    @given(script_texts, st.lists(st.sampled_from(["", "# note", "   ", "\t# x"]), max_size=4), directive_dialects)
    def test_comments_and_blank_lines_change_nothing(self, text, noise, dialect):
        """Comment and blank lines inserted before the block do not change it."""
        assert parse_directive_block("\n".join([*noise, text]), dialect) == parse_directive_block(text, dialect)

    @given(st.lists(flag_texts, max_size=4), directive_dialects)
    def test_rendered_lines_read_back_verbatim(self, flags, dialect):
        """Every checked flag rendered as a directive line is read back byte for byte."""
        options = []
        for flag in flags:
            try:
                options.append(check_flag_text(flag, dialect))
            except ConfigError:
                continue
        script = "\n".join(["#!/bin/bash", *(directive_line(dialect, o) for o in options), "", "echo body"])
        assert parse_directive_block(script, dialect) == tuple(options)


class TestFlagText:
    @pytest.mark.parametrize(
        ("text", "words"),
        [
            ("constraint", "must start with '-'"),
            ("--comment=a\nrm -rf /", "line break"),
            ("--comment=a\rb", "line break"),
            ("--comment=\x00", "control character"),
            ("--comment=a\u2028b", "line break"),
            ("-N x\\", "backslash"),
        ],
    )
    def test_shape(self, text, words):
        """Anything that could leave or continue its directive line is refused, naming the text."""
        with pytest.raises(ConfigError, match=words) as info:
            check_flag_shape(text)
        assert repr(text) in str(info.value)

    def test_plain_flag_passes(self):
        """A plain option, blanks and tabs inside included, is returned as given."""
        assert check_flag_shape("--comment=a\tb c") == "--comment=a\tb c"

    def test_not_a_string(self):
        """A non-string flag names its type."""
        with pytest.raises(ConfigError, match="must be a string, got int 3"):
            check_flag_shape(3)

    def test_open_quote(self):
        """A quote left open is refused."""
        with pytest.raises(ConfigError, match="quote is left open"):
            check_flag_text('--comment="a', "slurm")

    def test_lsf_mixed_quotes(self):
        """bsub reads one kind of quote per line: mixing them is refused."""
        with pytest.raises(ConfigError, match="one kind of quote"):
            check_flag_text("""-R "select[type=='X']" """, "lsf")
        assert check_flag_text("""-R "select[type=='X']" """, "slurm") == """-R "select[type=='X']\""""

    def test_blanks_around_are_dropped(self):
        """Surrounding blanks are not part of the flag."""
        assert check_flag_text("  -P proj\t", "lsf") == "-P proj"


class TestOptionKeys:
    @pytest.mark.parametrize(
        ("dialect", "text", "keys"),
        [
            ("slurm", "--constraint=intel", ("--constraint",)),
            ("slurm", "-J name --comment x", ("--job-name", "--comment")),
            ("slurm", "-Jname", ("--job-name",)),
            ("slurm", "-C intel", ("-C",)),
            ("slurm", "--nice=-5", ("--nice",)),
            ("slurm", "--comment=x # -o y", ("--comment",)),
            ("pbs", "-l select=2:ncpus=4:mpiprocs=4", ("-l select",)),
            ("pbs", "-l walltime=1:00:00,place=excl", ("-l walltime", "-l place")),
            ("pbs", "-lselect=1", ("-l select",)),
            ("pbs", "-W depend=afterok:1", ("-W depend",)),
            ("pbs", "-N x -A acct", ("-N", "-A")),
            ("pbs", "-A a # -o x", ("-A", "-o")),
            ("lsf", '-R "span[hosts=1] rusage[mem=10]"', ("-R span", "-R rusage")),
            ("lsf", "-R 'mem>100'", ("-R select",)),
            ("lsf", "-sp 10", ("-sp",)),
            ("lsf", "-Jname", ("-J",)),
            ("lsf", "-oo out", ("-oo",)),
            ("lsf", "-P proj # -J x", ("-P",)),
        ],
    )
    def test_keys(self, dialect, text, keys):
        """Each dialect's option forms map to the flags molq compares."""
        assert option_keys(text, dialect) == keys

    def test_split_removes_quotes(self):
        """Words come back as the scheduler sees them."""
        assert split_option('-R "span[hosts=1]"', "lsf") == ["-R", "span[hosts=1]"]
