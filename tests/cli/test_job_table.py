"""``molq list``'s fast table prints byte for byte what Rich's ``jobs_table`` prints."""

from __future__ import annotations

import io
import itertools

import pytest
from rich.console import Console

from molq import JobStore
from molq.cli import _job_table
from molq.cli._job_table import job_cells, print_jobs, table_lines
from molq.core import JobRecord, JobSpec, JobState
from molq.core._events import JobCreated, JobFailed, JobStarted, JobSubmitted, JobSucceeded, LogEvent
from molq.core._spec import JobExecution
from molq.dashboard import _format
from molq.shell.store._job_listing import job_names


NOW = 1_700_000_500.0
_STORES = itertools.count()  # job ids unique per test: the dashboard caches names by job id
COMMANDS = [
    "true",
    "python -c 'print(a[0])'",
    "echo [bold]not markup[/bold] [/]",
    "  spaced   out  ",
    "",
    "x" * 150,
    "tab\there",
    "line\nbreak",
    "emoji :thumbs_up: here",
    "back\\slash [b]",
    "héllo wörld",
    "wide 漢字",
]


def _jobs(store: JobStore, commands: list[str], *, name: str | None = None) -> list[JobRecord]:
    prefix = f"{next(_STORES):08x}"
    for i, command in enumerate(commands):
        jid = f"{prefix}{i:024x}"
        spec = JobSpec(
            "command", command=command, execution=JobExecution(job_name=name if i % 3 == 1 else None)
        )
        events: list[LogEvent] = [
            JobCreated(
                job_id=jid,
                at=NOW - 4000 + i,
                cluster_name="laptop",
                scheduler="local",
                root_job_id=jid,
                spec=spec,
            )
        ]
        if i % 4 != 3:
            events.append(JobSubmitted(job_id=jid, at=NOW - 3990 + i, scheduler_job_id=str(i)))
        if i % 4 in (1, 2):
            events.append(JobStarted(job_id=jid, at=NOW - 3900, started_at=NOW - 3900 + 37 * i))
        if i % 4 == 2:
            done = JobSucceeded if i % 8 == 2 else JobFailed
            events.append(done(job_id=jid, at=NOW, exit_code=i % 3, finished_at=NOW - 10 * i))
        store.append(jid, events, expected_version=0, now=NOW)
    return store.list_records(None, include_terminal=True)


def _rich(store: JobStore, records: list[JobRecord], console: Console) -> str:
    console.print(_format.jobs_table(store, records, NOW))
    return console.file.getvalue()  # type: ignore[attr-defined]


def _plain_console(width: int = _job_table.PIPED_WIDTH) -> Console:
    return Console(file=io.StringIO(), highlight=False, width=width)


@pytest.fixture(autouse=True)
def _no_forced_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("FORCE_COLOR", "TTY_COMPATIBLE"):
        monkeypatch.delenv(name, raising=False)


@pytest.mark.parametrize("command", COMMANDS)
def test_piped_output_is_one_plain_line_per_job(
    store: JobStore, command: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """Piped: a header, then one line per job with its full id and no box drawing, whatever the command."""
    records = _jobs(store, [command, "ls -l", command, "sleep 10", "make all"], name="my-job")
    print_jobs(store, records, NOW)
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 1 + len(records)
    assert [line.split("  ", 1)[0] for line in lines[1:]] == [r.job_id for r in records]
    assert not any(c in "".join(lines) for c in "┏┃│└━─")


def test_simple_tables_take_the_fast_path(store: JobStore) -> None:
    """ASCII cells without ':' or '\\' are drawn without Rich's layout (and named jobs show names)."""
    records = _jobs(store, COMMANDS[:5], name="my-job")
    names = job_names(store, records)
    rows = [job_cells(r, names[r.job_id], NOW) for r in records]
    assert table_lines(rows, 200, None) is not None
    assert any(row[-1] == "my-job" for row in rows)
    tricky = [*rows[:1], (*rows[0][:-1], "a :b: c")]
    assert table_lines(tricky, 200, None) is None


def test_a_table_wider_than_the_console_falls_back(store: JobStore) -> None:
    """At exactly the console width the fast path draws; one column less and Rich shrinks."""
    records = _jobs(store, ["x" * 60])
    rows = [job_cells(r, None, NOW) for r in records]
    lines = table_lines(rows, 200, None)
    assert lines is not None
    width = len("".join(text for text, _ in lines[0]))
    assert table_lines(rows, width, None) is not None
    assert table_lines(rows, width - 1, None) is None
    text = "".join(t for line in lines for t, _ in [*line, ("\n", None)])
    assert text == _rich(store, records, _plain_console(width))


@pytest.mark.parametrize(
    "options",
    [
        {"color_system": "standard"},
        {"color_system": "256"},
        {"color_system": "truecolor"},
        {"color_system": None},
        {"color_system": "truecolor", "no_color": True},
    ],
)
def test_terminal_output_is_rich_output(store: JobStore, options: dict[str, object]) -> None:
    """Styled segments print the same escape sequences as the Rich table."""
    records = _jobs(store, ["true", "ls -l", "echo [x]", "sleep 1", "a", "b", "c", "d"], name="n")
    names = job_names(store, records)
    rows = [job_cells(r, names[r.job_id], NOW) for r in records]

    def console() -> Console:
        return Console(file=io.StringIO(), force_terminal=True, highlight=False, width=150, **options)  # type: ignore[arg-type]

    lines = table_lines(rows, 150, _format.STATE_STYLES)
    assert lines is not None
    fast = console()
    _job_table._print_segments(fast, lines)
    assert fast.file.getvalue() == _rich(store, records, console())  # type: ignore[attr-defined]


def test_every_state_has_a_style() -> None:
    """The plain path prints every state without asking for its style: none may fall back."""
    assert {s.value for s in JobState} <= set(_format.STATE_STYLES)


def test_list_does_not_import_rich_when_piped() -> None:
    """The plain path of ``molq list`` shares the dashboard's formatters without importing Rich."""
    import subprocess
    import sys

    code = "import sys, molq.cli._job_table; print('rich' in sys.modules, 'molq.dashboard._app' in sys.modules)"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.split() == ["False", "False"]


def test_clock_times_are_never_emoji() -> None:
    """Rich replaces ``:name:`` with emoji; no ``HH:MM:SS`` holds an emoji name."""
    from rich._emoji_replace import _emoji_replace

    for hour in range(24):
        for minute in range(60):
            text = "".join(f"{hour:02d}:{minute:02d}:{second:02d} " for second in range(60))
            assert _emoji_replace(text) == text
