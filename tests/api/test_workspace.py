"""Workspace/Project and SyncClient over LocalTransport (fake cluster, submitor)."""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path
from typing import Any

import attrs
import pytest

from molq.api._workspace import Project, Workspace, check_script_path
from molq.core import ConfigError, JobExecution, TransportError
from molq.shell.transport._local import LocalTransport
from molq.shell.transport._sync import SyncClient, WorkspaceOwnershipError, default_remote_path


@attrs.define
class FakeCluster:
    name: str = "laptop"
    transport: LocalTransport = attrs.field(factory=LocalTransport)


@attrs.define
class FakeSubmitor:
    target: object
    calls: list[dict[str, Any]] = attrs.field(factory=list)

    def submit_job(self, **kwargs: Any) -> str:
        self.calls.append(kwargs)
        return "handle"


@pytest.fixture
def cluster() -> FakeCluster:
    return FakeCluster()


@pytest.fixture
def ws(cluster, tmp_path) -> Workspace:
    return Workspace(cluster, "main", str(tmp_path / "ws"))


def test_ensure_and_exists(ws, tmp_path):
    """ensure() is mkdir -p (idempotent, mode 0700); exists() reports it."""
    assert not ws.exists()
    ws.ensure()
    ws.ensure()
    assert ws.exists()
    assert (tmp_path / "ws").stat().st_mode & 0o777 == 0o700


def test_project_path_and_cluster(ws, cluster):
    """Project.path is workspace.path/name and Project.cluster passes through."""
    proj = ws.get_project("alpha")
    assert proj == Project(ws, "alpha")
    assert proj.path == f"{ws.path}/alpha"
    assert proj.cluster is cluster


@pytest.mark.parametrize("name", ["", ".", "..", "a/b", "/abs", "x\0y"])
def test_bad_names(ws, cluster, name):
    """Names with '/', '..' or NUL are refused for workspaces and projects."""
    with pytest.raises(ConfigError):
        Workspace(cluster, name, "/tmp/x")
    with pytest.raises(ConfigError):
        ws.get_project(name)


@pytest.mark.parametrize("path", ["relative/dir", "", "~/ws", "/tmp/\0"])
def test_path_must_be_absolute(cluster, path):
    """A workspace path must be absolute."""
    with pytest.raises(ConfigError):
        Workspace(cluster, "w", path)


def test_path_is_normalized(cluster):
    """Redundant separators and dot segments are normalized away."""
    assert Workspace(cluster, "w", "//tmp/./a/../b/").path == "/tmp/b"


def test_upload_download_file_and_tree(ws, tmp_path):
    """Uploads keep their name inside the directory; downloads come back intact."""
    src = tmp_path / "src"
    (src / "sub").mkdir(parents=True)
    (src / "sub" / "data.txt").write_text("payload\n")
    (src / "run.sh").write_text("echo hi\n")
    proj = ws.get_project("alpha")
    proj.upload(src / "run.sh")
    assert Path(proj.path, "run.sh").read_text() == "echo hi\n"
    with pytest.raises(TransportError):
        proj.upload(src)
    proj.upload(src, recursive=True)
    assert Path(proj.path, "src", "sub", "data.txt").read_text() == "payload\n"
    out = tmp_path / "out"
    proj.download("src", out, recursive=True)
    assert (out / "sub" / "data.txt").read_text() == "payload\n"
    proj.download("run.sh", tmp_path / "copy.sh")
    assert (tmp_path / "copy.sh").read_text() == "echo hi\n"


@pytest.mark.parametrize("rel", ["../escape", "/etc/passwd", "a/../../b"])
def test_download_cannot_escape(ws, tmp_path, rel):
    """remote_rel may not leave the directory."""
    with pytest.raises(ConfigError):
        ws.download(rel, tmp_path / "x")


def test_submit_job_sets_cwd(ws, cluster):
    """submit_job forwards everything and points JobExecution.cwd at the project."""
    proj = ws.get_project("alpha")
    sub = FakeSubmitor(cluster)
    assert proj.submit_job(sub, argv=["echo", "hi"]) == "handle"
    assert sub.calls[0]["argv"] == ["echo", "hi"]
    assert sub.calls[0]["execution"].cwd == proj.path


def test_submit_job_merges_execution(ws, cluster):
    """An execution= keyword keeps its other fields; only cwd is overridden."""
    proj = ws.get_project("alpha")
    sub = FakeSubmitor(cluster)
    execution = JobExecution(env={"A": "1"}, cwd="/elsewhere", job_name="j")
    proj.submit_job(sub, argv=["true"], execution=execution)
    sent = sub.calls[0]["execution"]
    assert sent.cwd == proj.path
    assert sent.job_name == "j"
    assert dict(sent.env) == {"A": "1"}


def test_submit_job_other_cluster(ws):
    """A submitor bound to another cluster is refused before submitting."""
    sub = FakeSubmitor(FakeCluster("other"))
    with pytest.raises(ConfigError):
        ws.get_project("alpha").submit_job(sub, argv=["true"])
    assert sub.calls == []


class TestCheckScriptPath:
    """The mount-root guard for caller-supplied script paths."""

    def test_inside_root(self, tmp_path):
        """A path under an allowed root passes."""
        check_script_path(tmp_path / "a" / "run.sh", [tmp_path])

    @pytest.mark.parametrize("rel", ["../etc/passwd", "a/../../x", "/etc/passwd"])
    def test_escapes(self, tmp_path, rel):
        """'..' and absolute paths outside every root are refused."""
        root = tmp_path / "root"
        root.mkdir()
        with pytest.raises(ConfigError):
            check_script_path(root / rel, [root])

    def test_symlink_escape(self, tmp_path):
        """A symlink pointing outside the root is resolved and refused."""
        root = tmp_path / "root"
        root.mkdir()
        (root / "link").symlink_to("/etc")
        with pytest.raises(ConfigError):
            check_script_path(root / "link" / "passwd", [root])

    def test_no_roots(self, tmp_path):
        """With no allowed roots nothing passes."""
        with pytest.raises(ConfigError):
            check_script_path(tmp_path / "x", [])

    def test_any_root_suffices(self, tmp_path):
        """Being inside one of several roots is enough."""
        check_script_path(tmp_path / "b" / "x.sh", [tmp_path / "a", tmp_path / "b"])


class TestLocalSync:
    """SyncClient over LocalTransport: local-to-local rsync with the same rules."""

    @pytest.fixture(autouse=True)
    def _needs_rsync(self):
        if shutil.which("rsync") is None:
            pytest.skip("rsync is not installed")

    def make_tree(self, root: Path) -> Path:
        (root / ".git").mkdir(parents=True)
        (root / ".git" / "HEAD").write_text("ref\n")
        (root / "keep.txt").write_text("keep\n")
        (root / "skip.log").write_text("log\n")
        return root

    def test_push_pull_and_owner(self, tmp_path):
        """Excludes hold, itemize reports, a second machine is refused unforced."""
        src = self.make_tree(tmp_path / "proj")
        dest = str(tmp_path / "remote")
        client = SyncClient(LocalTransport(), machine_id="a", user="u")
        result = client.push(src, dest, itemize=True, exclude_patterns=["*.log"])
        assert result.ok, result.stderr
        assert "keep.txt" in result.changed_paths
        assert sorted(p.name for p in Path(dest).iterdir()) == [
            ".molq-owner.json",
            "keep.txt",
        ]
        other = SyncClient(LocalTransport(), machine_id="b", user="u")
        with pytest.raises(WorkspaceOwnershipError):
            other.push(src, dest)
        again = client.push(src, dest, itemize=True, exclude_patterns=["*.log"])
        assert again.changes == ()
        pulled = client.pull(dest, tmp_path / "back")
        assert pulled.ok
        assert (tmp_path / "back" / "keep.txt").read_text() == "keep\n"
        assert not (tmp_path / "back" / ".molq-owner.json").exists()

    def test_file_helpers(self, tmp_path):
        """read/write/sha256 helpers treat a missing file as None."""
        client = SyncClient(LocalTransport())
        path = str(tmp_path / "f.txt")
        assert client.read_remote_file(path) is None
        assert client.remote_sha256(path) is None
        client.write_remote_file(path, "data")
        assert client.read_remote_file(path) == "data"
        assert client.remote_sha256(path) == hashlib.sha256(b"data").hexdigest()
        assert client.verify_same(path, path)

    def test_default_remote_path_uses_git_root(self, tmp_path):
        """The default path is named after the enclosing git repository."""
        repo = self.make_tree(tmp_path / "My Repo")
        (repo / "pkg").mkdir()
        assert default_remote_path(repo / "pkg") == "~/molq-workspaces/My_Repo"
        assert default_remote_path(tmp_path) == f"~/molq-workspaces/{tmp_path.name}"
