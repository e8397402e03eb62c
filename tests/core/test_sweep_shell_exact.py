"""Sweep values in shell text: the exact reference written in each quoting context.

A ``{name}`` in a ``command=`` or an inline shell script becomes a reference to
``$MOLQ_ARG_name`` written for the context the shell reads it in: ``"${...}"`` in code
(including ``$( )`` and backticks), ``${...}`` inside double quotes and unquoted
here-documents, ``'"${...}"'`` inside single quotes, the bare value in a quoted
here-document (plain values only), an integer-checked ``${...}`` in arithmetic. Each
test puts a placeholder *after* a construct, so a construct the scanner misreads
shows as the wrong reference (the job then prints quotes, splits a value into words or
is refused) — the text below is what the job script holds.
"""

from __future__ import annotations

import pytest

from molq.core import JobSpec, SpecError
from molq.core._spec import Script
from molq.core._sweep import render_spec
from molq.core._sweep_shell import check_inline_script, script_interpreter


ARGS = {"v": "two words", "n": 3, "p": "run-1.txt"}
V = '"${MOLQ_ARG_v}"'  # in code
V_DQ = "${MOLQ_ARG_v}"  # inside "..." or an unquoted here-document
V_SQ = "'\"${MOLQ_ARG_v}\"'"  # inside '...'
N = "${MOLQ_ARG_n}"
P = "${MOLQ_ARG_p}"


def command(template: str) -> str:
    """The command a cell of ``template`` runs, as the job script holds it."""
    rendered = render_spec(JobSpec("command", command=template), ARGS).command
    assert rendered is not None
    return rendered


class TestQuotes:
    @pytest.mark.parametrize(
        ("template", "expected"),
        [
            ("echo '(' {v}", f"echo '(' {V}"),
            ("echo 'a {v}' {v}", f"echo 'a {V_SQ}' {V}"),
            ('echo "it\'s {v}" {v}', f'echo "it\'s {V_DQ}" {V}'),
            ('echo "say \\"{v}\\"" {v}', f'echo "say \\"{V_DQ}\\"" {V}'),
            ('echo \\"{v}\\" \\\'{v}', f'echo \\"{V}\\" \\\'{V}'),
            ("MAX={n} ./run '{v}'", f"MAX=\"{N}\" ./run '{V_SQ}'"),
        ],
    )
    def test_each_quote_ends_where_the_shell_ends_it(self, template, expected):
        """Quotes, escaped quotes and an apostrophe inside "..." switch the context exactly as sh does."""
        assert command(template) == expected

    def test_ansi_c_quotes_end_after_their_escapes(self):
        """``$'...'`` with escaped quotes inside ends at its real closing quote."""
        template = "printf '%s\\n' $'say \\'hi\\'' {v}"
        assert command(template) == f"printf '%s\\n' $'say \\'hi\\'' {V}"

    def test_ansi_c_quotes_of_any_length_end_at_their_quote(self):
        """An escape in the middle of ``$'...'`` does not shift where it ends."""
        assert command("printf '%s\\n' $'it\\'s' {v}") == f"printf '%s\\n' $'it\\'s' {V}"

    def test_a_placeholder_inside_ansi_c_quotes_is_refused(self):
        """``$'...'`` cannot hold a reference: the error says where the value stood."""
        with pytest.raises(
            SpecError, match=r"^\{v\} with value 'two words' cannot be placed inside \$'\.\.\.':"
        ):
            command("printf $'{v}\\n'")


class TestSubstitutions:
    @pytest.mark.parametrize(
        ("template", "expected"),
        [
            ('echo "$(date) {v}"', f'echo "$(date) {V_DQ}"'),
            (
                'echo "$( (cd /tmp && pwd) ; echo {v} ) {v}"',
                f'echo "$( (cd /tmp && pwd) ; echo {V} ) {V_DQ}"',
            ),
            ('echo "$( (cd a) && (cd b) && echo {v} )"', f'echo "$( (cd a) && (cd b) && echo {V} )"'),
            (
                'echo "$( (cd a && (cd b && pwd)) ; echo {v} )"',
                f'echo "$( (cd a && (cd b && pwd)) ; echo {V} )"',
            ),
            ('echo "$(cat XY.txt) {v}"', f'echo "$(cat XY.txt) {V_DQ}"'),
            ("out=$({v} --version)", f"out=$({V} --version)"),
            ("echo `basename {v}`", f"echo `basename {V}`"),
            ('echo "`basename {v}`: {v}"', f'echo "`basename {V}`: {V_DQ}"'),
        ],
    )
    def test_a_substitution_is_code_and_ends_at_its_own_close(self, template, expected):
        """Inside ``$( )`` and backticks a value is quoted as in code; subshells inside do not end it early."""
        assert command(template) == expected


class TestArithmetic:
    @pytest.mark.parametrize(
        ("template", "expected"),
        [
            ('echo "$(( {n} + 1 ))" {v}', f'echo "$(( {N} + 1 ))" {V}'),
            ('echo "$(expr $(( 2 * 3 )) + {n})"', f'echo "$(expr $(( 2 * 3 )) + "{N}")"'),
            ("echo $(( {n} << 2 ))\necho '{v}'", f"echo $(( {N} << 2 ))\necho '{V_SQ}'"),
            ("x=1; (( x += {n} )); echo '{v}'", f"x=1; (( x += {N} )); echo '{V_SQ}'"),
            ("if (({n} > 2)); then echo big; fi", f"if (({N} > 2)); then echo big; fi"),
            ("echo $(( ((x + 1) * 2) + {n} ))", f"echo $(( ((x + 1) * 2) + {N} ))"),
            ("echo $(( 1 + 2 )) {v}", f"echo $(( 1 + 2 )) {V}"),
        ],
    )
    def test_arithmetic_holds_integers_and_ends_at_its_double_paren(self, template, expected):
        """``$(( ))`` and ``(( ))`` take the bare reference; ``<<`` there is a shift, not a here-document."""
        assert command(template) == expected

    @pytest.mark.parametrize("template", ["echo $(( ((x + 1) * 2) + {v} ))", "(( x += {v} ))"])
    def test_a_word_in_arithmetic_is_refused(self, template):
        """bash runs the text of a variable in arithmetic as code, so only integers may stand there."""
        with pytest.raises(SpecError, match=r"^\{v\} is used in shell arithmetic.*got 'two words'$"):
            command(template)


class TestComments:
    @pytest.mark.parametrize(
        ("template", "expected"),
        [
            ("# don't {v}\necho '{v}'", f"# don't {V}\necho '{V_SQ}'"),
            ("echo a # don't\necho '{v}'", f"echo a # don't\necho '{V_SQ}'"),
            ("echo a #don't\necho '{v}'", f"echo a #don't\necho '{V_SQ}'"),
            ("# run {v}\necho '{v}'\necho done", f"# run {V}\necho '{V_SQ}'\necho done"),
            ("echo start\n# don't {v}\necho '{v}'", f"echo start\n# don't {V}\necho '{V_SQ}'"),
            ("cat <<EOF  # {v}\n{v}\nEOF", f"cat <<EOF  # {V}\n{V_DQ}\nEOF"),
        ],
    )
    def test_a_comment_ends_at_its_line(self, template, expected):
        """An apostrophe in a comment opens nothing; the next line is code again (or a here-document body)."""
        assert command(template) == expected

    @pytest.mark.parametrize(
        ("template", "expected"),
        [("echo a#b '{v}'", f"echo a#b '{V_SQ}'"), ("echo x#1 '{v}'", f"echo x#1 '{V_SQ}'")],
    )
    def test_a_hash_inside_a_word_is_not_a_comment(self, template, expected):
        """``#`` starts a comment only at the start of a word."""
        assert command(template) == expected


class TestHereDocuments:
    def test_a_here_string_is_code(self):
        """``<<<`` is a here-string, not a here-document: its word and the next line are code.

        Before the fix the scanner read its last two ``<`` as ``<<``: ``{v}`` stayed in
        the script as literal text and the next line became a here-document body.
        """
        assert command("cat <<< {v}\necho {v}") == f"cat <<< {V}\necho {V}"
        assert command("cat <<<{v}") == f"cat <<<{V}"

    @pytest.mark.parametrize(
        ("operator", "word", "end", "body"),
        [
            ("<<", "EOF", "EOF", P),
            ("<<", "XML", "XML", P),
            ("<<", "'EOF'", "EOF", "run-1.txt"),
            ("<<", '"EOF"', "EOF", "run-1.txt"),
            ("<<", "\\EOF", "EOF", "run-1.txt"),
            ("<<", 'E"O"F', "EOF", "run-1.txt"),
            ("<<", "'END OF DATA'", "END OF DATA", "run-1.txt"),
            ("<<", "'a\\b'", "a\\b", "run-1.txt"),
            ("<<", '"a\\b"', "a\\b", "run-1.txt"),
            ("<<", '"a\\"b"', 'a"b', "run-1.txt"),
            ("<<", "a\\b", "ab", "run-1.txt"),
            ("<<", "'a\\'", "a\\", "run-1.txt"),
            ("<<", "'E'\"OF\"", "EOF", "run-1.txt"),
            ("<<-", "EOF", "\tEOF", P),
            ("<<-", "XML", "\t\tXML", P),
            ("<<-", "'XX'", "\tXX", "run-1.txt"),
        ],
    )
    def test_the_body_ends_at_the_delimiter_the_shell_reads(self, operator, word, end, body):
        """The delimiter is the word after quote removal (bash's rule); ``<<-`` strips leading tabs."""
        template = f"cat {operator}{word}\n{{p}}\n{end}\necho '{{v}}'"
        assert command(template) == f"cat {operator}{word}\n{body}\n{end}\necho '{V_SQ}'"

    def test_a_backslash_in_a_quoted_delimiter_is_part_of_it(self):
        """``<<'a\\b'`` ends at the line ``a\\b``; a line ``ab`` is still body.

        Before the fix molq took the delimiter to be ``ab`` (a backslash is literal
        inside single quotes), so it read the rest of the body as code.
        """
        template = "cat <<'a\\b'\nab\n{p}\na\\b\necho {p}"
        assert command(template) == f"cat <<'a\\b'\nab\nrun-1.txt\na\\b\necho \"{P}\""

    @pytest.mark.parametrize(
        ("template", "expected"),
        [
            ("cat <<EOF\n{v}EOF\n'{v}'\nEOF", f"cat <<EOF\n{V_DQ}EOF\n'{V_DQ}'\nEOF"),
            ("cat <<EOF\n\tEOF\n'{v}'\nEOF", f"cat <<EOF\n\tEOF\n'{V_DQ}'\nEOF"),
            ("cat <<-EOF\n  EOF\n'{v}'\nEOF", f"cat <<-EOF\n  EOF\n'{V_DQ}'\nEOF"),
            ("cat <<EOF\nEOF \n'{v}'\nEOF", f"cat <<EOF\nEOF \n'{V_DQ}'\nEOF"),
        ],
    )
    def test_only_the_whole_delimiter_line_ends_the_body(self, template, expected):
        """Text before the delimiter, tabs under ``<<``, spaces under ``<<-`` or a trailing space keep the body open."""
        assert command(template) == expected

    @pytest.mark.parametrize(
        ("template", "expected"),
        [
            ("cat <<EOF\n\\$( {v} )\nEOF", f"cat <<EOF\n\\$( {V_DQ} )\nEOF"),
            ("cat <<EOF\n\\\\{v}\nEOF", f"cat <<EOF\n\\\\{V_DQ}\nEOF"),
            ("cat <<EOF\n$(echo {v}) {v}\nEOF\necho {v}", f"cat <<EOF\n$(echo {V}) {V_DQ}\nEOF\necho {V}"),
            ("cat <<EOF > out-{n}.txt\n{v}\nEOF", f'cat <<EOF > out-"{N}".txt\n{V_DQ}\nEOF'),
        ],
    )
    def test_an_unquoted_body_expands_like_double_quotes(self, template, expected):
        """Backslash escapes and ``$( )`` work in the body; the rest of the operator's line is code."""
        assert command(template) == expected

    @pytest.mark.parametrize(
        ("template", "expected"),
        [
            ("cat <<'EOF'\n\\{p}\nEOF", "cat <<'EOF'\n\\run-1.txt\nEOF"),
            ("cat <<'EOF'\n$(echo {p})\nEOF", "cat <<'EOF'\n$(echo run-1.txt)\nEOF"),
        ],
    )
    def test_a_quoted_body_is_literal(self, template, expected):
        """In a quoted body the shell expands nothing, so a plain value is written as it is."""
        assert command(template) == expected

    def test_a_word_in_a_quoted_body_is_refused(self):
        """A value the shell would not print as it is cannot go in a quoted body: the error says so."""
        with pytest.raises(
            SpecError, match=r"^\{v\} with value 'two words' cannot be placed inside a quoted here-document:"
        ):
            command("cat <<'EOF'\n{v}\nEOF")


@pytest.mark.parametrize(
    ("template", "expected"),
    [
        ("cat <<", "cat <<"),
        ("cat << ", "cat << "),
        ("cat <<EOF", "cat <<EOF"),
        ("cat <<EOF\n{v}", f"cat <<EOF\n{V_DQ}"),
        ("cat <<EOF\n$(echo {v}", f"cat <<EOF\n$(echo {V}"),
        ("echo '{v}", f"echo '{V_SQ}"),
        ("# {v}", f"# {V}"),
        ("cat <<EOF\\", "cat <<EOF\\"),
    ],
)
def test_unfinished_text_is_rendered_for_the_shell_to_judge(template, expected):
    """An unfinished construct never crashes the renderer; the shell reports the syntax error."""
    assert command(template) == expected


class TestInlineScripts:
    def test_an_empty_interpreter_line_names_no_interpreter(self):
        """A ``#!`` line with nothing after it is a shell script: its placeholders are rendered."""
        text = "#!\nimport os\nprint({v})\n"
        assert script_interpreter(text) is None
        spec = render_spec(JobSpec("script", script=Script.inline(text)), ARGS)
        assert spec.script == Script.inline(f"#!\nimport os\nprint({V})\n")

    def test_env_with_a_path_names_the_program(self):
        """``#!/usr/bin/env /bin/bash`` is a bash script; ``env /usr/bin/python3`` a python3 one."""
        check_inline_script("#!/usr/bin/env /bin/bash\necho {v}\n")
        with pytest.raises(SpecError, match=r"^placeholder \{v\} in an inline python3 script"):
            check_inline_script("#!/usr/bin/env /usr/bin/python3\nprint({v})\n")

    def test_the_refusal_says_every_argument_is_exported(self):
        """The error tells the user where the value is instead."""
        with pytest.raises(SpecError) as info:
            check_inline_script("#!/usr/bin/env python3\nprint({lr})\n")
        assert str(info.value).endswith(
            "read the environment variable MOLQ_ARG_lr instead (every sweep argument is exported to the job)"
        )
