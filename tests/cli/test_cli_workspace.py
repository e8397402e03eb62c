"""End to end: ``molq workspace sync|list`` against this machine (local rsync)."""

from __future__ import annotations

import shutil

import pytest


pytestmark = pytest.mark.skipif(shutil.which("rsync") is None, reason="rsync is not installed")


def test_sync_push_pull_and_list(molq, tmp_path):
    """sync pushes a project (claiming it), list shows the owner, --pull copies back."""
    project = tmp_path / "proj"
    project.mkdir()
    (project / "main.py").write_text("print('hi')\n")
    (project / "__pycache__").mkdir()
    root = tmp_path / "remote-root"
    remote = root / "proj"
    pushed = molq("workspace", "sync", str(project), "--remote", str(remote))
    assert pushed.returncode == 0, pushed.stderr
    assert f"Synced {project} -> {remote} on local" in pushed.stdout
    assert (remote / "main.py").read_text() == "print('hi')\n"
    assert not (remote / "__pycache__").exists()
    listed = molq("workspace", "list", "--root", str(root))
    assert str(remote) in listed.stdout
    assert str(project) in listed.stdout
    back = tmp_path / "back"
    pulled = molq("workspace", "sync", str(back.parent), "--remote", f"{remote}/", "--pull")
    assert pulled.returncode == 0, pulled.stderr
    assert (tmp_path / "main.py").exists()


def test_dry_run_and_empty_root(molq, tmp_path):
    """--dry-run changes nothing; a missing root lists no workspaces."""
    project = tmp_path / "p"
    project.mkdir()
    (project / "a.txt").write_text("a")
    remote = tmp_path / "r"
    result = molq("workspace", "sync", str(project), "--remote", str(remote), "--dry-run")
    assert result.returncode == 0, result.stderr
    assert "Would sync" in result.stdout
    assert not (remote / "a.txt").exists()
    assert "No workspaces under" in molq("workspace", "list", "--root", str(tmp_path / "none")).stdout
