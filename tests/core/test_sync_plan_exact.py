"""ssh and rsync command lines built from a workspace's options, and what is refused.

What a user sees: the exact ssh/rsync argv molq runs (`molq workspace sync --dry-run`
shows it), an option that would disable host keys or batch mode refused with a message,
a remote path like `~/x` understood, and rsync's itemized changes listed.
"""

from __future__ import annotations

import pytest

from molq.core import ConfigError, TransportError
from molq.core._ssh_plan import normalize_ssh_opts, ssh_option_args, validate_ssh_options
from molq.core._sync_plan import (
    home_relative,
    merge_excludes,
    parse_itemized,
    rsh_quote,
    rsync_argv,
    sync_flags,
    workspace_dir_name,
)


class TestRsync:
    def test_flags_in_order(self):
        """Every flag asked for, in a fixed order, excludes last."""
        flags = sync_flags(delete=True, dry_run=True, itemize=True, verbose=True, excludes=("a/", "*.o"))
        assert flags == (
            "--delete", "--dry-run", "--itemize-changes", "--verbose", "--progress", "--exclude=a/", "--exclude=*.o",
        )
        assert sync_flags(delete=False, dry_run=False, itemize=False, verbose=False, excludes=()) == ()

    def test_argv_with_and_without_a_remote_shell(self):
        """The remote shell goes after the flags, then '--', the sources and the destination."""
        assert rsync_argv(("-a",), ("--delete",), ("src/",), "h:dst", rsh="ssh -p 22") == (
            "rsync", "-a", "--delete", "-e", "ssh -p 22", "--", "src/", "h:dst",
        )
        assert rsync_argv((), (), ("a", "b"), "d") == ("rsync", "--", "a", "b", "d")

    def test_excludes_merge_without_duplicates(self):
        """Exclude groups concatenate in order, each pattern once; None groups are skipped."""
        assert merge_excludes(("a", "b"), None, ("b", "c")) == ("a", "b", "c")

    @pytest.mark.parametrize("bad", ["a\0b", "a\nb"])
    def test_exclude_with_nul_or_newline_is_refused(self, bad):
        """A pattern rsync cannot take is refused, naming it."""
        with pytest.raises(ConfigError, match="exclude pattern contains NUL or newline"):
            merge_excludes((bad,))

    def test_itemized_changes(self):
        """Changed, new and deleted items are listed; unchanged items and summary lines are not."""
        out = ">f+++++++++ a.txt\n.f......... same\n.d..t...... dir/\n*deleting   old.txt\nsent 10 bytes\n"
        assert parse_itemized(out) == (">f+++++++++ a.txt", ".d..t...... dir/", "*deleting   old.txt")


class TestRshQuote:
    @pytest.mark.parametrize(
        ("word", "quoted"),
        [("plain", "plain"), ("", "''"), ("a b", "'a b'"), ("it's", '"it\'s"'), ('say "x"', "'say \"x\"'")],
    )
    def test_quoting(self, word, quoted):
        """Words are left bare when they can be, otherwise wrapped in the quote they do not hold."""
        assert rsh_quote(word) == quoted

    def test_both_quotes_or_control_characters_are_refused(self):
        """A word rsync cannot be given is refused with the reason."""
        with pytest.raises(ConfigError, match="both quote kinds"):
            rsh_quote("it's \"x\"")
        with pytest.raises(ConfigError, match="control character"):
            rsh_quote("a\tb")


class TestPaths:
    @pytest.mark.parametrize(
        ("path", "relative"), [("~", "."), ("~/", "."), ("~/x/y", "x/y"), ("/abs", "/abs"), ("rel", "rel")]
    )
    def test_home_relative(self, path, relative):
        """~ and ~/x become paths relative to the remote home; others stay."""
        assert home_relative(path) == relative

    @pytest.mark.parametrize("path", ["", "a\0b"])
    def test_invalid_remote_paths(self, path):
        """An empty path or one with NUL is a TransportError naming it."""
        with pytest.raises(TransportError, match="invalid remote path"):
            home_relative(path)

    def test_workspace_dir_name(self):
        """Unsafe characters become '_', leading/trailing dots and '_' go; nothing left: 'workspace'."""
        assert workspace_dir_name("my proj!") == "my_proj"
        assert workspace_dir_name(".a.b_") == "a.b"
        assert workspace_dir_name("..") == "workspace"


class TestSshOptions:
    def test_full_argument_list(self):
        """BatchMode first, then port, key, the user's options, connection reuse, then keep-alive defaults."""
        args = ssh_option_args(
            ["-J", "jump", "-oConnectTimeout 5"], port=2222, identity_file="/k", control_path="/c/%C"
        )
        assert args == (
            "-o", "BatchMode=yes", "-o", "Port=2222", "-i", "/k", "-o", "ProxyJump=jump",
            "-o", "ConnectTimeout=5", "-o", "ControlMaster=auto", "-o", "ControlPath=/c/%C",
            "-o", "ControlPersist=60", "-o", "ServerAliveInterval=15", "-o", "ServerAliveCountMax=3",
        )

    def test_users_connection_settings_win(self):
        """A user's ControlPath or keep-alive setting (any case) replaces molq's."""
        args = ssh_option_args(
            ["-o", "controlpath=/x", "-o", "ServerAliveInterval=5"], port=None, identity_file=None, control_path="/c"
        )
        assert args == (
            "-o", "BatchMode=yes", "-o", "controlpath=/x", "-o", "ServerAliveInterval=5",
            "-o", "ConnectTimeout=20", "-o", "ServerAliveCountMax=3",
        )

    def test_flags_are_rewritten(self):
        """Short flags become -o options; -F and -i keep their form."""
        pairs = normalize_ssh_opts(["-4", "-l", "me", "-F", "/cfg", "-i", "/key", "-c", "aes", "-m", "hmac"])
        assert pairs == (
            ("-o", "AddressFamily=inet"), ("-o", "User=me"), ("-F", "/cfg"), ("-i", "/key"),
            ("-o", "Ciphers=aes"), ("-o", "MACs=hmac"),
        )

    @pytest.mark.parametrize(
        ("opts", "message"),
        [
            (["-X"], "unsupported ssh option '-X'"),
            ([3], "ssh option must be a string"),
            (["-l"], "value of ssh option -l must be a non-empty string"),
            (["-l", "-oops"], "must not start with '-'"),
            (["-o", "NoEquals"], "must look like Key=Value"),
            (["-o", 'StrictHostKeyChecking="no"'], "StrictHostKeyChecking=no is refused"),
            (["-o", "UserKnownHostsFile=/dev/null"], "disables host-key checking"),
            (["-o", "GlobalKnownHostsFile=none"], "disables host-key checking"),
            (["-o", "BatchMode=off"], "BatchMode=no is refused"),
        ],
    )
    def test_refused_options_say_why(self, opts, message):
        """Options that are malformed or would weaken ssh are refused with a reason."""
        with pytest.raises(ConfigError, match=message):
            normalize_ssh_opts(opts)

    def test_safe_settings_of_the_same_keys_pass(self):
        """Host-key and batch settings that keep checking on are accepted."""
        pairs = normalize_ssh_opts(
            ["-o", "StrictHostKeyChecking=yes", "-o", "UserKnownHostsFile=/home/me/kh", "-o", "BatchMode=yes"]
        )
        assert len(pairs) == 3


class TestValidate:
    def ok(self, **changes):
        fields = {"host": "cluster.example", "port": 22, "identity_file": None, "ssh_opts": [], "rsync_opts": []}
        validate_ssh_options(**(fields | changes))

    @pytest.mark.parametrize("port", [1, 65535, None])
    def test_ports_in_range(self, port):
        """Ports 1..65535 (or none) are accepted."""
        self.ok(port=port)

    @pytest.mark.parametrize("port", [0, 65536, True, "22"])
    def test_ports_out_of_range(self, port):
        """Port 0, 65536, a bool or a string are refused."""
        with pytest.raises(ConfigError, match=r"ssh port must be an integer in 1\.\.65535"):
            self.ok(port=port)

    def test_host_and_identity_are_checked(self):
        """A host with spaces, a host or key path starting with '-', are refused naming the field."""
        with pytest.raises(ConfigError, match="holds characters ssh does not accept"):
            self.ok(host="a b")
        with pytest.raises(ConfigError, match="ssh host must not start with '-'"):
            self.ok(host="-oProxyCommand=x")
        with pytest.raises(ConfigError, match="identity_file must not start with '-'"):
            self.ok(identity_file="-x")

    @pytest.mark.parametrize("opt", ["-e", "-essh", "--rsh", "--rsh=ssh"])
    def test_rsync_remote_shell_is_molqs(self, opt):
        """rsync options that set the remote shell are refused."""
        with pytest.raises(ConfigError, match="molq sets the remote shell itself"):
            self.ok(rsync_opts=[opt])

    @pytest.mark.parametrize("opt", ["a\nb", "a\0b"])
    def test_rsync_options_with_newline_or_nul(self, opt):
        """An rsync option with a newline or NUL is refused."""
        with pytest.raises(ConfigError, match="invalid rsync option"):
            self.ok(rsync_opts=[opt])

    def test_plain_rsync_options_pass(self):
        """Ordinary rsync options are accepted."""
        self.ok(rsync_opts=["--compress", "--bwlimit=1000"])
