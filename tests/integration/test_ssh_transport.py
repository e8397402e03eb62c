"""SshTransport and SyncClient against a real sshd (shared/ci/sshd-up: molq-test)."""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from molq.core import Completed, TransportError
from molq.shell.transport._ssh import SshTransport
from molq.shell.transport._ssh_options import (
    RemoteFileNotFound,
    SshAuthError,
    SshConnectionError,
    SshHostKeyError,
    SshLinkDropped,
    SshTimeoutError,
    SshTransportOptions,
)
from molq.shell.transport._sync import SyncClient, WorkspaceOwnershipError


pytestmark = pytest.mark.ssh

ALIAS = os.environ.get("MOLQ_CI_SSH_ALIAS", "molq-test")
CI_DIR = Path("/etc/ssh/molq-test")
ARG = st.text(
    st.characters(codec="utf-8", exclude_characters="\0"),
    max_size=30,
)
DUMP = (
    "import json, os, sys; "
    "print(json.dumps({'argv': [os.fsencode(a).hex() for a in sys.argv[1:]], "
    "'env': os.environb.get(b'MOLQ_V', b'').hex(), "
    "'cwd': os.fsencode(os.getcwd()).hex()}))"
)


def _alias_works() -> str | None:
    try:
        proc = subprocess.run(
            ["ssh", "-o", "BatchMode=yes", ALIAS, "true"],
            capture_output=True,
            stdin=subprocess.DEVNULL,
            timeout=20,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"ssh {ALIAS} true failed: {exc}"
    if proc.returncode != 0:
        return (
            f"ssh {ALIAS} true failed: {proc.stderr.decode(errors='replace').strip()}"
        )
    if shutil.which("rsync") is None:
        return "rsync is not installed"
    return None


@pytest.fixture(scope="module")
def alias() -> str:
    reason = _alias_works()
    if reason is not None:
        pytest.skip(f"{reason} (start it with: bash shared/ci/sshd-up)")
    return ALIAS


@pytest.fixture
def ssh(alias: str) -> Iterator[SshTransport]:
    transport = SshTransport(SshTransportOptions(alias))
    yield transport
    transport.close()


@pytest.fixture
def rdir(ssh: SshTransport) -> Iterator[str]:
    """A fresh remote directory whose name needs quoting."""
    base = ssh.run(["mktemp", "-d", "/tmp/molq-it.XXXXXX"]).stdout.strip()
    path = f"{base}/dir 'q' $x ü"
    ssh.mkdir(path)
    yield path
    ssh.remove(base, recursive=True)


def _python(ssh: SshTransport) -> str:
    return ssh.run(["sh", "-c", "command -v python3"]).stdout.strip()


class TestRun:
    """run() over real ssh."""

    @settings(
        max_examples=15,
        deadline=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture],
    )
    @given(args=st.lists(ARG, max_size=5), value=ARG)
    def test_argv_env_round_trip(self, ssh, rdir, args, value):
        """Arbitrary NUL-free argv and env values arrive byte-exact."""
        argv = [_python(ssh), "-c", DUMP, *args]
        done = ssh.run(argv, env={"MOLQ_V": value}, cwd=rdir)
        out = json.loads(done.stdout)
        assert out["argv"] == [a.encode().hex() for a in args]
        assert out["env"] == value.encode().hex()
        assert out["cwd"] == rdir.encode().hex()

    def test_nasty_corpus(self, ssh, rdir):
        """Shell metacharacters are data, never code."""
        corpus = ["$(touch pwned)", "`touch pwned`", "a; touch pwned", "'", '"', "\n"]
        done = ssh.run(["printf", "%s|", *corpus], cwd=rdir)
        assert done.stdout == "|".join(corpus) + "|"
        assert not ssh.exists(f"{rdir}/pwned")

    def test_exit_codes_are_returned(self, ssh):
        """Remote failures, even 255, come back in Completed."""
        done = ssh.run(["sh", "-c", "echo err >&2; exit 7"])
        assert isinstance(done, Completed)
        assert (done.argv, done.returncode, done.stdout, done.stderr) == (
            ("sh", "-c", "echo err >&2; exit 7"), 7, "", "err\n"
        )
        assert ssh.run(["sh", "-c", "exit 255"]).returncode == 255

    def test_stdin_is_passed(self, ssh):
        """stdin bytes reach the command."""
        assert ssh.run(["cat"], stdin=b"hello\nworld").stdout == "hello\nworld"

    def test_missing_program_and_cwd(self, ssh):
        """A missing program or directory is a TransportError, like LocalTransport."""
        with pytest.raises(TransportError, match="command not found"):
            ssh.run(["molq-no-such-program"])
        with pytest.raises(TransportError, match="no such remote directory"):
            ssh.run(["true"], cwd="/nonexistent/molq")

    def test_timeout(self, ssh):
        """A command running past timeout raises SshTimeoutError."""
        start = time.monotonic()
        with pytest.raises(SshTimeoutError):
            ssh.run(["sleep", "10"], timeout=1)
        assert time.monotonic() - start < 8


def test_closing_one_transport_spares_another_ones_running_command(alias):
    """Two transports to one host share a connection (ControlMaster); closing one lets the
    other's command run to its end, and the closed one connects afresh when used again."""
    first, second = SshTransport(SshTransportOptions(alias)), SshTransport(SshTransportOptions(alias))
    try:
        assert second.run(["true"]).returncode == 0  # the master both share is up
        result: dict[str, object] = {}
        worker = threading.Thread(
            target=lambda: result.update(done=first.run(["sh", "-c", "sleep 2; echo finished"])),
        )
        worker.start()
        time.sleep(0.7)
        second.close()
        worker.join(timeout=30)
        done = result["done"]
        assert isinstance(done, Completed)
        assert (done.returncode, done.stdout) == (0, "finished\n")
        assert second.run(["echo", "again"]).stdout == "again\n"
    finally:
        first.close()
        second.close()


class TestFiles:
    """read/write/exists/mkdir/chmod/remove on the remote filesystem."""

    def test_write_read_round_trip(self, ssh, rdir):
        """All 256 byte values survive an atomic write and a read."""
        path = f"{rdir}/data 'x'.bin"
        data = bytes(range(256)) * 3
        ssh.write_bytes(path, data)
        assert ssh.read_bytes(path) == data
        ssh.write_text(path, "héllo\n")
        assert ssh.read_text(path) == "héllo\n"
        names = ssh.run(["ls", "-A", rdir]).stdout.split("\n")
        assert [n for n in names if n] == ["data 'x'.bin"]

    def test_missing_file_vs_connection_failure(self, ssh, rdir):
        """A missing file is RemoteFileNotFound; a dead host is SshConnectionError."""
        with pytest.raises(RemoteFileNotFound):
            ssh.read_text(f"{rdir}/missing")
        dead = SshTransport(SshTransportOptions("127.0.0.1", port=_free_port()))
        with pytest.raises(SshConnectionError) as info:
            dead.read_text("/etc/hostname")
        assert not isinstance(info.value, RemoteFileNotFound)
        assert SyncClient(ssh).read_remote_file(f"{rdir}/missing") is None
        with pytest.raises(SshConnectionError):
            SyncClient(dead).read_remote_file("/etc/hostname")

    def test_exists_mkdir_chmod_remove(self, ssh, rdir):
        """Directories are created 0700, chmod applies, remove tolerates missing."""
        sub = f"{rdir}/a/b"
        assert not ssh.exists(sub)
        ssh.mkdir(sub)
        assert ssh.exists(sub)
        assert ssh.run(["stat", "-c", "%a", sub]).stdout.strip() == "700"
        with pytest.raises(TransportError):
            ssh.mkdir(sub, exist_ok=False)
        with pytest.raises(TransportError):
            ssh.mkdir(f"{rdir}/x/y", parents=False)
        ssh.write_text(f"{sub}/f", "x")
        ssh.chmod(f"{sub}/f", 0o640)
        assert ssh.run(["stat", "-c", "%a", f"{sub}/f"]).stdout.strip() == "640"
        with pytest.raises(TransportError):
            ssh.remove(sub)
        ssh.remove(f"{rdir}/a", recursive=True)
        assert not ssh.exists(f"{rdir}/a")
        ssh.remove(f"{rdir}/never-existed")


class TestCopy:
    """upload/download through rsync, and through scp when rsync is missing."""

    @pytest.mark.parametrize(
        "rsync_opts", [None, ("-a", "--rsync-path=/nonexistent/rsync")]
    )
    def test_round_trip(self, alias, rdir, tmp_path, rsync_opts):
        """Files and trees go up and come back identical (scp as fallback)."""
        extra = {} if rsync_opts is None else {"rsync_opts": rsync_opts}
        ssh = SshTransport(SshTransportOptions(alias, **extra))
        tree = _make_tree(tmp_path / "src")
        ssh.upload(str(tree / "top.txt"), f"{rdir}/new/top copy.txt")
        assert ssh.read_text(f"{rdir}/new/top copy.txt") == "top\n"
        with pytest.raises(TransportError, match="recursive"):
            ssh.upload(str(tree), f"{rdir}/tree")
        ssh.upload(str(tree), f"{rdir}/tree", recursive=True)
        assert ssh.read_text(f"{rdir}/tree/sub dir/it's.txt") == "deep $x\n"
        back = tmp_path / "back"
        ssh.download(f"{rdir}/tree", str(back), recursive=True)
        assert _snapshot(back) == _snapshot(tree)
        ssh.download(f"{rdir}/new/top copy.txt", str(tmp_path / "one" / "f.txt"))
        assert (tmp_path / "one" / "f.txt").read_text() == "top\n"
        with pytest.raises(RemoteFileNotFound):
            ssh.download(f"{rdir}/missing", str(tmp_path / "m"))
        ssh.close()


class TestSync:
    """SyncClient push/pull against the real host."""

    def test_push_pull_excludes_delete_itemize(self, ssh, rdir, tmp_path):
        """Excludes hold, deletes propagate, itemize lists the changes."""
        tree = _make_tree(tmp_path / "proj")
        (tree / "__pycache__").mkdir()
        (tree / "__pycache__" / "x.pyc").write_bytes(b"\0")
        (tree / "secret.env").write_text("k=v\n")
        client = SyncClient(ssh, machine_id="m1", user="u")
        dest = f"{rdir}/ws"
        first = client.push(tree, dest, itemize=True, exclude_patterns=["*.env"])
        assert first.ok, first.stderr
        assert "top.txt" in first.changed_paths
        assert not ssh.exists(f"{dest}/__pycache__")
        assert not ssh.exists(f"{dest}/secret.env")
        assert ssh.exists(f"{dest}/.molq-owner.json")
        (tree / "top.txt").unlink()
        dry = client.push(tree, dest, dry_run=True, itemize=True)
        assert "*deleting   top.txt" in dry.changes
        assert ssh.exists(f"{dest}/top.txt")
        client.push(tree, dest)
        assert not ssh.exists(f"{dest}/top.txt")
        assert ssh.exists(f"{dest}/.molq-owner.json")
        back = tmp_path / "pulled"
        pulled = client.pull(dest, back, itemize=True)
        assert pulled.ok, pulled.stderr
        assert (back / "sub dir" / "it's.txt").read_text() == "deep $x\n"
        assert not (back / ".molq-owner.json").exists()

    def test_sha256_and_verify(self, ssh, rdir, tmp_path):
        """remote_sha256 matches hashlib; missing is None; verify_same compares."""
        local = tmp_path / "f.bin"
        local.write_bytes(os.urandom(4096))
        ssh.upload(str(local), f"{rdir}/f.bin")
        client = SyncClient(ssh)
        expected = hashlib.sha256(local.read_bytes()).hexdigest()
        assert client.remote_sha256(f"{rdir}/f.bin") == expected
        assert client.remote_sha256(f"{rdir}/nope") is None
        assert client.verify_same(local, f"{rdir}/f.bin")
        client.write_remote_file(f"{rdir}/f.bin", "changed")
        assert client.read_remote_file(f"{rdir}/f.bin") == "changed"
        assert not client.verify_same(local, f"{rdir}/f.bin")

    def test_ownership_conflict(self, ssh, rdir, tmp_path):
        """A second machine may not push over the first one's workspace unforced."""
        tree = _make_tree(tmp_path / "proj")
        dest = f"{rdir}/ws"
        SyncClient(ssh, machine_id="laptop", user="u").push(tree, dest)
        other = SyncClient(ssh, machine_id="desktop", user="u")
        with pytest.raises(WorkspaceOwnershipError, match="laptop") as info:
            other.push(tree, dest)
        assert info.value.owner is not None
        assert info.value.owner.machine_id == "laptop"
        assert other.push(tree, dest, force=True).ok
        marker = json.loads(ssh.read_text(f"{dest}/.molq-owner.json"))
        assert marker["machine_id"] == "desktop"


class TestFailures:
    """Typed errors for connection, auth, host-key and link failures."""

    def test_connection_refused(self, alias):
        """Nothing listening: SshConnectionError, also from rsync."""
        dead = SshTransport(SshTransportOptions("127.0.0.1", port=_free_port()))
        with pytest.raises(SshConnectionError, match="Connection refused"):
            dead.run(["true"])
        with pytest.raises(SshConnectionError):
            SyncClient(dead).push(Path.cwd(), "/tmp/x")

    def test_wrong_key_is_auth_error(self, alias, tmp_path):
        """An unknown key: SshAuthError, and the message names no key material."""
        key = tmp_path / "wrong_key"
        subprocess.run(
            ["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(key)], check=True
        )
        opts = SshTransportOptions(
            "root@127.0.0.1",
            port=2222,
            identity_file=str(key),
            ssh_opts=(*_pinned_host_key(), "-o", "IdentityAgent=none"),
        )
        with pytest.raises(SshAuthError) as info:
            SshTransport(opts).run(["true"])
        assert "PRIVATE KEY" not in str(info.value)
        assert key.read_text().splitlines()[1] not in str(info.value)

    def test_unknown_host_key(self, alias, tmp_path):
        """An empty known_hosts with strict checking: SshHostKeyError."""
        empty = tmp_path / "known_hosts"
        empty.write_text("")
        opts = SshTransportOptions(
            "root@127.0.0.1",
            port=2222,
            identity_file=str(CI_DIR / "client_ed25519"),
            ssh_opts=(
                "-o",
                f"UserKnownHostsFile={empty}",
                "-o",
                "StrictHostKeyChecking=yes",
            ),
        )
        with pytest.raises(SshHostKeyError):
            SshTransport(opts).run(["true"])

    def test_sshd_killed_mid_command(self, private_sshd):
        """Killing the server during a command: SshLinkDropped."""
        ssh = SshTransport(private_sshd)
        assert ssh.run(["true"]).ok
        job = _Background(ssh, ["sleep", "30"])
        time.sleep(1.5)
        _signal_tree(_sshd_pid(), signal.SIGKILL)
        assert isinstance(job.wait(), SshLinkDropped)
        ssh.close()

    def test_sshd_stopped_mid_command(self, private_sshd):
        """A frozen server during a command: keep-alives give up, SshLinkDropped."""
        ssh = SshTransport(private_sshd)
        job = _Background(ssh, ["sleep", "30"])
        time.sleep(1.5)
        _signal_tree(_sshd_pid(), signal.SIGSTOP)
        try:
            assert isinstance(job.wait(), SshLinkDropped)
            fresh = SshTransport(
                SshTransportOptions(
                    private_sshd.host,
                    port=private_sshd.port,
                    identity_file=private_sshd.identity_file,
                    ssh_opts=(*private_sshd.ssh_opts, "-o", "ControlMaster=no"),
                )
            )
            with pytest.raises(SshTimeoutError):
                fresh.run(["true"])
        finally:
            ssh.close()


# --- helpers -------------------------------------------------------------------

_PRIVATE: dict[str, int] = {}


@pytest.fixture
def private_sshd(alias: str, tmp_path: Path) -> Iterator[SshTransportOptions]:
    """A second sshd on a free loopback port, from the shared one's config."""
    port = _free_port()
    template = (CI_DIR / "sshd_config").read_text()
    config = re.sub(r"(?m)^Port .*$", f"Port {port}", template)
    config = re.sub(r"(?m)^PidFile .*$", f"PidFile {tmp_path / 'sshd.pid'}", config)
    (tmp_path / "sshd_config").write_text(config)
    proc = subprocess.Popen(
        ["/usr/sbin/sshd", "-D", "-e", "-f", str(tmp_path / "sshd_config")],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    _PRIVATE["pid"] = proc.pid
    try:
        _wait_for_port(port)
        yield SshTransportOptions(
            "root@127.0.0.1",
            port=port,
            identity_file=str(CI_DIR / "client_ed25519"),
            ssh_opts=(
                *_pinned_host_key(),
                "-o",
                "ServerAliveInterval=1",
                "-o",
                "ServerAliveCountMax=2",
                "-o",
                "ConnectTimeout=2",
            ),
        )
    finally:
        # One snapshot, then SIGKILL (which also ends stopped processes): nothing gets
        # the chance to exit on its own and leave its children to init.
        _signal_tree(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)


def _pinned_host_key() -> tuple[str, ...]:
    return (
        "-o",
        "HostKeyAlias=molq-test",
        "-o",
        f"UserKnownHostsFile={CI_DIR / 'known_hosts'}",
        "-o",
        "IdentitiesOnly=yes",
    )


def _sshd_pid() -> int:
    return _PRIVATE["pid"]


def _descendants(root: int) -> list[int]:
    """``root`` and every process below it, found through /proc."""
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            parents[int(entry.name)] = int(fields[1])
    tree = [root]
    for pid in tree:
        tree.extend(child for child, parent in parents.items() if parent == pid)
    return tree


def _signal_tree(root: int, sig: signal.Signals) -> None:
    for pid in _descendants(root):
        try:
            os.kill(pid, sig)
        except ProcessLookupError:
            continue


class _Background:
    """Runs ssh.run in a thread and keeps the exception it raised."""

    def __init__(self, ssh: SshTransport, argv: list[str]) -> None:
        self.error: BaseException | None = None
        self.finished = False
        self._thread = threading.Thread(target=self._run, args=(ssh, argv), daemon=True)
        self._thread.start()

    def _run(self, ssh: SshTransport, argv: list[str]) -> None:
        try:
            ssh.run(argv, timeout=25)
        except BaseException as exc:  # handed to the test thread
            self.error = exc
        self.finished = True

    def wait(self) -> BaseException | None:
        self._thread.join(timeout=20)
        assert self.finished, "the command neither finished nor failed"
        return self.error


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


def _wait_for_port(port: int) -> None:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            time.sleep(0.1)
    pytest.fail(f"private sshd did not listen on port {port}")


def _make_tree(root: Path) -> Path:
    (root / "sub dir").mkdir(parents=True)
    (root / "top.txt").write_text("top\n")
    (root / "sub dir" / "it's.txt").write_text("deep $x\n")
    (root / "empty").mkdir()
    return root


def _snapshot(root: Path) -> dict[str, str | None]:
    return {
        str(p.relative_to(root)): (p.read_text() if p.is_file() else None)
        for p in sorted(root.rglob("*"))
    }
