"""A log changed behind molq's back is reported by both audits, naming the row (issue 13, item 18)."""

from __future__ import annotations

import re
import shutil
import sqlite3
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from molq import Cluster, JobStore, Submitor
from molq.cli import run
from molq.core import _cluster_events, _events, _sweep_events
from molq.shell.store._verify import verify_store
from molq.shell.store._verify_fast import projections_match


@pytest.fixture(scope="module")
def pristine(tmp_path_factory):
    """A store with one succeeded and one failed local job."""
    path = tmp_path_factory.mktemp("pristine") / "jobs.db"
    store = JobStore(path)
    submitor = Submitor(Cluster("laptop", "local"), store=store)
    submitor.submit_job(argv=["true"]).wait(timeout=60)
    submitor.submit_job(command="exit 3").wait(timeout=60)
    store.close()
    return path


def _tampered(pristine, tmp_path, sql: str, params: tuple = ()):
    path = tmp_path / "jobs.db"
    shutil.copy(pristine, path)
    conn = sqlite3.connect(path)
    triggers = conn.execute("SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'events'").fetchall()
    for name, _ in triggers:
        conn.execute(f"DROP TRIGGER {name}")
    conn.execute(sql, params)
    for _, create in triggers:
        conn.execute(create)
    conn.commit()
    conn.close()
    return path


def _seq_of(path, event_type: str) -> int:
    conn = sqlite3.connect(path)
    try:
        return conn.execute("SELECT seq FROM events WHERE type = ?", (event_type,)).fetchone()[0]
    finally:
        conn.close()


@pytest.mark.parametrize("new_type", ["job.failed", "job.created", "sweep.created", "sweep.cell_launched", "nonsense"])
def test_a_type_column_that_disagrees_with_the_data_is_named(pristine, tmp_path, new_type):
    """The fast check says no and the exact audit names the row: no crash, no OK."""
    seq = _seq_of(pristine, "job.succeeded")
    path = _tampered(pristine, tmp_path, "UPDATE events SET type = ? WHERE type = 'job.succeeded'", (new_type,))
    conn = sqlite3.connect(path)
    try:
        assert not projections_match(conn, path, workers=1, threshold=10**9)
        assert not projections_match(conn, path, workers=2, threshold=1)
        problems = verify_store(conn, path)
        assert problems == verify_store(conn)  # exact audit alone says the same
    finally:
        conn.close()
    assert any(f"event {seq} of" in line and new_type in line and "job.succeeded" in line for line in problems)


def test_the_cli_exits_non_zero_naming_the_row(pristine, tmp_path, capsys):
    """``molq replay --verify`` on a tampered log: exit 1, the row's seq in the output."""
    seq = _seq_of(pristine, "job.succeeded")
    path = _tampered(pristine, tmp_path, "UPDATE events SET type = 'sweep.created' WHERE type = 'job.succeeded'")
    assert run(["replay", "--verify", "--db", str(path)]) == 1
    assert f"event {seq} of" in capsys.readouterr().out


def test_an_untouched_store_still_verifies(pristine, capsys):
    """The check costs nothing on a store nobody changed: both audits say OK."""
    assert run(["replay", "--verify", "--db", str(pristine)]) == 0
    assert capsys.readouterr().out.startswith("OK")


KNOWN_TAGS = sorted(
    t for module in (_events, _sweep_events, _cluster_events) for t in re.findall(r'tag="([a-z_.]+)"', Path(module.__file__).read_text())
)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_any_row_with_any_other_type_is_named_by_both_audits(pristine, tmp_path_factory, data):
    """Whichever row is retyped, to whatever text, both audits refuse it and name its seq."""
    conn = sqlite3.connect(pristine)
    rows = conn.execute("SELECT seq, type FROM events ORDER BY seq").fetchall()
    conn.close()
    seq, old = data.draw(st.sampled_from(rows))
    new = data.draw(st.one_of(st.sampled_from(KNOWN_TAGS), st.text(min_size=1, max_size=12)).filter(lambda t: t != old))
    path = _tampered(pristine, tmp_path_factory.mktemp("t"), "UPDATE events SET type = ? WHERE seq = ?", (new, seq))
    conn = sqlite3.connect(path)
    try:
        assert not projections_match(conn, path, workers=1, threshold=10**9)
        problems = verify_store(conn, path)
    finally:
        conn.close()
    assert any(line.startswith(f"event {seq} of") for line in problems), problems
