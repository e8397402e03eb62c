r"""Machine-readable output (``--json``, ``--format json|tsv``) and the plain job lines of a pipe.

Every command that shows jobs prints one JSON document per call (``json``), or a header line
of field names and one tab-separated line per job (``tsv``). The field names below are
stable; docs/guide/cli.md lists them. JSON carries the stored strings as they are (JSON's own
escaping keeps control characters out of the terminal: output is ASCII, ``\\u001b``); TSV
writes tab, newline, carriage return and backslash as ``\\t``, ``\\n``, ``\\r``, ``\\\\`` and
every other control character as ``shown`` does.
"""

from __future__ import annotations

import datetime as dt
import functools
import json
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Final, TypeVar

import click

from molq.dashboard._clock import fmt_duration, fmt_time, runtime
from molq.dashboard._text import clip, shown


if TYPE_CHECKING:
    from molq import JobRecord, JobStore
    from molq.dashboard._model import EdgeView

F = TypeVar("F", bound=Callable[..., Any])
FORMATS: Final = ("table", "json", "tsv")
JOB_FIELDS: Final = (
    "job_id",
    "root_job_id",
    "attempt",
    "name",
    "cluster",
    "scheduler",
    "scheduler_job_id",
    "state",
    "exit_code",
    "failure_reason",
    "command",
    "cwd",
    "created_at",
    "submitted_at",
    "started_at",
    "finished_at",
    "runtime_seconds",
    "job_dir",
    "stdout_path",
    "stderr_path",
    "previous_attempt_job_id",
    "next_attempt_job_id",
    "archived",
    "tasks",
)
"""The fields of one job, in this order, in every JSON object and TSV row."""

_PLAIN_HEADERS: Final = ("JOB ID", "CLUSTER", "SCHEDULER", "STATE", "TRY", "SUBMITTED", "RUNTIME", "EXIT")
_TSV_ESCAPES: Final = {"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"}


def format_option(func: F) -> F:
    """Add ``--format table|json|tsv`` and ``--json``; the command gets ``output_format``."""

    @functools.wraps(func)
    def wrapper(*args: Any, as_json: bool, output_format: str, **kwargs: Any) -> Any:
        return func(*args, output_format="json" if as_json else output_format, **kwargs)

    decorated = click.option("--json", "as_json", is_flag=True, help="Same as --format json.")(wrapper)
    return click.option(
        "--format",
        "output_format",
        type=click.Choice(FORMATS),
        default="table",
        show_default=True,
        help="table for people; json (one document) or tsv (header + rows) for scripts.",
    )(decorated)  # type: ignore[return-value]


def iso(epoch: float | None) -> str | None:
    """An epoch as ISO 8601 in UTC with milliseconds (``2026-12-02T11:38:27.123+00:00``), or None."""
    if epoch is None:
        return None
    return dt.datetime.fromtimestamp(epoch, dt.UTC).isoformat(timespec="milliseconds")


def job_fields(record: JobRecord, name: str | None, now: float, *, tasks: str | None = None) -> dict[str, Any]:
    """The ``JOB_FIELDS`` of one record (``name`` is its ``--name``, ``tasks`` an array's task summary)."""
    took = runtime(record, now)
    meta = record.metadata
    return {
        "job_id": record.job_id,
        "root_job_id": record.root_job_id,
        "attempt": record.attempt,
        "name": name,
        "cluster": record.cluster_name,
        "scheduler": record.scheduler,
        "scheduler_job_id": record.scheduler_job_id,
        "state": record.state.value,
        "exit_code": record.exit_code,
        "failure_reason": record.failure_reason,
        "command": record.command_display,
        "cwd": record.cwd,
        "created_at": iso(record.created_at),
        "submitted_at": iso(record.submitted_at),
        "started_at": iso(record.started_at),
        "finished_at": iso(record.finished_at),
        "runtime_seconds": None if took is None else round(took, 3),
        "job_dir": meta.get("molq.job_dir"),
        "stdout_path": meta.get("molq.stdout_path"),
        "stderr_path": meta.get("molq.stderr_path"),
        "previous_attempt_job_id": record.previous_attempt_job_id,
        "next_attempt_job_id": record.next_attempt_job_id,
        "archived": record.archived_at is not None,
        "tasks": tasks,
    }


def jobs_fields(store: JobStore, records: Sequence[JobRecord], now: float) -> list[dict[str, Any]]:
    """``job_fields`` of every record, names read in one pass."""
    from molq import job_names
    from molq.cli._tasks import task_summary

    names = job_names(store, records)
    return [job_fields(r, names[r.job_id], now, tasks=task_summary(store, r)) for r in records]


def edge_fields(edge: EdgeView) -> dict[str, Any]:
    """One dependency edge: the job, the other end, the condition and whether it holds."""
    return {
        "job_id": edge.job_id,
        "other_job_id": edge.other_job_id,
        "condition": edge.condition,
        "native": edge.native,
        "other_state": None if edge.other_state is None else edge.other_state.value,
        "status": edge.status,
    }


def timeline_fields(store: JobStore, family: Sequence[JobRecord]) -> list[dict[str, Any]]:
    """Every state change of every attempt, oldest first."""
    return [
        {
            "time": iso(t.timestamp),
            "job_id": r.job_id,
            "attempt": r.attempt,
            "from": None if t.old_state is None else t.old_state.value,
            "to": t.new_state.value,
            "reason": t.reason,
        }
        for r in family
        for t in store.transitions(r.job_id)
    ]


def print_json(document: object) -> None:
    """One JSON document on stdout (ASCII, two-space indent, ending in a newline)."""
    sys.stdout.write(json.dumps(document, indent=2, ensure_ascii=True) + "\n")
    sys.stdout.flush()


def print_tsv(rows: Sequence[Mapping[str, Any]], fields: Sequence[str] = JOB_FIELDS) -> None:
    """A header of ``fields`` and one tab-separated line per row (None is empty)."""
    lines = ["\t".join(fields)]
    lines += ["\t".join(tsv_value(row.get(f)) for f in fields) for row in rows]
    sys.stdout.write("\n".join(lines) + "\n")
    sys.stdout.flush()


def tsv_value(value: object) -> str:
    """One TSV cell: None empty, booleans ``true``/``false``, text with escapes (never a tab or newline)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    text = str(value)
    for raw, escaped in _TSV_ESCAPES.items():
        text = text.replace(raw, escaped)
    return shown(text)


def print_jobs_as(fmt: str, store: JobStore, records: Sequence[JobRecord], now: float) -> None:
    """``records`` as a JSON array of job objects (``json``) or TSV rows (``tsv``)."""
    rows = jobs_fields(store, records, now)
    if fmt == "json":
        print_json(rows)
    else:
        print_tsv(rows)


def print_job_as(fmt: str, store: JobStore, record: JobRecord) -> None:
    """One record as a JSON object (``json``) or a header and one TSV row (``tsv``)."""
    row = jobs_fields(store, [record], time.time())[0]
    if fmt == "json":
        print_json(row)
    else:
        print_tsv([row])


def inspect_document(store: JobStore, record: JobRecord) -> dict[str, Any]:
    """``molq inspect --json``: the job, its sweep cell, retry family, dependency edges and timeline."""
    from molq.cli._tasks import tasks_document
    from molq.cli._usage_view import usage_fields
    from molq.dashboard._model import downstream_edges, upstream_edges

    now = time.time()
    family = store.family(record.root_job_id)
    sweep_id = record.metadata.get("molq.sweep_id")
    cell = record.metadata.get("molq.sweep_cell")
    return {
        "job": jobs_fields(store, [record], now)[0],
        "sweep": None if not sweep_id else {"sweep_id": sweep_id, "cell": cell},
        "family": jobs_fields(store, family, now),
        "upstream": [edge_fields(e) for e in upstream_edges(store, record.job_id)],
        "downstream": [edge_fields(e) for e in downstream_edges(store, record.job_id)],
        "timeline": timeline_fields(store, family),
        "array": tasks_document(store, record),
        "usage": usage_fields(record.usage),
    }


def plain_job_lines(records: Sequence[JobRecord], names: Mapping[str, str | None], now: float) -> list[str]:
    """Aligned lines for a pipe: a header, then one line per job with its full id, no box drawing."""
    rows = [
        (
            shown(r.job_id),
            shown(r.cluster_name),
            shown(r.scheduler),
            r.state.value,
            str(r.attempt),
            fmt_time(r.submitted_at or r.created_at),
            fmt_duration(runtime(r, now)),
            "-" if r.exit_code is None else str(r.exit_code),
            clip(shown(names.get(r.job_id) or r.command_display)),
        )
        for r in records
    ]
    header = (*_PLAIN_HEADERS, "COMMAND")
    widths = [max(len(h), *(len(row[i]) for row in rows)) for i, h in enumerate(header[:-1])]
    return [
        "  ".join([*(cell.ljust(w) for cell, w in zip(row[:-1], widths, strict=True)), row[-1]])
        for row in (header, *rows)
    ]


__all__ = [
    "FORMATS",
    "JOB_FIELDS",
    "edge_fields",
    "format_option",
    "inspect_document",
    "iso",
    "job_fields",
    "jobs_fields",
    "plain_job_lines",
    "print_job_as",
    "print_jobs_as",
    "print_json",
    "print_tsv",
    "timeline_fields",
    "tsv_value",
]
