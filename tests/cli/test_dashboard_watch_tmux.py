"""Issue 18: ``RunDashboard().watch(data_fn)`` in a real terminal (tmux): refresh, keys, detail, quit."""

from __future__ import annotations

import re
import shlex
import sys
import textwrap

from tests.cli.test_monitor_tmux import TMUX, pytestmark, screen  # noqa: F401 - the fixture and the skip mark


SCRIPT = textwrap.dedent(
    """
    from molq import DashboardState, JobRow, RunDashboard

    ticks = 0

    def data_fn():
        global ticks
        ticks += 1
        jobs = (
            JobRow(state="running", run_id="alpha-1234", name="alpha", elapsed=f"{ticks}s"),
            JobRow(state="failed", run_id="beta-5678", name="beta", message="exit 3",
                   extras=(("command", "python beta.py"),)),
        )
        return DashboardState("upstream style", "mixed", 2, 1, 0, 0, 1, f"tick {ticks}", jobs)

    RunDashboard().watch(data_fn, refresh_interval=0.3)
    print(f"WATCH-RETURNED after {ticks} ticks")
    """
)


def test_watch_refreshes_navigates_and_quits(screen, tmp_path):  # noqa: F811 - pytest fixture
    """data_fn is called again every interval; Down+Enter shows beta's detail; Esc returns; q returns from watch."""
    script = tmp_path / "watch_demo.py"
    script.write_text(SCRIPT)
    screen.start(f"env -u COLUMNS -u LINES {shlex.quote(sys.executable)} {shlex.quote(str(script))}; echo EXITED rc=$?; sleep 60")
    listing = screen.wait_for(lambda s: "alpha" in s and "beta" in s)
    assert "upstream style" in listing
    assert "MIXED" in listing
    assert re.search(r"updated tick 1\b", listing), listing
    refreshed = screen.wait_for(lambda s: re.search(r"updated tick [3-9]\b", s) is not None)
    assert re.search(r"alpha.*\b[3-9]s\b", refreshed), refreshed
    screen.keys("Down", "Enter")
    detail = screen.wait_for(lambda s: "Job beta-5678" in s)
    assert "python beta.py" in detail
    assert "exit 3" in detail
    screen.keys("Escape")
    screen.wait_for(lambda s: "Enter details" in s and "Job beta-5678" not in s)
    screen.keys("q")
    done = screen.wait_for(lambda s: "EXITED" in s)
    assert "EXITED rc=0" in done, done
    assert "WATCH-RETURNED after" in done
    assert "Traceback" not in done
