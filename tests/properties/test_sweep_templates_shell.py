"""Sweep values through command templates into real shells: always data, never code.

Each template puts ``{v}`` in one quoting context (unquoted, double quotes, single
quotes, here-documents, command substitution, backticks, arithmetic, a comment). The
cell is rendered exactly as a job is (``render_spec`` then ``render_body``) and run
by ``sh`` (dash) and ``bash``. Whatever the value, the job prints the value itself,
or molq refuses the template with a SpecError before anything runs; the canary
command hidden in many values never runs.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from molq.core import JobSpec, SpecError
from molq.core._sched._body import render_body
from molq.core._sweep import render_spec


SHELLS = [s for s in ("sh", "bash") if shutil.which(s)]
CANARY = "molq-canary"
ATTACKS = [
    f"$(touch {CANARY})",
    f"`touch {CANARY}`",
    f"'; touch {CANARY}; '",
    f'"; touch {CANARY}; "',
    f"\nEOF\ntouch {CANARY}\nEOF\n",
    f"a[$(touch {CANARY})]",
    f"${{x:-$(touch {CANARY})}}",
    "*",
    "a b  c",
    "\\",
    "-n",
    "",
]
TEMPLATES: dict[str, str] = {
    "unquoted": "printf '%s' {v}",
    "double": "printf '%s' \"[{v}]\"",
    "single": "printf '%s' '[{v}]'",
    "heredoc": "cat <<EOF\n[{v}]\nEOF",
    "heredoc-tabs": "cat <<-EOF\n\t[{v}]\n\tEOF",
    "quoted-heredoc": "cat <<'EOF'\n[{v}]\nEOF",
    "command-substitution": "printf '%s' \"$(printf '%s' {v})\"",
    "backticks": "printf '%s' \"`printf '%s' \"{v}\"`\"",
    "arithmetic": "printf '%s' $(( {v} + 0 ))",
    "comment": "printf done # {v} don't",
}
values = st.one_of(
    st.sampled_from(ATTACKS),
    st.text(st.characters(blacklist_characters="\0", blacklist_categories=("Cs",)), max_size=12),
    st.builds("".join, st.lists(st.sampled_from([*ATTACKS, "x", "'", '"', "\n", "$", "`", "{v}"]), max_size=4)),
    st.integers(-(10**6), 10**6).map(str),
)


def _expected(kind: str, value: str) -> str:
    if kind == "unquoted":
        return value
    if kind in ("double", "single", "quoted-heredoc"):
        return f"[{value}]" + ("\n" if kind == "quoted-heredoc" else "")
    if kind.startswith("heredoc"):
        return f"[{value}]\n"
    if kind in ("command-substitution", "backticks"):
        return value.rstrip("\n")  # $(...) drops trailing newlines
    if kind == "arithmetic":
        return str(int(value))
    return "done"


def _run(shell: str, body: str, cwd: Path) -> str:
    done = subprocess.run([shell, "-c", body], capture_output=True, cwd=cwd, timeout=20, check=False)
    return done.stdout.decode("utf-8", "surrogateescape")


@pytest.mark.parametrize("kind", sorted(TEMPLATES))
@settings(max_examples=30, deadline=None)
@given(value=values)
@example(value="$(touch molq-canary)")
def test_a_value_is_printed_never_run(tmp_path_factory, kind, value):
    """The job prints the value (or molq refuses the template); the canary never appears."""
    work = tmp_path_factory.mktemp("cell")
    spec = JobSpec("command", command=TEMPLATES[kind], cwd=str(work))
    try:
        body = render_body(render_spec(spec, {"v": value}), str(work))
    except SpecError:
        assert kind in ("quoted-heredoc", "arithmetic")
        return
    for shell in SHELLS:
        out = _run(shell, body, work)
        assert not (work / CANARY).exists(), (shell, body)
        if kind == "arithmetic" and value.lstrip("+-").startswith("0") and len(value.lstrip("+-")) > 1:
            continue  # shells read a leading 0 as octal: the shell's arithmetic, not molq's business
        assert out == _expected(kind, value), (shell, body)


def test_the_issue_example_runs_nothing(tmp_path):
    """``echo "tag={tag}"`` with a tag of ``$(touch X)`` prints the tag (issue 13, item 7)."""
    spec = JobSpec("command", command='echo "tag={tag}"', cwd=str(tmp_path))
    body = render_body(render_spec(spec, {"tag": "$(touch X)"}), str(tmp_path))
    for shell in SHELLS:
        assert _run(shell, body, tmp_path) == "tag=$(touch X)\n"
    assert not (tmp_path / "X").exists()
