"""The real OpenLava 4.0 cluster that shared/ci/lsf/lsf-up starts: where it is and whether it answers."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest


SETUP = "/opt/openlava/etc/openlava.sh"
"""The client environment file; molq sources it over SSH (``LSFSchedulerOptions.setup``)."""


def openlava_env() -> dict[str, str]:
    """The variables ``. openlava.sh`` sets (PATH, LSF_ENVDIR, ...), read from a shell that sourced it."""
    done = subprocess.run(
        ["/bin/sh", "-c", f'. "{SETUP}" && env -0'],
        capture_output=True, check=True, timeout=10, env={"PATH": os.environ.get("PATH", "/usr/bin:/bin")},
    )
    pairs = (item.split("=", 1) for item in done.stdout.decode().split("\0") if "=" in item)
    return {k: v for k, v in pairs if k == "PATH" or k.startswith("LSF_")}


def openlava_ready() -> bool:
    """Whether OpenLava answers (lsid and bjobs, with LSB_NTRIES=1 and a timeout)."""
    if not Path(SETUP).exists():
        return False
    env = {**os.environ, **openlava_env(), "LSB_NTRIES": "1"}
    try:
        done = subprocess.run(["bjobs", "-u", "all"], capture_output=True, env=env, timeout=20, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return False
    return done.returncode == 0 or b"No unfinished job found" in done.stderr


def use_openlava(monkeypatch: pytest.MonkeyPatch) -> None:
    """Put OpenLava's clients on PATH for this test, as ``. openlava.sh`` would; skip if it is down."""
    if not openlava_ready():
        pytest.skip(f"no OpenLava here ({SETUP}; run shared/ci/lsf/lsf-up as root)")
    for key, value in openlava_env().items():
        monkeypatch.setenv(key, value)
