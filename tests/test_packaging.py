"""What an installed molq offers its users beyond the API: typing marker and ``python -m molq``."""

from __future__ import annotations

import subprocess
import sys
import tomllib
from pathlib import Path

import molq


ROOT = Path(__file__).resolve().parents[1]


def test_package_ships_py_typed_marker():
    """``py.typed`` sits in the package and is declared as package data, so type checkers read molq's hints."""
    assert (Path(molq.__file__).parent / "py.typed").is_file()
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())
    assert "py.typed" in project["tool"]["setuptools"]["package-data"]["molq"]


def test_python_dash_m_molq_is_the_cli():
    """``python -m molq --help`` prints the same usage as ``molq --help`` and exits 0."""
    done = subprocess.run([sys.executable, "-m", "molq", "--help"], capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("Usage: molq ")
    assert "submit" in done.stdout


def test_python_dash_m_molq_passes_exit_codes():
    """A usage error through ``python -m molq`` exits 2, as through ``molq``."""
    done = subprocess.run([sys.executable, "-m", "molq", "no-such-command"], capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 2
    assert "molq: error:" in done.stderr
