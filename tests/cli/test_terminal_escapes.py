"""No control character a user or scheduler wrote reaches the terminal (issue 13, item 11).

A job's name, command, scheduler id and reasons hold arbitrary text: ESC starts CSI/OSC
sequences (clear the screen, retitle the window, write the clipboard), CR and BS hide
text, bidi overrides reorder it. Every read command and the dashboard show them escaped.
"""

from __future__ import annotations

import io
import unicodedata
import uuid

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from rich.console import Console

from molq.cli import run
from molq.core import JobExecution, JobSpec
from molq.core._events import JobCreated, JobFailed, JobStarted, JobSubmitted
from molq.dashboard._text import is_terminal_safe, shown
from molq.dashboard._view import detail_screen
from molq.shell.store._store import JobStore


ATTACKS = [
    "\x1b]0;owned\x07",  # OSC: window title
    "\x1b]52;c;cm0gLXJmIH4=\x07",  # OSC 52: clipboard
    "\x1b[2J\x1b[H",  # CSI: clear screen, home
    "\x1b]8;;http://evil/\x1b\\link\x1b]8;;\x1b\\",  # hyperlink
    "ok\rFAILED",
    "\u202egnp.exe",
    "\x9b31m",  # C1 CSI
    "a\nstate:     succeeded",
]
hostile = st.one_of(
    st.sampled_from(ATTACKS),
    st.text(st.characters(blacklist_characters="\0", blacklist_categories=("Cs",)), min_size=1, max_size=20),
    st.lists(st.sampled_from([*ATTACKS, "x", "[bold]", ":smile:", "\\"]), min_size=1, max_size=4).map("".join),
)
COMMANDS = (
    ("list", "--all"),
    ("history",),
    ("status", "{id}"),
    ("inspect", "{id}"),
    ("replay", "{id}"),
    ("logs", "{id}"),
    ("monitor", "--once"),
)


def _control_chars(text: str) -> set[str]:
    return {c for c in text if unicodedata.category(c) == "Cc" and c not in "\n"} | {
        c for c in text if c in "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f\u2028\u2029"
    }


def _store_with_hostile_job(path, text: str) -> str:
    job_id = uuid.uuid4().hex
    spec = JobSpec("command", command=f"echo {text}", execution=JobExecution(job_name=text))
    events = [
        JobCreated(job_id=job_id, at=1.0, cluster_name="laptop", scheduler="local", root_job_id=job_id, spec=spec),
        JobSubmitted(job_id=job_id, at=2.0, scheduler_job_id="4242", command=f"run {text}"),
        JobStarted(job_id=job_id, at=3.0, raw_state=text),
        JobFailed(job_id=job_id, at=4.0, exit_code=1, reason=text, raw_state=text),
    ]
    store = JobStore(path)
    try:
        store.append(job_id, events, expected_version=0, now=4.0)
    finally:
        store.close()
    return job_id


@pytest.mark.parametrize("attack", ATTACKS)
def test_shown_leaves_no_control_character(attack):
    """``shown`` escapes every control and bidi character and keeps the rest readable."""
    assert is_terminal_safe(shown(attack))
    assert not _control_chars(shown(attack))


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=hostile)
@example(text="\x1b]0;owned\x07")
def test_read_commands_print_no_control_character(tmp_path, capsys, text):
    """list, history, status, inspect, replay, logs and monitor escape what the job holds."""
    db = tmp_path / f"{uuid.uuid4().hex}.db"
    job_id = _store_with_hostile_job(db, text)
    for command in COMMANDS:
        args = [a.format(id=job_id) for a in command]
        run([*args, "--db", str(db)])
        captured = capsys.readouterr()
        for stream in (captured.out, captured.err):
            assert not _control_chars(stream), (command, stream)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=hostile)
def test_dashboard_detail_screen_prints_no_control_character(tmp_path, text):
    """The dashboard's detail screen (reasons, raw states, command) escapes them too."""
    db = tmp_path / f"{uuid.uuid4().hex}.db"
    job_id = _store_with_hostile_job(db, text)
    store = JobStore(db)
    try:
        file = io.StringIO()
        Console(file=file, width=120, color_system=None).print(detail_screen(store, store.get_record(job_id)))
    finally:
        store.close()
    assert not _control_chars(file.getvalue())
