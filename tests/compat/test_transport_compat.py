"""Issue 18, transports: upstream's run(input=), check_returncode, write modes, exclude, self-copies."""

from __future__ import annotations

import os
import stat
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from molq import LocalTransport, SshTransport, SshTransportOptions


ALIAS = os.environ.get("MOLQ_CI_SSH_ALIAS", "molq-test")


def _tree(root: Path) -> Path:
    (root / "sub").mkdir(parents=True)
    (root / "keep.txt").write_text("k")
    (root / "skip.log").write_text("s")
    (root / "sub" / "deep.txt").write_text("d")
    (root / "__pycache__").mkdir()
    (root / "__pycache__" / "x.pyc").write_text("c")
    return root


def _files(root: Path) -> set[str]:
    return {str(p.relative_to(root)) for p in root.rglob("*") if p.is_file()}


# -- LocalTransport ------------------------------------------------------------------------------


def test_local_run_takes_input_and_result_checks_returncode():
    """run(..., input="text") feeds stdin; check_returncode() raises CalledProcessError on failure."""
    transport = LocalTransport()
    done = transport.run(["cat"], input="hello")
    assert done.stdout == "hello"
    done.check_returncode()
    with pytest.raises(subprocess.CalledProcessError) as info:
        transport.run(["sh", "-c", "exit 3"]).check_returncode()
    assert info.value.returncode == 3


def test_local_write_creates_parents_and_takes_mode(tmp_path):
    """write_text/write_bytes create missing parent dirs and set mode=."""
    transport = LocalTransport()
    target = tmp_path / "a" / "b" / "run.sh"
    transport.write_text(str(target), "echo hi\n", mode=0o755)
    assert target.read_text() == "echo hi\n"
    assert stat.S_IMODE(target.stat().st_mode) == 0o755
    transport.write_bytes(str(tmp_path / "c" / "data.bin"), b"\x00\x01")
    assert stat.S_IMODE((tmp_path / "c" / "data.bin").stat().st_mode) == 0o600


def test_local_upload_exclude_and_self_copy(tmp_path):
    """upload(..., exclude=) leaves out matching names; a file uploaded onto itself is left alone."""
    transport = LocalTransport()
    source = _tree(tmp_path / "src")
    transport.upload(str(source), str(tmp_path / "dst"), recursive=True, exclude=["*.log", "__pycache__"])
    assert _files(tmp_path / "dst") == {"keep.txt", "sub/deep.txt"}
    transport.upload(str(source / "keep.txt"), str(source / "keep.txt"))
    assert (source / "keep.txt").read_text() == "k"
    transport.download(str(source), str(tmp_path / "back"), recursive=True, exclude=["sub"])
    assert _files(tmp_path / "back") == {"keep.txt", "skip.log", "__pycache__/x.pyc"}


def test_local_directory_without_recursive_is_is_a_directory_error(tmp_path):
    """A directory without recursive=True raises IsADirectoryError (also a TransportError)."""
    from molq import TransportError

    source = _tree(tmp_path / "src")
    with pytest.raises(IsADirectoryError) as info:
        LocalTransport().upload(str(source), str(tmp_path / "dst"))
    assert isinstance(info.value, TransportError)


# -- SshTransport --------------------------------------------------------------------------------


@pytest.fixture
def ssh() -> Iterator[SshTransport]:
    probe = subprocess.run(["ssh", "-o", "BatchMode=yes", ALIAS, "true"], capture_output=True, check=False, timeout=20)
    if probe.returncode != 0:
        pytest.skip(f"ssh {ALIAS} is not reachable (start it with: bash shared/ci/sshd-up)")
    transport = SshTransport(SshTransportOptions(ALIAS))
    yield transport
    transport.close()


@pytest.fixture
def rdir(ssh: SshTransport) -> Iterator[str]:
    base = ssh.run(["mktemp", "-d", "/tmp/molq-compat.XXXXXX"]).stdout.strip()
    yield base
    ssh.remove(base, recursive=True)


@pytest.mark.ssh
def test_ssh_run_input_and_check_returncode(ssh):
    """SshTransport.run takes input= and returns a result with check_returncode()."""
    assert ssh.run(["cat"], input="over ssh").stdout == "over ssh"
    with pytest.raises(subprocess.CalledProcessError):
        ssh.run(["sh", "-c", "exit 4"]).check_returncode()


@pytest.mark.ssh
def test_ssh_write_creates_parents_and_takes_mode(ssh, rdir):
    """write_text creates parent dirs on the host and applies mode=."""
    path = f"{rdir}/x/y/run.sh"
    ssh.write_text(path, "echo hi\n", mode=0o750)
    assert ssh.read_text(path) == "echo hi\n"
    assert ssh.run(["stat", "-c", "%a", path]).stdout.strip() == "750"


@pytest.mark.ssh
def test_ssh_upload_exclude_and_directory_needs_recursive(ssh, rdir, tmp_path):
    """upload(exclude=) leaves names out on the host; a directory needs recursive=True."""
    source = _tree(tmp_path / "src")
    with pytest.raises(IsADirectoryError):
        ssh.upload(str(source), f"{rdir}/dst")
    ssh.upload(str(source), f"{rdir}/dst", recursive=True, exclude=["*.log", "__pycache__"])
    listed = ssh.run(["sh", "-c", f"cd {rdir}/dst && find . -type f | sort"]).stdout.split()
    assert listed == ["./keep.txt", "./sub/deep.txt"]
    ssh.download(f"{rdir}/dst", str(tmp_path / "back"), recursive=True, exclude=["sub"])
    assert _files(tmp_path / "back") == {"keep.txt"}
