"""Shared fixtures: every test runs with a private HOME, store and config."""

from __future__ import annotations

import os
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
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "dev"))


@pytest.fixture(autouse=True)
def isolated_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Point HOME, the default store and config at a temporary directory; chdir there."""
    home = tmp_path / "home"
    home.mkdir()
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("MOLQ_STORE", str(home / ".molq" / "jobs.db"))
    monkeypatch.setenv("MOLQ_CONFIG", str(home / ".molq" / "config.toml"))
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
