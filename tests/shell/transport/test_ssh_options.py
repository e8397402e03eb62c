"""SshTransportOptions validation, ssh/rsync argv and remote quoting (no network)."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from molq.core import ConfigError, TransportError
from molq.core._ssh_plan import (
    build_remote_command,
    classify_ssh_failure,
    normalize_ssh_opts,
    rsync_missing,
    split_markers,
    ssh_option_args,
)
from molq.core._sync_plan import (
    default_remote_path,
    merge_excludes,
    parse_itemized,
    rsh_command,
    rsh_quote,
    rsync_argv,
    sync_flags,
)
from molq.shell.transport._ssh import SshTransport
from molq.shell.transport._ssh_options import SshTransportOptions
from molq.shell.transport._sync import OwnerMarker


# Anything a str can hold except NUL and lone surrogates (not encodable as bytes).
ARG = st.text(
    st.characters(codec="utf-8", exclude_characters="\0"),
    max_size=40,
)
NASTY = [
    "it's",
    '"double"',
    "$(touch /tmp/molq-pwned)",
    "`touch /tmp/molq-pwned`",
    "a; rm -rf /",
    "line1\nline2\n",
    "tab\there",
    "ünïcødé ✓ 日本",
    "$HOME ${PATH} \\ \\n",
    "*?[a-z]",
    "-n",
    "--",
    "",
    " ",
    "~",
    "\r\x1b[31m",
]
DUMP = (
    "import json, os, sys; "
    "print(json.dumps({'argv': [os.fsencode(a).hex() for a in sys.argv[1:]], "
    "'env': {k: os.environb[k.encode()].hex() for k in sys.argv[1:2] if k}, "
    "'cwd': os.fsencode(os.getcwd()).hex()}))"
)


class TestOptions:
    """SshTransportOptions accepts sane values and refuses dangerous ones."""

    def test_defaults(self):
        """Only the host is required; rsync options default to -a --partial --inplace"""
        opts = SshTransportOptions("user@example.org")
        assert opts.port is None
        assert opts.ssh_opts == ()
        assert opts.rsync_opts == ("-a", "--partial", "--inplace")

    @pytest.mark.parametrize(
        "host",
        ["-oProxyCommand=touch /tmp/x", "-p22", "", "a b", "host\n", "ho;st", "a\0b"],
    )
    def test_bad_hosts(self, host):
        """A host starting with '-' or holding odd characters is refused."""
        with pytest.raises(ConfigError):
            SshTransportOptions(host)

    @pytest.mark.parametrize("port", [0, 65536, -1, True, "22"])
    def test_bad_ports(self, port):
        """Ports outside 1..65535, bools and strings are refused."""
        with pytest.raises(ConfigError):
            SshTransportOptions("h", port=port)

    def test_identity_file_cannot_be_an_option(self):
        """identity_file must not start with '-'."""
        with pytest.raises(ConfigError):
            SshTransportOptions("h", identity_file="-oProxyCommand=x")

    @pytest.mark.parametrize(
        "ssh_opts",
        [
            ("-o", "StrictHostKeyChecking=no"),
            ("-oStrictHostKeyChecking=no",),
            ("-o", "StrictHostKeyChecking off"),
            ("-o", "stricthostkeychecking=NO"),
            ("-o", "UserKnownHostsFile=/dev/null"),
            ("-oGlobalKnownHostsFile=/dev/null",),
            ("-o", "BatchMode=no"),
            ("-J", "-oProxyCommand=touch /tmp/x"),
            ("-F", "-x"),
            ("-o",),
            ("-X",),
            ("-o", "no-equals-or-space"),
            ("--",),
            "-o BatchMode=yes",
            ("-o", "Key=a\nProxyCommand=x"),
        ],
    )
    def test_refused_ssh_opts(self, ssh_opts):
        """Options that disable host keys or batch mode, or inject flags, fail."""
        with pytest.raises(ConfigError):
            SshTransportOptions("h", ssh_opts=ssh_opts)

    @pytest.mark.parametrize("rsync_opts", [("-e", "sh"), ("--rsh=sh",), ("-essh",)])
    def test_refused_rsync_opts(self, rsync_opts):
        """molq owns rsync's remote shell."""
        with pytest.raises(ConfigError):
            SshTransportOptions("h", rsync_opts=rsync_opts)

    def test_accepted_ssh_opts_are_normalized(self):
        """Short flags become -o Key=Value pairs; -F and -i stay as they are."""
        pairs = normalize_ssh_opts(
            ["-J", "jump", "-C", "-oStrictHostKeyChecking=accept-new", "-F", "/c"]
        )
        assert pairs == (
            ("-o", "ProxyJump=jump"),
            ("-o", "Compression=yes"),
            ("-o", "StrictHostKeyChecking=accept-new"),
            ("-F", "/c"),
        )

    def test_list_is_converted_to_tuple(self):
        """Sequences are stored as tuples so the options stay hashable."""
        opts = SshTransportOptions("h", ssh_opts=["-o", "Port=2"])
        assert opts.ssh_opts == ("-o", "Port=2")
        assert hash(opts) == hash(SshTransportOptions("h", ssh_opts=("-o", "Port=2")))


class TestSshArgs:
    """The options molq passes to ssh."""

    def test_batch_mode_first_and_reuse_on(self):
        """BatchMode leads; ControlMaster/Path/Persist and keep-alives are added."""
        args = ssh_option_args((), port=2222, identity_file="/k", control_path="/c/%C")
        assert args[:2] == ("-o", "BatchMode=yes")
        assert "Port=2222" in args
        assert args[args.index("-i") + 1] == "/k"
        assert "ControlMaster=auto" in args
        assert "ControlPath=/c/%C" in args
        assert "ServerAliveInterval=15" in args

    def test_user_control_settings_win(self):
        """A user's ControlMaster or ServerAliveInterval replaces molq's default."""
        args = ssh_option_args(
            ("-o", "ControlMaster=no", "-o", "ServerAliveInterval=1"),
            port=None,
            identity_file=None,
            control_path="/c/%C",
        )
        assert "ControlMaster=auto" not in args
        assert not any(a.startswith("ControlPath") for a in args)
        assert "ServerAliveInterval=15" not in args
        assert "ServerAliveInterval=1" in args

    def test_transport_uses_private_control_dir(self):
        """The ControlPath directory exists and is private (0700)."""
        args = SshTransport(SshTransportOptions("h")).option_args()
        path = next(a for a in args if a.startswith("ControlPath="))
        directory = Path(path.split("=", 1)[1]).parent
        mode = stat.S_IMODE(directory.stat().st_mode)
        assert mode == 0o700
        assert directory.stat().st_uid == os.getuid()

    def test_rsync_remote_shell_is_quoted(self):
        """rsync -e gets one string whose words survive rsync's own splitting."""
        rsh = rsh_command(["ssh", "-i", "/my keys/id", "-o", "ProxyCommand=a 'b'"])
        assert rsh == "ssh -i '/my keys/id' -o \"ProxyCommand=a 'b'\""
        argv = rsync_argv(("-a",), ("--delete",), ["src/"], "h:dst", rsh=rsh)
        assert argv == ("rsync", "-a", "--delete", "-e", rsh, "--", "src/", "h:dst")

    def test_rsh_quote_refuses_both_quotes_and_control_chars(self):
        """A word with both quote kinds, or a newline, cannot be passed to -e."""
        with pytest.raises(ConfigError):
            rsh_quote("a'b\"c")
        with pytest.raises(ConfigError):
            rsh_quote("a\nb")


class TestRemoteCommand:
    """build_remote_command produces a POSIX sh line that round-trips argv exactly."""

    def run_line(self, line: str) -> dict[str, object]:
        proc = subprocess.run(
            ["sh", "-c", line], capture_output=True, check=True, input=b""
        )
        data: dict[str, object] = json.loads(proc.stdout)
        return data

    def test_nasty_corpus(self, tmp_path):
        """Quotes, $(), backticks, ;, newlines and unicode arrive byte-exact."""
        cwd = tmp_path / "dir with 'quotes' $x `y` ü\nnl"
        cwd.mkdir()
        argv = [sys.executable, "-c", DUMP, "MOLQ_V", *NASTY]
        line = build_remote_command(argv, cwd=str(cwd), env={"MOLQ_V": NASTY[2]})
        out = self.run_line(line)
        assert out["argv"] == [a.encode().hex() for a in argv[3:]]
        assert out["env"] == {"MOLQ_V": NASTY[2].encode().hex()}
        assert out["cwd"] == os.fsencode(str(cwd)).hex()
        assert not Path("/tmp/molq-pwned").exists()

    @settings(max_examples=60, deadline=None)
    @given(args=st.lists(ARG, max_size=6), value=ARG)
    def test_round_trip_property(self, args, value):
        """Any NUL-free argv and env value survives the trip through sh."""
        argv = [sys.executable, "-c", DUMP, "MOLQ_V", *args]
        out = self.run_line(build_remote_command(argv, env={"MOLQ_V": value}))
        assert out["argv"] == [a.encode().hex() for a in argv[3:]]
        assert out["env"] == {"MOLQ_V": value.encode().hex()}

    @pytest.mark.parametrize(
        ("argv", "kwargs"),
        [
            (["echo", "a\0b"], {}),
            (["echo"], {"env": {"V": "a\0"}}),
            (["echo"], {"cwd": "/tmp\0"}),
            ([], {}),
        ],
    )
    def test_nul_and_empty_refused(self, argv, kwargs):
        """NUL bytes and empty commands fail before anything runs."""
        with pytest.raises(TransportError):
            build_remote_command(argv, **kwargs)

    @pytest.mark.parametrize("name", ["1X", "A-B", "A B", "", "X=1", "a;b"])
    def test_env_names_validated(self, name):
        """Environment names must be shell identifiers."""
        with pytest.raises(ConfigError):
            build_remote_command(["true"], env={name: "v"})

    def test_missing_command_and_cwd_are_marked(self, tmp_path):
        """A missing program or directory exits 127/126 with molq's marker on stderr."""
        proc = subprocess.run(
            ["sh", "-c", build_remote_command(["molq-no-such-program"])],
            capture_output=True,
            check=False,
        )
        assert proc.returncode == 127
        assert proc.stderr.decode().rstrip().endswith("__molq_ssh_not_found__")
        line = build_remote_command(["true"], cwd=str(tmp_path / "missing"))
        proc = subprocess.run(["sh", "-c", line], capture_output=True, check=False)
        assert proc.returncode == 126
        started, status, err = split_markers(proc.stderr.decode())
        assert started
        assert status is None
        assert err.rstrip().endswith("__molq_ssh_no_cwd__")

    def test_exit_status_is_reported_and_stripped(self):
        """The command's own stderr comes back clean, with its status beside it."""
        line = build_remote_command(["sh", "-c", "echo oops >&2; exit 255"])
        proc = subprocess.run(["sh", "-c", line], capture_output=True, check=False)
        assert proc.returncode == 255
        assert split_markers(proc.stderr.decode()) == (True, 255, "oops\n")
        assert split_markers("ssh: connect refused\n") == (
            False,
            None,
            "ssh: connect refused\n",
        )


class TestClassify:
    """ssh exit status 255 is classified from stderr."""

    @pytest.mark.parametrize(
        ("stderr", "kind"),
        [
            ("ssh: connect to host h port 1: Connection refused", "connection"),
            (
                "ssh: Could not resolve hostname nope: Name or service not known",
                "connection",
            ),
            ("root@h: Permission denied (publickey).", "auth"),
            ("Host key verification failed.", "host_key"),
            ("ssh: connect to host h port 22: Connection timed out", "timeout"),
            ("Connection timed out during banner exchange", "timeout"),
            (
                "kex_exchange_identification: read: Connection reset by peer",
                "connection",
            ),
            ("", "connection"),
        ],
    )
    def test_before_start(self, stderr, kind):
        """Before the command started, 255 is always an ssh failure."""
        assert classify_ssh_failure(stderr, started=False) == kind

    @pytest.mark.parametrize(
        "stderr",
        [
            "Connection to h closed by remote host.",
            "Timeout, server h not responding.",
            "client_loop: send disconnect: Broken pipe",
            "",
        ],
    )
    def test_link_dropped_after_start(self, stderr):
        """Started but never finished: the link dropped, whatever ssh printed."""
        assert classify_ssh_failure("output\n" + stderr, started=True) == "link_dropped"

    def test_command_exit_255_is_not_an_error(self):
        """A remote command that reported exit status 255 itself is not classified."""
        assert classify_ssh_failure("failed\n", started=True, exit_status=255) is None
        assert classify_ssh_failure("", started=True, exit_status=0) == "link_dropped"

    def test_drop_without_markers(self):
        """rsync/scp have no markers; ssh's 'closed by remote host' still counts."""
        text = "Connection to h closed by remote host."
        assert classify_ssh_failure(text) == "link_dropped"

    def test_rsync_missing(self):
        """The shells' 'rsync not found' messages are recognised."""
        assert rsync_missing("bash: line 1: rsync: command not found")
        assert rsync_missing("sh: 1: rsync: not found")
        assert rsync_missing("bash: /opt/rsync: No such file or directory")
        assert not rsync_missing('rsync: [sender] link_stat "/x" failed: No such file')


class TestSyncPlan:
    """Pure sync helpers."""

    def test_itemized_lines_are_kept_and_noops_dropped(self):
        """Created, updated and deleted items are changes; unchanged ones are not."""
        out = (
            "sending incremental file list\n"
            ">f+++++++++ a b.txt\n"
            "cd+++++++++ sub/\n"
            "*deleting   old.txt\n"
            ".d          ./\n"
            ".f..t...... same.txt\n"
            "\n"
            "sent 100 bytes  received 20 bytes\n"
        )
        assert parse_itemized(out) == (
            ">f+++++++++ a b.txt",
            "cd+++++++++ sub/",
            "*deleting   old.txt",
            ".f..t...... same.txt",
        )

    def test_flags(self):
        """Each keyword maps to one rsync flag; excludes keep their order."""
        flags = sync_flags(
            delete=True, dry_run=True, itemize=True, verbose=False, excludes=("a", "b/")
        )
        assert flags == (
            "--delete",
            "--dry-run",
            "--itemize-changes",
            "--exclude=a",
            "--exclude=b/",
        )

    def test_merge_excludes(self):
        """Duplicates are dropped; newlines are refused."""
        assert merge_excludes(("a", "b"), None, ("b", "c")) == ("a", "b", "c")
        with pytest.raises(ConfigError):
            merge_excludes(("a\nb",))

    @pytest.mark.parametrize(
        ("name", "path"),
        [
            ("molq", "~/molq-workspaces/molq"),
            ("my project (v2)", "~/molq-workspaces/my_project_v2"),
            ("..", "~/molq-workspaces/workspace"),
            ("日本", "~/molq-workspaces/workspace"),
        ],
    )
    def test_default_remote_path(self, name, path):
        """Names are made safe for a directory."""
        assert default_remote_path(name) == path

    def test_owner_marker_round_trip(self):
        """The marker survives JSON, and garbage is a ConfigError."""
        marker = OwnerMarker("m1", "alice", "/home/alice/proj")
        assert OwnerMarker.from_json(marker.to_json()) == marker
        with pytest.raises(ConfigError):
            OwnerMarker.from_json("{not json")
