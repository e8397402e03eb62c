"""End to end: ``molq replay`` timelines, --as-of, --json, --verify and --db copies."""

from __future__ import annotations

import datetime as dt
import json
import math
import re
import sqlite3
import sys
from pathlib import Path

import pytest


@pytest.fixture
def finished(molq) -> str:
    """A local job that ran to completion."""
    result = molq(
        "submit", "local", "-q", "--name", "audit-me", "--block", "--", sys.executable, "-c", "print(1)"
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.splitlines()[0]


def recorded_times(store: str, job_id: str) -> list[float]:
    with sqlite3.connect(store) as conn:
        rows = conn.execute("SELECT recorded_at FROM events WHERE stream = ? ORDER BY version", (job_id,))
        return [row[0] for row in rows]


def test_timeline_lists_every_event_in_order(molq, finished, cli_env):
    """replay prints one line per event, oldest first, then the folded state and family."""
    result = molq("replay", finished[:8])
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    total = len(recorded_times(cli_env["MOLQ_STORE"], finished))
    assert lines[0].startswith(f"Job {finished} (local, local): {total} of {total} event(s)")
    tags = [line.split()[3] for line in lines[1 : total + 1]]
    assert tags[0] == "job.created"
    assert tags[-2:] == ["job.succeeded", "job.usage_recorded"]  # the end, then what the job used
    assert "usage.source=rusage" in lines[total]
    assert "command=" in lines[1]
    assert "name=audit-me" in lines[1]
    assert "State now: succeeded, exit 0" in result.stdout
    assert re.search(rf"» attempt 1  {finished}  succeeded", result.stdout)
    assert "Depends on: none" in result.stdout


def test_as_of_folds_only_earlier_events(molq, finished, cli_env):
    """--as-of (epoch or ISO 8601) shows the state known at that moment."""
    times = recorded_times(cli_env["MOLQ_STORE"], finished)
    early = molq("replay", finished, "--as-of", repr(times[0]))
    assert early.returncode == 0, early.stderr
    assert f": 1 of {len(times)} event(s)" in early.stdout.splitlines()[0]
    assert "State as of" in early.stdout
    assert ": created" in early.stdout
    # A moment safely after the second event (and before the third when there is room):
    # rounding times[1] up to whole microseconds alone can land a float hair below it.
    later = times[2] if len(times) > 2 else times[1] + 1.0
    moment = dt.datetime.fromtimestamp(math.ceil((times[1] + min(0.001, (later - times[1]) / 2)) * 1e6) / 1e6, dt.UTC)
    expected = sum(1 for t in times if t <= moment.timestamp())
    data = json.loads(molq("replay", finished, "--as-of", moment.isoformat(), "--json").stdout)
    assert data["events_shown"] == expected >= 2
    assert [e["version"] for e in data["events"]] == list(range(1, expected + 1))
    assert data["record"]["version"] == expected


def test_as_of_before_creation_and_bad_timestamp(molq, finished, error_line):
    """A moment before the job existed is an error; so is an unparsable timestamp (usage, 2)."""
    before = molq("replay", finished, "--as-of", "2001-01-01T00:00:00")
    assert before.returncode == 1
    assert "had no recorded events at 2001-01-01" in error_line(before)
    bad = molq("replay", finished, "--as-of", "yesterday")
    assert bad.returncode == 2
    assert "neither ISO 8601" in error_line(bad)


def test_json_has_events_record_family_and_edges(molq, finished):
    """--json gives machines the events, the folded record, the family and the edges."""
    data = json.loads(molq("replay", finished, "--json").stdout)
    assert data["job_id"] == finished
    assert data["as_of"] is None
    assert data["events"][0]["type"] == "job.created"
    assert data["events"][0]["event"]["spec"]["execution"]["job_name"] == "audit-me"
    assert data["record"]["state"] == "succeeded"
    assert data["family"] == [{"job_id": finished, "attempt": 1, "state": "succeeded"}]
    assert data["dependencies"] == []
    assert data["dependents"] == []


def test_verify_passes_then_names_a_tampered_projection(molq, finished, cli_env):
    """--verify exits 0 on a clean store and 1, naming the field, after a projection row is edited."""
    ok = molq("replay", "--verify")
    assert ok.returncode == 0, ok.stdout
    assert ok.stdout.startswith("OK: the projections of 1 job(s) match the event log")
    with sqlite3.connect(cli_env["MOLQ_STORE"]) as conn:
        (blob,) = conn.execute("SELECT record FROM jobs WHERE job_id = ?", (finished,)).fetchone()
        record = json.loads(blob)
        record["exit_code"] = 7
        conn.execute("UPDATE jobs SET record = ? WHERE job_id = ?", (json.dumps(record).encode(), finished))
    bad = molq("replay", "--verify")
    assert bad.returncode == 1
    assert "MISMATCH: 1 difference(s)" in bad.stdout
    assert f"job {finished}: exit_code is 7 in the projection but 0 in the log" in bad.stdout
    data = json.loads(molq("replay", "--verify", "--json").stdout)
    assert data["ok"] is False
    assert len(data["differences"]) == 1


def test_db_option_reads_a_copy(molq, finished, cli_env, tmp_path):
    """--db replays and verifies a copied database without touching the original."""
    copy = tmp_path / "copy" / "jobs.db"
    copy.parent.mkdir()
    with sqlite3.connect(cli_env["MOLQ_STORE"]) as src, sqlite3.connect(copy) as dst:
        src.backup(dst)
    result = molq("replay", finished, "--db", str(copy))
    assert result.returncode == 0, result.stderr
    assert "State now: succeeded" in result.stdout
    with sqlite3.connect(copy) as conn:
        conn.execute("DELETE FROM jobs")
    tampered = molq("replay", "--verify", "--db", str(copy))
    assert tampered.returncode == 1
    assert f"job {finished}: missing from the jobs projection" in tampered.stdout
    assert molq("replay", "--verify").returncode == 0
    assert Path(cli_env["MOLQ_STORE"]).exists()


def test_replay_needs_a_job_or_verify(molq, error_line):
    """replay without JOB_ID or with both JOB_ID and --verify is a usage error."""
    assert molq("replay").returncode == 2
    both = molq("replay", "abc", "--verify")
    assert both.returncode == 2
    assert "JOB_ID" in error_line(both)
