"""Sweep values through bash-only constructs: here-strings, ``$'...'``, quoted delimiters.

The companion of ``test_sweep_templates_shell.py`` for what dash cannot run. Each cell
is rendered as a job is (``render_spec`` then ``render_body``) and run by ``bash``:
the job prints the value itself, or molq refuses the template with a SpecError before
anything runs; the canary command hidden in many values never runs.
"""

from __future__ import annotations

import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from molq.core import JobSpec, SpecError
from molq.core._sched._body import render_body
from molq.core._sweep import render_spec


CANARY = "molq-canary"
ATTACKS = [
    f"$(touch {CANARY})",
    f"`touch {CANARY}`",
    f"'; touch {CANARY}; '",
    f"\nab\ntouch {CANARY}\n",
    "*",
    "a b",
    "\\",
    "",
]
# template, the output bash must print for value v, and whether molq may refuse the template
TEMPLATES: dict[str, tuple[str, Callable[[str], str], bool]] = {
    "here-string": ("cat <<< {v}", lambda v: v + "\n", False),
    "here-string-quoted": ('cat <<< "[{v}]"', lambda v: f"[{v}]\n", False),
    "ansi-c-then-value": ("printf '%s|' $'it\\'s' {v}", lambda v: f"it's|{v}|", False),
    "subshell-in-substitution": (
        'printf "%s" "$( (cd /; true) ; printf "%s" {v} )"',
        lambda v: v.rstrip("\n"),
        False,
    ),
    # bash ends this body at the line a\b (a backslash is literal in '...'), not at "ab"
    "backslash-delimiter": ("cat <<'a\\b'\nab\n[{v}]\na\\b\n", lambda v: f"ab\n[{v}]\n", True),
    "comment-with-apostrophe": ("# don't {v}\nprintf '%s' {v}", lambda v: v, False),
}
values = st.one_of(
    st.sampled_from(ATTACKS),
    st.text(st.characters(blacklist_characters="\0", blacklist_categories=("Cs",)), max_size=12),
    st.sampled_from(["run-1.txt", "a.b", "x=1"]),
)


@pytest.mark.parametrize("kind", sorted(TEMPLATES))
@settings(max_examples=30, deadline=None)
@given(value=values)
@example(value="$(touch molq-canary)")
@example(value="run-1.txt")
def test_a_value_is_printed_never_run(tmp_path_factory, kind, value):
    """bash prints the value (or molq refuses the template); the canary never appears."""
    template, expected, may_refuse = TEMPLATES[kind]
    work = tmp_path_factory.mktemp("cell")
    spec = JobSpec("command", command=template, cwd=str(work))
    try:
        body = render_body(render_spec(spec, {"v": value}), str(work))
    except SpecError:
        assert may_refuse
        return
    done = subprocess.run(["bash", "-c", body], capture_output=True, cwd=Path(work), timeout=20, check=False)
    assert not (work / CANARY).exists(), body
    assert done.stdout.decode("utf-8", "surrogateescape") == expected(value), body
