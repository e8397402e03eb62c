"""``molq monitor`` in a real terminal (tmux): keys, detail view, quit leaves jobs running."""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Iterator

import pytest


TMUX = shutil.which("tmux")
pytestmark = pytest.mark.skipif(TMUX is None, reason="tmux is not installed (apt-get install -y tmux)")


class Screen:
    """A detached tmux session on a private server socket."""

    def __init__(self, socket: str) -> None:
        self.base = [str(TMUX), "-L", socket]

    def start(self, command: str) -> None:
        subprocess.run(
            [*self.base, "new-session", "-d", "-x", "160", "-y", "48", "-s", "t", command], check=True
        )

    def keys(self, *keys: str) -> None:
        for key in keys:
            subprocess.run([*self.base, "send-keys", "-t", "t", key], check=True)
            time.sleep(0.15)

    def text(self) -> str:
        done = subprocess.run(
            [*self.base, "capture-pane", "-p", "-t", "t"], capture_output=True, text=True, check=False
        )
        return done.stdout

    def wait_for(self, check: Callable[[str], bool], timeout: float = 15) -> str:
        deadline = time.monotonic() + timeout
        while True:
            screen = self.text()
            if check(screen):
                return screen
            if time.monotonic() > deadline:
                pytest.fail(f"screen never matched; last screen:\n{screen}")
            time.sleep(0.1)

    def close(self) -> None:
        subprocess.run([*self.base, "kill-server"], capture_output=True, check=False)


@pytest.fixture
def screen() -> Iterator[Screen]:
    s = Screen(f"molq-test-{os.getpid()}-{time.monotonic_ns()}")
    yield s
    s.close()


@pytest.fixture
def jobs(molq, fake_slurm) -> dict[str, str]:
    """A real running local job (oldest), then slurm 'prep' (succeeded) and 'train' (after prep)."""
    ids = {"sleeper": molq("submit", "local", "-q", "--name", "sleeper", "--", "sleep", "60").stdout.strip()}
    ids["prep"] = molq("submit", "slurm", "-q", "--name", "prep", "--", "echo", "a").stdout.strip()
    ids["train"] = molq(
        "submit", "slurm", "-q", "--name", "train", "--after-success", ids["prep"], "--", "echo", "b"
    ).stdout.strip()
    (fake_slurm / "sacct.txt").write_text("1000|COMPLETED|0:0|1795447431|1795447432\n")
    assert molq("list").returncode == 0
    yield ids
    molq("cancel", ids["sleeper"])


def test_monitor_keys_detail_and_quit(screen, jobs, molq, cli_env, tmp_path):
    """Down selects, Enter shows dependencies, Esc goes back, q quits; the local job keeps running."""
    env = " ".join(f"{k}={shlex.quote(cli_env[k])}" for k in ("HOME", "MOLQ_STORE", "MOLQ_CONFIG", "PATH"))
    monitor = f"{shlex.quote(sys.executable)} -m molq.cli monitor --all --refresh 0.5"
    screen.start(
        f"cd {shlex.quote(str(tmp_path))} && env -u COLUMNS -u LINES {env} {monitor}; echo MONITOR-EXITED rc=$?; sleep 60"
    )
    listing = screen.wait_for(lambda s: "train" in s and "sleeper" in s)
    assert "molq monitor" in listing
    assert re.search(r"RUNNING\s+1/3 finished", listing), listing
    rows = [line for line in listing.splitlines() if re.search(r"(train|prep|sleeper)", line)]
    assert [re.search(r"(train|prep|sleeper)", r).group(1) for r in rows] == ["train", "prep", "sleeper"]
    assert "running" in rows[2]
    assert "succeeded" in rows[1]
    screen.keys("Down", "Enter")
    detail = screen.wait_for(lambda s: "Downstream (waiting for this job)" in s)
    assert f"Job {jobs['prep'][:12]}" in detail
    assert "Upstream: none" in detail
    assert re.search(rf"✓ │ satisfied\s+│ {jobs['train'][:12]}", detail), detail
    screen.keys("Escape")
    screen.wait_for(lambda s: "Enter details" in s)
    screen.keys("Up", "Enter")
    detail = screen.wait_for(lambda s: "Upstream (this job waits for)" in s)
    assert f"Job {jobs['train'][:12]}" in detail
    assert re.search(rf"✓ │ satisfied\s+│ {jobs['prep'][:12]}", detail), detail
    screen.keys("q")
    done = screen.wait_for(lambda s: "MONITOR-EXITED" in s)
    assert "MONITOR-EXITED rc=0" in done
    assert "Traceback" not in done
    status = molq("status", jobs["sleeper"])
    assert re.search(r"^state:\s+running$", status.stdout, re.M), status.stdout
