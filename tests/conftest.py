"""Shared fixtures: every test runs with a private HOME, store and config."""

from __future__ import annotations

import inspect
import os
import re
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings


settings.register_profile("dev", max_examples=50, deadline=None)
settings.register_profile(
    "ci",
    max_examples=100,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow],
    print_blob=True,
)
# scripts/mutation: the same examples for every mutant; the mutant runner calls a test
# from more than one executor, which is expected there (ADR 0027).
settings.register_profile(
    "mutation",
    max_examples=50,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.differing_executors],
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "dev"))


# Every store the suite leaves behind is audited at the end (issue 5: `molq replay
# --verify` passes over the databases the whole suite produced), except stores that a
# test damages on purpose; those tests are recognised by what their source does.
_TAMPERING = re.compile(r"UPDATE jobs|DELETE FROM|INSERT INTO events|insert_log|write_bytes|truncat|corrupt|damage|_sqlite_migrations|tamper", re.I)
_TEST_DIRS: list[tuple[Path, bool]] = []


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """Verify every store left in the test directories; fail the run on any difference."""
    if exitstatus != 0 or not _TEST_DIRS:
        return
    checked, problems = 0, []
    for root, tampered in _TEST_DIRS:
        if tampered or not root.exists():
            continue
        for db in root.rglob("*.db"):
            checked += 1
            problems += [f"{db}: {p}" for p in _verify(db)]
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    if reporter is not None:
        reporter.write("\n")
        reporter.write_line(f"molq replay --verify over {checked} store(s) left by the suite: {len(problems)} problem(s)")
        for line in problems[:20]:
            reporter.write_line(f"  {line}")
    if problems:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


def _verify(db: Path) -> list[str]:
    """What ``molq replay --verify --db DB`` checks: the projections against the log."""
    from molq import JobStore, MolqError

    try:
        store = JobStore(db)
        try:
            return store.verify_projections()
        finally:
            store.close()
    except MolqError as exc:
        return [str(exc)]


@pytest.fixture(autouse=True)
def isolated_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest) -> Path:
    """Point HOME, the default store and config at a temporary directory; chdir there."""
    try:
        source = inspect.getsource(request.function)
    except (OSError, TypeError):
        source = ""
    _TEST_DIRS.append((tmp_path, bool(_TAMPERING.search(source))))
    home = tmp_path / "home"
    home.mkdir()
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("MOLQ_STORE", str(home / ".molq" / "jobs.db"))
    monkeypatch.setenv("MOLQ_CONFIG", str(home / ".molq" / "config.toml"))
    monkeypatch.setenv("MOLQ_LOCAL_RUNNER_IDLE", "2")  # each test's runner leaves soon after its jobs
    monkeypatch.chdir(work)
    return home


@pytest.fixture
def store(tmp_path: Path):
    """A fresh JobStore in a temporary directory."""
    from molq import JobStore

    s = JobStore(tmp_path / "store" / "jobs.db")
    yield s
    s.close()


@pytest.fixture
def local_submitor(store):
    """A Submitor for a local cluster named 'laptop' on the temporary store."""
    from molq import Cluster, Submitor

    return Submitor(Cluster("laptop", "local"), store=store)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]):
    """Under CI (``CI=true``) a skipped test is a failure: a missing service must not pass quietly."""
    outcome = yield
    report = outcome.get_result()
    if os.environ.get("CI", "").lower() in ("true", "1") and report.skipped and not hasattr(report, "wasxfail"):
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else str(report.longrepr)
        report.outcome = "failed"
        report.longrepr = f"skipped under CI, where every service must be up: {reason}"
