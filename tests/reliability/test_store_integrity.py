"""The store under damage: corrupted files are refused untouched; files are private.

(UPDATE/DELETE refusal, truncation at one third, garbage files and newer schemas are
covered in tests/shell/store/test_store.py; this adds random corruption, golden events read
through the store, and private job directories for every scheduler.)
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import random
import sqlite3
import stat
from pathlib import Path

import pytest

from molq import Cluster, CorruptLogError, JobStore, MolqError, StoreError, Submitor
from molq.core import JobSpec
from molq.core._events import JobCreated

from .conftest import sized


GOLDEN = Path(__file__).parent.parent / "fixtures" / "events" / "v1"
CORRUPTIONS = sized("CORRUPTIONS", ci=30, soak=500)


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _populated(path: Path, jobs: int = 40) -> None:
    with JobStore(path) as store:
        for i in range(jobs):
            job = f"j{i:03d}"
            spec = JobSpec("argv", argv=("echo", "x" * 200), cwd="/w")
            created = JobCreated(
                job_id=job, at=1.0, cluster_name="c", scheduler="local", root_job_id=job, spec=spec
            )
            store.append(job, [created], expected_version=0, now=1.0)


def _use(path: Path) -> None:
    with JobStore(path) as store:
        list(store.read_all())
        store.list_records(None)
        assert isinstance(store.verify_projections(), list)


def test_random_corruption_is_a_clear_error_and_leaves_the_file_untouched(tmp_path):
    """Flipped bytes anywhere: the store works or raises StoreError; the file keeps its hash."""
    clean = tmp_path / "clean.db"
    _populated(clean)
    data = clean.read_bytes()
    rng = random.Random(7)
    outcomes = {"refused": 0, "still readable": 0}
    for trial in range(CORRUPTIONS):
        path = tmp_path / f"c{trial}.db"
        damaged = bytearray(data)
        start = rng.randrange(len(damaged))
        for offset in range(start, min(len(damaged), start + rng.choice([1, 16, 512, 4096]))):
            damaged[offset] = rng.randrange(256)
        path.write_bytes(bytes(damaged))
        before = _digest(path)
        try:
            _use(path)
        except StoreError as exc:
            message = str(exc)
            outcomes["refused"] += 1
        else:
            message = str(path)
            outcomes["still readable"] += 1
        assert str(path) in message or "event" in message, message
        assert _digest(path) == before, f"trial {trial} modified the damaged file"
    print(f"\nstore corruption: {CORRUPTIONS} damaged files, {outcomes}")


@pytest.mark.parametrize("cut", [0, 1, 99, 100, 4096, 4097])
def test_cut_databases_are_refused_untouched(tmp_path, cut):
    """Files cut to a few bytes or pages: StoreError (or an empty store for 0 bytes), no rewrite."""
    clean = tmp_path / "clean.db"
    _populated(clean)
    path = tmp_path / "cut.db"
    path.write_bytes(clean.read_bytes()[:cut])
    before = _digest(path)
    try:
        _use(path)
    except StoreError:
        assert _digest(path) == before
    else:
        assert cut == 0  # an empty file is a new, empty store


def test_v1_golden_events_read_back_through_the_store(tmp_path):
    """Every v1 golden event, stored as raw bytes, is read by read_all without error."""
    path = tmp_path / "jobs.db"
    JobStore(path).close()
    conn = sqlite3.connect(path)
    files = sorted(GOLDEN.glob("*.json"))
    assert files
    for seq, file in enumerate(files, start=1):
        raw = file.read_bytes()
        conn.execute(
            "INSERT INTO events (stream, version, type, recorded_at, data) VALUES (?, 1, ?, 1.0, ?)",
            (f"s{seq}", json.loads(raw)["type"], raw),
        )
    conn.commit()
    conn.close()
    with JobStore(path) as store:
        assert [type(r.event).__name__ for r in store.read_all()] != []
        assert len(list(store.read_all())) == len(files)


@pytest.mark.parametrize("kind", ["local", "slurm", "pbs", "lsf"])
def test_store_and_job_dirs_are_private_for_every_scheduler(kind, tmp_path, jobs_root, monkeypatch):
    """Store file 0600 in a 0700 dir; each job dir 0700 and its scripts not group/world readable."""
    monkeypatch.setenv("PATH", str(tmp_path / "empty-path") + os.pathsep + os.environ["PATH"])
    store_path = tmp_path / "private" / "jobs.db"
    sub = Submitor(Cluster("perm", kind), store=JobStore(store_path), jobs_dir=jobs_root)
    with contextlib.suppress(MolqError):  # no qsub/bsub here: the job dir is made before the call
        sub.submit_job(argv=["true"])
    sub.close()
    for path, mode in ((store_path, 0o600), (store_path.parent, 0o700)):
        assert stat.S_IMODE(path.stat().st_mode) == mode, path
    for extra in (Path(f"{store_path}-wal"), Path(f"{store_path}-shm")):
        if extra.exists():
            assert not extra.stat().st_mode & 0o077, extra
    (job_dir,) = list(jobs_root.iterdir())
    assert stat.S_IMODE(job_dir.stat().st_mode) == 0o700
    for item in job_dir.iterdir():
        if item.name.endswith((".sh", ".sbatch", ".pbs", ".lsf")):
            assert not item.stat().st_mode & 0o077, item


def test_a_short_file_that_is_not_a_database_is_not_overwritten(tmp_path):
    """Regression: SQLite treated a file under 100 bytes as empty and rewrote it as a new store."""
    path = tmp_path / "jobs.db"
    path.write_bytes(b"my notes\n")
    with pytest.raises(StoreError, match="left untouched"):
        JobStore(path)
    assert path.read_bytes() == b"my notes\n"


def test_undecodable_event_and_record_bytes_are_corrupt_log_errors(tmp_path):
    """Regression: invalid UTF-8 or JSON in a stored event/record escaped as msgspec/Unicode errors."""
    path = tmp_path / "jobs.db"
    _populated(path, jobs=2)
    conn = sqlite3.connect(path)
    conn.execute(
        "INSERT INTO events (stream, version, type, recorded_at, data) VALUES ('x', 1, 'job.created', 1, ?)",
        (b'{"type":"job.created","job_id":"\xff\xfe"}',),
    )
    conn.execute("UPDATE jobs SET record = ? WHERE job_id = 'j000'", (b"{not json",))
    conn.commit()
    conn.close()
    with JobStore(path) as store:
        with pytest.raises(CorruptLogError, match="cannot be decoded"):
            list(store.read_all())
        with pytest.raises(CorruptLogError, match="cannot be decoded"):
            store.list_records(None)
        with pytest.raises(CorruptLogError):
            store.get_record("j000")
