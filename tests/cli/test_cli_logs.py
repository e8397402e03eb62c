"""``molq logs``: --tail reads from the end (locally and over SSH), a cleaned job says its output is gone."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from molq.cli._tail import last_lines, last_lines_of_file
from molq.core import Completed
from molq.shell.transport._local import LocalTransport


RSS = (
    "import resource, sys\n"
    "from molq.cli import run\n"
    "code = run(sys.argv[1:])\n"
    "sys.stdout.flush()\n"
    "print('maxrss', resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, file=sys.stderr)\n"
    "sys.exit(code)\n"
)


def _job_with_stdout(molq, size_lines: int) -> tuple[str, Path]:
    job = molq("submit", "local", "-q", "--block", "--", "true").stdout.strip()
    stdout = Path(json.loads(molq("status", job, "--json").stdout)["stdout_path"])
    line = b"a log line of some length that is about sixty bytes long .\n"
    with stdout.open("wb") as f:
        for start in range(0, size_lines, 10_000):
            f.write(line * min(10_000, size_lines - start))
        f.write(b"last-1\nlast-2\nlast-3 without newline")
    return job, stdout


def _logs_rss(cli_env, job: str, tail: str) -> tuple[str, int]:
    done = subprocess.run(
        [sys.executable, "-c", RSS, "logs", job, "--tail", tail],
        env=cli_env,
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    kib = int(done.stderr.split("maxrss", 1)[1].split()[0])
    return done.stdout, kib


def test_tail_of_a_50_mb_log_reads_only_its_end(molq, cli_env):
    """--tail 3 on a 50 MB log prints its last 3 lines using no more memory than on a tiny log."""
    small, _ = _job_with_stdout(molq, 10)
    big, path = _job_with_stdout(molq, 850_000)
    assert path.stat().st_size > 50_000_000
    out_small, rss_small = _logs_rss(cli_env, small, "3")
    out_big, rss_big = _logs_rss(cli_env, big, "3")
    assert out_big == out_small == "last-1\nlast-2\nlast-3 without newline"
    assert rss_big - rss_small < 20_000, (rss_small, rss_big)  # KiB; reading it all costs ~150 MB


def test_logs_of_a_removed_job_dir_say_so(molq, error_line):
    """A job whose directory is gone: an error saying so, not '(no stdout yet)'."""
    job = molq("submit", "local", "-q", "--block", "--", "echo", "hi").stdout.strip()
    job_dir = Path(json.loads(molq("status", job, "--json").stdout)["job_dir"])
    for path in sorted(job_dir.rglob("*"), reverse=True):
        path.unlink() if path.is_file() else path.rmdir()
    job_dir.rmdir()
    result = molq("logs", job)
    assert result.returncode == 1
    line = error_line(result)
    assert "is gone" in line
    assert str(job_dir) in line


def test_logs_after_cleanup_name_the_cleanup(molq, cli_env, error_line):
    """After `molq cleanup` removed the directory, logs names the cleanup and when."""
    config = Path(cli_env["MOLQ_CONFIG"])
    config.parent.mkdir(parents=True, exist_ok=True)
    config.write_text(
        '[profiles.tidy]\nscheduler = "local"\ncluster_name = "tidy"\n[profiles.tidy.retention]\nkeep_job_dirs_for_days = 0\n'
    )
    job = molq("submit", "local", "--profile", "tidy", "-q", "--block", "--", "echo", "hi").stdout.strip()
    assert molq("cleanup").returncode == 0
    result = molq("logs", job)
    assert result.returncode == 1
    assert "'molq cleanup' removed" in error_line(result)


@pytest.mark.parametrize("count", [0, 1, 2, 5, 50])
@pytest.mark.parametrize("block", [1, 3, 64 * 1024])
@pytest.mark.parametrize("text", ["", "\n", "a", "a\n", "a\nb", "a\nb\n", "\n\nx\n\n", "é\r\nü\n" * 7])
def test_last_lines_of_file_is_tail(tmp_path, text, count, block):
    """Reading backwards in blocks gives what `tail -n` gives, whatever the block size."""
    path = tmp_path / "log"
    path.write_bytes(text.encode())
    expected = subprocess.run(["tail", "-n", str(count), str(path)], capture_output=True, check=True).stdout
    assert last_lines_of_file(str(path), count, block=block) == expected.decode()


class _RemoteTransport:
    """A non-local transport that answers ``tail`` from a local file (and refuses to read whole files)."""

    def __init__(self) -> None:
        self.ran: list[tuple[str, ...]] = []

    def run(self, argv, **_: object) -> Completed:
        self.ran.append(tuple(argv))
        done = subprocess.run(list(argv), capture_output=True, text=True, check=False)
        return Completed(tuple(argv), done.returncode, done.stdout, done.stderr)

    def read_text(self, path: str) -> str:
        raise AssertionError("read the whole file")


def test_remote_tail_runs_tail_on_the_host(tmp_path):
    """Over a remote transport only `tail -n N -- PATH` runs; a failing tail is a TransportError."""
    path = tmp_path / "log"
    path.write_text("1\n2\n3\n")
    remote = _RemoteTransport()
    assert last_lines(remote, str(path), 2) == "2\n3\n"  # type: ignore[arg-type]
    assert remote.ran == [("tail", "-n", "2", "--", str(path))]
    from molq.core import TransportError

    with pytest.raises(TransportError, match="cannot read the end"):
        last_lines(remote, str(tmp_path / "missing"), 2)  # type: ignore[arg-type]
    assert last_lines(LocalTransport(), str(path), 1) == "3\n"


@pytest.mark.ssh
def test_tail_over_real_ssh(tmp_path):
    """Against the CI sshd: the last lines of a remote file, read by the remote tail."""
    from molq.shell.transport._ssh import SshTransport
    from molq.shell.transport._ssh_options import SshTransportOptions

    alias = os.environ.get("MOLQ_CI_SSH_ALIAS", "molq-test")
    ssh = SshTransport(SshTransportOptions(alias))
    try:
        remote = f"/tmp/molq-tail-test-{os.getpid()}.log"
        ssh.write_text(remote, "".join(f"line {i}\n" for i in range(100_000)))
        assert last_lines(ssh, remote, 2) == "line 99998\nline 99999\n"
        ssh.remove(remote)
    finally:
        ssh.close()
