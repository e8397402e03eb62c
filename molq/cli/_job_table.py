"""``molq list``'s jobs table, drawn without Rich's layout engine when that gives the same output.

Rich's ``Table`` spends ~0.1 s measuring and rendering 200 rows cell by cell, and importing
``molq.dashboard._format`` imports the whole dashboard. When every cell is plain ASCII that
Rich would print as is and the table fits the console, the layout is simple: each column is
as wide as its widest cell. This module draws that layout directly as Rich segments with
the same styles, and falls back to ``molq.dashboard._format.jobs_table`` otherwise.
``tests/cli/test_job_table.py`` checks the output byte for byte against Rich's. When stdout
is certainly not a terminal, Rich is not even imported: ``molq.cli._output.plain_job_lines``
prints one line per job with its full id and no box drawing.
"""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

from molq.dashboard._clock import fmt_duration, fmt_time, runtime
from molq.dashboard._text import clip, shown


if TYPE_CHECKING:
    from rich.console import Console

    from molq import JobRecord, JobStore

HEADERS = ("JOB ID", "CLUSTER", "SCHEDULER", "STATE", "TRY", "SUBMITTED", "RUNTIME", "EXIT", "COMMAND")
PIPED_WIDTH = 200  # molq.dashboard._format.PIPED_WIDTH
_STATE_COLUMN = HEADERS.index("STATE")
_TIME_COLUMN = HEADERS.index("SUBMITTED")
# Printable ASCII without ':' (Rich replaces ``:name:`` with emoji) or '\' (markup escapes).
_VERBATIM = re.compile(r"[ -9;-\[\]-~]*")

Piece = tuple[str, str | None]
"""A run of text and the Rich style it is printed in (None: unstyled)."""


def job_cells(record: JobRecord, name: str | None, now: float) -> tuple[str, ...]:
    """The plain text of one table row (``name`` is the job's ``--name``, if any), shown safely."""
    return (
        shown(record.job_id[:12]),
        shown(record.cluster_name),
        shown(record.scheduler),
        record.state.value,
        str(record.attempt),
        fmt_time(record.submitted_at or record.created_at),
        fmt_duration(runtime(record, now)),
        "-" if record.exit_code is None else str(record.exit_code),
        clip(shown(name or record.command_display)),
    )


def table_lines(
    rows: Sequence[tuple[str, ...]], width: int, styles: Mapping[str, str] | None
) -> list[list[Piece]] | None:
    """The table's lines as styled pieces, or None when Rich would lay it out otherwise.

    ``styles`` maps a state to its Rich style (``STATE_STYLES``); None prints no styles
    (every state has one, so none falls back to Rich).
    """
    if not rows or not all(_verbatim(row, styles) for row in rows):
        return None
    widths = [max(len(h), *(len(row[i]) for row in rows)) for i, h in enumerate(HEADERS)]
    if sum(widths) + 3 * len(widths) + 1 > width:
        return None  # Rich would shrink, wrap or crop columns
    lines = [_rule("┏", "━", "┳", "┓", widths)]
    header: list[Piece] = [("┃", None)]
    for text, w in zip(HEADERS, widths, strict=True):
        header += [(" ", "bold"), (text.ljust(w), "bold"), (" ", "bold"), ("┃", None)]
    lines += [header, _rule("┡", "━", "╇", "┩", widths)]
    for row in rows:
        cells = [f" {cell.ljust(w)} " for cell, w in zip(row, widths, strict=True)]
        state = row[_STATE_COLUMN]
        before = "│" + "│".join(cells[:_STATE_COLUMN]) + "│ "
        after = " " * (widths[_STATE_COLUMN] - len(state)) + " │" + "│".join(cells[_STATE_COLUMN + 1 :]) + "│"
        lines.append([(before, None), (state, styles[state] if styles else None), (after, None)])
    lines.append(_rule("└", "─", "┴", "┘", widths))
    return lines


def print_jobs(store: JobStore, records: list[JobRecord], now: float) -> None:
    """Print ``records`` as ``jobs_table`` would, quickly when the layout allows."""
    from molq import job_names

    names = job_names(store, records)
    rows = [job_cells(r, names[r.job_id], now) for r in records]
    if plain_stdout():  # a pipe or a file: one line per job, full ids, no box drawing
        from molq.cli._output import plain_job_lines

        sys.stdout.write("".join(f"{line}\n" for line in plain_job_lines(records, names, now)))
        sys.stdout.flush()
        return
    from molq.dashboard._format import STATE_STYLES, jobs_table, out

    console = out()
    lines = table_lines(rows, console.width, STATE_STYLES) if _draws_boxes(console) else None
    if lines is None:
        console.print(jobs_table(store, records, now))
    else:
        _print_segments(console, lines)


def _print_segments(console: Console, lines: list[list[Piece]]) -> None:
    from rich.segment import Segment, Segments
    from rich.style import Style

    parsed: dict[str, Style] = {}
    segments: list[Segment] = []
    for line in lines:
        for text, style in line:
            segments.append(Segment(text, parsed.setdefault(style, Style.parse(style)) if style else None))
        segments.append(Segment.line())
    console.print(Segments(segments))


def _verbatim(row: tuple[str, ...], styles: Mapping[str, str] | None) -> bool:
    if styles is not None and not styles.get(row[_STATE_COLUMN]):
        return False
    return all(i == _TIME_COLUMN or _VERBATIM.fullmatch(cell) for i, cell in enumerate(row))


def _rule(left: str, line: str, cross: str, right: str, widths: list[int]) -> list[Piece]:
    return [(left + cross.join(line * (w + 2) for w in widths) + right, None)]


def plain_stdout() -> bool:
    """Whether Rich would certainly print to stdout as a plain (not a terminal) UTF-8 file."""
    if os.environ.get("TTY_COMPATIBLE") == "1" or os.environ.get("FORCE_COLOR"):
        return False
    stream = sys.stdout
    if stream is None:
        return False
    try:
        if stream.isatty():
            return False
    except ValueError:  # closed; Rich then treats it as not a terminal too
        pass
    return (getattr(stream, "encoding", None) or "utf-8").lower().startswith("utf")


def _draws_boxes(console: Console) -> bool:
    """Whether Rich would draw the table with the box characters ``table_lines`` uses."""
    return console.encoding.startswith("utf") and not console.legacy_windows


__all__ = ["HEADERS", "PIPED_WIDTH", "job_cells", "plain_stdout", "print_jobs", "table_lines"]
