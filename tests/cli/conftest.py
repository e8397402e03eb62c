"""Fixtures for end-to-end CLI tests: run ``python -m molq.cli`` in a private HOME."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest


FAKE_SLURM = {
    "sbatch": (
        'n=$(cat "$FAKE_SLURM_DIR/next_id" 2>/dev/null || echo 1000)\n'
        'echo $((n + 1)) > "$FAKE_SLURM_DIR/next_id"\n'
        'echo "$n"\n'
    ),
    "squeue": 'cat "$FAKE_SLURM_DIR/squeue.txt" 2>/dev/null; exit 0\n',
    "sacct": 'cat "$FAKE_SLURM_DIR/sacct.txt" 2>/dev/null; exit 0\n',
    "scontrol": "exit 1\n",
    "scancel": "exit 0\n",
}

Run = Callable[..., subprocess.CompletedProcess[str]]


@pytest.fixture
def cli_env(tmp_path: Path) -> dict[str, str]:
    """Environment for the CLI: HOME, MOLQ_STORE and MOLQ_CONFIG under tmp_path."""
    home = tmp_path / "home"
    home.mkdir(exist_ok=True)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MOLQ_", "PYTEST_"))}
    env.update(
        HOME=str(home),
        MOLQ_STORE=str(home / ".molq" / "jobs.db"),
        MOLQ_CONFIG=str(home / ".molq" / "config.toml"),
        COLUMNS="200",
        NO_COLOR="1",
    )
    return env


@pytest.fixture
def molq(cli_env: dict[str, str], tmp_path: Path) -> Run:
    """Run ``molq ARGS...`` as a subprocess; returns the CompletedProcess (text)."""
    work = tmp_path / "work"
    work.mkdir(exist_ok=True)

    def run(*args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "molq.cli", *args],
            env=cli_env,
            cwd=work,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )

    return run


@pytest.fixture
def fake_slurm(cli_env: dict[str, str], tmp_path: Path) -> Path:
    """Fake sbatch/squeue/sacct on PATH; write ``sacct.txt`` in the returned dir to set states."""
    bin_dir = tmp_path / "fake-slurm-bin"
    state = tmp_path / "fake-slurm-state"
    bin_dir.mkdir()
    state.mkdir()
    for name, body in FAKE_SLURM.items():
        path = bin_dir / name
        path.write_text("#!/bin/sh\n" + body)
        path.chmod(0o755)
    cli_env["PATH"] = f"{bin_dir}{os.pathsep}{cli_env.get('PATH', '')}"
    cli_env["FAKE_SLURM_DIR"] = str(state)
    return state


def one_error_line(result: subprocess.CompletedProcess[str]) -> str:
    """The single ``molq: error:`` line of a failed run (asserting there is no traceback)."""
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert "Traceback" not in result.stderr, result.stderr
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("molq: error: "), lines[0]
    return lines[0]


@pytest.fixture
def error_line() -> Callable[[subprocess.CompletedProcess[str]], str]:
    """``one_error_line`` as a fixture (test modules are imported in isolation)."""
    return one_error_line
