"""``molq queue``: the scheduler's queue as a table, JSON or TSV (stand-in squeue on PATH)."""

from __future__ import annotations

import json

import pytest


QUEUE_FIELDS = [
    "cluster",
    "scheduler",
    "scheduler_job_id",
    "name",
    "user",
    "state",
    "raw_state",
    "partition",
    "submit_time",
    "start_time",
]
SQUEUE = (
    "1000|RUNNING|debug|alice|2026-12-02T11:00:00|2026-12-02T11:00:05|train\n"
    "1001|PENDING|gpu|alice|2026-12-02T11:01:00|N/A|evil\x1b]0;x\x07\n"
)


@pytest.fixture
def queue_file(fake_slurm):
    (fake_slurm / "squeue.txt").write_text(SQUEUE)
    return fake_slurm


def test_queue_json_lists_every_entry_with_stable_fields(molq, queue_file):
    """--json: one array; each entry has the documented fields, raw strings, null when unknown."""
    result = molq("queue", "slurm", "--json")
    assert result.returncode == 0, result.stderr
    assert "\x1b" not in result.stdout
    entries = json.loads(result.stdout)
    assert [list(e) for e in entries] == [QUEUE_FIELDS, QUEUE_FIELDS]
    assert entries[0]["scheduler_job_id"] == "1000"
    assert entries[0]["state"] == "running"
    assert entries[1]["state"] == "queued"
    assert entries[1]["start_time"] is None
    assert entries[1]["name"] == "evil\x1b]0;x\x07"


def test_queue_table_tsv_and_quiet(molq, queue_file):
    """The table is a header plus one line per entry (escaped); TSV has the field header; -q ids only."""
    table = molq("queue", "slurm").stdout.splitlines()
    assert len(table) == 3
    assert table[1].startswith("1000  running")
    assert "\x1b" not in "".join(table)
    assert "evil\\x1b]0;x\\x07" in table[2]
    tsv = molq("queue", "slurm", "--format", "tsv").stdout.splitlines()
    assert tsv[0].split("\t") == QUEUE_FIELDS
    assert len(tsv) == 3
    assert molq("queue", "slurm", "-q").stdout.split() == ["1000", "1001"]


def test_local_queue_is_empty(molq):
    """The local scheduler has no queue of its own: an empty array, a one-line note."""
    assert json.loads(molq("queue", "local", "--json").stdout) == []
    assert "is empty" in molq("queue", "local").stdout
